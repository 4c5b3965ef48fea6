#include "replication/coord/route.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "replication/ring/ring.h"

namespace causeway::replication {

Status CheckId(const ObjectId& id, bool key_required) {
  if (id.bucket.empty()) return Status::InvalidArgument("bucket is empty");
  if (key_required && id.key.empty()) {
    return Status::InvalidArgument("key is empty");
  }
  return Status::Ok();
}

namespace coord {

Status Router::Plan(const ObjectId& id, bool for_write, Route* route) const {
  Status s = registry_.Props(id.type, id.bucket, &route->props);
  if (!s.ok()) return s;
  const NodeName& self = cluster_.self();
  const ring::Ring& current = cluster_.current_ring();
  const uint32_t partition =
      current.PartitionOf(ring::HashKey(id.type, id.bucket, id.key));
  CAUSEWAY_ASSERT(partition < current.size());
  route->key = vnode::Key{partition, id.type, id.bucket, id.key};
  route->targets.clear();
  route->uncovered.clear();
  route->self_index.reset();
  auto add = [&](Target t) {
    if (t.node == self) route->self_index = route->targets.size();
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
    if (cluster_.IsLive(primary)) {
      add(Target{primary, true, "", true});
      continue;
    }
    while (next_fallback < walk.size() &&
           !cluster_.IsLive(walk[next_fallback].node)) {
      ++next_fallback;
    }
    if (next_fallback < walk.size()) {
      add(Target{walk[next_fallback++].node, false, primary, true});
    } else {
      route->uncovered.push_back(primary);
    }
  }
  if (for_write && cluster_.state().pending()) {
    for (const auto& m : cluster_.next_ring().Preflist(partition, n)) {
      bool known =
          std::any_of(route->targets.begin(), route->targets.end(),
                      [&](const Target& t) { return t.node == m.node; });
      if (!known && cluster_.IsLive(m.node)) {
        add(Target{m.node, false, "", false});
      }
    }
  }
  if (route->targets.empty()) {
    return Status::Unavailable("no replica of " + id.bucket + "/" + id.key +
                               " is reachable");
  }
  return Status::Ok();
}

std::optional<Target> Router::Fallback(const vnode::Key& key, uint32_t replicas,
                                       const Target& failed,
                                       const std::vector<Target>& taken) const {
  // A live node that failed answered with an error, which another replica
  // would not undo; an extra copy counts towards nothing.
  if (!failed.counts || cluster_.IsLive(failed.node)) return std::nullopt;
  const ring::Ring& current = cluster_.current_ring();
  if (key.partition >= current.size()) return std::nullopt;
  const NodeName& stands_for = failed.primary ? failed.node : failed.hint_for;
  auto walk = current.Preflist(key.partition, current.size());
  for (size_t i = 0; i < walk.size(); ++i) {
    const NodeName& node = walk[i].node;
    const bool is_taken =
        std::any_of(taken.begin(), taken.end(),
                    [&](const Target& t) { return t.node == node; });
    if (is_taken || !cluster_.IsLive(node)) continue;
    if (i < replicas) return Target{node, true, "", true};
    return Target{node, false, stands_for, true};
  }
  return std::nullopt;
}

std::function<std::optional<Target>(const Target&, const std::vector<Target>&)>
Router::FallbackFor(const Route& route) const {
  return [this, key = route.key, replicas = route.replicas](
             const Target& failed, const std::vector<Target>& taken) {
    return Fallback(key, replicas, failed, taken);
  };
}

Status DataTypeOf(const ObjectId& id, const BucketProps& props,
                  crdt::TypeTag* tag) {
  if (props.datatype.empty()) {
    return Status::InvalidArgument(
        "bucket type '" + id.type +
        "' has no datatype; data types live in a bucket type created with "
        "one (causeway bucket-type create NAME datatype=counter|set|map|"
        "hll|gset)");
  }
  if (!crdt::ParseTypeName(props.datatype, tag)) {
    return Status::InvalidArgument("bucket type '" + id.type +
                                   "' has an unknown datatype '" +
                                   props.datatype + "'");
  }
  return Status::Ok();
}

Status Router::Preflist(const ObjectId& id,
                        std::vector<PreflistEntry>* preflist) const {
  Status s = CheckId(id, true);
  Route route;
  if (s.ok()) s = Plan(id, /*for_write=*/false, &route);
  if (!s.ok()) return s;
  const ring::Ring& current = cluster_.current_ring();
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
  // Riak's preference list always has n_val partitions, the ones after the
  // key's, whatever nodes own them. With fewer nodes than n_val Causeway
  // keeps one copy per node, so the walk above found fewer; the rest of the
  // n_val partitions are listed with their owners, as Riak lists them.
  const uint32_t wanted = std::min(route.props.n_val, current.size());
  for (uint32_t step = 0; preflist->size() < wanted; ++step) {
    CAUSEWAY_ASSERT(step < current.size());
    const uint32_t partition = (route.key.partition + step) % current.size();
    if (std::none_of(
            preflist->begin(), preflist->end(),
            [&](const PreflistEntry& e) { return e.partition == partition; })) {
      preflist->push_back(
          PreflistEntry{partition, current.Owner(partition), true});
    }
  }
  return Status::Ok();
}

}  // namespace coord
}  // namespace causeway::replication
