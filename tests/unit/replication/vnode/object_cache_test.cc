// ObjectCache and the VnodeStore in front of it: the cache keeps within its
// byte budget, least recently used out first, and a store with a cache
// behaves exactly as one without (same replies, same engine contents, same
// anti-entropy trees) through writes, merges, removals and evictions.

#include "replication/vnode/object_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "replication/aae/tree.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::replication::vnode {
namespace {

using object::Object;
using object::Resolution;
using object::Sibling;

Object Make(const std::string& value, causal::ActorId actor) {
  Sibling s;
  s.value = value;
  s.timestamp = causal::HlcTimestamp{1000, 0};
  Object o;
  o.Update({}, std::move(s), actor, Resolution::kKeepSiblings);
  return o;
}

ObjectCache::Entry EntryOf(const Object& o, causal::ActorId actor = 0) {
  return ObjectCache::Entry{o, actor, std::nullopt};
}

TEST(ObjectCacheTest, FindsWhatWasPutAndForgetsWhatWasErased) {
  ObjectCache cache(1 << 20);
  EXPECT_EQ(cache.Find("a"), nullptr);
  cache.Put("a", EntryOf(Make("one", 1), 42));
  const ObjectCache::Entry* e = cache.Find("a");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->object, Make("one", 1));
  EXPECT_EQ(e->replica_actor, 42u);
  cache.Put("a", EntryOf(Make("two", 1)));  // replaces
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("a")->object, Make("two", 1));
  EXPECT_EQ(cache.bytes(), ObjectCache::Charge("a", EntryOf(Make("two", 1))));
  cache.Erase("a");
  EXPECT_EQ(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
  cache.Erase("a");  // absent: nothing happens
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(ObjectCacheTest, EvictsTheLeastRecentlyUsedWithinItsBudget) {
  const size_t one = ObjectCache::Charge("k0", EntryOf(Make("v", 1)));
  ObjectCache cache(3 * one);
  for (int i = 0; i < 3; ++i) {
    cache.Put("k" + std::to_string(i), EntryOf(Make("v", 1)));
  }
  EXPECT_EQ(cache.size(), 3u);
  ASSERT_NE(cache.Find("k0"), nullptr);  // k0 is now the most recent
  cache.Put("k3", EntryOf(Make("v", 1)));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_LE(cache.bytes(), 3 * one);
  EXPECT_EQ(cache.Find("k1"), nullptr);  // the least recently used went
  EXPECT_NE(cache.Find("k0"), nullptr);
  EXPECT_NE(cache.Find("k2"), nullptr);
  EXPECT_NE(cache.Find("k3"), nullptr);
}

TEST(ObjectCacheTest, ChargesContentsAndSkipsWhatCannotFit) {
  const Object small = Make("v", 1);
  const Object big = Make(std::string(10000, 'x'), 1);
  EXPECT_GE(ObjectCache::Charge("k", EntryOf(big)),
            ObjectCache::Charge("k", EntryOf(small)) + 9999);
  ObjectCache cache(ObjectCache::Charge("k", EntryOf(big)) - 1);
  cache.Put("s", EntryOf(small));
  cache.Put("k", EntryOf(big));  // larger than the whole budget
  EXPECT_EQ(cache.Find("k"), nullptr);
  EXPECT_NE(cache.Find("s"), nullptr);  // and nothing was evicted for it

  ObjectCache none(0);
  none.Put("s", EntryOf(small));
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.Find("s"), nullptr);
}

// A replica write reads its key and then writes it back: the second call
// reuses the slot the first found. Replacing, dropping and erasing that
// slot must leave the cache as if every call had looked the key up afresh.
TEST(ObjectCacheTest, ReplacesInPlaceAndForgetsDroppedSlots) {
  const Object small = Make("v", 1);
  const Object bigger = Make(std::string(500, 'y'), 1);
  const size_t one = ObjectCache::Charge("k0", EntryOf(small));
  ObjectCache cache(3 * one);
  ASSERT_LE(ObjectCache::Charge("k0", EntryOf(bigger)), 3 * one);
  ASSERT_GT(ObjectCache::Charge("k0", EntryOf(bigger)) + one, 3 * one);
  cache.Put("k0", EntryOf(small));
  cache.Put("k1", EntryOf(small));
  ASSERT_NE(cache.Find("k0"), nullptr);
  // Growing k0 in place pushes out k1, the least recently used.
  cache.Put("k0", EntryOf(bigger));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("k1"), nullptr);
  ASSERT_NE(cache.Find("k0"), nullptr);
  EXPECT_EQ(cache.Find("k0")->object, bigger);
  EXPECT_EQ(cache.bytes(), ObjectCache::Charge("k0", EntryOf(bigger)));

  // A replacement too big for the budget drops the old entry.
  cache.Put("k0", EntryOf(Make(std::string(4 * one, 'z'), 1)));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.Find("k0"), nullptr);
  cache.Put("k0", EntryOf(small, 7));
  ASSERT_NE(cache.Find("k0"), nullptr);
  EXPECT_EQ(cache.Find("k0")->replica_actor, 7u);

  // Erasing the slot just found, then putting the key again.
  cache.Put("k1", EntryOf(small));
  ASSERT_NE(cache.Find("k0"), nullptr);
  cache.Erase("k0");
  EXPECT_EQ(cache.Find("k0"), nullptr);
  cache.Put("k0", EntryOf(small, 9));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.bytes(), 2 * one);
  EXPECT_EQ(cache.Find("k0")->replica_actor, 9u);
  EXPECT_EQ(cache.Find("k1")->object, small);
}

// Everything an engine holds, for comparing two stores' engines.
std::map<std::string, std::string> Contents(storage::Engine& engine) {
  std::map<std::string, std::string> out;
  engine.Scan("", "", [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  return out;
}

// Two replicas side by side, one with a cache small enough to evict all
// the time: the same operations must give the same results everywhere.
TEST(ObjectCacheTest, AStoreWithACacheActsAsOneWithout) {
  struct Replica {
    explicit Replica(size_t cache_bytes)
        : engine(storage::NewMemoryEngine()),
          trees(*engine),
          store(
              *engine, [this] { return ++next_actor; }, cache_bytes) {
      EXPECT_TRUE(trees.Open().ok());
      store.AttachTrees(&trees);
    }
    std::unique_ptr<storage::Engine> engine;
    aae::Trees trees;
    causal::ActorId next_actor = 1000;
    VnodeStore store;
  };
  Replica plain(0);
  Replica cached(
      6 * ObjectCache::Charge(std::string(20, 'k'), EntryOf(Make("v", 1))));

  std::mt19937_64 rng(5);
  for (int i = 0; i < 3000; ++i) {
    Key key{static_cast<uint32_t>(rng() % 3), "default", "b",
            "k" + std::to_string(rng() % 20)};
    Object a, b;
    Status sa, sb;
    switch (rng() % 5) {
      case 0:
        sa = plain.store.Remove(key);
        sb = cached.store.Remove(key);
        break;
      case 1: {
        // A client write with the context of what the replica holds.
        Object current;
        plain.store.Read(key, &current);
        Sibling s;
        s.value = std::to_string(rng() % 100);
        s.timestamp = causal::HlcTimestamp{2000u + i, 0};
        sa = plain.store.Coordinate(key, current.clock(), s,
                                    Resolution::kNewest, false, &a);
        sb = cached.store.Coordinate(key, current.clock(), s,
                                     Resolution::kNewest, false, &b);
        break;
      }
      case 2:
      case 3: {
        Object incoming = Make(std::to_string(rng() % 7), 1 + rng() % 4);
        sa = plain.store.Merge(key, incoming, Resolution::kKeepSiblings, false,
                               &a);
        sb = cached.store.Merge(key, incoming, Resolution::kKeepSiblings, false,
                                &b);
        break;
      }
      default:
        sa = plain.store.Read(key, &a);
        sb = cached.store.Read(key, &b);
    }
    ASSERT_EQ(sa.code(), sb.code()) << "op " << i;
    ASSERT_EQ(a, b) << "op " << i;
  }
  EXPECT_EQ(Contents(*plain.engine), Contents(*cached.engine));
  for (uint32_t p = 0; p < 3; ++p) {
    EXPECT_EQ(plain.trees.Root(p), cached.trees.Root(p));
  }
  EXPECT_GT(cached.store.cache().hits(), 100u);
  EXPECT_GT(cached.store.cache().misses(), 100u);  // evictions happened
}

}  // namespace
}  // namespace causeway::replication::vnode
