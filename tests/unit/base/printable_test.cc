#include "base/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace causeway {
namespace {

TEST(PrintableTest, KeepsPrintableAsciiAndValidUtf8) {
  EXPECT_EQ(Printable("plain@host:1"), "plain@host:1");
  EXPECT_EQ(Printable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(Printable("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(Printable(""), "");
}

TEST(PrintableTest, EscapesControlsBadUtf8AndTheBackslash) {
  EXPECT_EQ(Printable(std::string("a\nb\0c", 5)), "a\\x0ab\\x00c");
  EXPECT_EQ(Printable("\x7f"), "\\x7f");
  EXPECT_EQ(Printable("\xc3"), "\\xc3");
  EXPECT_EQ(Printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");  // overlong
  EXPECT_EQ(Printable("back\\slash"), "back\\x5cslash");
  EXPECT_EQ(Printable("\x1b[2J"), "\\x1b[2J");
}

TEST(PrintableTest, CutsAtTheLimit) {
  EXPECT_EQ(Printable("abcdef", 3), "abc...");
  EXPECT_EQ(Printable("abc", 3), "abc");
  // A sequence cut at the limit is no longer well-formed.
  EXPECT_EQ(Printable("a\xc3\xa9", 2), "a\\xc3...");
  EXPECT_EQ(Printable(std::string(100, 'x'), 64), std::string(64, 'x') + "...");
}

TEST(PrintableTest, HasSpaceOrControl) {
  EXPECT_FALSE(HasSpaceOrControl(""));
  EXPECT_FALSE(HasSpaceOrControl("node1@127.0.0.1"));
  EXPECT_FALSE(HasSpaceOrControl("caf\xc3\xa9"));
  EXPECT_TRUE(HasSpaceOrControl("a b"));
  EXPECT_TRUE(HasSpaceOrControl("a\tb"));
  EXPECT_TRUE(HasSpaceOrControl(std::string("a\0", 2)));
  EXPECT_TRUE(HasSpaceOrControl("\x7f"));
}

}  // namespace
}  // namespace causeway
