#include "replication/ring/ring.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace causeway::replication::ring {
namespace {

TEST(RingTest, HashIsStableAndFieldsAreSeparated) {
  // The ring must agree on every node and across versions.
  EXPECT_EQ(HashKey("default", "b", "k"), HashKey("default", "b", "k"));
  EXPECT_NE(HashKey("default", "ab", "c"), HashKey("default", "a", "bc"));
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
    std::set<NodeName> nodes;
    for (auto& m : list) nodes.insert(m.node);
    EXPECT_EQ(nodes.size(), 3u);
    EXPECT_EQ(list[0].partition, p);
  }
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
