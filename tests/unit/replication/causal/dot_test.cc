#include "replication/causal/dot.h"

#include <gtest/gtest.h>

namespace causeway::replication::causal {
namespace {

TEST(DotTest, OrdersByActorThenCounter) {
  EXPECT_LT((Dot{1, 9}), (Dot{2, 1}));
  EXPECT_LT((Dot{2, 1}), (Dot{2, 2}));
  EXPECT_EQ((Dot{3, 4}), (Dot{3, 4}));
}

TEST(DotTest, ToStringNamesActorAndCounter) {
  EXPECT_EQ((Dot{0xabc, 7}).ToString(), "0000000000000abc:7");
  EXPECT_EQ((Dot{~uint64_t{0}, ~uint64_t{0}}).ToString(),
            "ffffffffffffffff:18446744073709551615");
}

}  // namespace
}  // namespace causeway::replication::causal
