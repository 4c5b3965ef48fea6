#pragma once
// VnodeStore: this node's replicas of every partition it holds, over one
// storage engine. It applies writes the way a Dynamo vnode does: a
// coordinated write mints a dot with this replica's actor id; a replicated
// write (from a coordinator elsewhere, or a repair) merges. Each object write
// is one engine write, so a crash leaves the old or the new object, never a
// mix. Reads decode defensively: a corrupt record is reported, not trusted.
//
// With anti-entropy trees attached, every object change (Write, Remove)
// updates the partition's tree and segment index in the same engine batch
// as the object, so the tree never disagrees with the objects after a crash.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "replication/aae/tree.h"
#include "replication/causal/dot.h"
#include "replication/object/object.h"
#include "storage/engine.h"
#include "storage/status.h"

namespace causeway::replication::vnode {

struct Key {
  uint32_t partition;
  std::string type;
  std::string bucket;
  std::string key;
};

class VnodeStore {
 public:
  VnodeStore(storage::Engine& engine, causal::ActorId actor)
      : engine_(engine), actor_(actor) {}
  VnodeStore(const VnodeStore&) = delete;
  VnodeStore& operator=(const VnodeStore&) = delete;

  causal::ActorId actor() const { return actor_; }

  // Keeps `trees` (which must outlive the store) equal to the objects from
  // now on; null stops it.
  void AttachTrees(aae::Trees* trees) { trees_ = trees; }

  // NotFound when this replica has never stored the key.
  Status Read(const Key& key, object::Object* out);

  // A client write coordinated here. On success `result` is the stored
  // object (which includes the new sibling).
  Status Coordinate(const Key& key, const causal::VersionVector& context,
                    object::Sibling content, object::Resolution resolution,
                    bool sync, object::Object* result);

  // Folds another replica's state in; writes only if something changed.
  Status Merge(const Key& key, const object::Object& incoming,
               object::Resolution resolution, bool sync,
               object::Object* result);

  // Deletes this replica's copy (handoff, once others hold it).
  Status Remove(const Key& key);

  // Keys of one bucket in one partition whose objects are live (not
  // tombstones), in key order, in batches of at most `batch`.
  Status ListKeys(uint32_t partition, const std::string& type,
                  const std::string& bucket, size_t batch,
                  const std::function<void(std::vector<std::string>)>& emit);

  // Buckets of `type` in `partition` holding at least one live object.
  // Skips from bucket to bucket instead of reading every key.
  Status ListBuckets(uint32_t partition, const std::string& type,
                     std::vector<std::string>* buckets);

 private:
  Status Write(const Key& key, const object::Object& object, bool sync);

  storage::Engine& engine_;
  causal::ActorId actor_;
  aae::Trees* trees_ = nullptr;
  // The index entry of the object last read or written here (its key
  // encoded), so the write that follows a read needs no index lookup.
  std::string known_key_;
  aae::Trees::Known known_entry_;
  bool known_valid_ = false;
};

}  // namespace causeway::replication::vnode
