#pragma once
// Replicas: how a coordinator reaches the replicas of a key. The node core
// answers for this node's own replicas directly from its VnodeStore; replicas
// on other nodes are reached over the peer transport (the cluster issue).
// Callbacks may run before the call returns.

#include <functional>

#include "base/status.h"
#include "replication/env.h"
#include "replication/object/object.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::replication::coord {

struct Target {
  NodeName node;
  bool primary = true;
  // For a fallback standing in for a down primary: that primary's name.
  NodeName hint_for;
  // False for extra copies (to nodes gaining the key in a pending ownership
  // change) that do not count towards quorums.
  bool counts = true;
};

class Replicas {
 public:
  virtual ~Replicas() = default;
  // Reply: ok with the replica's object, NotFound, or an error.
  virtual void Read(const Target& target, const vnode::Key& key,
                    std::function<void(Status, object::Object)> done) = 0;
  // Merges `object` into the replica. Reply: ok once it is in the replica's
  // storage log.
  virtual void Write(const Target& target, const vnode::Key& key,
                     const object::Object& object,
                     object::Resolution resolution,
                     std::function<void(Status)> done) = 0;
  // Applies a data-type update's change to the replica, in its origin's
  // order (vnode/delta_applier.h). Reply: ok once it is in the replica's
  // storage log. REQUIRES: `target` is another node.
  virtual void WriteDelta(const Target& target, const vnode::Key& key,
                          const object::Delta& delta,
                          std::function<void(Status)> done) = 0;
};

}  // namespace causeway::replication::coord
