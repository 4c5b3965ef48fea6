#include "replication/vnode/object_cache.h"

#include <utility>

namespace causeway::replication::vnode {
namespace {

// Allowances for what the strings and vectors cost beyond their contents
// (allocation headers, the list and map nodes); rough, on the safe side.
constexpr size_t kPerEntry = 160;
constexpr size_t kPerSibling = 128;
constexpr size_t kPerPair = 64;

size_t PairsSize(const object::Pairs& pairs) {
  size_t n = 0;
  for (const auto& [k, v] : pairs) n += kPerPair + k.size() + v.size();
  return n;
}

}  // namespace

size_t ObjectCache::Charge(const std::string& key,
                           const object::Object& object) {
  size_t n = kPerEntry + 2 * key.size() + 16 * object.clock().entries().size();
  for (const object::Sibling& s : object.siblings()) {
    n += kPerSibling + s.value.size() + s.meta.content_type.size() +
         s.meta.charset.size() + s.meta.content_encoding.size() +
         PairsSize(s.meta.usermeta) + PairsSize(s.meta.indexes);
    for (const auto& l : s.meta.links) {
      n += kPerPair + l.bucket.size() + l.key.size() + l.tag.size();
    }
  }
  return n;
}

const ObjectCache::Entry* ObjectCache::Find(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->entry;
}

void ObjectCache::Put(const std::string& key, Entry entry) {
  const size_t charge = Charge(key, entry.object);
  auto it = map_.find(key);
  // An object bigger than the whole budget is not worth evicting for.
  if (charge > capacity_) {
    if (it != map_.end()) Drop(it);
    return;
  }
  if (it != map_.end()) {
    // Replaced in place: one lookup, and no node or key allocated again.
    Slot& slot = *it->second;
    bytes_ = bytes_ - slot.charge + charge;
    slot.entry = std::move(entry);
    slot.charge = charge;
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    lru_.push_front(Slot{key, std::move(entry), charge});
    map_.emplace(lru_.front().key, lru_.begin());
    bytes_ += charge;
  }
  Evict();
}

void ObjectCache::Erase(const std::string& key) {
  auto it = map_.find(key);
  if (it != map_.end()) Drop(it);
}

void ObjectCache::Drop(Map::iterator it) {
  bytes_ -= it->second->charge;
  auto slot = it->second;
  map_.erase(it);  // before the slot: the map's key points into it
  lru_.erase(slot);
}

void ObjectCache::Evict() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    Slot& last = lru_.back();
    bytes_ -= last.charge;
    map_.erase(last.key);
    lru_.pop_back();
  }
}

}  // namespace causeway::replication::vnode
