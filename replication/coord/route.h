#pragma once
// Router: where a request for a key goes. It reads the bucket's effective
// properties and this node's view of the ring and of which nodes are up,
// and plans the replicas to ask: the live primaries, a fallback standing in
// for each down primary (sloppy quorum), and, for writes while ownership is
// changing, the nodes gaining the key (extra copies that do not count
// towards quorums).

#include <cstdint>
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

  // The replicas a write would go to now, each with the partition through
  // which the ring walk reached its node.
  Status Preflist(const ObjectId& id,
                  std::vector<PreflistEntry>* preflist) const;

 private:
  const membership::Cluster& cluster_;
  const BucketRegistry& registry_;
};

}  // namespace causeway::replication::coord
