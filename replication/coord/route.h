#pragma once
// Router: where a request for a key goes. It reads the bucket's effective
// properties and this node's view of the ring and of which nodes are live
// (heard from recently: Cluster::IsLive), and plans the replicas to ask:
// the live primaries, a fallback standing in for each primary that is not
// (sloppy quorum), and, for writes while ownership is changing, the nodes
// gaining the key (extra copies that do not count towards quorums). Once a
// request is under way, it also names the replica to ask instead of one
// whose node fell silent (Fallback).

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/status.h"
#include "replication/bucket_registry.h"
#include "replication/coord/replicas.h"
#include "replication/membership/cluster.h"
#include "replication/requests.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::replication::coord {

struct Route {
  buckets::BucketProps props;
  vnode::Key key;
  std::vector<Target> targets;
  uint32_t replicas = 0;  // primaries the ring has for the key
  // This node's place in `targets`, when it is one of them.
  std::optional<size_t> self_index;
  // Down primaries for which no fallback node is free (a cluster with no
  // more nodes than n_val): the coordinator keeps a hint for them itself.
  std::vector<NodeName> uncovered;
};

// The data type a bucket's properties name; InvalidArgument when they name
// none (a key/value bucket type) or an unknown one.
Status DataTypeOf(const ObjectId& id, const buckets::BucketProps& props,
                  crdt::TypeTag* tag);

class Router {
 public:
  // Both must outlive the router.
  Router(const membership::Cluster& cluster, const BucketRegistry& registry)
      : cluster_(cluster), registry_(registry) {}

  // InvalidArgument for an unknown bucket type; Unavailable when no replica
  // is reachable.
  Status Plan(const ObjectId& id, bool for_write, Route* route) const;

  // A replica of `key` (whose ring has `replicas` primaries for it) to ask
  // instead of `failed`, as coord::FallbackFn describes: the first live node
  // in the key's ring walk not among `taken`. It stands in for the primary
  // `failed` was or stood in for, unless it is a primary itself (one that
  // was silent when the request was planned and is live again).
  std::optional<Target> Fallback(const vnode::Key& key, uint32_t replicas,
                                 const Target& failed,
                                 const std::vector<Target>& taken) const;
  // The same, as a request's plan holds it. REQUIRES: the router outlives
  // the request.
  std::function<std::optional<Target>(const Target&,
                                      const std::vector<Target>&)>
  FallbackFor(const Route& route) const;

  // The replicas a write would go to now, each with the partition through
  // which the ring walk reached its node.
  Status Preflist(const ObjectId& id,
                  std::vector<PreflistEntry>* preflist) const;

 private:
  const membership::Cluster& cluster_;
  const BucketRegistry& registry_;
};

}  // namespace causeway::replication::coord
