#pragma once
// VnodeStore: this node's replicas of every partition it holds, over one
// storage engine. It applies writes the way a Dynamo vnode does: a
// coordinated write mints a dot; a replicated write (from a coordinator
// elsewhere, or a repair) merges. Each object write
// is one engine write, so a crash leaves the old or the new object, never a
// mix. Reads decode defensively: a corrupt record is reported, not trusted.
//
// With anti-entropy trees attached, every object change (Write, Remove)
// puts the key's segment index entry in the same engine batch as the
// object, so the index never disagrees with the objects after a crash, and
// then updates the tree's segment hash in memory.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "replication/aae/tree.h"
#include "replication/causal/dot.h"
#include "replication/object/object.h"
#include "replication/vnode/object_cache.h"
#include "storage/engine.h"

namespace causeway::replication::vnode {

struct Key {
  uint32_t partition;
  std::string type;
  std::string bucket;
  std::string key;
};

class VnodeStore {
 public:
  // `new_actor` returns a fresh, non-zero, random actor id on each call.
  // `cache_bytes` bounds the cache of recently used objects (0: none; see
  // object_cache.h, which also says when a store must run without one).
  VnodeStore(storage::Engine& engine,
             std::function<causal::ActorId()> new_actor, size_t cache_bytes = 0)
      : engine_(engine),
        new_actor_(std::move(new_actor)),
        cache_(cache_bytes) {}
  VnodeStore(const VnodeStore&) = delete;
  VnodeStore& operator=(const VnodeStore&) = delete;

  // Keeps `trees` (which must outlive the store) equal to the objects from
  // now on; null stops it.
  void AttachTrees(aae::Trees* trees) { trees_ = trees; }

  // NotFound when this replica has never stored the key.
  Status Read(const Key& key, object::Object* out);

  // A client write coordinated here. On success `result` is the stored
  // object (which includes the new sibling).
  //
  // Dots are minted per key under the actor kept in this replica's stored
  // copy, which every dot it minted under that actor is in. A copy that has
  // none (the key is new here, was dropped by handoff or reaping, or came
  // from another replica) gets a fresh random actor first: continuing an
  // actor's counter is only safe from a copy known to hold all its dots,
  // otherwise a new write could reuse a dot that other replicas hold for an
  // older one and be dropped by them as already seen.
  Status Coordinate(const Key& key, const causal::VersionVector& context,
                    object::Sibling content, object::Resolution resolution,
                    bool sync, object::Object* result);

  // A data-type update coordinated here: the change gets the next dot of
  // the actor this copy mints under (chosen as for Coordinate) and `op` is
  // applied (object::Object::UpdateData). `*delta` is what the other
  // replicas need; `*result` the stored object. Nothing is written on
  // error.
  Status CoordinateUpdate(const Key& key, crdt::TypeTag tag,
                          const crdt::TypeParams& params,
                          const crdt::Operation& op, const std::string* context,
                          causal::HlcTimestamp timestamp, bool sync,
                          object::Delta* delta, object::Object* result);

  // Applies another copy's delta when it is the next of its origin
  // (object::Object::ApplyDelta); writes only then.
  Status ApplyDelta(const Key& key, const object::Delta& delta, bool sync,
                    object::DeltaOrder* order);

  // Folds another replica's state in; writes only if something changed.
  // `result` (may be null: not wanted) is the replica's object afterwards.
  Status Merge(const Key& key, const object::Object& incoming,
               object::Resolution resolution, bool sync,
               object::Object* result);

  // Deletes this replica's copy (handoff, once others hold it).
  Status Remove(const Key& key);

  // Keys of one bucket in one partition whose objects are live (not
  // tombstones), in storage order: at most `limit`, starting after `after`
  // (empty: from the first). `more` says the limit was reached, so there
  // may be more after the last key returned.
  Status ListKeys(uint32_t partition, const std::string& type,
                  const std::string& bucket, const std::string& after,
                  size_t limit, std::vector<std::string>* keys, bool* more);

  // Buckets of `type` in `partition` holding at least one live object.
  // Skips from bucket to bucket instead of reading every key.
  Status ListBuckets(uint32_t partition, const std::string& type,
                     std::vector<std::string>* buckets);

  const ObjectCache& cache() const { return cache_; }

 private:
  Status Read(const Key& key, object::Object* out,
              causal::ActorId* replica_actor);
  // The copy a coordinated write starts from (empty when absent) and the
  // actor it mints under (a new one for a copy that has none).
  Status ReadToCoordinate(const Key& key, object::Object* current,
                          causal::ActorId* actor);
  void ReleaseCached(const Key& key);
  // Consumes `object`: the cache keeps it.
  Status Write(const Key& key, object::Object object,
               causal::ActorId replica_actor, bool sync);
  // Writes `batch` (which puts `object` under `encoded`, or deletes it when
  // null) with the tree's index update, then brings the tree, the cache
  // (which takes `object`) and the known entry up to date.
  Status Apply(const Key& key, std::string encoded, object::Object* object,
               causal::ActorId replica_actor, size_t record_bytes, bool sync,
               storage::WriteBatch& batch);

  storage::Engine& engine_;
  std::function<causal::ActorId()> new_actor_;
  ObjectCache cache_;
  aae::Trees* trees_ = nullptr;
  // The index entry of the object last read or written here (its key
  // encoded), so the write that follows a read needs no index lookup.
  std::string known_key_;
  aae::Trees::Known known_entry_;
  bool known_valid_ = false;
};

}  // namespace causeway::replication::vnode
