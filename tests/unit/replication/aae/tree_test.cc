// Anti-entropy trees: incremental upkeep through the vnode store equals a
// rebuild from the objects, the XOR laws the exchange relies on, and the
// segment index agreeing with the segment hashes.
#include "replication/aae/tree.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>

#include "replication/vnode/vnode_store.h"
#include "storage/keys.h"

namespace causeway::replication::aae {
namespace {

using object::Object;
using object::Resolution;
using object::Sibling;

// The actor ids a store mints under: fresh ones from a range of its own
// (store `n` mints n<<32 + 1, + 2, ...), so stores never share one.
std::function<causal::ActorId()> Actor(causal::ActorId n) {
  return [next = n << 32]() mutable { return ++next; };
}

Sibling Value(const std::string& v, uint64_t ms) {
  Sibling s;
  s.value = v;
  s.timestamp = causal::HlcTimestamp{ms, 0};
  return s;
}

Object Make(const std::string& v, uint64_t actor, uint64_t ms = 1000) {
  Object o;
  o.Update({}, Value(v, ms), actor, Resolution::kKeepSiblings);
  return o;
}

// The index and tombstone entries of the 'a' key space, for comparing two
// stores' trees. Rebuild markers and the format marker say how a tree came
// to be, not what it holds.
std::map<std::string, std::string> AaeRecords(storage::Engine& engine) {
  std::map<std::string, std::string> out;
  std::string begin(1, storage::kAaeSpace);
  engine.Scan(begin, storage::PrefixEnd(begin),
              [&](std::string_view k, std::string_view v) {
                if (k.size() > 1 && (k[1] == 'K' || k[1] == 'T')) {
                  out.emplace(k, v);
                }
                return true;
              });
  return out;
}

// Every key of the 'a' space, markers included.
std::vector<std::string> AaeKeys(storage::Engine& engine) {
  std::vector<std::string> out;
  std::string begin(1, storage::kAaeSpace);
  engine.Scan(begin, storage::PrefixEnd(begin),
              [&](std::string_view k, std::string_view) {
                out.emplace_back(k);
                return true;
              });
  return out;
}

// Copies only the objects, as a store written before trees existed.
std::unique_ptr<storage::Engine> ObjectsOnly(storage::Engine& from) {
  auto to = storage::NewMemoryEngine();
  from.Scan(storage::ObjectSpaceBegin(), storage::ObjectSpaceEnd(),
            [&](std::string_view k, std::string_view v) {
              to->Put(k, v);
              return true;
            });
  return to;
}

void RebuildAll(Trees& trees) {
  while (!trees.rebuilding().empty()) {
    uint32_t p = *trees.rebuilding().begin();
    bool done = false;
    ASSERT_TRUE(trees.RebuildStep(p, 7, &done).ok());
  }
}

// Checks the invariant every exchange relies on: each segment's hash is the
// XOR of its index entries, and each entry is its object's version hash.
void ExpectConsistent(storage::Engine& engine, Trees& trees,
                      uint32_t partitions) {
  for (uint32_t p = 0; p < partitions; ++p) {
    uint64_t root = 0;
    for (uint32_t seg = 0; seg < kSegments; ++seg) {
      std::vector<KeyVersion> keys;
      ASSERT_TRUE(trees.SegmentKeys(p, seg, &keys).ok());
      uint64_t h = 0;
      for (const auto& kv : keys) {
        EXPECT_EQ(SegmentOf(kv.type, kv.bucket, kv.key), seg);
        h ^= EntryHash(kv.type, kv.bucket, kv.key, kv.version);
        std::string bytes;
        ASSERT_TRUE(
            engine
                .Get(storage::EncodeObjectKey(p, kv.type, kv.bucket, kv.key),
                     &bytes)
                .ok());
        Object o;
        ASSERT_TRUE(Object::Decode(bytes, &o).ok());
        EXPECT_EQ(VersionHash(o), kv.version);
      }
      EXPECT_EQ(trees.Segment(p, seg), h)
          << "partition " << p << " seg " << seg;
      root ^= h;
    }
    EXPECT_EQ(trees.Root(p), root);
  }
}

TEST(VersionHashTest, EqualObjectsHashEquallyAndChangesShow) {
  Object a = Make("v", 7);
  Object decoded;
  ASSERT_TRUE(Object::Decode(a.Encode(), &decoded).ok());
  EXPECT_EQ(VersionHash(a), VersionHash(decoded));

  Object other_value = Make("w", 7);
  Object other_actor = Make("v", 8);
  Object other_time = Make("v", 7, 2000);
  EXPECT_NE(VersionHash(a), VersionHash(other_value));
  EXPECT_NE(VersionHash(a), VersionHash(other_actor));
  EXPECT_NE(VersionHash(a), VersionHash(other_time));

  // Merge is order-free, so is the hash of its result.
  Object x = a, y = other_actor;
  x.Merge(other_actor, Resolution::kKeepSiblings);
  y.Merge(a, Resolution::kKeepSiblings);
  EXPECT_EQ(VersionHash(x), VersionHash(y));

  // A tombstone differs from the value it deletes.
  Object t = a;
  Sibling del = Value("", 3000);
  del.deleted = true;
  t.Update(a.clock(), del, 7, Resolution::kKeepSiblings);
  EXPECT_NE(VersionHash(t), VersionHash(a));
}

TEST(TreeTest, XorLawsOfOneSegment) {
  auto engine = storage::NewMemoryEngine();
  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  const uint32_t seg = SegmentOf("t", "b", "k");
  auto stage = [&](const Object* object) {
    storage::WriteBatch batch;
    Trees::Change change;
    ASSERT_TRUE(trees.Stage(3, "t", "b", "k", object, &batch, &change).ok());
    ASSERT_TRUE(engine->Write(batch).ok());
    trees.Commit(change);
  };
  const Object v1 = Make("1", 5), v2 = Make("2", 5);
  EXPECT_EQ(trees.Root(3), 0u);
  stage(&v1);
  EXPECT_EQ(trees.Segment(3, seg), EntryHash("t", "b", "k", VersionHash(v1)));
  // Replacing a version removes the old contribution exactly.
  stage(&v2);
  EXPECT_EQ(trees.Segment(3, seg), EntryHash("t", "b", "k", VersionHash(v2)));
  // Staging the version already held changes nothing.
  storage::WriteBatch batch;
  Trees::Change change;
  ASSERT_TRUE(trees.Stage(3, "t", "b", "k", &v2, &batch, &change).ok());
  EXPECT_TRUE(batch.empty());
  EXPECT_FALSE(change.valid);
  // Removing the key returns the tree to empty.
  stage(nullptr);
  EXPECT_EQ(trees.Segment(3, seg), 0u);
  EXPECT_EQ(trees.Root(3), 0u);
  // Other partitions were never touched.
  EXPECT_EQ(trees.Root(2), 0u);
}

TEST(TreeTest, BranchesAndRootCombineSegments) {
  auto engine = storage::NewMemoryEngine();
  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  vnode::VnodeStore store(*engine, Actor(1));
  store.AttachTrees(&trees);
  for (int i = 0; i < 300; ++i) {
    Object out;
    ASSERT_TRUE(store
                    .Merge({0, "default", "b", "k" + std::to_string(i)},
                           Make(std::to_string(i), 5),
                           Resolution::kKeepSiblings, false, &out)
                    .ok());
  }
  std::vector<uint64_t> branches = trees.Branches(0);
  ASSERT_EQ(branches.size(), kBranches);
  uint64_t root = 0;
  for (uint32_t b = 0; b < kBranches; ++b) {
    uint64_t x = 0;
    for (uint64_t s : trees.BranchSegments(0, b)) x ^= s;
    EXPECT_EQ(branches[b], x);
    root ^= x;
  }
  EXPECT_EQ(trees.Root(0), root);
  EXPECT_NE(root, 0u);
}

// Random writes, merges and removes through the vnode store: the trees kept
// incrementally are byte for byte the trees a rebuild from the objects
// alone produces, and every segment agrees with its index.
TEST(TreeTest, IncrementalEqualsRebuilt) {
  std::mt19937_64 rng(42);
  auto engine = storage::NewMemoryEngine();
  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  vnode::VnodeStore store(*engine, Actor(9));
  store.AttachTrees(&trees);
  const uint32_t kPartitions = 4;
  for (int i = 0; i < 3000; ++i) {
    vnode::Key key{static_cast<uint32_t>(rng() % kPartitions), "default",
                   "b" + std::to_string(rng() % 3),
                   "k" + std::to_string(rng() % 400)};
    Object out;
    switch (rng() % 4) {
      case 0:
        ASSERT_TRUE(store.Remove(key).ok());
        break;
      case 1: {
        Sibling v = Value(std::to_string(rng()), 1000 + i);
        ASSERT_TRUE(
            store.Coordinate(key, {}, v, Resolution::kKeepSiblings, false, &out)
                .ok());
        break;
      }
      default:
        ASSERT_TRUE(
            store
                .Merge(key,
                       Make(std::to_string(rng() % 5), 1 + rng() % 3, 1000 + i),
                       Resolution::kKeepSiblings, false, &out)
                .ok());
    }
  }
  ExpectConsistent(*engine, trees, kPartitions);

  auto rebuilt_engine = ObjectsOnly(*engine);
  Trees rebuilt(*rebuilt_engine);
  ASSERT_TRUE(rebuilt.Open().ok());
  EXPECT_EQ(rebuilt.rebuilding().size(), kPartitions);
  for (uint32_t p = 0; p < kPartitions; ++p) EXPECT_FALSE(rebuilt.Ready(p));
  RebuildAll(rebuilt);
  for (uint32_t p = 0; p < kPartitions; ++p) {
    EXPECT_TRUE(rebuilt.Ready(p));
    EXPECT_EQ(rebuilt.Root(p), trees.Root(p));
  }
  EXPECT_EQ(AaeRecords(*rebuilt_engine), AaeRecords(*engine));
}

// Two replicas receiving the same objects in different orders (and with
// detours through other values) have identical trees.
TEST(TreeTest, SameObjectsSameTreeWhateverTheOrder) {
  std::vector<std::pair<vnode::Key, Object>> writes;
  for (int i = 0; i < 200; ++i) {
    writes.push_back({vnode::Key{1, "default", "b", "k" + std::to_string(i)},
                      Make("v" + std::to_string(i), 3 + i % 4)});
  }
  auto run = [&](uint64_t seed, storage::Engine& engine, Trees& trees) {
    vnode::VnodeStore store(engine, Actor(1));
    store.AttachTrees(&trees);
    std::vector<size_t> order(writes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    Object out;
    for (size_t i : order) {
      if (i % 5 == 0) {
        // A detour: something else first, removed again.
        ASSERT_TRUE(store
                        .Merge(writes[i].first, Make("other", 99),
                               Resolution::kKeepSiblings, false, &out)
                        .ok());
        ASSERT_TRUE(store.Remove(writes[i].first).ok());
      }
      ASSERT_TRUE(store
                      .Merge(writes[i].first, writes[i].second,
                             Resolution::kKeepSiblings, false, &out)
                      .ok());
    }
  };
  auto e1 = storage::NewMemoryEngine();
  auto e2 = storage::NewMemoryEngine();
  Trees t1(*e1), t2(*e2);
  ASSERT_TRUE(t1.Open().ok());
  ASSERT_TRUE(t2.Open().ok());
  run(1, *e1, t1);
  run(2, *e2, t2);
  EXPECT_EQ(t1.Root(1), t2.Root(1));
  EXPECT_EQ(AaeRecords(*e1), AaeRecords(*e2));
}

TEST(TreeTest, ADivergentKeyShowsInExactlyItsSegment) {
  auto e1 = storage::NewMemoryEngine();
  auto e2 = storage::NewMemoryEngine();
  Trees t1(*e1), t2(*e2);
  ASSERT_TRUE(t1.Open().ok());
  ASSERT_TRUE(t2.Open().ok());
  vnode::VnodeStore s1(*e1, Actor(1)), s2(*e2, Actor(2));
  s1.AttachTrees(&t1);
  s2.AttachTrees(&t2);
  Object out;
  for (int i = 0; i < 500; ++i) {
    vnode::Key key{0, "default", "b", "k" + std::to_string(i)};
    Object o = Make(std::to_string(i), 4);
    ASSERT_TRUE(s1.Merge(key, o, Resolution::kKeepSiblings, false, &out).ok());
    ASSERT_TRUE(s2.Merge(key, o, Resolution::kKeepSiblings, false, &out).ok());
  }
  EXPECT_EQ(t1.Root(0), t2.Root(0));
  vnode::Key odd{0, "default", "b", "k77"};
  ASSERT_TRUE(
      s2.Merge(odd, Make("new", 6), Resolution::kKeepSiblings, false, &out)
          .ok());
  const uint32_t seg = SegmentOf("default", "b", "k77");
  EXPECT_NE(t1.Root(0), t2.Root(0));
  auto b1 = t1.Branches(0), b2 = t2.Branches(0);
  for (uint32_t b = 0; b < kBranches; ++b) {
    EXPECT_EQ(b1[b] != b2[b], b == seg / kSegmentsPerBranch);
  }
  for (uint32_t s = 0; s < kSegments; ++s) {
    EXPECT_EQ(t1.Segment(0, s) != t2.Segment(0, s), s == seg);
  }
  std::vector<KeyVersion> k1, k2;
  ASSERT_TRUE(t1.SegmentKeys(0, seg, &k1).ok());
  ASSERT_TRUE(t2.SegmentKeys(0, seg, &k2).ok());
  ASSERT_EQ(k1.size(), k2.size());
  size_t differing = 0;
  for (size_t i = 0; i < k1.size(); ++i) {
    EXPECT_EQ(k1[i].key, k2[i].key);
    if (k1[i].version != k2[i].version) {
      ++differing;
      EXPECT_EQ(k1[i].key, "k77");
    }
  }
  EXPECT_EQ(differing, 1u);
}

// Runs `partition`'s rebuild (or sum) to the end in steps of `budget`
// keys, with three random writes or removals of keys k0..k<keys> between
// steps; returns the steps taken.
int StepsWithWrites(Trees& trees, vnode::VnodeStore& store, uint32_t partition,
                    size_t budget, int keys, std::mt19937_64& rng) {
  Object out;
  bool done = false;
  int steps = 0;
  while (!done) {
    EXPECT_TRUE(trees.RebuildStep(partition, budget, &done).ok());
    ++steps;
    for (int j = 0; j < 3; ++j) {
      vnode::Key key{partition, "default", "b",
                     "k" + std::to_string(rng() % keys)};
      if (rng() % 3 == 0) {
        EXPECT_TRUE(store.Remove(key).ok());
      } else {
        EXPECT_TRUE(store
                        .Merge(key, Make(std::to_string(rng() % 9), 4),
                               Resolution::kKeepSiblings, false, &out)
                        .ok());
      }
    }
    if (steps > 100000) break;  // a rebuild that never ends fails below
  }
  return steps;
}

// Fills partitions 1 and 2 through a store with trees; returns the roots.
std::map<uint32_t, uint64_t> FillTwoPartitions(storage::Engine& engine) {
  Trees trees(engine);
  EXPECT_TRUE(trees.Open().ok());
  vnode::VnodeStore store(engine, Actor(1));
  store.AttachTrees(&trees);
  Object out;
  for (int i = 0; i < 300; ++i) {
    EXPECT_TRUE(store
                    .Merge({1 + static_cast<uint32_t>(i % 2), "default", "b",
                            "k" + std::to_string(i)},
                           Make("v" + std::to_string(i), 3),
                           Resolution::kKeepSiblings, false, &out)
                    .ok());
  }
  return {{1, trees.Root(1)}, {2, trees.Root(2)}};
}

// Segment hashes are not stored: a restart sums them from the index, and
// until then the partition takes no part in exchanges.
TEST(TreeTest, SegmentHashesAreSummedAgainAtStart) {
  auto engine = storage::NewMemoryEngine();
  const auto roots = FillTwoPartitions(*engine);
  const auto records = AaeRecords(*engine);
  ASSERT_NE(roots.at(1), 0u);

  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  EXPECT_EQ(trees.rebuilding(), (std::set<uint32_t>{1, 2}));
  EXPECT_FALSE(trees.Ready(1));
  EXPECT_TRUE(trees.Ready(0));  // nothing stored there
  ASSERT_TRUE(trees.progress(1).has_value());
  EXPECT_EQ(trees.progress(1)->phase, 2);
  EXPECT_TRUE(trees.progress(1)->sum_at_start);
  RebuildAll(trees);
  EXPECT_EQ(trees.Root(1), roots.at(1));
  EXPECT_EQ(trees.Root(2), roots.at(2));
  EXPECT_EQ(trees.rebuilds_done(), 0u);  // a sum is not a rebuild
  // Nothing written: the sum only reads the index.
  EXPECT_EQ(AaeRecords(*engine), records);
  ExpectConsistent(*engine, trees, 3);
}

// Writes between the steps of the sum at start leave the tree exact.
TEST(TreeTest, SumAtStartInterleavedWithWrites) {
  std::mt19937_64 rng(11);
  auto engine = storage::NewMemoryEngine();
  FillTwoPartitions(*engine);
  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  vnode::VnodeStore store(*engine, Actor(2));
  store.AttachTrees(&trees);
  EXPECT_GT(StepsWithWrites(trees, store, 1, 5, 400, rng), 10);
  RebuildAll(trees);
  ExpectConsistent(*engine, trees, 3);
}

// An index entry the sum cannot read turns it into a full rebuild, which
// checks every entry against its object.
TEST(TreeTest, BadIndexEntryAtStartMakesAFullRebuild) {
  auto engine = storage::NewMemoryEngine();
  FillTwoPartitions(*engine);
  const auto records = AaeRecords(*engine);
  // An entry that does not decode, and a stray one with no object behind
  // it (found only by the full rebuild's checks).
  const std::string k5 = storage::AaeIndexKey(
      2, SegmentOf("default", "b", "k5"), "default", "b", "k5");
  ASSERT_TRUE(engine->Put(k5, "bad").ok());
  ASSERT_TRUE(engine
                  ->Put(storage::AaeIndexKey(2, 9, "default", "b", "ghost"),
                        std::string(8, '\1'))
                  .ok());

  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  RebuildAll(trees);
  EXPECT_TRUE(trees.Ready(2));
  EXPECT_EQ(trees.rebuilds_done(), 1u);
  EXPECT_EQ(AaeRecords(*engine), records);
  ExpectConsistent(*engine, trees, 3);

  // The full rebuild's marker is persisted: a restart before it finishes
  // resumes it.
  ASSERT_TRUE(trees.RequestRebuild(1).ok());
  Trees reopened(*engine);
  ASSERT_TRUE(reopened.Open().ok());
  EXPECT_FALSE(reopened.Ready(1));
  ASSERT_TRUE(reopened.progress(1).has_value());
  EXPECT_EQ(reopened.progress(1)->phase, 1);
  EXPECT_FALSE(reopened.progress(1)->sum_at_start);
}

// A store of format 1 kept segment hashes in records of their own: the
// upgrade deletes them and keeps the index, which both formats share.
TEST(TreeTest, FormatOneSegmentRecordsAreRetired) {
  auto engine = storage::NewMemoryEngine();
  const auto roots = FillTwoPartitions(*engine);
  const auto records = AaeRecords(*engine);
  const std::string retired = storage::AaeRetiredSegmentSpace();
  ASSERT_TRUE(engine->Put(storage::AaeFormatKey(), "1").ok());
  ASSERT_TRUE(engine->Put(retired + std::string(8, '\0'), "old").ok());
  ASSERT_TRUE(engine->Put(retired + std::string(8, '\1'), "old").ok());

  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  RebuildAll(trees);
  EXPECT_EQ(trees.rebuilds_done(), 0u);
  EXPECT_EQ(trees.Root(1), roots.at(1));
  EXPECT_EQ(trees.Root(2), roots.at(2));
  EXPECT_EQ(AaeRecords(*engine), records);
  for (const std::string& k : AaeKeys(*engine)) {
    EXPECT_NE(k.rfind(retired, 0), 0u) << "left over: " << k;
  }
  std::string format;
  ASSERT_TRUE(engine->Get(storage::AaeFormatKey(), &format).ok());
  EXPECT_EQ(format, "2");
}

// Writes interleaved with a rebuild's steps: the result is still exact.
TEST(TreeTest, RebuildInterleavedWithWrites) {
  std::mt19937_64 rng(7);
  auto engine = storage::NewMemoryEngine();
  vnode::VnodeStore plain(*engine, Actor(1));
  Object out;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(plain
                    .Merge({0, "default", "b", "k" + std::to_string(i)},
                           Make("v", 3), Resolution::kKeepSiblings, false, &out)
                    .ok());
  }
  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  ASSERT_FALSE(trees.Ready(0));
  vnode::VnodeStore store(*engine, Actor(2));
  store.AttachTrees(&trees);
  EXPECT_GT(StepsWithWrites(trees, store, 0, 13, 600, rng), 10);
  ExpectConsistent(*engine, trees, 1);
}

TEST(TreeTest, TombstonesAreListedUntilOverwrittenOrRemoved) {
  auto engine = storage::NewMemoryEngine();
  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  vnode::VnodeStore store(*engine, Actor(1));
  store.AttachTrees(&trees);
  Object out;
  auto tombstone = [](const Object& of, uint64_t ms) {
    Object t = of;
    Sibling del = Value("", ms);
    del.deleted = true;
    t.Update(of.clock(), del, 1, Resolution::kKeepSiblings);
    return t;
  };
  for (int i = 0; i < 4; ++i) {
    vnode::Key key{0, "default", "b", "k" + std::to_string(i)};
    Object live = Make("v", 1, 1000);
    ASSERT_TRUE(store
                    .Merge(key, tombstone(live, 5000 + 1000 * i),
                           Resolution::kKeepSiblings, false, &out)
                    .ok());
  }
  std::vector<KeyVersion> old;
  ASSERT_TRUE(trees.Tombstones(0, 6500, 100, &old).ok());
  ASSERT_EQ(old.size(), 2u);  // stamped 5000 and 6000
  Object k0;
  ASSERT_TRUE(store.Read({0, "default", "b", "k0"}, &k0).ok());
  EXPECT_EQ(old[0].key, "k0");
  EXPECT_EQ(old[0].version, VersionHash(k0));
  // A newer write over one tombstone, and removal of another, take them
  // off the list.
  Sibling again = Value("back", 9000);
  ASSERT_TRUE(store
                  .Coordinate({0, "default", "b", "k0"}, k0.clock(), again,
                              Resolution::kKeepSiblings, false, &out)
                  .ok());
  ASSERT_TRUE(store.Remove({0, "default", "b", "k1"}).ok());
  std::vector<KeyVersion> all;
  ASSERT_TRUE(trees.Tombstones(0, 100000, 100, &all).ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "k2");
  EXPECT_EQ(all[1].key, "k3");
  ExpectConsistent(*engine, trees, 1);
}

// The exact bytes of index and tombstone entries: the version hash, then
// for a tombstone its wall ms, each eight bytes, least significant first.
// Trees written by one version are summed at start by the next.
TEST(TreeTest, IndexEntriesHaveTheirFixedLayout) {
  auto engine = storage::NewMemoryEngine();
  Trees trees(*engine);
  ASSERT_TRUE(trees.Open().ok());
  vnode::VnodeStore store(*engine, Actor(1));
  store.AttachTrees(&trees);
  const vnode::Key live_key{0, "default", "b", "live"};
  const vnode::Key dead_key{0, "default", "b", "dead"};
  Object out;
  ASSERT_TRUE(
      store
          .Merge(live_key, Make("v", 3), Resolution::kKeepSiblings, false, &out)
          .ok());
  Object dead = Make("v", 3);
  Sibling del = Value("", 0x1388);  // wall ms 5000
  del.deleted = true;
  dead.Update(dead.clock(), del, 3, Resolution::kKeepSiblings);
  ASSERT_TRUE(
      store.Merge(dead_key, dead, Resolution::kKeepSiblings, false, &out).ok());

  auto little_endian = [](uint64_t v) {
    std::string s;
    for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
    return s;
  };
  auto raw = [&](const std::string& key) {
    std::string v;
    EXPECT_TRUE(engine->Get(key, &v).ok());
    return v;
  };
  auto index_key = [](const vnode::Key& k) {
    return storage::AaeIndexKey(k.partition, SegmentOf(k.type, k.bucket, k.key),
                                k.type, k.bucket, k.key);
  };
  Object live;
  ASSERT_TRUE(store.Read(live_key, &live).ok());
  EXPECT_EQ(raw(index_key(live_key)), little_endian(VersionHash(live)));
  ASSERT_TRUE(store.Read(dead_key, &dead).ok());
  const std::string dead_entry =
      little_endian(VersionHash(dead)) +
      std::string("\x88\x13\x00\x00\x00\x00\x00\x00", 8);
  EXPECT_EQ(raw(index_key(dead_key)), dead_entry);
  EXPECT_EQ(raw(storage::AaeTombstoneKey(0, "default", "b", "dead")),
            dead_entry);

  // And the reading side, from bytes written by hand.
  ASSERT_TRUE(engine
                  ->Put(storage::AaeTombstoneKey(1, "t", "b", "k"),
                        std::string("\x08\x07\x06\x05\x04\x03\x02\x01"
                                    "\xe8\x03\x00\x00\x00\x00\x00\x00",
                                    16))
                  .ok());
  std::vector<KeyVersion> listed;
  ASSERT_TRUE(trees.Tombstones(1, 999, 10, &listed).ok());
  EXPECT_TRUE(listed.empty());  // stamped at 1000 ms
  ASSERT_TRUE(trees.Tombstones(1, 1000, 10, &listed).ok());
  EXPECT_EQ(listed,
            (std::vector<KeyVersion>{{"t", "b", "k", 0x0102030405060708ULL}}));
}

TEST(AaeKeysTest, IndexKeysRoundTripAndRejectGarbage) {
  std::string k = storage::AaeIndexKey(5, 1023, "t", "bu", "key");
  storage::AaeIndexKeyParts parts;
  ASSERT_TRUE(storage::DecodeAaeIndexKey(k, &parts));
  EXPECT_EQ(parts, (storage::AaeIndexKeyParts{5, 1023, "t", "bu", "key"}));
  EXPECT_EQ(k.rfind(storage::AaeIndexPrefix(5, 1023), 0), 0u);
  EXPECT_FALSE(storage::DecodeAaeIndexKey(k + "x", &parts));
  EXPECT_FALSE(storage::DecodeAaeIndexKey(k.substr(0, k.size() - 1), &parts));
  EXPECT_FALSE(storage::DecodeAaeIndexKey("aK", &parts));
  EXPECT_EQ(k.rfind(storage::AaeIndexPrefix(5), 0), 0u);
  EXPECT_NE(k.rfind(storage::AaeIndexPrefix(6), 0), 0u);
  // Index entries of one segment sort together, before the next segment's.
  EXPECT_LT(storage::AaeIndexKey(5, 3, "zz", "zz", "zz"),
            storage::AaeIndexPrefix(5, 4));
}

}  // namespace
}  // namespace causeway::replication::aae
