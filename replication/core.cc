#include "replication/core.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "proto/peer.pb.h"
#include "replication/bucket_registry.h"
#include "replication/causal/hlc.h"
#include "replication/coord/coordinators.h"
#include "replication/coord/quorum.h"
#include "replication/messenger.h"
#include "replication/ring/ring.h"
#include "replication/vnode/vnode_store.h"
#include "storage/keys.h"

namespace causeway::replication {
namespace {

constexpr std::string_view kHlcKey = "hlc-high-water";
// The persisted HLC mark runs this far ahead of issued timestamps, so it is
// written about once per interval, not once per write.
constexpr uint64_t kHlcLeaseMs = 2000;
constexpr size_t kMaxSeenForwards = 8192;
constexpr size_t kGeneratedKeyChars = 22;
constexpr uint64_t kRequestTimeoutMs = 10000;

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (56 - 8 * i));
  return out;
}

bool DecodeU64(std::string_view in, uint64_t* v) {
  if (in.size() != 8) return false;
  *v = 0;
  for (unsigned char c : in) *v = (*v << 8) | c;
  return true;
}

void ToProto(const vnode::Key& key, peer::Key* out) {
  out->set_partition(key.partition);
  out->set_type(key.type);
  out->set_bucket(key.bucket);
  out->set_key(key.key);
}

vnode::Key FromProto(const peer::Key& k) {
  return vnode::Key{k.partition(), k.type(), k.bucket(), k.key()};
}

bool ValidResolution(uint32_t r) {
  return r <= static_cast<uint32_t>(object::Resolution::kLastWriteWins);
}

Status CheckId(const ObjectId& id, bool key_required) {
  if (id.bucket.empty()) return Status::InvalidArgument("bucket is empty");
  if (key_required && id.key.empty()) {
    return Status::InvalidArgument("key is empty");
  }
  return Status::Ok();
}

}  // namespace

// What anti-entropy asks of the node: the ring's view of who holds a
// partition, the store, bucket properties and the messenger.
class AaeHost : public aae::Host {
 public:
  explicit AaeHost(NodeCore::Impl& impl) : impl_(impl) {}
  std::string self() const override;
  uint32_t RingSize() override;
  std::vector<uint32_t> HeldPartitions() override;
  std::vector<std::string> ExchangePeers(uint32_t partition) override;
  std::vector<std::string> Members(bool* all_up) override;
  bool ShouldHold(const std::string& node, uint32_t partition,
                  const aae::KeyVersion& key) override;
  object::Resolution ResolutionOf(const std::string& type,
                                  const std::string& bucket) override;
  Status Read(uint32_t partition, const aae::KeyVersion& key,
              object::Object* out) override;
  Status Merge(uint32_t partition, const aae::KeyVersion& key,
               const object::Object& incoming, object::Object* result) override;
  Status Remove(uint32_t partition, const aae::KeyVersion& key) override;
  void Request(const std::string& to, peer::Envelope message,
               uint64_t timeout_ms, ReplyFn on_reply) override;

 private:
  // The primaries of a partition for the default bucket type's n_val.
  std::vector<ring::PreflistMember> PartitionPrimaries(uint32_t partition);
  NodeCore::Impl& impl_;
};

struct NodeCore::Impl : public coord::Replicas {
  Impl(Env& env, storage::Engine& engine, const NodeConfig& config)
      : env(env),
        engine(engine),
        config(config),
        registry(engine, config.default_props),
        messenger(env, config.cluster_name) {}

  causal::HlcTimestamp Timestamp();
  Status PersistHlc(uint64_t high_water);

  // Where a request goes: effective properties, the key's storage location,
  // and the replicas to ask (live primaries, fallbacks standing in for down
  // ones, and for writes the nodes gaining the key in a pending change).
  struct Route {
    BucketProps props;
    vnode::Key key;
    std::vector<coord::Target> targets;
    uint32_t replicas = 0;  // primaries the ring has for the key
    std::optional<size_t> self_index;
    // Down primaries for which no fallback node is free (a cluster with no
    // more nodes than n_val): the coordinator keeps a hint for them itself.
    std::vector<NodeName> uncovered;
  };
  Status Plan(const ObjectId& id, bool for_write, Route* route);
  std::string GenerateKey();

  // A client write: coordinated here when this node holds a replica,
  // otherwise forwarded to one that does.
  void Write(PutRequest request, bool tombstone,
             std::function<void(PutResult)> done);
  // Coordinates a write at this node with resolved quorum counts.
  void Coordinate(const Route& route, PutRequest request, bool tombstone,
                  uint32_t w, uint32_t dw, uint32_t pw,
                  std::function<void(PutResult)> done);
  void Forward(const Route& route, PutRequest request, bool tombstone,
               uint32_t w, uint32_t dw, uint32_t pw,
               std::function<void(PutResult)> done);
  void ListFrom(uint32_t partition, std::string after, std::string type,
                std::string bucket, std::shared_ptr<std::set<std::string>> seen,
                ListCallback callback);
  // Buckets (empty `bucket`: all at once, they are few) or one page of
  // keys after `after` (`limit` 0: all of them).
  Status ListLocal(uint32_t partition, const std::string& type,
                   const std::string& bucket, const std::string& after,
                   size_t limit, std::vector<std::string>* items, bool* more);

  // coord::Replicas: this node's replicas from the store, others by peer
  // request.
  void Read(const coord::Target& target, const vnode::Key& key,
            std::function<void(Status, object::Object)> done) override;
  void Write(const coord::Target& target, const vnode::Key& key,
             const object::Object& object, object::Resolution resolution,
             std::function<void(Status)> done) override;
  Status MergeLocal(const vnode::Key& key, const object::Object& object,
                    object::Resolution resolution, const NodeName& hint_for);

  void OnRequest(const NodeName& from, const peer::Envelope& message);
  void Reply(const NodeName& to, uint64_t request_id, peer::Envelope reply) {
    reply.set_request_id(request_id);
    messenger.Send(to, cluster->AddressOf(to), std::move(reply));
  }

  Env& env;
  storage::Engine& engine;
  NodeConfig config;
  BucketRegistry registry;
  Messenger messenger;
  causal::HybridClock hlc;
  uint64_t hlc_persisted = 0;
  std::unique_ptr<vnode::VnodeStore> store;
  std::unique_ptr<membership::Cluster> cluster;
  std::unique_ptr<handoff::Handoff> handoff;
  std::unique_ptr<aae::Trees> trees;
  AaeHost aae_host{*this};
  std::unique_ptr<aae::AntiEntropy> aae;
  // Recently coordinated forwards by (sender, request id), with their
  // replies once known; bounded, oldest forgotten first.
  std::map<std::pair<NodeName, uint64_t>, std::optional<peer::Envelope>>
      seen_forwards;
  std::deque<std::pair<NodeName, uint64_t>> seen_order;
};

std::string AaeHost::self() const { return impl_.config.name; }

uint32_t AaeHost::RingSize() { return impl_.cluster->current_ring().size(); }

std::vector<ring::PreflistMember> AaeHost::PartitionPrimaries(
    uint32_t partition) {
  BucketProps props;
  impl_.registry.TypeProps(kDefaultType, &props);
  return impl_.cluster->current_ring().Preflist(partition, props.n_val);
}

std::vector<uint32_t> AaeHost::HeldPartitions() {
  std::vector<uint32_t> out;
  const uint32_t size = impl_.cluster->current_ring().size();
  for (uint32_t p = 0; p < size; ++p) {
    for (const auto& m : PartitionPrimaries(p)) {
      if (m.node == impl_.config.name) {
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
    if (m.node != impl_.config.name && impl_.cluster->IsUp(m.node)) {
      out.push_back(m.node);
    }
  }
  return out;
}

std::vector<std::string> AaeHost::Members(bool* all_up) {
  const membership::RingState& state = impl_.cluster->state();
  std::vector<std::string> out;
  *all_up = !state.pending();
  for (const auto& [name, m] : state.members()) {
    if (m.status == membership::MemberStatus::kRemoved) continue;
    if (name != impl_.config.name && !impl_.cluster->IsUp(name)) {
      *all_up = false;
    }
    out.push_back(name);
  }
  return out;
}

bool AaeHost::ShouldHold(const std::string& node, uint32_t partition,
                         const aae::KeyVersion& key) {
  BucketProps props;
  // A type this node does not know yet: hold off rather than guess.
  if (!impl_.registry.Props(key.type, key.bucket, &props).ok()) return false;
  for (const auto& m :
       impl_.cluster->current_ring().Preflist(partition, props.n_val)) {
    if (m.node == node) return true;
  }
  return false;
}

object::Resolution AaeHost::ResolutionOf(const std::string& type,
                                         const std::string& bucket) {
  BucketProps props;
  impl_.registry.Props(type, bucket, &props);
  return props.resolution();
}

Status AaeHost::Read(uint32_t partition, const aae::KeyVersion& key,
                     object::Object* out) {
  return impl_.store->Read(vnode::Key{partition, key.type, key.bucket, key.key},
                           out);
}

Status AaeHost::Merge(uint32_t partition, const aae::KeyVersion& key,
                      const object::Object& incoming, object::Object* result) {
  return impl_.store->Merge(
      vnode::Key{partition, key.type, key.bucket, key.key}, incoming,
      ResolutionOf(key.type, key.bucket), impl_.config.always_sync, result);
}

Status AaeHost::Remove(uint32_t partition, const aae::KeyVersion& key) {
  return impl_.store->Remove(
      vnode::Key{partition, key.type, key.bucket, key.key});
}

void AaeHost::Request(const std::string& to, peer::Envelope message,
                      uint64_t timeout_ms, ReplyFn on_reply) {
  impl_.messenger.Request(to, impl_.cluster->AddressOf(to), std::move(message),
                          timeout_ms, std::move(on_reply));
}

Status NodeCore::Impl::PersistHlc(uint64_t high_water) {
  Status s = engine.Put(storage::MetaKey(kHlcKey), EncodeU64(high_water));
  if (s.ok()) hlc_persisted = high_water;
  return s;
}

causal::HlcTimestamp NodeCore::Impl::Timestamp() {
  causal::HlcTimestamp ts = hlc.Now(env.WallMillis());
  // Keep the persisted mark ahead of every issued timestamp, so a restart on
  // a clock that went backwards still never issues a smaller one.
  if (ts.wall_ms >= hlc_persisted) PersistHlc(ts.wall_ms + kHlcLeaseMs);
  return ts;
}

Status NodeCore::Impl::Plan(const ObjectId& id, bool for_write, Route* route) {
  Status s = registry.Props(id.type, id.bucket, &route->props);
  if (!s.ok()) return s;
  const membership::RingState& state = cluster->state();
  const ring::Ring& current = cluster->current_ring();
  uint32_t partition =
      current.PartitionOf(ring::HashKey(id.type, id.bucket, id.key));
  route->key = vnode::Key{partition, id.type, id.bucket, id.key};
  route->targets.clear();
  route->uncovered.clear();
  route->self_index.reset();
  auto add = [&](coord::Target t) {
    if (t.node == config.name) route->self_index = route->targets.size();
    route->targets.push_back(std::move(t));
  };
  // Every distinct node in ring order from the key's partition: the first
  // n_val are its primaries, the rest are fallbacks in order of preference.
  auto walk = current.Preflist(partition, current.size());
  const size_t n = std::min<size_t>(route->props.n_val, walk.size());
  route->replicas = static_cast<uint32_t>(n);
  size_t next_fallback = n;
  for (size_t i = 0; i < n; ++i) {
    const NodeName& primary = walk[i].node;
    if (cluster->IsUp(primary)) {
      add(coord::Target{primary, true, "", true});
      continue;
    }
    while (next_fallback < walk.size() &&
           !cluster->IsUp(walk[next_fallback].node)) {
      ++next_fallback;
    }
    if (next_fallback < walk.size()) {
      add(coord::Target{walk[next_fallback++].node, false, primary, true});
    } else {
      route->uncovered.push_back(primary);
    }
  }
  if (for_write && state.pending()) {
    for (const auto& m : cluster->next_ring().Preflist(partition, n)) {
      bool known =
          std::any_of(route->targets.begin(), route->targets.end(),
                      [&](const coord::Target& t) { return t.node == m.node; });
      if (!known && cluster->IsUp(m.node)) {
        add(coord::Target{m.node, false, "", false});
      }
    }
  }
  if (route->targets.empty()) {
    return Status::Unavailable("no replica of " + id.bucket + "/" + id.key +
                               " is reachable");
  }
  return Status::Ok();
}

std::string NodeCore::Impl::GenerateKey() {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string key;
  uint64_t bits = 0;
  int left = 0;
  while (key.size() < kGeneratedKeyChars) {
    if (left < 6) {
      bits = env.Random();
      left = 64;
    }
    uint64_t v = bits & 63;
    bits >>= 6;
    left -= 6;
    if (v < 62) key.push_back(kAlphabet[v]);
  }
  return key;
}

Status NodeCore::Impl::MergeLocal(const vnode::Key& key,
                                  const object::Object& object,
                                  object::Resolution resolution,
                                  const NodeName& hint_for) {
  Status s = store->Merge(key, object, resolution, config.always_sync, nullptr);
  if (s.ok() && !hint_for.empty()) s = handoff->RecordHint(hint_for, key);
  return s;
}

void NodeCore::Impl::Read(const coord::Target& target, const vnode::Key& key,
                          std::function<void(Status, object::Object)> done) {
  if (target.node == config.name) {
    object::Object o;
    Status s = store->Read(key, &o);
    done(std::move(s), std::move(o));
    return;
  }
  peer::Envelope m;
  ToProto(key, m.mutable_read()->mutable_key());
  messenger.Request(
      target.node, cluster->AddressOf(target.node), std::move(m),
      config.request_timeout_ms,
      [done = std::move(done)](Status s, const peer::Envelope* reply) {
        object::Object o;
        if (s.ok() && !reply->has_read_reply()) {
          s = Status::Unavailable("unexpected reply to a read");
        }
        if (s.ok()) s = FromPeerResult(reply->read_reply().result());
        if (s.ok())
          s = object::Object::Decode(reply->read_reply().object(), &o);
        done(std::move(s), std::move(o));
      });
}

void NodeCore::Impl::Write(const coord::Target& target, const vnode::Key& key,
                           const object::Object& object,
                           object::Resolution resolution,
                           std::function<void(Status)> done) {
  if (target.node == config.name) {
    done(MergeLocal(key, object, resolution, target.hint_for));
    return;
  }
  peer::Envelope m;
  peer::WriteRequest* w = m.mutable_write();
  ToProto(key, w->mutable_key());
  w->set_object(object.Encode());
  w->set_resolution(static_cast<uint32_t>(resolution));
  w->set_hint_for(target.hint_for);
  messenger.Request(
      target.node, cluster->AddressOf(target.node), std::move(m),
      config.request_timeout_ms,
      [done = std::move(done)](Status s, const peer::Envelope* reply) {
        if (s.ok() && !reply->has_write_reply()) {
          s = Status::Unavailable("unexpected reply to a write");
        }
        if (s.ok()) s = FromPeerResult(reply->write_reply().result());
        done(std::move(s));
      });
}

NodeCore::NodeCore(Env& env, storage::Engine& engine, NodeConfig config)
    : impl_(std::make_unique<Impl>(env, engine, config)),
      config_(std::move(config)) {}

NodeCore::~NodeCore() = default;

Status NodeCore::Open() {
  Env& env = impl_->env;
  impl_->store = std::make_unique<vnode::VnodeStore>(
      impl_->engine,
      [&env] {
        causal::ActorId actor = 0;
        while (actor == 0) actor = env.Random();
        return actor;
      },
      impl_->config.object_cache_bytes);
  impl_->trees = std::make_unique<aae::Trees>(impl_->engine);
  Status s = impl_->trees->Open();
  if (!s.ok()) return s;
  impl_->store->AttachTrees(impl_->trees.get());
  std::string bytes;
  s = impl_->engine.Get(storage::MetaKey(kHlcKey), &bytes);
  if (s.ok()) {
    uint64_t mark = 0;
    if (!DecodeU64(bytes, &mark)) {
      return Status::Corruption("node metadata: bad HLC mark");
    }
    impl_->hlc.Restore(causal::HlcTimestamp{mark, 0});
    impl_->hlc_persisted = mark;
  } else if (!s.IsNotFound()) {
    return s;
  }
  s = impl_->registry.Load();
  if (!s.ok()) return s;
  membership::Member self{config_.name, config_.peer_address,
                          membership::MemberStatus::kValid, 1};
  impl_->cluster = std::make_unique<membership::Cluster>(
      impl_->env, impl_->messenger, impl_->engine, impl_->registry, self,
      config_.ring_size, config_.cluster_timing);
  s = impl_->cluster->Load();
  if (!s.ok()) return s;
  impl_->handoff = std::make_unique<handoff::Handoff>(
      impl_->env, *impl_->cluster, *impl_->store, impl_->engine,
      impl_->registry, *impl_, config_.handoff_timing);
  impl_->cluster->OnRingChange(
      [impl = impl_.get()] { impl->handoff->OnRingChange(); });
  aae::AaeTiming aae_timing = config_.aae_timing;
  aae_timing.request_timeout_ms = config_.request_timeout_ms;
  impl_->aae = std::make_unique<aae::AntiEntropy>(impl_->env, *impl_->trees,
                                                  impl_->aae_host, aae_timing);
  return Status::Ok();
}

void NodeCore::AttachNetwork(Network* network) {
  impl_->messenger.Attach(network);
}

void NodeCore::Start() {
  impl_->cluster->Start();
  impl_->handoff->Start();
  impl_->aae->Start();
}

void NodeCore::Close() {
  // Nothing is buffered: every write reached the engine before it was
  // acknowledged. Persist the clock mark so a restart resumes above it.
  impl_->PersistHlc(
      std::max(impl_->hlc_persisted, impl_->hlc.last().wall_ms + 1));
}

void NodeCore::OnPeerUnreachable(const NodeName& node,
                                 const std::string& address,
                                 const std::string& reason) {
  impl_->messenger.FailPeer(node, address, reason);
}

void NodeCore::OnPeerMessage(const NodeName& from, std::string_view payload) {
  peer::Envelope message;
  if (!message.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
    return;
  }
  if (message.cluster() != config_.cluster_name) return;
  switch (message.body_case()) {
    case peer::Envelope::kReadReply:
    case peer::Envelope::kWriteReply:
    case peer::Envelope::kPutForwardReply:
    case peer::Envelope::kJoinReply:
    case peer::Envelope::kListReply:
    case peer::Envelope::kAaeTreeReply:
    case peer::Envelope::kAaeKeysReply:
    case peer::Envelope::kAaeRepairReply:
    case peer::Envelope::kAaeReapReply:
      impl_->cluster->OnMessage(from, peer::Envelope());  // liveness
      impl_->messenger.HandleReply(message);
      return;
    default:
      break;
  }
  if (impl_->cluster->OnMessage(from, message)) return;
  impl_->OnRequest(from, message);
}

void NodeCore::Impl::OnRequest(const NodeName& from,
                               const peer::Envelope& message) {
  const uint64_t id = message.request_id();
  switch (message.body_case()) {
    case peer::Envelope::kRead: {
      object::Object o;
      Status s = store->Read(FromProto(message.read().key()), &o);
      peer::Envelope reply;
      ToPeerResult(s, reply.mutable_read_reply()->mutable_result());
      if (s.ok()) reply.mutable_read_reply()->set_object(o.Encode());
      Reply(from, id, std::move(reply));
      return;
    }
    case peer::Envelope::kWrite: {
      const peer::WriteRequest& w = message.write();
      object::Object o;
      Status s = object::Object::Decode(w.object(), &o);
      if (s.ok() && !ValidResolution(w.resolution())) {
        s = Status::InvalidArgument("unknown resolution");
      }
      if (s.ok()) {
        s = MergeLocal(FromProto(w.key()), o,
                       static_cast<object::Resolution>(w.resolution()),
                       w.hint_for());
      }
      peer::Envelope reply;
      ToPeerResult(s, reply.mutable_write_reply()->mutable_result());
      Reply(from, id, std::move(reply));
      return;
    }
    case peer::Envelope::kPutForward: {
      const peer::PutForward& f = message.put_forward();
      // The network may deliver a forward twice; coordinating it twice
      // would mint two dots for one client write. A repeat gets the first
      // answer (or nothing while that is still being worked out).
      const std::pair<NodeName, uint64_t> seen_key{from, id};
      if (auto it = seen_forwards.find(seen_key); it != seen_forwards.end()) {
        if (it->second) Reply(from, id, *it->second);
        return;
      }
      seen_forwards.emplace(seen_key, std::nullopt);
      seen_order.push_back(seen_key);
      if (seen_order.size() > kMaxSeenForwards) {
        seen_forwards.erase(seen_order.front());
        seen_order.pop_front();
      }
      auto answer = [this, from, id, seen_key](PutResult r) {
        peer::Envelope reply;
        ToPeerResult(r.status,
                     reply.mutable_put_forward_reply()->mutable_result());
        if (r.status.ok() && !r.object.empty()) {
          reply.mutable_put_forward_reply()->set_object(r.object.Encode());
        }
        if (auto it = seen_forwards.find(seen_key); it != seen_forwards.end()) {
          it->second = reply;
        }
        Reply(from, id, std::move(reply));
      };
      PutRequest request;
      request.id = ObjectId{f.key().type(), f.key().bucket(), f.key().key()};
      object::Object content;
      Status s = causal::VersionVector::Decode(f.context(), &request.context);
      if (s.ok()) s = object::Object::Decode(f.content(), &content);
      if (s.ok() && content.siblings().size() != 1) {
        s = Status::InvalidArgument("forwarded write without one value");
      }
      Route route;
      if (s.ok()) s = Plan(request.id, true, &route);
      if (!s.ok()) return answer(PutResult{s, {}, {}});
      request.content = content.siblings()[0];
      request.return_body = f.return_object();
      request.if_not_modified = f.if_not_modified();
      request.if_none_match = f.if_none_match();
      // A forwarded write is coordinated here even if this node's view of
      // the ring disagrees, so a write is never passed around in circles.
      Coordinate(route, std::move(request), f.tombstone(), f.w(), f.dw(),
                 f.pw(), std::move(answer));
      return;
    }
    case peer::Envelope::kList: {
      const peer::ListRequest& l = message.list();
      std::vector<std::string> items;
      bool more = false;
      Status s = Status::InvalidArgument("partition out of range");
      if (l.partition() < cluster->state().size()) {
        s = ListLocal(
            l.partition(), l.type(), l.buckets() ? "" : l.bucket(), l.after(),
            std::min<size_t>(l.limit(), config.list_page_keys), &items, &more);
      }
      peer::Envelope reply;
      ToPeerResult(s, reply.mutable_list_reply()->mutable_result());
      for (auto& i : items) reply.mutable_list_reply()->add_items(i);
      reply.mutable_list_reply()->set_more(s.ok() && more);
      Reply(from, id, std::move(reply));
      return;
    }
    default: {
      peer::Envelope reply;
      if (aae->HandleRequest(from, message, &reply)) {
        Reply(from, id, std::move(reply));
      }
      return;  // anything else is unknown or unexpected: dropped
    }
  }
}

void NodeCore::Get(GetRequest request, std::function<void(GetResult)> done) {
  Status s = CheckId(request.id, true);
  Impl::Route route;
  if (s.ok()) s = impl_->Plan(request.id, false, &route);
  coord::GetPlan plan;
  const uint32_t n = route.props.n_val;
  if (s.ok()) {
    s = coord::ResolveQuorum("r", request.r, route.props.r, n, route.replicas,
                             &plan.r);
  }
  if (s.ok()) {
    s = coord::ResolveQuorum("pr", request.pr, route.props.pr, n,
                             route.replicas, &plan.pr);
  }
  if (!s.ok()) {
    done(GetResult{s, {}, false});
    return;
  }
  plan.key = route.key;
  plan.targets = route.targets;
  plan.notfound_ok = request.notfound_ok.value_or(route.props.notfound_ok);
  plan.basic_quorum = request.basic_quorum.value_or(route.props.basic_quorum);
  plan.resolution = route.props.resolution();
  plan.timeout_ms = impl_->config.request_timeout_ms;
  auto if_modified = std::move(request.if_modified);
  coord::StartGet(
      impl_->env, *impl_, std::move(plan),
      [done = std::move(done),
       if_modified = std::move(if_modified)](coord::GetOutcome outcome) {
        GetResult result{std::move(outcome.status), std::move(outcome.object),
                         false};
        if (result.status.ok() && if_modified &&
            result.object.clock() == *if_modified) {
          result.unchanged = true;
        }
        done(std::move(result));
      });
}

void NodeCore::Put(PutRequest request, std::function<void(PutResult)> done) {
  impl_->Write(std::move(request), /*tombstone=*/false, std::move(done));
}

void NodeCore::Impl::Write(PutRequest request, bool tombstone,
                           std::function<void(PutResult)> done) {
  auto fail = [&](Status s) { done(PutResult{std::move(s), {}, {}}); };
  Status s = CheckId(request.id, false);
  if (!s.ok()) return fail(s);
  if (request.id.key.empty()) request.id.key = GenerateKey();
  Route route;
  s = Plan(request.id, true, &route);
  if (!s.ok()) return fail(s);
  const uint32_t n = route.props.n_val;
  uint32_t w = 0, dw = 0, pw = 0;
  s = coord::ResolveQuorum("w", request.w, route.props.w, n, route.replicas,
                           &w);
  if (s.ok()) {
    s = coord::ResolveQuorum("dw", request.dw, route.props.dw, n,
                             route.replicas, &dw);
  }
  if (s.ok()) {
    s = coord::ResolveQuorum("pw", request.pw, route.props.pw, n,
                             route.replicas, &pw);
  }
  if (!s.ok()) return fail(s);
  if (route.self_index) {
    Coordinate(route, std::move(request), tombstone, w, dw, pw,
               std::move(done));
  } else {
    Forward(route, std::move(request), tombstone, w, dw, pw, std::move(done));
  }
}

void NodeCore::Impl::Coordinate(const Route& route, PutRequest request,
                                bool tombstone, uint32_t w, uint32_t dw,
                                uint32_t pw,
                                std::function<void(PutResult)> done) {
  auto fail = [&](Status s) { done(PutResult{std::move(s), {}, {}}); };
  if (request.if_not_modified || request.if_none_match) {
    object::Object current;
    Status s = store->Read(route.key, &current);
    if (!s.ok() && !s.IsNotFound()) return fail(s);
    bool live = s.ok() && !current.IsTombstone();
    if (request.if_none_match && live) {
      return fail(Status::PreconditionFailed("match_found"));
    }
    if (request.if_not_modified && current.clock() != request.context) {
      return fail(Status::PreconditionFailed("modified"));
    }
  }

  object::Sibling content = std::move(request.content);
  content.deleted = tombstone;
  if (tombstone) content.value.clear();
  content.timestamp = Timestamp();
  object::Object stored;
  const object::Resolution resolution = route.props.resolution();
  Status s = store->Coordinate(route.key, request.context, std::move(content),
                               resolution, config.always_sync, &stored);
  if (s.ok() && route.self_index &&
      !route.targets[*route.self_index].hint_for.empty()) {
    s = handoff->RecordHint(route.targets[*route.self_index].hint_for,
                            route.key);
  }
  for (const NodeName& primary : route.uncovered) {
    if (s.ok()) s = handoff->RecordHint(primary, route.key);
  }
  if (!route.self_index) {
    // Coordinating a forward while holding no replica (the forwarder saw a
    // primary down, this node does not): the copy here is owed to every
    // replica, so handoff moves it on even if none acknowledges now.
    for (const coord::Target& t : route.targets) {
      if (s.ok() && t.counts) s = handoff->RecordHint(t.node, route.key);
    }
  }
  if (!s.ok()) return fail(s);

  coord::PutPlan plan;
  plan.key = route.key;
  plan.targets = route.targets;
  if (route.self_index) {
    plan.coordinator_index = *route.self_index;
  } else {
    // Forwarded here by a node with another view of the ring: this node is
    // an extra holder, counted like a replica.
    plan.targets.insert(plan.targets.begin(),
                        coord::Target{config.name, false, "", true});
    plan.coordinator_index = 0;
  }
  plan.w = w;
  plan.dw = dw;
  plan.pw = pw;
  plan.resolution = resolution;
  plan.timeout_ms = config.request_timeout_ms;
  bool want_object = request.return_body || request.return_head;
  PutResult result{Status::Ok(), request.id.key,
                   want_object ? stored : object::Object()};
  coord::StartReplicate(
      env, *this, std::move(plan), std::move(stored),
      [done = std::move(done), result = std::move(result)](Status s) mutable {
        result.status = std::move(s);
        done(std::move(result));
      });
}

void NodeCore::Impl::Forward(const Route& route, PutRequest request,
                             bool tombstone, uint32_t w, uint32_t dw,
                             uint32_t pw, std::function<void(PutResult)> done) {
  const coord::Target& to = route.targets.front();
  peer::Envelope m;
  peer::PutForward* f = m.mutable_put_forward();
  ToProto(route.key, f->mutable_key());
  f->set_context(request.context.Encode());
  // The value travels as a one-sibling object record; its dot is a
  // placeholder that the coordinator replaces.
  object::Object content;
  content.Update({}, std::move(request.content), /*actor=*/1,
                 object::Resolution::kKeepSiblings);
  f->set_content(content.Encode());
  f->set_w(w);
  f->set_dw(dw);
  f->set_pw(pw);
  f->set_return_object(request.return_body || request.return_head);
  f->set_if_not_modified(request.if_not_modified);
  f->set_if_none_match(request.if_none_match);
  f->set_tombstone(tombstone);
  messenger.Request(
      to.node, cluster->AddressOf(to.node), std::move(m),
      config.request_timeout_ms,
      [done = std::move(done), key = request.id.key, node = to.node](
          Status s, const peer::Envelope* reply) {
        PutResult result{Status::Ok(), key, {}};
        if (s.ok() && !reply->has_put_forward_reply()) {
          s = Status::Unavailable("unexpected reply to a forwarded write");
        }
        if (s.ok()) s = FromPeerResult(reply->put_forward_reply().result());
        if (s.ok() && !reply->put_forward_reply().object().empty()) {
          s = object::Object::Decode(reply->put_forward_reply().object(),
                                     &result.object);
        }
        if (!s.ok() && s.code() == Status::Code::kTimeout) {
          s = Status::Timeout("write forwarded to " + node +
                              " was not answered in time");
        }
        result.status = std::move(s);
        done(std::move(result));
      });
}

void NodeCore::Delete(DeleteRequest request,
                      std::function<void(DeleteResult)> done) {
  // A delete is a write of a tombstone with the caller's context.
  auto write_tombstone = [this, done](DeleteRequest request,
                                      causal::VersionVector context) {
    PutRequest put;
    put.id = std::move(request.id);
    put.context = std::move(context);
    put.w = request.w ? request.w : request.rw;
    put.dw = request.dw;
    put.pw = request.pw;
    impl_->Write(std::move(put), /*tombstone=*/true, [done](PutResult r) {
      done(DeleteResult{std::move(r.status)});
    });
  };
  if (!request.context.empty()) {
    causal::VersionVector context = request.context;
    write_tombstone(std::move(request), std::move(context));
    return;
  }
  // Without a context, delete what the replicas hold now: read it first, as
  // Riak does.
  GetRequest read;
  read.id = request.id;
  read.r = request.r;
  read.pr = request.pr;
  Get(std::move(read), [write_tombstone, done,
                        request = std::move(request)](GetResult r) mutable {
    if (r.status.ok()) {
      write_tombstone(std::move(request), r.object.clock());
    } else if (r.status.IsNotFound()) {
      // Nothing live to delete; an existing tombstone stays as it is.
      done(DeleteResult{Status::Ok()});
    } else {
      done(DeleteResult{std::move(r.status)});
    }
  });
}

void NodeCore::ListBuckets(const std::string& type, ListCallback callback) {
  if (!impl_->registry.TypeExists(type)) {
    callback(
        Status::InvalidArgument("bucket type '" + type + "' does not exist"),
        {}, true);
    return;
  }
  impl_->ListFrom(0, "", type, "", std::make_shared<std::set<std::string>>(),
                  std::move(callback));
}

void NodeCore::ListKeys(const std::string& type, const std::string& bucket,
                        ListCallback callback) {
  if (bucket.empty()) {
    callback(Status::InvalidArgument("bucket is empty"), {}, true);
    return;
  }
  if (!impl_->registry.TypeExists(type)) {
    callback(
        Status::InvalidArgument("bucket type '" + type + "' does not exist"),
        {}, true);
    return;
  }
  impl_->ListFrom(0, "", type, bucket,
                  std::make_shared<std::set<std::string>>(),
                  std::move(callback));
}

Status NodeCore::Impl::ListLocal(uint32_t partition, const std::string& type,
                                 const std::string& bucket,
                                 const std::string& after, size_t limit,
                                 std::vector<std::string>* items, bool* more) {
  *more = false;
  if (bucket.empty()) return store->ListBuckets(partition, type, items);
  return store->ListKeys(partition, type, bucket, after,
                         limit == 0 ? SIZE_MAX : limit, items, more);
}

// One partition at a time, each from one live node holding it (this one
// when it can), a page of keys at a time, so a long listing neither stalls
// other requests nor holds more than a page of a partition in memory. An
// empty `bucket` lists buckets; `seen` removes the duplicates that arise
// because a bucket spans partitions.
void NodeCore::Impl::ListFrom(uint32_t partition, std::string after,
                              std::string type, std::string bucket,
                              std::shared_ptr<std::set<std::string>> seen,
                              ListCallback callback) {
  const uint32_t size = cluster->state().size();
  if (partition >= size) {
    callback(Status::Ok(), {}, true);
    return;
  }
  auto deliver = [this, partition, type, bucket, seen, callback](
                     Status s, std::vector<std::string> items,
                     bool more) mutable {
    if (!s.ok()) {
      callback(s, {}, true);
      return;
    }
    // The rest of this partition after the page's last key, or the next.
    std::string after;
    uint32_t next = partition + 1;
    if (more && !items.empty()) {
      after = items.back();
      next = partition;
    }
    if (bucket.empty()) {
      std::erase_if(
          items, [&](const std::string& b) { return !seen->insert(b).second; });
    }
    if (!items.empty()) callback(Status::Ok(), std::move(items), false);
    env.After(0, [this, next, after = std::move(after), type = std::move(type),
                  bucket = std::move(bucket), seen = std::move(seen),
                  callback = std::move(callback)]() mutable {
      ListFrom(next, std::move(after), std::move(type), std::move(bucket),
               std::move(seen), std::move(callback));
    });
  };
  BucketProps props;
  if (!bucket.empty()) registry.Props(type, bucket, &props);
  const ring::Ring& current = cluster->current_ring();
  NodeName holder;
  for (const auto& m : current.Preflist(partition, props.n_val)) {
    if (m.node == config.name) {
      holder = m.node;
      break;
    }
    if (holder.empty() && cluster->IsUp(m.node)) holder = m.node;
  }
  if (holder.empty()) {
    deliver(Status::Unavailable("no live node holds partition " +
                                std::to_string(partition)),
            {}, false);
    return;
  }
  if (holder == config.name) {
    std::vector<std::string> items;
    bool more = false;
    Status s = ListLocal(partition, type, bucket, after, config.list_page_keys,
                         &items, &more);
    deliver(std::move(s), std::move(items), more);
    return;
  }
  peer::Envelope m;
  peer::ListRequest* l = m.mutable_list();
  l->set_partition(partition);
  l->set_type(type);
  l->set_bucket(bucket);
  l->set_buckets(bucket.empty());
  l->set_after(after);
  l->set_limit(static_cast<uint32_t>(config.list_page_keys));
  messenger.Request(holder, cluster->AddressOf(holder), std::move(m),
                    config.request_timeout_ms,
                    [deliver](Status s, const peer::Envelope* reply) mutable {
                      std::vector<std::string> items;
                      bool more = false;
                      if (s.ok() && !reply->has_list_reply()) {
                        s = Status::Unavailable("unexpected reply to a list");
                      }
                      if (s.ok())
                        s = FromPeerResult(reply->list_reply().result());
                      if (s.ok()) {
                        for (const auto& i : reply->list_reply().items()) {
                          items.push_back(i);
                        }
                        more = reply->list_reply().more();
                      }
                      deliver(std::move(s), std::move(items), more);
                    });
}

Status NodeCore::GetBucketProps(const std::string& type,
                                const std::string& bucket, BucketProps* props) {
  return impl_->registry.Props(type, bucket, props);
}

Status NodeCore::SetBucketProps(const std::string& type,
                                const std::string& bucket,
                                const BucketPropsPatch& patch) {
  if (bucket.empty()) return Status::InvalidArgument("bucket is empty");
  Status s =
      impl_->registry.SetBucket(type, bucket, patch, impl_->Timestamp().Pack());
  if (s.ok()) impl_->cluster->GossipToAll();
  return s;
}

Status NodeCore::ResetBucketProps(const std::string& type,
                                  const std::string& bucket) {
  Status s =
      impl_->registry.ResetBucket(type, bucket, impl_->Timestamp().Pack());
  if (s.ok()) impl_->cluster->GossipToAll();
  return s;
}

Status NodeCore::GetBucketTypeProps(const std::string& type,
                                    BucketProps* props) {
  return impl_->registry.TypeProps(type, props);
}

Status NodeCore::SetBucketTypeProps(const std::string& type,
                                    const BucketPropsPatch& patch) {
  Status s = impl_->registry.SetType(type, patch, impl_->Timestamp().Pack());
  if (s.ok()) impl_->cluster->GossipToAll();
  return s;
}

// The replicas a write would go to now: live primaries and the fallbacks
// standing in for down ones, each with the partition through which the ring
// walk reached its node.
Status NodeCore::Preflist(const ObjectId& id,
                          std::vector<PreflistEntry>* preflist) {
  Status s = CheckId(id, true);
  Impl::Route route;
  if (s.ok()) s = impl_->Plan(id, /*for_write=*/false, &route);
  if (!s.ok()) return s;
  const ring::Ring& current = impl_->cluster->current_ring();
  auto walk = current.Preflist(route.key.partition, current.size());
  preflist->clear();
  for (const auto& t : route.targets) {
    uint32_t partition = route.key.partition;
    for (const auto& m : walk) {
      if (m.node == t.node) {
        partition = m.partition;
        break;
      }
    }
    preflist->push_back(PreflistEntry{partition, t.node, t.primary});
  }
  return Status::Ok();
}

void NodeCore::Join(const std::string& seed_address,
                    std::function<void(Status)> done) {
  if (!impl_->messenger.attached() || config_.peer_address.empty()) {
    done(Status::Unavailable("this node has no peer transport configured"));
    return;
  }
  impl_->cluster->Join(seed_address, std::move(done));
}

void NodeCore::Leave(const NodeName& node, std::function<void(Status)> done) {
  impl_->cluster->Leave(node, std::move(done));
}

ClusterView NodeCore::View() const {
  const membership::RingState& st = impl_->cluster->state();
  ClusterView view;
  view.self = config_.name;
  view.claimant = st.claimant();
  view.ring_version = st.version();
  view.ring_size = st.size();
  view.owners = st.owners();
  if (st.pending()) view.next_owners = st.next();
  view.transfers_done.assign(st.transfers_done().begin(),
                             st.transfers_done().end());
  for (const auto& p : impl_->cluster->Peers()) {
    MemberView m;
    m.name = p.member.name;
    m.address = p.member.address;
    m.status = membership::ToString(p.member.status);
    m.up = p.up;
    m.last_heard_ms_ago = p.last_heard_ms_ago;
    m.partitions = static_cast<uint32_t>(
        std::count(st.owners().begin(), st.owners().end(), m.name));
    const auto& next = st.pending() ? st.next() : st.owners();
    m.next_partitions =
        static_cast<uint32_t>(std::count(next.begin(), next.end(), m.name));
    view.members.push_back(std::move(m));
  }
  if (st.pending()) {
    for (uint32_t i = 0; i < st.size(); ++i) {
      view.pending_transfers += st.owners()[i] != st.next()[i];
    }
  }
  view.handoff = impl_->handoff->progress();
  return view;
}

aae::AaeStatus NodeCore::AaeView() const { return impl_->aae->status(); }

const vnode::ObjectCache& NodeCore::ObjectCacheView() const {
  return impl_->store->cache();
}

void NodeCore::ExchangeNow(uint32_t partition, const NodeName& peer,
                           std::function<void(Status)> done) {
  impl_->aae->ExchangeNow(partition, peer, std::move(done));
}

std::optional<uint64_t> NodeCore::AaeRoot(uint32_t partition) const {
  if (!impl_->trees->Ready(partition)) return std::nullopt;
  return impl_->trees->Root(partition);
}

bool NodeCore::ReadyToExit() const {
  return impl_->cluster->removed() && impl_->handoff->idle();
}

}  // namespace causeway::replication
