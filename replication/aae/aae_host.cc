#include "replication/aae/aae_host.h"

#include <utility>

#include "proto/peer.pb.h"
#include "replication/ring/ring.h"

namespace causeway::replication::aae {
namespace {

vnode::Key StoreKey(uint32_t partition, const KeyVersion& key) {
  return vnode::Key{partition, key.type, key.bucket, key.key};
}

}  // namespace

std::vector<ring::PreflistMember> AaeHost::PartitionPrimaries(
    uint32_t partition) {
  buckets::BucketProps props;
  registry_.TypeProps(buckets::kDefaultType, &props);
  return cluster_.current_ring().Preflist(partition, props.n_val);
}

std::vector<uint32_t> AaeHost::HeldPartitions() {
  std::vector<uint32_t> out;
  const uint32_t size = cluster_.current_ring().size();
  for (uint32_t p = 0; p < size; ++p) {
    for (const auto& m : PartitionPrimaries(p)) {
      if (m.node == cluster_.self()) {
        out.push_back(p);
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> AaeHost::ExchangePeers(uint32_t partition) {
  std::vector<std::string> out;
  for (const auto& m : PartitionPrimaries(partition)) {
    if (m.node != cluster_.self() && cluster_.IsUp(m.node)) {
      out.push_back(m.node);
    }
  }
  return out;
}

std::vector<std::string> AaeHost::Members(bool* all_up) {
  const membership::RingState& state = cluster_.state();
  std::vector<std::string> out;
  *all_up = !state.pending();
  for (const auto& [name, m] : state.members()) {
    if (m.status == membership::MemberStatus::kRemoved) continue;
    if (name != cluster_.self() && !cluster_.IsUp(name)) *all_up = false;
    out.push_back(name);
  }
  return out;
}

bool AaeHost::ShouldHold(const std::string& node, uint32_t partition,
                         const KeyVersion& key) {
  buckets::BucketProps props;
  // A type this node does not know yet: hold off rather than guess.
  if (!registry_.Props(key.type, key.bucket, &props).ok()) return false;
  for (const auto& m :
       cluster_.current_ring().Preflist(partition, props.n_val)) {
    if (m.node == node) return true;
  }
  return false;
}

object::Resolution AaeHost::ResolutionOf(const std::string& type,
                                         const std::string& bucket) {
  buckets::BucketProps props;
  registry_.Props(type, bucket, &props);
  return props.resolution();
}

Status AaeHost::Read(uint32_t partition, const KeyVersion& key,
                     object::Object* out) {
  return store_.Read(StoreKey(partition, key), out);
}

Status AaeHost::Merge(uint32_t partition, const KeyVersion& key,
                      const object::Object& incoming, object::Object* result) {
  // Repairs come from peers: a stamp beyond the bound is refused as a write
  // carrying it would be.
  Status s = guard_.Check(incoming.clock().stamp(), "a repair's object");
  if (!s.ok()) return s;
  return store_.Merge(StoreKey(partition, key), incoming,
                      ResolutionOf(key.type, key.bucket), always_sync_, result);
}

Status AaeHost::Remove(uint32_t partition, const KeyVersion& key) {
  return store_.Remove(StoreKey(partition, key));
}

void AaeHost::Request(const std::string& to, peer::Envelope message,
                      uint64_t timeout_ms, ReplyFn on_reply) {
  messenger_.Request(to, std::move(message), timeout_ms, std::move(on_reply));
}

}  // namespace causeway::replication::aae
