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

size_t ObjectCache::Charge(const std::string& key, const Entry& entry) {
  const object::Object& object = entry.object;
  size_t n = kPerEntry + 2 * key.size() + 16 * object.clock().entries().size();
  if (object.data() != nullptr) n += 2 * entry.record_bytes;
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
  auto slot = Lookup(key);
  if (slot == lru_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, slot);
  last_ = slot;
  return &slot->entry;
}

void ObjectCache::Put(const std::string& key, Entry entry) {
  const size_t charge = Charge(key, entry);
  auto slot = Lookup(key);
  // An object bigger than the whole budget is not worth evicting for.
  if (charge > capacity_) {
    if (slot != lru_.end()) Drop(slot);
    return;
  }
  if (slot != lru_.end()) {
    // Replaced in place: no node or key allocated again.
    bytes_ = bytes_ - slot->charge + charge;
    slot->entry = std::move(entry);
    slot->charge = charge;
    lru_.splice(lru_.begin(), lru_, slot);
  } else {
    lru_.push_front(Slot{key, std::move(entry), charge});
    slot = lru_.begin();
    map_.emplace(slot->key, slot);
    bytes_ += charge;
  }
  last_ = slot;
  Evict();
}

void ObjectCache::Erase(const std::string& key) {
  auto slot = Lookup(key);
  if (slot != lru_.end()) Drop(slot);
}

ObjectCache::Slots::iterator ObjectCache::Lookup(const std::string& key) {
  if (last_ != lru_.end() && last_->key == key) return last_;
  auto it = map_.find(key);
  return it == map_.end() ? lru_.end() : it->second;
}

void ObjectCache::Drop(Slots::iterator slot) {
  if (slot == last_) last_ = lru_.end();
  bytes_ -= slot->charge;
  map_.erase(slot->key);  // before the slot: the map's key points into it
  lru_.erase(slot);
}

void ObjectCache::Evict() {
  while (bytes_ > capacity_ && !lru_.empty()) Drop(std::prev(lru_.end()));
}

}  // namespace causeway::replication::vnode
