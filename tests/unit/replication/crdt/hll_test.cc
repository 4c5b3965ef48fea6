// HyperLogLog: estimates, deltas, limits, merges across precisions (the
// fold), its codec (sparse and dense forms, hostile bytes) and its law
// cases. The golden encodings pin the hash: a change to it would change
// every stored state, so it must show up here.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/coding.h"
#include "replication/crdt/types.h"
#include "tests/unit/replication/crdt/law_cases.h"

namespace causeway::replication::crdt {
namespace {

using State = std::unique_ptr<DataType>;
using Strings = std::vector<std::string>;

Status Add(DataType* hll, Strings adds, State* delta = nullptr) {
  State unused;
  UpdateArgs args;
  args.actor = 1;
  return hll->Update(HllOp{std::move(adds)}, args, delta ? delta : &unused);
}

uint64_t Cardinality(const DataType& hll) { return hll.Read().cardinality; }

// Elements "<prefix>0", "<prefix>1", ... added in ops of at most
// kMaxElementsPerOp.
void AddMany(DataType* hll, const std::string& prefix, size_t n) {
  for (size_t done = 0; done < n;) {
    Strings batch;
    for (; done < n && batch.size() < kMaxElementsPerOp; ++done) {
      batch.push_back(prefix + std::to_string(done));
    }
    ASSERT_TRUE(Add(hll, std::move(batch)).ok());
  }
}

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

std::string Sparse(uint8_t p, std::vector<std::pair<uint64_t, uint8_t>> regs) {
  std::string out = {'\x01', static_cast<char>(p), '\x00'};
  coding::PutVarint64(&out, regs.size());
  for (const auto& [step, rank] : regs) {
    coding::PutVarint64(&out, step);
    out.push_back(static_cast<char>(rank));
  }
  return out;
}

TEST(Hll, StartsEmpty) {
  const State h = NewHll(kDefaultHllPrecision);
  EXPECT_EQ(h->tag(), TypeTag::kHll);
  EXPECT_EQ(h->Read().type, TypeTag::kHll);
  EXPECT_EQ(Cardinality(*h), 0u);
  EXPECT_EQ(h->Context(), "");
  EXPECT_EQ(h->Encode(), Sparse(14, {}));
}

// The Riak client test: five adds, one repeated, read 4.
TEST(Hll, CountsTheRiakClientExampleExactly) {
  const State h = NewHll(14);
  ASSERT_TRUE(
      Add(h.get(), {"Jokes", "are", "better", "explained", "Jokes"}).ok());
  EXPECT_EQ(Cardinality(*h), 4u);
  const State one_by_one = NewHll(14);
  for (const char* e : {"Jokes", "are", "better", "explained", "Jokes"}) {
    ASSERT_TRUE(Add(one_by_one.get(), {e}).ok());
  }
  EXPECT_TRUE(one_by_one->Equal(*h));
  EXPECT_EQ(Cardinality(*one_by_one), 4u);
}

// The hash is part of the format: these bytes must never change.
TEST(Hll, EncodingsArePinned) {
  const State h = NewHll(14);
  ASSERT_TRUE(Add(h.get(), {"Jokes", "are", "better", "explained"}).ok());
  EXPECT_EQ(Hex(h->Encode()), "010e00043e048b1c05db5902ff0204");
  const State small = NewHll(4);
  ASSERT_TRUE(Add(small.get(), {"a", "b", ""}).ok());
  EXPECT_EQ(Hex(small->Encode()), "01040003000303010c02");
}

TEST(Hll, EstimatesWithinTheExpectedError) {
  for (uint32_t p : {4u, 8u, 12u, 14u, 16u}) {
    const double m = std::ldexp(1.0, static_cast<int>(p));
    // Four standard errors of HyperLogLog, 1.04 / sqrt(m).
    const double tolerance = 4 * 1.04 / std::sqrt(m);
    for (size_t n : {size_t{10}, size_t{1000}, size_t{100000}}) {
      SCOPED_TRACE("p " + std::to_string(p) + ", n " + std::to_string(n));
      const State h = NewHll(p);
      AddMany(h.get(), "e", n);
      const double error =
          std::abs(static_cast<double>(Cardinality(*h)) - n) / n;
      EXPECT_LE(error, tolerance);
      // Small sets are counted by linear counting, whose relative error
      // is about 1 / sqrt(2m) when n is far below m.
      if (n * 10 <= m) {
        EXPECT_LE(error, 4 / std::sqrt(2 * m));
      }
    }
  }
}

TEST(Hll, DeltaHoldsOnlyTheRegistersTheOpRaised) {
  const State h = NewHll(14);
  State delta;
  ASSERT_TRUE(Add(h.get(), {"a", "b"}, &delta).ok());
  EXPECT_TRUE(delta->Equal(*h));
  ASSERT_TRUE(Add(h.get(), {"a", "c"}, &delta).ok());
  const State only_c = NewHll(14);
  ASSERT_TRUE(Add(only_c.get(), {"c"}).ok());
  EXPECT_TRUE(delta->Equal(*only_c));
  ASSERT_TRUE(Add(h.get(), {"a", "b", "c"}, &delta).ok());
  EXPECT_TRUE(delta->Equal(*NewHll(14)));
  EXPECT_EQ(Cardinality(*h), 3u);
}

TEST(Hll, LargeStatesEncodeDenseAndSmallOnesSparse) {
  const State h = NewHll(8);
  ASSERT_TRUE(Add(h.get(), {"x"}).ok());
  EXPECT_EQ(h->Encode().size(), 3u + 1 + 2);  // header, count, one register
  EXPECT_EQ(h->Encode()[2], '\x00');
  AddMany(h.get(), "e", 2000);
  EXPECT_EQ(h->Encode().size(), 3u + 256);
  EXPECT_EQ(h->Encode()[2], '\x01');
  State decoded;
  ASSERT_TRUE(DecodeHll(h->Encode(), &decoded).ok());
  EXPECT_TRUE(decoded->Equal(*h));
  EXPECT_EQ(Cardinality(*decoded), Cardinality(*h));
}

TEST(Hll, RefusesOpsOverTheLimitsAndOtherTypesOps) {
  const State h = NewHll(10);
  ASSERT_TRUE(Add(h.get(), {std::string(kMaxElementBytes, 'x')}).ok());
  const std::string before = h->Encode();
  EXPECT_EQ(Add(h.get(), {"a", std::string(kMaxElementBytes + 1, 'x')}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Add(h.get(), Strings(kMaxElementsPerOp + 1, "a")).code(),
            Status::Code::kInvalidArgument);
  State delta;
  UpdateArgs args;
  args.actor = 1;
  for (const Operation& op :
       {Operation(CounterOp{1}), Operation(SetOp{{"a"}, {}}),
        Operation(MapOp{}), Operation(GSetOp{{"a"}})}) {
    EXPECT_EQ(h->Update(op, args, &delta).code(),
              Status::Code::kInvalidArgument);
  }
  EXPECT_EQ(h->Encode(), before);
  EXPECT_TRUE(Add(h.get(), Strings(kMaxElementsPerOp, "a")).ok());
}

TEST(HllDeathTest, PrecisionOutOfRangeIsABug) {
  EXPECT_DEATH(NewHll(kMinHllPrecision - 1), "");
  EXPECT_DEATH(NewHll(kMaxHllPrecision + 1), "");
}

// Folding to a lower precision gives exactly the state the same adds build
// at that precision, whichever side of the merge is finer.
TEST(Hll, MergingPrecisionsFoldsExactlyToTheLower) {
  std::mt19937_64 rng(3);
  for (uint32_t q = kMinHllPrecision; q <= kMaxHllPrecision; ++q) {
    for (uint32_t p = kMinHllPrecision; p <= q; ++p) {
      SCOPED_TRACE("q " + std::to_string(q) + ", p " + std::to_string(p));
      const size_t n = rng() % 3000;
      const State fine = NewHll(q);
      const State coarse = NewHll(p);
      const State expected = NewHll(p);
      AddMany(fine.get(), "f", n);
      AddMany(coarse.get(), "c", n / 2);
      AddMany(expected.get(), "f", n);
      AddMany(expected.get(), "c", n / 2);
      const State a = fine->Clone();
      a->Merge(*coarse);
      const State b = coarse->Clone();
      b->Merge(*fine);
      ASSERT_TRUE(a->Equal(*expected));
      ASSERT_TRUE(b->Equal(*expected));
      ASSERT_EQ(a->Encode(), expected->Encode());
      // Adds after the fold use the lower precision.
      ASSERT_TRUE(Add(a.get(), {"later"}).ok());
      ASSERT_TRUE(Add(expected.get(), {"later"}).ok());
      ASSERT_TRUE(a->Equal(*expected));
    }
  }
}

TEST(Hll, MergeLawsHoldAcrossPrecisions) {
  std::vector<State> states;
  for (uint32_t p : {4u, 6u, 9u, 16u}) {
    for (size_t n : {size_t{0}, size_t{3}, size_t{400}}) {
      states.push_back(NewHll(p));
      AddMany(states.back().get(), std::to_string(p) + "-", n);
    }
  }
  auto merged = [](const DataType& x, const DataType& y) {
    State out = x.Clone();
    out->Merge(y);
    return out;
  };
  for (const State& a : states) {
    ASSERT_EQ(merged(*a, *a)->Encode(), a->Encode());
    for (const State& b : states) {
      ASSERT_EQ(merged(*a, *b)->Encode(), merged(*b, *a)->Encode());
      const State ab = merged(*a, *b);
      for (const State& c : states) {
        ASSERT_EQ(merged(*ab, *c)->Encode(),
                  merged(*a, *merged(*b, *c))->Encode());
      }
    }
  }
}

TEST(Hll, EqualComparesPrecisionAndRegisters) {
  EXPECT_TRUE(NewHll(10)->Equal(*NewHll(10)));
  EXPECT_FALSE(NewHll(10)->Equal(*NewHll(11)));
  EXPECT_FALSE(NewHll(10)->Equal(*NewCounter()));
  // The same elements by different paths: equal.
  const State a = NewHll(6);
  AddMany(a.get(), "e", 1000);
  const State b = NewHll(6);
  const State c = NewHll(6);
  AddMany(b.get(), "e", 500);
  AddMany(c.get(), "e", 1000);
  b->Merge(*c);
  EXPECT_TRUE(a->Equal(*b));
  const State small = NewHll(6);
  ASSERT_TRUE(Add(small.get(), {"e0"}).ok());
  EXPECT_FALSE(a->Equal(*small));
  EXPECT_FALSE(small->Equal(*a));
}

TEST(Hll, DecodeRefusesMalformedStates) {
  const std::string dense4 =
      std::string("\x01\x04\x01", 3) + std::string(16, '\x01');
  State ok;
  ASSERT_TRUE(DecodeHll(dense4, &ok).ok());
  std::string rank_too_high = dense4;
  rank_too_high[3] = static_cast<char>(64 - 4 + 2);
  std::string max_rank = dense4;
  max_rank[3] = static_cast<char>(64 - 4 + 1);
  ASSERT_TRUE(DecodeHll(max_rank, &ok).ok());
  const std::string bad[] = {
      "",
      std::string("\x02\x04\x00\x00", 4),      // unknown version
      std::string("\x01\x03\x00\x00", 4),      // precision too low
      std::string("\x01\x11\x00\x00", 4),      // precision too high
      std::string("\x01\x04\x02\x00", 4),      // unknown form
      std::string("\x01\x04", 2),              // no form
      std::string("\x01\x04\x00", 3),          // no count
      std::string("\x01\x04\x00\x00\x00", 5),  // trailing byte
      Sparse(4, {{16, 1}}),                    // index out of range
      Sparse(4, {{3, 1}, {0, 1}}),             // index repeated
      Sparse(4, {{3, 0}}),                     // rank zero
      Sparse(4, {{3, 62}}),                    // rank too high
      Sparse(4, {{1, 1},
                 {1, 1},
                 {1, 1},
                 {1, 1},
                 {1, 1},
                 {1, 1},
                 {1, 1},
                 {1, 1}}),                             // as long as dense
      std::string("\x01\x04\x00\x80\x00", 5),          // padded count
      std::string("\x01\x04\x00\x01\x81\x00\x01", 7),  // padded index
      dense4 + std::string(1, '\0'),                   // trailing byte
      dense4.substr(0, dense4.size() - 1),             // short
      rank_too_high,
      std::string("\x01\x04\x01", 3) + std::string(15, '\0') +
          "\x01",  // dense, but sparse is smaller
  };
  for (const std::string& bytes : bad) {
    State out;
    EXPECT_EQ(DecodeHll(bytes, &out).code(), Status::Code::kCorruption)
        << Hex(bytes);
    EXPECT_EQ(out, nullptr);
  }
}

TEST(Hll, DecodeRefusesEveryTruncation) {
  const State sparse = NewHll(12);
  ASSERT_TRUE(Add(sparse.get(), {"a", "b", "c"}).ok());
  const State dense = NewHll(5);
  AddMany(dense.get(), "e", 100);
  for (const State* h : {&sparse, &dense}) {
    const std::string bytes = (*h)->Encode();
    for (size_t n = 0; n < bytes.size(); ++n) {
      State out;
      EXPECT_FALSE(DecodeHll(bytes.substr(0, n), &out).ok()) << n;
    }
  }
}

TEST(Hll, RandomBytesDecodeOnlyToCanonicalStates) {
  std::mt19937_64 rng(5);
  const State h = NewHll(4);
  ASSERT_TRUE(Add(h.get(), {"a", "b"}).ok());
  const std::string sparse = h->Encode();
  AddMany(h.get(), "e", 50);
  const std::string dense = h->Encode();
  for (int i = 0; i < 30000; ++i) {
    std::string bytes = i % 3 == 0 ? sparse : dense;
    if (i % 3 == 2) {
      bytes.resize(3 + rng() % 20);
      for (size_t j = 1; j < bytes.size(); ++j) {
        bytes[j] = static_cast<char>(j == 1 ? 4 + rng() % 2 : rng() % 4);
      }
    } else {
      bytes[1 + rng() % (bytes.size() - 1)] = static_cast<char>(rng());
    }
    State out;
    if (DecodeHll(bytes, &out).ok()) {
      EXPECT_EQ(out->Encode(), bytes);
    }
  }
}

using testing::LawCase;

// Elements from a universe of 40, so that at precision 4 they collide in
// registers.
LawCase MakeHllCase(uint32_t precision) {
  LawCase c;
  c.name = "hll_p" + std::to_string(precision);
  c.tag = TypeTag::kHll;
  c.params.hll_precision = precision;
  c.random_op = [](std::mt19937_64& rng, const DataType&) -> Operation {
    if (rng() % 12 == 0) return GSetOp{{"a"}};  // refused: another type's op
    HllOp op;
    for (uint64_t n = rng() % 4; n > 0; --n) {
      std::string e = "e";
      e += std::to_string(rng() % 40);  // not "e" + ...: GCC 12 -Wrestrict
      op.adds.push_back(std::move(e));
    }
    return op;
  };
  c.small_universe = {HllOp{{"a"}}, HllOp{{"b"}}, HllOp{{"a", "b", "c"}},
                      HllOp{}, HllOp{{"Jokes"}}};
  return c;
}

CAUSEWAY_LAW_CASE(MakeHllCase(4));
CAUSEWAY_LAW_CASE(MakeHllCase(kDefaultHllPrecision));

}  // namespace
}  // namespace causeway::replication::crdt
