#include "replication/ring/ring.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace causeway::replication::ring {
namespace {

TEST(RingTest, HashIsPinnedAcrossVersions) {
  // Every node must place a key on the same partitions, and a node of the
  // next version must find the data this one stored: a change to HashKey
  // moves stored keys away from the replicas that hold them. These values
  // were computed once (FNV-1a of the length-prefixed fields, splitmix64
  // finaliser) and must never change.
  EXPECT_EQ(HashKey("default", "b", "k"), 0x0D964CF6B8FA6BFCull);
  EXPECT_EQ(HashKey("default", "fruit", "apple"), 0x086F0FC45E17A8A6ull);
  EXPECT_EQ(HashKey("counters", "stats", "visits"), 0xEF1493520B60537Full);
  EXPECT_EQ(HashKey("default", "", ""), 0x0A01BCFEB5B356C4ull);
  EXPECT_EQ(HashKey("t", "b", "k"), 0x1C8D2273A844586Bull);
  // A partition is the hash's top bits: of 64 partitions, the top six.
  Ring ring = Ring::SingleOwner(64, "n1");
  EXPECT_EQ(ring.PartitionOf(HashKey("default", "b", "k")), 3u);
  EXPECT_EQ(ring.PartitionOf(HashKey("counters", "stats", "visits")), 59u);
}

TEST(RingTest, HashSeparatesFields) {
  EXPECT_NE(HashKey("default", "ab", "c"), HashKey("default", "a", "bc"));
  EXPECT_NE(HashKey("default", "b", "kk"), HashKey("default", "bk", "k"));
  EXPECT_NE(HashKey("t", "b", "k"), HashKey("default", "b", "k"));
}

TEST(RingTest, KeysSpreadOverPartitions) {
  Ring ring = Ring::SingleOwner(64, "n1");
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 64000; ++i) {
    ++counts[ring.PartitionOf(HashKey("default", "b", std::to_string(i)))];
  }
  ASSERT_EQ(counts.size(), 64u);
  for (auto& [p, c] : counts) {
    EXPECT_GT(c, 800) << "partition " << p;
    EXPECT_LT(c, 1200) << "partition " << p;
  }
}

TEST(RingTest, SinglePartitionRing) {
  Ring ring = Ring::SingleOwner(1, "n1");
  EXPECT_EQ(ring.PartitionOf(~0ULL), 0u);
  EXPECT_EQ(ring.Preflist(0, 3).size(), 1u);
}

TEST(RingTest, PreflistHasDistinctNodesInRingOrder) {
  std::vector<NodeName> owners;
  for (int i = 0; i < 16; ++i) owners.push_back("n" + std::to_string(i % 4));
  Ring ring(owners);
  for (uint32_t p = 0; p < 16; ++p) {
    auto list = ring.Preflist(p, 3);
    ASSERT_EQ(list.size(), 3u);
    // The walk goes clockwise from p: p, p+1, p+2, wrapping at the end.
    for (uint32_t i = 0; i < 3; ++i) {
      EXPECT_EQ(list[i].partition, (p + i) % 16) << "p=" << p << " i=" << i;
      EXPECT_EQ(list[i].node, owners[(p + i) % 16]) << "p=" << p;
    }
  }
}

TEST(RingTest, PreflistSkipsNodesAlreadyListedAndWraps) {
  Ring ring({"a", "a", "b", "a", "c", "b", "c", "a"});
  auto from0 = ring.Preflist(0, 3);
  ASSERT_EQ(from0.size(), 3u);
  EXPECT_EQ(from0[0].partition, 0u);
  EXPECT_EQ(from0[0].node, "a");
  EXPECT_EQ(from0[1].partition, 2u);
  EXPECT_EQ(from0[1].node, "b");
  EXPECT_EQ(from0[2].partition, 4u);
  EXPECT_EQ(from0[2].node, "c");
  // From 6: c, a at 7, then past the end a at 0 and 1 again, b at 2.
  auto from6 = ring.Preflist(6, 3);
  ASSERT_EQ(from6.size(), 3u);
  EXPECT_EQ(from6[0].partition, 6u);
  EXPECT_EQ(from6[0].node, "c");
  EXPECT_EQ(from6[1].partition, 7u);
  EXPECT_EQ(from6[1].node, "a");
  EXPECT_EQ(from6[2].partition, 2u);
  EXPECT_EQ(from6[2].node, "b");
}

TEST(RingTest, FewerNodesThanNValGivesShorterList) {
  Ring ring = Ring::SingleOwner(8, "only");
  auto list = ring.Preflist(5, 3);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].node, "only");
  EXPECT_EQ(list[0].partition, 5u);
}

}  // namespace
}  // namespace causeway::replication::ring
