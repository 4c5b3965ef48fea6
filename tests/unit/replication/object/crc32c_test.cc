// Crc32c: the record checksum, against an independent bitwise version, with
// and without the processor's CRC32 instruction.

#include "replication/object/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/unit/replication/object/world.h"

namespace causeway::replication::object {
namespace {

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(internal::Crc32cPortable("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

// Every length up to a few words and every start offset within a word, so
// the word loop, the byte tail and unaligned starts are all covered.
TEST(Crc32cTest, BothVersionsAgreeWithTheBitwiseOneOnEveryLengthAndOffset) {
  std::mt19937_64 rng(7);
  std::string buffer(300, '\0');
  for (char& c : buffer) c = static_cast<char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t length = 0; length + offset <= buffer.size(); ++length) {
      std::string piece = buffer.substr(offset, length);
      uint32_t expected = testing::SlowCrc32c(piece);
      std::string_view view(buffer.data() + offset, length);
      ASSERT_EQ(Crc32c(view), expected) << offset << "+" << length;
      ASSERT_EQ(internal::Crc32cPortable(view), expected)
          << offset << "+" << length;
    }
  }
}

// The hardware path is the one every node takes on the machines this runs
// on; a build where the check silently fell back would test only the table.
TEST(Crc32cTest, UsesTheCrc32InstructionOnX86WithSse42) {
#if defined(__x86_64__)
  EXPECT_EQ(internal::HardwareCrc32cAvailable(),
            __builtin_cpu_supports("sse4.2") != 0);
#else
  EXPECT_FALSE(internal::HardwareCrc32cAvailable());
#endif
}

}  // namespace
}  // namespace causeway::replication::object
