#include "replication/core.h"

#include <algorithm>
#include <utility>

#include "base/coding.h"
#include "proto/peer.pb.h"
#include "replication/aae/aae_host.h"
#include "replication/bucket_registry.h"
#include "replication/causal/clock_lease.h"
#include "replication/clock_guard.h"
#include "replication/coord/read_path.h"
#include "replication/coord/replica_access.h"
#include "replication/coord/route.h"
#include "replication/coord/write_path.h"
#include "replication/handoff/handoff.h"
#include "replication/listing/lister.h"
#include "replication/membership/cluster.h"
#include "replication/messenger.h"
#include "replication/security/security_registry.h"
#include "replication/vnode/vnode_store.h"
#include "storage/keys.h"

namespace causeway::replication {
namespace {

constexpr std::string_view kHlcKey = "hlc-high-water";

// Binds a component's handler for a row of the peer protocol table.
template <typename Owner>
Messenger::Handler Handler(Owner& owner,
                           void (Owner::*serve)(const NodeName&,
                                                const peer::Envelope&,
                                                Messenger::Respond)) {
  return [&owner, serve](const NodeName& from, const peer::Envelope& message,
                         Messenger::Respond respond) {
    (owner.*serve)(from, message, std::move(respond));
  };
}

}  // namespace

// The components, in the order they are built: each is given references to
// the ones before it.
struct NodeCore::Impl {
  Impl(Env& env, storage::Engine& engine, NodeConfig config_in)
      : env(env),
        engine(engine),
        config(std::move(config_in)),
        registry(engine, config.default_props),
        security(engine),
        messenger(env, config.cluster_name),
        clock(
            [engine = &engine](uint64_t mark) {
              return engine->Put(storage::MetaKey(kHlcKey),
                                 coding::EncodeFixed64(mark));
            },
            LeaseMs(config)),
        guard(env, clock, config.max_clock_offset_ms),
        store(
            engine, [env = &env] { return NewActor(*env); },
            config.object_cache_bytes),
        trees(engine),
        cluster(env, messenger, engine, registry, security, SelfMember(config),
                config.ring_size, config.cluster_timing),
        router(cluster, registry),
        deltas(
            env, store,
            [this](const NodeName& node, const vnode::Key& key,
                   std::function<void(Status, object::Object)> done) {
              replicas.Read(coord::Target{node, true, "", true}, key,
                            std::move(done));
            },
            config.delta_buffer, config.always_sync),
        replicas(
            config.name, store, deltas, messenger, guard,
            [this](const NodeName& primary, const vnode::Key& key) {
              return handoff.RecordHint(primary, key);
            },
            config.always_sync, config.request_timeout_ms),
        handoff(env, cluster, store, engine, registry, replicas,
                config.handoff_timing),
        reads(env, router, replicas, config.request_timeout_ms),
        writes(env, config.name, router, reads, store, replicas, messenger,
               clock, guard, {config.always_sync, config.request_timeout_ms}),
        lister(env, cluster, registry, store, messenger,
               {config.list_page_keys, config.request_timeout_ms}),
        aae_host(cluster, registry, store, messenger, guard,
                 config.always_sync),
        anti_entropy(env, trees, aae_host, AaeTiming(config)) {
    messenger.SetAddressBook(
        [this](const NodeName& node) { return cluster.AddressOf(node); });
    messenger.SetClockGate(
        [this](peer::Envelope* m) { guard.Stamp(m); },
        [this](const NodeName& from, const peer::Envelope& m) {
          return guard.Admit(from, m);
        });
    ServePeerProtocol();
  }

  static causal::ActorId NewActor(Env& env) {
    causal::ActorId actor = 0;
    while (actor == 0) actor = env.Random();
    return actor;
  }
  static membership::Member SelfMember(const NodeConfig& config) {
    return membership::Member{config.name, config.peer_address,
                              membership::MemberStatus::kValid, 1};
  }
  // Half the bound on drift: a quick restart resumes within it.
  static uint64_t LeaseMs(const NodeConfig& config) {
    return std::clamp<uint64_t>(config.max_clock_offset_ms / 2, 1,
                                causal::ClockLease::kLeaseMs);
  }
  static aae::AaeTiming AaeTiming(const NodeConfig& config) {
    aae::AaeTiming timing = config.aae_timing;
    timing.request_timeout_ms = config.request_timeout_ms;
    return timing;
  }

  // The peer protocol: every request, the reply it expects, and the
  // component that answers it.
  void ServePeerProtocol() {
    using E = peer::Envelope;
    auto& m = messenger;
    m.Serve(E::kHeartbeat, kOneWay, "a heartbeat",
            Handler(cluster, &membership::Cluster::ServeHeartbeat));
    m.Serve(E::kGossip, kOneWay, "gossip",
            Handler(cluster, &membership::Cluster::ServeGossip));
    m.Serve(E::kJoin, E::kJoinReply, "a join",
            Handler(cluster, &membership::Cluster::ServeJoin));
    m.Serve(E::kRead, E::kReadReply, "a read",
            Handler(replicas, &coord::ReplicaAccess::ServeRead));
    m.Serve(E::kWrite, E::kWriteReply, "a write",
            Handler(replicas, &coord::ReplicaAccess::ServeWrite));
    m.Serve(E::kDelta, E::kDeltaReply, "a data-type delta",
            Handler(replicas, &coord::ReplicaAccess::ServeDelta));
    m.Serve(E::kPutForward, E::kPutForwardReply, "a forwarded write",
            Handler(writes, &coord::WritePath::ServeForward));
    m.Serve(E::kUpdateForward, E::kUpdateForwardReply,
            "a forwarded data-type update",
            Handler(writes, &coord::WritePath::ServeUpdateForward));
    m.Serve(E::kList, E::kListReply, "a listing",
            Handler(lister, &listing::Lister::ServePage));
    m.Serve(E::kAaeTree, E::kAaeTreeReply, "a hash tree request",
            Handler(anti_entropy, &aae::AntiEntropy::ServeTree));
    m.Serve(E::kAaeKeys, E::kAaeKeysReply, "a key list request",
            Handler(anti_entropy, &aae::AntiEntropy::ServeKeys));
    m.Serve(E::kAaeRepair, E::kAaeRepairReply, "a repair",
            Handler(anti_entropy, &aae::AntiEntropy::ServeRepair));
    m.Serve(E::kAaeReap, E::kAaeReapReply, "a reap request",
            Handler(anti_entropy, &aae::AntiEntropy::ServeReap));
  }

  Status LoadClock() {
    std::string bytes;
    Status s = engine.Get(storage::MetaKey(kHlcKey), &bytes);
    if (s.IsNotFound()) return Status::Ok();
    if (!s.ok()) return s;
    std::string_view in = bytes;
    uint64_t mark = 0;
    if (!coding::GetFixed64(&in, &mark) || !in.empty()) {
      return Status::Corruption("node metadata: bad HLC mark");
    }
    clock.Restore(mark);
    return Status::Ok();
  }

  // Bucket property changes spread to every peer at once: requests depend
  // on them.
  Status Gossiped(Status s) {
    if (s.ok()) cluster.GossipToAll();
    return s;
  }

  Env& env;
  storage::Engine& engine;
  const NodeConfig config;
  BucketRegistry registry;
  security::SecurityRegistry security;
  Messenger messenger;
  causal::ClockLease clock;
  ClockGuard guard;
  vnode::VnodeStore store;
  aae::Trees trees;
  membership::Cluster cluster;
  coord::Router router;
  vnode::DeltaApplier deltas;
  coord::ReplicaAccess replicas;
  handoff::Handoff handoff;
  coord::ReadPath reads;
  coord::WritePath writes;
  listing::Lister lister;
  aae::AaeHost aae_host;
  aae::AntiEntropy anti_entropy;
};

NodeCore::NodeCore(Env& env, storage::Engine& engine, NodeConfig config)
    : impl_(std::make_unique<Impl>(env, engine, std::move(config))) {}

NodeCore::~NodeCore() = default;

Status NodeCore::Open() {
  Impl& i = *impl_;
  Status s = i.trees.Open();
  if (s.ok()) {
    i.store.AttachTrees(&i.trees);
    s = i.LoadClock();
  }
  if (s.ok()) s = i.registry.Load();
  if (s.ok()) s = i.security.Load();
  if (s.ok()) s = i.cluster.Load();
  if (s.ok()) i.cluster.OnRingChange([&i] { i.handoff.OnRingChange(); });
  // Whatever waits on a peer that fell silent (replica requests, forwards,
  // listings, transfers) fails now; coordinators then turn to a fallback
  // replica or answer that their quorum is out of reach, instead of
  // holding the client until the request timeout.
  if (s.ok()) {
    i.cluster.OnPeerSuspect([&i](const NodeName& peer, uint64_t silent_ms) {
      i.messenger.FailPeer(
          peer, i.cluster.AddressOf(peer),
          "not heard from for " + std::to_string(silent_ms) + " ms (suspect)");
    });
  }
  return s;
}

void NodeCore::AttachNetwork(Network* network) {
  impl_->messenger.Attach(network);
}

void NodeCore::Start() {
  impl_->cluster.Start();
  impl_->handoff.Start();
  impl_->anti_entropy.Start();
}

void NodeCore::Close() {
  // Nothing is buffered: every write reached the engine before it was
  // acknowledged. Persist the clock mark so a restart resumes above it.
  impl_->clock.Close();
}

void NodeCore::OnPeerMessage(const NodeName& from, std::string_view payload) {
  peer::Envelope message;
  if (!message.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
    return;
  }
  if (message.cluster() != impl_->config.cluster_name) return;
  impl_->cluster.NoteHeard(from);
  impl_->messenger.Receive(from, message);
}

void NodeCore::OnPeerUnreachable(const NodeName& node,
                                 const std::string& address,
                                 const std::string& reason) {
  impl_->messenger.FailPeer(node, address, reason);
}

void NodeCore::Join(const std::string& seed_address,
                    std::function<void(Status)> done) {
  if (!impl_->messenger.attached() || impl_->config.peer_address.empty()) {
    done(Status::Unavailable("this node has no peer transport configured"));
    return;
  }
  impl_->cluster.Join(seed_address, std::move(done));
}

void NodeCore::Leave(const NodeName& node, std::function<void(Status)> done) {
  impl_->cluster.Leave(node, std::move(done));
}

ClusterView NodeCore::View() const {
  return MakeClusterView(impl_->cluster, impl_->handoff.progress());
}

bool NodeCore::ReadyToExit() const {
  return impl_->cluster.removed() && impl_->handoff.idle();
}

const NodeConfig& NodeCore::config() const { return impl_->config; }

void NodeCore::Get(GetRequest request, std::function<void(GetResult)> done) {
  impl_->reads.Get(std::move(request), std::move(done));
}

void NodeCore::Put(PutRequest request, std::function<void(PutResult)> done) {
  impl_->writes.Put(std::move(request), std::move(done));
}

void NodeCore::Delete(DeleteRequest request,
                      std::function<void(DeleteResult)> done) {
  impl_->writes.Delete(std::move(request), std::move(done));
}

void NodeCore::Fetch(FetchRequest request,
                     std::function<void(FetchResult)> done) {
  impl_->reads.Fetch(std::move(request), std::move(done));
}

void NodeCore::Update(UpdateRequest request,
                      std::function<void(UpdateResult)> done) {
  impl_->writes.Update(std::move(request), std::move(done));
}

void NodeCore::ListBuckets(const std::string& type, ListCallback callback) {
  impl_->lister.ListBuckets(type, std::move(callback));
}

void NodeCore::ListKeys(const std::string& type, const std::string& bucket,
                        ListCallback callback) {
  impl_->lister.ListKeys(type, bucket, std::move(callback));
}

Status NodeCore::GetBucketProps(const std::string& type,
                                const std::string& bucket, BucketProps* props) {
  return impl_->registry.Props(type, bucket, props);
}

Status NodeCore::SetBucketProps(const std::string& type,
                                const std::string& bucket,
                                const BucketPropsPatch& patch) {
  if (bucket.empty()) return Status::InvalidArgument("bucket is empty");
  const uint64_t now = impl_->clock.Issue(impl_->env.WallMillis()).Pack();
  return impl_->Gossiped(impl_->registry.SetBucket(type, bucket, patch, now));
}

Status NodeCore::ResetBucketProps(const std::string& type,
                                  const std::string& bucket) {
  const uint64_t now = impl_->clock.Issue(impl_->env.WallMillis()).Pack();
  return impl_->Gossiped(impl_->registry.ResetBucket(type, bucket, now));
}

Status NodeCore::GetBucketTypeProps(const std::string& type,
                                    BucketProps* props) {
  return impl_->registry.TypeProps(type, props);
}

Status NodeCore::SetBucketTypeProps(const std::string& type,
                                    const BucketPropsPatch& patch) {
  const uint64_t now = impl_->clock.Issue(impl_->env.WallMillis()).Pack();
  return impl_->Gossiped(impl_->registry.SetType(type, patch, now));
}

Status NodeCore::CreateBucketType(const std::string& type,
                                  const BucketPropsPatch& patch) {
  const uint64_t now = impl_->clock.Issue(impl_->env.WallMillis()).Pack();
  return impl_->Gossiped(impl_->registry.CreateType(type, patch, now));
}

std::vector<std::string> NodeCore::BucketTypeNames() const {
  return impl_->registry.TypeNames();
}

Status NodeCore::ChangeSecurity(const security::Change& change) {
  const uint64_t now = impl_->clock.Issue(impl_->env.WallMillis()).Pack();
  return impl_->Gossiped(impl_->security.Apply(change, now));
}

const security::SecurityRegistry& NodeCore::SecurityView() const {
  return impl_->security;
}

Status NodeCore::Preflist(const ObjectId& id,
                          std::vector<PreflistEntry>* preflist) {
  return impl_->router.Preflist(id, preflist);
}

aae::AaeStatus NodeCore::AaeView() const {
  return impl_->anti_entropy.status();
}

const vnode::ObjectCache& NodeCore::ObjectCacheView() const {
  return impl_->store.cache();
}

ClockStats NodeCore::ClockView() const { return impl_->guard.stats(); }

const vnode::DeltaStats& NodeCore::DeltaView() const {
  return impl_->deltas.stats();
}

}  // namespace causeway::replication
