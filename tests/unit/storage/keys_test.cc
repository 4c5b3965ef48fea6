// Key encoding: the properties handoff and anti-entropy rely on (a partition
// is one contiguous range, a bucket one prefix) and hostile-input decoding.

#include "storage/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "storage/engine.h"

namespace causeway::storage {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST(KeysTest, EncodingIsTheDocumentedLayout) {
  std::string k = EncodeObjectKey(0x01020304, "t", "bk", "");
  EXPECT_EQ(k, Bytes({'o', 1, 2, 3, 4,   0,   0, 0, 1, 't',
                      0,   0, 0, 2, 'b', 'k', 0, 0, 0, 0}));
  EXPECT_EQ(PartitionBegin(7), Bytes({'o', 0, 0, 0, 7}));
  EXPECT_EQ(MetaKey("ring"), "mring");
  EXPECT_EQ(ObjectSpaceBegin(), "o");
  EXPECT_EQ(ObjectSpaceEnd(), "p");
}

// The anti-entropy key space's exact bytes, as keys.h lays them out: trees
// written by one version are read by the next.
TEST(KeysTest, AaeKeysAreTheDocumentedLayout) {
  EXPECT_EQ(AaeFormatKey(), "aV");
  EXPECT_EQ(AaeRebuildPrefix(), "aR");
  EXPECT_EQ(AaeRebuildKey(0x01020304), Bytes({'a', 'R', 1, 2, 3, 4}));
  EXPECT_EQ(AaeRetiredSegmentSpace(), "aS");
  EXPECT_EQ(AaeIndexPrefix(0x0a0b0c0d), Bytes({'a', 'K', 10, 11, 12, 13}));
  EXPECT_EQ(AaeIndexPrefix(5, 0x0102),
            Bytes({'a', 'K', 0, 0, 0, 5, 0, 0, 1, 2}));
  const std::string index =
      Bytes({'a', 'K', 0, 0, 0, 5,   0,   0, 1, 2, 0, 0,   0,   1,
             't', 0,   0, 0, 2, 'b', 'k', 0, 0, 0, 3, 'k', 'e', 'y'});
  EXPECT_EQ(AaeIndexKey(5, 0x0102, "t", "bk", "key"), index);
  AaeIndexKeyParts parts;
  ASSERT_TRUE(DecodeAaeIndexKey(index, &parts));
  EXPECT_EQ(parts, (AaeIndexKeyParts{5, 0x0102, "t", "bk", "key"}));

  EXPECT_EQ(AaeTombstonePrefix(7), Bytes({'a', 'T', 0, 0, 0, 7}));
  const std::string tombstone = Bytes(
      {'a', 'T', 0, 0, 0, 7, 0, 0, 0, 1, 't', 0, 0, 0, 0, 0, 0, 0, 1, 'k'});
  EXPECT_EQ(AaeTombstoneKey(7, "t", "", "k"), tombstone);
  ASSERT_TRUE(DecodeAaeTombstoneKey(tombstone, &parts));
  EXPECT_EQ(parts, (AaeIndexKeyParts{7, 0, "t", "", "k"}));
  EXPECT_FALSE(DecodeAaeTombstoneKey(tombstone + "x", &parts));
  EXPECT_FALSE(DecodeAaeTombstoneKey(index, &parts));
}

TEST(KeysTest, RoundTrip) {
  const std::string binary("\x00\xff\x00\x01", 4);
  std::vector<ObjectKeyParts> cases = {
      {0, "", "", ""},
      {1, "default", "users", "alice"},
      {0xffffffffu, "t", "b", "k"},
      {12345, binary, binary + "b", binary + "k"},
      {42, "", "bucket", std::string(100000, 'x')},
  };
  for (const ObjectKeyParts& p : cases) {
    std::string encoded = EncodeObjectKey(p.partition, p.type, p.bucket, p.key);
    ObjectKeyParts decoded;
    ASSERT_TRUE(DecodeObjectKey(encoded, &decoded)) << p.key.size();
    EXPECT_EQ(decoded, p);
    EXPECT_TRUE(StartsWith(encoded, PartitionBegin(p.partition)));
    EXPECT_TRUE(
        StartsWith(encoded, BucketPrefix(p.partition, p.type, p.bucket)));
  }
}

TEST(KeysTest, PartitionsAreContiguousAndInNumericOrder) {
  // Partitions whose byte order would differ from numeric order under a
  // little-endian or variable-length encoding.
  const std::vector<uint32_t> partitions = {
      0,     1,          255,        256,        65535,
      65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
  const std::vector<std::string> names = {"", "a", "b", "zz",
                                          std::string("\xff\xff", 2)};
  std::vector<std::string> encoded;
  for (uint32_t p : partitions) {
    for (const auto& t : names) {
      for (const auto& b : names) {
        for (const auto& k : names)
          encoded.push_back(EncodeObjectKey(p, t, b, k));
      }
    }
  }
  std::sort(encoded.begin(), encoded.end());
  // After sorting by bytes, decoded partitions are non-decreasing, so each
  // partition is one run, and the runs come in numeric order.
  uint32_t last = 0;
  for (const std::string& e : encoded) {
    ObjectKeyParts parts;
    ASSERT_TRUE(DecodeObjectKey(e, &parts));
    EXPECT_GE(parts.partition, last);
    last = parts.partition;
    EXPECT_GE(e, ObjectSpaceBegin());
    EXPECT_LT(e, ObjectSpaceEnd());
  }
  // [PartitionBegin, PartitionEnd) holds exactly that partition's keys.
  for (uint32_t p : partitions) {
    std::string begin = PartitionBegin(p);
    std::string end = PartitionEnd(p);
    ASSERT_LT(begin, end);
    for (const std::string& e : encoded) {
      ObjectKeyParts parts;
      ASSERT_TRUE(DecodeObjectKey(e, &parts));
      bool inside = e >= begin && e < end;
      EXPECT_EQ(inside, parts.partition == p);
    }
  }
  EXPECT_EQ(PartitionEnd(0xffffffffu), ObjectSpaceEnd());
  EXPECT_EQ(PartitionEnd(1), PartitionBegin(2));
}

TEST(KeysTest, BucketPrefixCoversOnlyThatBucket) {
  // Buckets and types that are prefixes of each other are the risky case:
  // "a" vs "ab", and a type/bucket split moved by one byte.
  struct TB {
    std::string type, bucket;
  };
  const std::vector<TB> buckets = {{"", "a"},   {"", "ab"},  {"a", ""},
                                   {"a", "b"},  {"ab", ""},  {"t", "a"},
                                   {"t", "ab"}, {"ta", "b"}, {"t", ""}};
  const std::vector<std::string> keys = {"", "a", "k1", std::string("\x00", 1),
                                         std::string("\xff", 1)};
  for (uint32_t partition : {0u, 9u}) {
    for (const TB& owner : buckets) {
      std::string prefix = BucketPrefix(partition, owner.type, owner.bucket);
      std::string end = PrefixEnd(prefix);
      for (uint32_t p : {0u, 9u}) {
        for (const TB& tb : buckets) {
          for (const std::string& k : keys) {
            std::string e = EncodeObjectKey(p, tb.type, tb.bucket, k);
            bool same = p == partition && tb.type == owner.type &&
                        tb.bucket == owner.bucket;
            EXPECT_EQ(StartsWith(e, prefix), same);
            EXPECT_EQ(e >= prefix && e < end, same);
          }
        }
      }
    }
  }
}

TEST(KeysTest, BucketScanInAnEngine) {
  std::unique_ptr<Engine> engine = NewMemoryEngine();
  for (uint32_t p : {3u, 4u}) {
    for (const char* b : {"a", "ab", "b"}) {
      for (const char* k : {"x", "y"}) {
        ASSERT_TRUE(engine->Put(EncodeObjectKey(p, "t", b, k), b).ok());
      }
    }
  }
  std::string prefix = BucketPrefix(3, "t", "a");
  std::vector<std::string> seen;
  ASSERT_TRUE(engine
                  ->Scan(prefix, PrefixEnd(prefix),
                         [&](std::string_view k, std::string_view v) {
                           ObjectKeyParts parts;
                           EXPECT_TRUE(DecodeObjectKey(k, &parts));
                           EXPECT_EQ(parts.bucket, "a");
                           EXPECT_EQ(parts.partition, 3u);
                           seen.push_back(parts.key);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"x", "y"}));

  int in_partition = 0;
  ASSERT_TRUE(engine
                  ->Scan(PartitionBegin(4), PartitionEnd(4),
                         [&](std::string_view, std::string_view) {
                           ++in_partition;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(in_partition, 6);
}

TEST(KeysTest, PrefixEndEdgeCases) {
  EXPECT_EQ(PrefixEnd(""), "");
  EXPECT_EQ(PrefixEnd("a"), "b");
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd(Bytes({0x00})), Bytes({0x01}));
  EXPECT_EQ(PrefixEnd(Bytes({0x7f})), Bytes({0x80}));
  EXPECT_EQ(PrefixEnd(Bytes({0xfe})), Bytes({0xff}));
  EXPECT_EQ(PrefixEnd(Bytes({'a', 0xff})), "b");
  EXPECT_EQ(PrefixEnd(Bytes({'a', 0xff, 0xff})), "b");
  EXPECT_EQ(PrefixEnd(Bytes({'a', 0xfe, 0xff})), Bytes({'a', 0xff}));
  EXPECT_EQ(PrefixEnd(Bytes({0xff})), "");
  EXPECT_EQ(PrefixEnd(Bytes({0xff, 0xff, 0xff})), "");

  // The defining property: greater than every extension of the prefix and
  // the smallest such key.
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string prefix;
    int len = rng() % 4;
    for (int j = 0; j < len; ++j) {
      int pick = rng() % 4;
      prefix.push_back(static_cast<char>(pick == 0   ? 0xff
                                         : pick == 1 ? 0x00
                                                     : rng() % 256));
    }
    std::string end = PrefixEnd(prefix);
    for (int j = 0; j < 20; ++j) {
      std::string ext = prefix;
      int extra = rng() % 3;
      for (int k = 0; k < extra; ++k) ext.push_back(static_cast<char>(rng()));
      if (end.empty()) {
        EXPECT_TRUE(std::all_of(prefix.begin(), prefix.end(),
                                [](char c) { return c == '\xff'; }));
      } else {
        EXPECT_LT(ext, end);
      }
    }
    if (!end.empty()) {
      EXPECT_FALSE(StartsWith(end, prefix));
    }
  }
}

TEST(KeysTest, MalformedKeysAreRejected) {
  const std::string good = EncodeObjectKey(5, "type", "bucket", "key");
  ObjectKeyParts untouched{99, "T", "B", "K"};
  auto rejects = [&](const std::string& bad) {
    ObjectKeyParts out = untouched;
    bool ok = DecodeObjectKey(bad, &out);
    EXPECT_FALSE(ok) << testing::PrintToString(bad);
    EXPECT_EQ(out, untouched) << "output written on failure";
  };
  rejects("");
  rejects("o");
  rejects(Bytes({'o', 0, 0, 0}));
  rejects(Bytes({'o', 0, 0, 0, 5}));  // partition only, no lengths
  rejects(MetaKey("ring"));
  // Wrong key space, otherwise well formed.
  std::string wrong_space = good;
  wrong_space[0] = kMetaSpace;
  rejects(wrong_space);
  // Every truncation of a good key.
  for (size_t n = 0; n < good.size(); ++n) rejects(good.substr(0, n));
  // Trailing garbage.
  rejects(good + "x");
  rejects(good + std::string(4, '\0'));
  // Lengths that point past the end, including ones that would overflow an
  // offset computation or ask for a huge allocation.
  rejects(Bytes({'o', 0, 0, 0, 1, 0, 0, 0, 5, 'a'}));
  rejects(Bytes({'o', 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 'a'}));
  rejects(
      Bytes({'o', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff}));
  // The last component is "key"; its length's low byte sits just before it.
  // A shorter length leaves trailing bytes, a longer one runs off the end.
  const size_t last_len_byte = good.size() - 3 - 1;
  ASSERT_EQ(good[last_len_byte], 3);
  std::string shorter = good;
  shorter[last_len_byte] = 2;
  rejects(shorter);
  std::string longer = good;
  longer[last_len_byte] = 4;
  rejects(longer);
}

TEST(KeysTest, MutatedKeysNeverCrashAndRoundTripWhenAccepted) {
  // Start from valid keys and damage them (flip, drop, insert, truncate);
  // run under the sanitizer build this also proves no out-of-bounds read.
  std::mt19937 rng(12345);
  const std::vector<std::string> seeds = {
      EncodeObjectKey(0, "", "", ""), EncodeObjectKey(5, "t", "b", "k"),
      EncodeObjectKey(0xffffffffu, "type", std::string("\x00\xff", 2), "key")};
  int accepted = 0;
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    int edits = 1 + rng() % 3;
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
          break;
        case 1:
          s.erase(pos, 1);
          break;
        case 2:
          s.insert(pos, 1, static_cast<char>(rng() % 3));
          break;
        default:
          s.resize(pos);
      }
    }
    ObjectKeyParts parts;
    if (DecodeObjectKey(s, &parts)) {
      ++accepted;
      EXPECT_EQ(
          EncodeObjectKey(parts.partition, parts.type, parts.bucket, parts.key),
          s);
    } else {
      ++rejected;
    }
  }
  // Both outcomes must occur, or the test exercised only one path.
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace causeway::storage
