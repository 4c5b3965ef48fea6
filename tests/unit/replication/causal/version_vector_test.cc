#include "replication/causal/version_vector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace causeway::replication::causal {
namespace {

using Rng = std::mt19937_64;
constexpr uint64_t kMax64 = std::numeric_limits<uint64_t>::max();

// Counters and actors are drawn so that every varint length shows up, and
// actors collide often enough for merges to have work to do.
uint64_t RandomCounter(Rng& rng) {
  switch (rng() % 4) {
    case 0:
      return 1 + rng() % 4;
    case 1:
      return 1 + rng() % 300;
    case 2:
      return 1 + (rng() >> (rng() % 64));
    default:
      // The largest counter a clock may hold has a successor.
      return rng() % 2 ? kMax64 - 1 : uint64_t{1} << (rng() % 64);
  }
}

ActorId RandomActor(Rng& rng) {
  return rng() % 2 ? rng() % 8 : rng() >> (rng() % 64);
}

VersionVector RandomVector(Rng& rng, size_t max_entries = 8) {
  VersionVector v;
  size_t n = rng() % (max_entries + 1);
  for (size_t i = 0; i < n; ++i)
    v.Add(Dot{RandomActor(rng), RandomCounter(rng)});
  return v;
}

VersionVector Merged(VersionVector a, const VersionVector& b) {
  a.Merge(b);
  return a;
}

std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}

// A vclock built by hand: version byte, count, then the pairs as given.
std::string RawVclock(uint64_t count,
                      const std::vector<std::pair<uint64_t, uint64_t>>& pairs) {
  std::string s(1, '\x01');
  s += Varint(count);
  for (const auto& [a, c] : pairs) s += Varint(a) + Varint(c);
  return s;
}

void ExpectInvariants(const VersionVector& v) {
  for (size_t i = 0; i < v.entries().size(); ++i) {
    EXPECT_GT(v.entries()[i].second, 0u);
    if (i > 0) {
      EXPECT_LT(v.entries()[i - 1].first, v.entries()[i].first);
    }
  }
}

TEST(VersionVectorTest, AddRaisesNeverLowersAndIgnoresZero) {
  VersionVector v;
  v.Add(Dot{5, 3});
  v.Add(Dot{5, 2});
  v.Add(Dot{1, 0});
  v.Add(Dot{2, 7});
  EXPECT_EQ(v.Get(5), 3u);
  EXPECT_EQ(v.Get(2), 7u);
  EXPECT_EQ(v.Get(1), 0u);
  EXPECT_EQ(v.entries(), (std::vector<VersionVector::Entry>{{2, 7}, {5, 3}}));
  EXPECT_TRUE(v.Covers(Dot{5, 3}));
  EXPECT_TRUE(v.Covers(Dot{5, 1}));
  EXPECT_FALSE(v.Covers(Dot{5, 4}));
  EXPECT_FALSE(v.Covers(Dot{9, 1}));
  EXPECT_TRUE(v.Covers(Dot{9, 0}));  // the empty event is in every history
}

TEST(VersionVectorTest, RandomOperationsKeepEntriesSortedAndPositive) {
  Rng rng(11);
  for (int i = 0; i < 2000; ++i) {
    VersionVector v = RandomVector(rng, 16);
    v.Merge(RandomVector(rng, 16));
    ExpectInvariants(v);
  }
}

TEST(VersionVectorTest, MergeIsPointwiseMaximum) {
  Rng rng(1);
  for (int i = 0; i < 2000; ++i) {
    VersionVector a = RandomVector(rng), b = RandomVector(rng);
    VersionVector m = Merged(a, b);
    ExpectInvariants(m);
    for (const auto& [actor, counter] : a.entries()) {
      EXPECT_EQ(m.Get(actor), std::max(counter, b.Get(actor)));
    }
    for (const auto& [actor, counter] : b.entries()) {
      EXPECT_EQ(m.Get(actor), std::max(counter, a.Get(actor)));
    }
    EXPECT_EQ(m.entries().size(),
              Merged(b, a).entries().size());  // no entry out of nowhere
    for (const auto& [actor, counter] : m.entries()) {
      EXPECT_TRUE(a.Get(actor) == counter || b.Get(actor) == counter);
    }
  }
}

TEST(VersionVectorTest, MergeIsCommutativeAssociativeIdempotent) {
  Rng rng(2);
  for (int i = 0; i < 3000; ++i) {
    VersionVector a = RandomVector(rng), b = RandomVector(rng),
                  c = RandomVector(rng);
    EXPECT_EQ(Merged(a, b), Merged(b, a));
    EXPECT_EQ(Merged(Merged(a, b), c), Merged(a, Merged(b, c)));
    EXPECT_EQ(Merged(a, a), a);
    EXPECT_EQ(Merged(a, VersionVector()), a);
  }
}

TEST(VersionVectorTest, DescendsIsTheMergeOrder) {
  Rng rng(3);
  for (int i = 0; i < 3000; ++i) {
    VersionVector a = RandomVector(rng), b = RandomVector(rng);
    if (rng() % 3 == 0) b = Merged(b, a);  // make descent common
    EXPECT_EQ(b.Descends(a), Merged(b, a) == b)
        << a.ToString() << " " << b.ToString();
    EXPECT_TRUE(Merged(a, b).Descends(a));
    EXPECT_TRUE(Merged(a, b).Descends(b));
  }
}

// Every vector over two actors with counters 0..3: the laws hold for all
// pairs and triples, and Descends is a partial order.
TEST(VersionVectorTest, ExhaustiveSmallLattice) {
  std::vector<VersionVector> all;
  for (uint64_t x = 0; x < 4; ++x) {
    for (uint64_t y = 0; y < 4; ++y) {
      VersionVector v;
      v.Add(Dot{10, x});
      v.Add(Dot{20, y});
      all.push_back(v);
    }
  }
  for (const auto& a : all) {
    EXPECT_TRUE(a.Descends(a));
    EXPECT_EQ(Merged(a, a), a);
    for (const auto& b : all) {
      EXPECT_EQ(Merged(a, b), Merged(b, a));
      if (a.Descends(b) && b.Descends(a)) {
        EXPECT_EQ(a, b);
      }
      bool pointwise = a.Get(10) >= b.Get(10) && a.Get(20) >= b.Get(20);
      EXPECT_EQ(a.Descends(b), pointwise);
      for (const auto& c : all) {
        EXPECT_EQ(Merged(Merged(a, b), c), Merged(a, Merged(b, c)));
        if (a.Descends(b) && b.Descends(c)) {
          EXPECT_TRUE(a.Descends(c));
        }
      }
    }
  }
}

TEST(VersionVectorTest, EncodingIsCompactAndExact) {
  VersionVector v;
  v.Add(Dot{1, 1});
  v.Add(Dot{300, 2});
  EXPECT_EQ(v.Encode(), std::string("\x01\x02\x01\x01\xAC\x02\x02", 7));
  EXPECT_EQ(VersionVector().Encode(), std::string("\x01\x00", 2));
}

TEST(VersionVectorTest, EncodeDecodeRoundTrip) {
  Rng rng(4);
  for (int i = 0; i < 5000; ++i) {
    VersionVector v = RandomVector(rng, 40);
    std::string bytes = v.Encode();
    VersionVector out;
    ASSERT_TRUE(VersionVector::Decode(bytes, &out).ok()) << v.ToString();
    EXPECT_EQ(out, v);
    EXPECT_EQ(out.Encode(), bytes);
  }
}

TEST(VersionVectorTest, RoundTripsAtTheEntryLimit) {
  VersionVector v;
  for (uint64_t i = 0; i < VersionVector::kMaxEntries; ++i) {
    v.Add(Dot{i * 7919, i + 1});
  }
  VersionVector out;
  ASSERT_TRUE(VersionVector::Decode(v.Encode(), &out).ok());
  EXPECT_EQ(out, v);
}

TEST(VersionVectorTest, EmptyBytesAreABlindWrite) {
  VersionVector out;
  out.Add(Dot{1, 1});
  ASSERT_TRUE(VersionVector::Decode("", &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(VersionVectorTest, MalformedInputsAreRejectedAndLeaveOutputAlone) {
  const std::string ten_ff(9, '\xFF');
  std::vector<std::pair<std::string, std::string>> corpus = {
      {"version 0", std::string("\x00\x00", 2)},
      {"version 2", std::string("\x02\x00", 2)},
      {"version 0xff", std::string("\xFF\x00", 2)},
      {"version only", "\x01"},
      {"count truncated", "\x01\x80"},
      {"count too large", RawVclock(VersionVector::kMaxEntries + 1, {})},
      {"count huge", RawVclock(uint64_t{1} << 63, {})},
      {"count max", RawVclock(kMax64, {})},
      {"count above entries", RawVclock(2, {{1, 1}})},
      {"count lies by one, bytes remain", RawVclock(1, {{1, 1}, {2, 2}})},
      {"entry missing counter", RawVclock(1, {}) + Varint(5)},
      {"varint cut mid-way", RawVclock(1, {}) + "\x85"},
      {"eleven-byte varint",
       RawVclock(1, {}) + std::string(10, '\xFF') + "\x01" + "\x01"},
      {"tenth byte overflows", RawVclock(1, {}) + ten_ff + "\x02" + "\x01"},
      {"padded actor varint",
       RawVclock(1, {}) + std::string("\x81\x00\x01", 3)},
      {"padded counter varint",
       RawVclock(1, {}) + std::string("\x01\x81\x00", 3)},
      {"padded count varint", std::string("\x01\x80\x00", 3)},
      {"zero counter", RawVclock(1, {{4, 0}})},
      {"zero counter after good one", RawVclock(2, {{4, 1}, {5, 0}})},
      {"unsorted actors", RawVclock(2, {{5, 1}, {4, 1}})},
      {"duplicate actors", RawVclock(2, {{5, 1}, {5, 2}})},
      {"trailing byte", RawVclock(1, {{5, 1}}) + std::string(1, '\0')},
      {"trailing entry", RawVclock(0, {{5, 1}})},
  };
  for (const auto& [name, bytes] : corpus) {
    VersionVector out;
    out.Add(Dot{42, 42});
    VersionVector before = out;
    Status s = VersionVector::Decode(bytes, &out);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << name;
    EXPECT_EQ(out, before) << name;
  }
}

TEST(VersionVectorTest, LargestValuesDecode) {
  VersionVector out;
  ASSERT_TRUE(
      VersionVector::Decode(RawVclock(1, {{kMax64, kMax64 - 1}}), &out).ok());
  EXPECT_EQ(out.Get(kMax64), kMax64 - 1);
  // A counter with no successor is refused: the actor's next event would
  // wrap it to zero.
  EXPECT_FALSE(VersionVector::Decode(RawVclock(1, {{7, kMax64}}), &out).ok());
  EXPECT_EQ(out.Get(kMax64), kMax64 - 1);  // left unchanged
  std::string ten = std::string(9, '\xFF') + "\x01";
  ASSERT_TRUE(
      VersionVector::Decode(RawVclock(1, {}) + ten + "\x01", &out).ok());
  EXPECT_EQ(out.Get(kMax64), 1u);
}

// Whatever the bytes, Decode either rejects them or accepts exactly the
// canonical encoding of what it returns.
void ExpectRejectedOrCanonical(const std::string& bytes) {
  VersionVector out;
  out.Add(Dot{42, 42});
  VersionVector before = out;
  Status s = VersionVector::Decode(bytes, &out);
  if (s.ok()) {
    ExpectInvariants(out);
    if (!bytes.empty()) {
      EXPECT_EQ(out.Encode(), bytes);
    }
  } else {
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(out, before);
  }
}

TEST(VersionVectorTest, RandomBytesAreRejectedOrRoundTrip) {
  Rng rng(5);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) {
      // Small values make structurally plausible input far more likely.
      c = static_cast<char>(rng() % 3 == 0 ? rng() : rng() % 4);
    }
    if (!bytes.empty() && rng() % 2) bytes[0] = '\x01';
    VersionVector probe;
    if (VersionVector::Decode(bytes, &probe).ok()) ++accepted;
    ExpectRejectedOrCanonical(bytes);
  }
  // The generator must actually reach the accepting paths.
  EXPECT_GT(accepted, 100);
}

TEST(VersionVectorTest, MutatedEncodingsAreRejectedOrRoundTrip) {
  Rng rng(6);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = RandomVector(rng, 6).Encode();
    switch (rng() % 4) {
      case 0:
        bytes.resize(rng() % bytes.size());
        break;
      case 1:
        bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
        break;
      case 2:
        bytes.insert(rng() % (bytes.size() + 1), 1, static_cast<char>(rng()));
        break;
      default:
        bytes.erase(rng() % bytes.size(), 1);
        break;
    }
    ExpectRejectedOrCanonical(bytes);
  }
}

TEST(VersionVectorTest, EveryTruncationOfAnEncodingIsRejected) {
  Rng rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string bytes = RandomVector(rng, 10).Encode();
    // Length zero is the blind-write clock, accepted by design.
    for (size_t len = 1; len < bytes.size(); ++len) {
      VersionVector out;
      EXPECT_FALSE(VersionVector::Decode(bytes.substr(0, len), &out).ok());
    }
  }
}

// The stamp: the newest write a context's history holds. It rides along
// (format 2) without changing what the entries mean.
TEST(VersionVectorTest, StampRoundTripsInFormatTwo) {
  VersionVector v;
  v.Add(Dot{1, 1});
  v.set_stamp(HlcTimestamp{0x10, 2});
  // Format 2, one entry, then Pack() = 0x10 << 16 | 2 as a varint.
  EXPECT_EQ(v.Encode(), std::string("\x02\x01\x01\x01\x82\x80\x40", 7));
  VersionVector out;
  ASSERT_TRUE(VersionVector::Decode(v.Encode(), &out).ok());
  EXPECT_EQ(out.stamp(), (HlcTimestamp{0x10, 2}));
  EXPECT_EQ(out.Encode(), v.Encode());
  // A format 1 context has no stamp, and decoding it clears an old one.
  VersionVector plain;
  plain.Add(Dot{1, 1});
  ASSERT_TRUE(VersionVector::Decode(plain.Encode(), &out).ok());
  EXPECT_EQ(out.stamp(), HlcTimestamp{});
  ASSERT_TRUE(VersionVector::Decode("", &out).ok());
  EXPECT_EQ(out.stamp(), HlcTimestamp{});
}

TEST(VersionVectorTest, StampIsAdvisory) {
  VersionVector a, b;
  a.Add(Dot{1, 2});
  b.Add(Dot{1, 2});
  a.set_stamp(HlcTimestamp{5, 0});
  EXPECT_EQ(a, b);
  EXPECT_TRUE(b.Descends(a));
  EXPECT_NE(a.Encode(), b.Encode());
  // Merge keeps the newer stamp, whichever side has it.
  b.set_stamp(HlcTimestamp{4, 9});
  VersionVector ab = a, ba = b;
  ab.Merge(b);
  ba.Merge(a);
  EXPECT_EQ(ab.stamp(), (HlcTimestamp{5, 0}));
  EXPECT_EQ(ba.stamp(), (HlcTimestamp{5, 0}));
}

TEST(VersionVectorTest, MalformedStampsAreRefused) {
  const std::string body("\x01\x01\x01", 3);  // one entry, 1:1
  VersionVector sentinel;
  sentinel.Add(Dot{7, 3});
  sentinel.set_stamp(HlcTimestamp{7, 7});
  for (const std::string& bytes : {
           "\x02" + body,                         // stamp missing
           "\x02" + body + std::string(1, '\0'),  // zero stamp: format 1's
           "\x02" + body + "\x80",                // stamp truncated
           "\x02" + body + "\x01\x01",            // trailing byte
           "\x03" + body + "\x01",                // unknown format
       }) {
    VersionVector out = sentinel;
    EXPECT_FALSE(VersionVector::Decode(bytes, &out).ok());
    EXPECT_EQ(out, sentinel);
    EXPECT_EQ(out.stamp(), sentinel.stamp());
  }
}

TEST(VersionVectorTest, ToStringListsEntries) {
  VersionVector v;
  EXPECT_EQ(v.ToString(), "{}");
  v.Add(Dot{2, 5});
  v.Add(Dot{1, 3});
  EXPECT_EQ(v.ToString(), "{0000000000000001:3, 0000000000000002:5}");
}

}  // namespace
}  // namespace causeway::replication::causal
