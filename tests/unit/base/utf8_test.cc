#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace causeway {
namespace {

TEST(Utf8Test, SequenceLengthOfEachForm) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9", 0), 2u);          // é
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac", 0), 3u);      // €
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80", 0), 4u);  // emoji
  EXPECT_EQ(Utf8SequenceLength("x\xc3\xa9", 1), 2u);
}

TEST(Utf8Test, MalformedSequencesHaveNoLength) {
  EXPECT_EQ(Utf8SequenceLength("\x80", 0), 0u);              // continuation
  EXPECT_EQ(Utf8SequenceLength("\xc3", 0), 0u);              // truncated
  EXPECT_EQ(Utf8SequenceLength("\xc0\xaf", 0), 0u);          // overlong
  EXPECT_EQ(Utf8SequenceLength("\xe0\x80\xaf", 0), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceLength("\xed\xa0\x80", 0), 0u);      // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xf4\x90\x80\x80", 0), 0u);  // > U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xff", 0), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xe2\x28\xa1", 0), 0u);  // bad continuation
}

TEST(Utf8Test, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));  // NUL is valid
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac"));
  EXPECT_FALSE(IsValidUtf8("caf\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));
}

}  // namespace
}  // namespace causeway
