#include "replication/core.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "replication/bucket_registry.h"
#include "replication/causal/hlc.h"
#include "replication/coord/coordinators.h"
#include "replication/coord/quorum.h"
#include "replication/ring/ring.h"
#include "replication/vnode/vnode_store.h"
#include "storage/keys.h"

namespace causeway::replication {
namespace {

constexpr std::string_view kActorKey = "actor-id";
constexpr std::string_view kHlcKey = "hlc-high-water";
// The persisted HLC mark runs this far ahead of issued timestamps, so it is
// written about once per interval, not once per write.
constexpr uint64_t kHlcLeaseMs = 2000;
constexpr size_t kListBatch = 1000;
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

// Answers for this node's own replicas straight from its store. Replicas on
// other nodes need the peer transport, which the cluster issue adds; until
// then the ring has a single owner and they never occur.
class LocalReplicas : public coord::Replicas {
 public:
  LocalReplicas(const NodeName& self, vnode::VnodeStore& store, bool sync)
      : self_(self), store_(store), sync_(sync) {}

  void Read(const coord::Target& target, const vnode::Key& key,
            std::function<void(Status, object::Object)> done) override {
    if (target.node != self_) {
      done(Status::Unavailable("no route to node " + target.node), {});
      return;
    }
    object::Object o;
    Status s = store_.Read(key, &o);
    done(std::move(s), std::move(o));
  }

  void Write(const coord::Target& target, const vnode::Key& key,
             const object::Object& object, object::Resolution resolution,
             std::function<void(Status)> done) override {
    if (target.node != self_) {
      done(Status::Unavailable("no route to node " + target.node));
      return;
    }
    object::Object result;
    done(store_.Merge(key, object, resolution, sync_, &result));
  }

 private:
  const NodeName& self_;
  vnode::VnodeStore& store_;
  bool sync_;
};

Status CheckId(const ObjectId& id, bool key_required) {
  if (id.bucket.empty()) return Status::InvalidArgument("bucket is empty");
  if (key_required && id.key.empty()) {
    return Status::InvalidArgument("key is empty");
  }
  return Status::Ok();
}

}  // namespace

struct NodeCore::Impl {
  Impl(Env& env, storage::Engine& engine, const NodeConfig& config)
      : env(env),
        engine(engine),
        config(config),
        ring(ring::Ring::SingleOwner(config.ring_size, config.name)),
        registry(engine, config.default_props) {}

  Status LoadActor();
  causal::HlcTimestamp Timestamp();
  Status PersistHlc(uint64_t high_water);

  // Effective properties, preference list and key location for a request.
  struct Route {
    BucketProps props;
    vnode::Key key;
    std::vector<coord::Target> targets;
    size_t self_index = 0;  // where this node is in targets
    bool self_in_list = false;
  };
  Status Plan(const ObjectId& id, Route* route);
  std::string GenerateKey();

  void Write(PutRequest request, bool tombstone,
             std::function<void(PutResult)> done);
  void ListKeysFrom(uint32_t partition, std::string type, std::string bucket,
                    ListCallback callback);

  Env& env;
  storage::Engine& engine;
  NodeConfig config;
  ring::Ring ring;
  BucketRegistry registry;
  causal::HybridClock hlc;
  uint64_t hlc_persisted = 0;
  std::unique_ptr<vnode::VnodeStore> store;
  std::unique_ptr<LocalReplicas> replicas;
};

Status NodeCore::Impl::LoadActor() {
  std::string bytes;
  uint64_t actor = 0;
  Status s = engine.Get(storage::MetaKey(kActorKey), &bytes);
  if (s.ok()) {
    if (!DecodeU64(bytes, &actor) || actor == 0) {
      return Status::Corruption("node metadata: bad actor id");
    }
  } else if (s.IsNotFound()) {
    // A fresh data directory is a fresh replica incarnation: a new actor id,
    // so dots minted before a wipe are never minted again.
    while (actor == 0) actor = env.Random();
    s = engine.Put(storage::MetaKey(kActorKey), EncodeU64(actor),
                   {.sync = true});
    if (!s.ok()) return s;
  } else {
    return s;
  }
  store = std::make_unique<vnode::VnodeStore>(engine, actor);
  replicas =
      std::make_unique<LocalReplicas>(config.name, *store, config.always_sync);
  return Status::Ok();
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

Status NodeCore::Impl::Plan(const ObjectId& id, Route* route) {
  Status s = registry.Props(id.type, id.bucket, &route->props);
  if (!s.ok()) return s;
  uint32_t partition =
      ring.PartitionOf(ring::HashKey(id.type, id.bucket, id.key));
  route->key = vnode::Key{partition, id.type, id.bucket, id.key};
  route->targets.clear();
  for (const auto& m : ring.Preflist(partition, route->props.n_val)) {
    if (m.node == config.name) {
      route->self_in_list = true;
      route->self_index = route->targets.size();
    }
    route->targets.push_back(coord::Target{m.node, m.primary});
  }
  if (!route->self_in_list) {
    return Status::Unavailable("this node holds no replica of the key");
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

NodeCore::NodeCore(Env& env, storage::Engine& engine, NodeConfig config)
    : impl_(std::make_unique<Impl>(env, engine, config)),
      config_(std::move(config)) {}

NodeCore::~NodeCore() = default;

Status NodeCore::Open() {
  Status s = impl_->LoadActor();
  if (!s.ok()) return s;
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
  return impl_->registry.Load();
}

void NodeCore::Close() {
  // Nothing is buffered: every write reached the engine before it was
  // acknowledged. Persist the clock mark so a restart resumes above it.
  impl_->PersistHlc(
      std::max(impl_->hlc_persisted, impl_->hlc.last().wall_ms + 1));
}

void NodeCore::Get(GetRequest request, std::function<void(GetResult)> done) {
  Status s = CheckId(request.id, true);
  Impl::Route route;
  if (s.ok()) s = impl_->Plan(request.id, &route);
  coord::GetPlan plan;
  const uint32_t n = route.props.n_val;
  const uint32_t count = static_cast<uint32_t>(route.targets.size());
  if (s.ok()) {
    s = coord::ResolveQuorum("r", request.r, route.props.r, n, count, &plan.r);
  }
  if (s.ok()) {
    s = coord::ResolveQuorum("pr", request.pr, route.props.pr, n, count,
                             &plan.pr);
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
  plan.timeout_ms = kRequestTimeoutMs;
  auto if_modified = std::move(request.if_modified);
  coord::StartGet(
      impl_->env, *impl_->replicas, std::move(plan),
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
  s = Plan(request.id, &route);
  if (!s.ok()) return fail(s);

  coord::PutPlan plan;
  const uint32_t n = route.props.n_val;
  const uint32_t count = static_cast<uint32_t>(route.targets.size());
  s = coord::ResolveQuorum("w", request.w, route.props.w, n, count, &plan.w);
  if (s.ok()) {
    s = coord::ResolveQuorum("dw", request.dw, route.props.dw, n, count,
                             &plan.dw);
  }
  if (s.ok()) {
    s = coord::ResolveQuorum("pw", request.pw, route.props.pw, n, count,
                             &plan.pw);
  }
  if (!s.ok()) return fail(s);

  if (request.if_not_modified || request.if_none_match) {
    object::Object current;
    s = store->Read(route.key, &current);
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
  s = store->Coordinate(route.key, request.context, std::move(content),
                        resolution, config.always_sync, &stored);
  if (!s.ok()) return fail(s);

  plan.key = route.key;
  plan.targets = route.targets;
  plan.coordinator_index = route.self_index;
  plan.resolution = resolution;
  plan.timeout_ms = kRequestTimeoutMs;
  bool want_object = request.return_body || request.return_head;
  PutResult result{Status::Ok(), request.id.key,
                   want_object ? stored : object::Object()};
  coord::StartReplicate(
      env, *replicas, std::move(plan), std::move(stored),
      [done = std::move(done), result = std::move(result)](Status s) mutable {
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
  std::set<std::string> all;
  for (uint32_t p = 0; p < impl_->ring.size(); ++p) {
    std::vector<std::string> found;
    Status s = impl_->store->ListBuckets(p, type, &found);
    if (!s.ok()) {
      callback(s, {}, true);
      return;
    }
    all.insert(found.begin(), found.end());
  }
  std::vector<std::string> batch;
  for (const auto& b : all) {
    batch.push_back(b);
    if (batch.size() == kListBatch) {
      callback(Status::Ok(), std::move(batch), false);
      batch.clear();
    }
  }
  callback(Status::Ok(), std::move(batch), true);
}

void NodeCore::ListKeys(const std::string& type, const std::string& bucket,
                        ListCallback callback) {
  if (!impl_->registry.TypeExists(type)) {
    callback(
        Status::InvalidArgument("bucket type '" + type + "' does not exist"),
        {}, true);
    return;
  }
  impl_->ListKeysFrom(0, type, bucket, std::move(callback));
}

// One partition per turn of the event loop, so a long listing does not stall
// other requests.
void NodeCore::Impl::ListKeysFrom(uint32_t partition, std::string type,
                                  std::string bucket, ListCallback callback) {
  Status s = store->ListKeys(partition, type, bucket, kListBatch,
                             [&](std::vector<std::string> keys) {
                               callback(Status::Ok(), std::move(keys), false);
                             });
  if (!s.ok()) {
    callback(s, {}, true);
    return;
  }
  if (partition + 1 >= ring.size()) {
    callback(Status::Ok(), {}, true);
    return;
  }
  env.After(
      0, [this, partition, type = std::move(type), bucket = std::move(bucket),
          callback = std::move(callback)]() mutable {
        ListKeysFrom(partition + 1, std::move(type), std::move(bucket),
                     std::move(callback));
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
  return impl_->registry.SetBucket(type, bucket, patch);
}

Status NodeCore::ResetBucketProps(const std::string& type,
                                  const std::string& bucket) {
  return impl_->registry.ResetBucket(type, bucket);
}

Status NodeCore::GetBucketTypeProps(const std::string& type,
                                    BucketProps* props) {
  return impl_->registry.TypeProps(type, props);
}

Status NodeCore::SetBucketTypeProps(const std::string& type,
                                    const BucketPropsPatch& patch) {
  return impl_->registry.SetType(type, patch);
}

Status NodeCore::Preflist(const ObjectId& id,
                          std::vector<PreflistEntry>* preflist) {
  BucketProps props;
  Status s = impl_->registry.Props(id.type, id.bucket, &props);
  if (!s.ok()) return s;
  uint32_t partition =
      impl_->ring.PartitionOf(ring::HashKey(id.type, id.bucket, id.key));
  preflist->clear();
  for (const auto& m : impl_->ring.Preflist(partition, props.n_val)) {
    preflist->push_back(PreflistEntry{m.partition, m.node, m.primary});
  }
  return Status::Ok();
}

}  // namespace causeway::replication
