#include "base/assert.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace causeway {
namespace {

void PrintReplayLine() { std::fprintf(stderr, "hook ran: replay with 42\n"); }

TEST(AssertTest, HoldingAssertionsDoNothing) {
  int evaluated = 0;
  CAUSEWAY_ASSERT(++evaluated == 1);
  CAUSEWAY_ASSERT_MSG(evaluated == 1, "evaluated once");
  EXPECT_EQ(evaluated, 1);
}

TEST(AssertDeathTest, AFailedAssertionNamesItselfRunsTheHookAndAborts) {
  EXPECT_DEATH(
      {
        SetAssertHook(PrintReplayLine);
        int two = 2;
        CAUSEWAY_ASSERT_MSG(two == 3, "two is three");
      },
      "assertion failed at .*assert_test.cc:[0-9]+: two == 3: two is "
      "three\nhook ran: replay with 42");
}

}  // namespace
}  // namespace causeway
