#pragma once
// AaeHost: what anti-entropy asks of the node around it (aae::Host),
// answered from the ring's view of who holds a partition, the vnode store,
// bucket properties and the messenger.

#include <cstdint>
#include <string>
#include <vector>

#include "replication/aae/anti_entropy.h"
#include "replication/bucket_registry.h"
#include "replication/clock_guard.h"
#include "replication/membership/cluster.h"
#include "replication/messenger.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::replication::aae {

class AaeHost : public Host {
 public:
  // Every reference must outlive this object.
  AaeHost(const membership::Cluster& cluster, const BucketRegistry& registry,
          vnode::VnodeStore& store, Messenger& messenger, ClockGuard& guard,
          bool always_sync)
      : cluster_(cluster),
        registry_(registry),
        store_(store),
        messenger_(messenger),
        guard_(guard),
        always_sync_(always_sync) {}

  std::string self() const override { return cluster_.self(); }
  uint32_t RingSize() override { return cluster_.current_ring().size(); }
  std::vector<uint32_t> HeldPartitions() override;
  std::vector<std::string> ExchangePeers(uint32_t partition) override;
  std::vector<std::string> Members(bool* all_up) override;
  bool ShouldHold(const std::string& node, uint32_t partition,
                  const KeyVersion& key) override;
  object::Resolution ResolutionOf(const std::string& type,
                                  const std::string& bucket) override;
  Status Read(uint32_t partition, const KeyVersion& key,
              object::Object* out) override;
  Status Merge(uint32_t partition, const KeyVersion& key,
               const object::Object& incoming, object::Object* result) override;
  Status Remove(uint32_t partition, const KeyVersion& key) override;
  void Request(const std::string& to, peer::Envelope message,
               uint64_t timeout_ms, ReplyFn on_reply) override;

 private:
  // The primaries of a partition for the default bucket type's n_val.
  std::vector<ring::PreflistMember> PartitionPrimaries(uint32_t partition);

  const membership::Cluster& cluster_;
  const BucketRegistry& registry_;
  vnode::VnodeStore& store_;
  Messenger& messenger_;
  ClockGuard& guard_;
  const bool always_sync_;
};

}  // namespace causeway::replication::aae
