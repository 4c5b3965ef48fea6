#pragma once
// ObjectCache: the objects a VnodeStore read or wrote last, decoded, kept
// in front of the engine, least recently used first out, within a byte
// budget.
//
// Why: every replica write is a read-modify-write (a coordinated write
// mints its dot from the stored copy, a replicated one merges into it), so
// each put reads the key on all n_val replicas. Under puts the engine read
// (memtable, then table blocks through the block cache, then decoding) was
// a quarter of a cluster node's CPU (bench/README.md); a recently written
// key is read again from here. It is a write-through cache of the engine
// and nothing else: the store puts into it only what the engine holds
// after a successful write or read, and drops a key the store removes.
// Every object write goes through the store, so the two cannot disagree;
// a store that shares its engine with another writer must run without one.
//
// Not a negative cache: a key the engine does not hold is not remembered.

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "replication/aae/tree.h"
#include "replication/causal/dot.h"
#include "replication/object/object.h"

namespace causeway::replication::vnode {

class ObjectCache {
 public:
  struct Entry {
    object::Object object;
    causal::ActorId replica_actor = 0;
    // The object's index entry when trees are attached (saves hashing it
    // again on the write that follows).
    std::optional<aae::IndexEntry> index_entry;
    // The encoded record's size: a data-type state is charged by it (its
    // decoded form is not walked on every put).
    size_t record_bytes = 0;
  };

  // 0 bytes: caches nothing.
  explicit ObjectCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  ObjectCache(const ObjectCache&) = delete;
  ObjectCache& operator=(const ObjectCache&) = delete;

  // The entry for `key` (an encoded object key), now the most recently
  // used; null if absent. Valid until the next call that changes the cache.
  const Entry* Find(const std::string& key);
  void Put(const std::string& key, Entry entry);
  void Erase(const std::string& key);

  size_t bytes() const { return bytes_; }
  size_t size() const { return map_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

  // What an entry is charged: its key, the object's contents and a fixed
  // allowance per sibling and per entry for the containers around them; a
  // data-type state twice its encoded size.
  static size_t Charge(const std::string& key, const Entry& entry);

 private:
  struct Slot {
    std::string key;
    Entry entry;
    size_t charge = 0;
  };
  using Slots = std::list<Slot>;
  // The slot of `key`, or lru_.end().
  Slots::iterator Lookup(const std::string& key);
  void Drop(Slots::iterator slot);
  void Evict();

  const size_t capacity_;
  size_t bytes_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  Slots lru_;  // most recently used first
  std::unordered_map<std::string_view, Slots::iterator> map_;
  // The slot Find or Put touched last (lru_.end() if none or dropped). A
  // replica write reads its key and then writes it, so Put finds the slot
  // here without hashing the key and walking the map again: on a cluster
  // node under puts the map lookups were 5% of the CPU.
  Slots::iterator last_ = lru_.end();
};

}  // namespace causeway::replication::vnode
