// The PN-counter: values, deltas, refusals and its codec (including hostile
// bytes), and its law case.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>

#include "base/coding.h"
#include "replication/crdt/types.h"
#include "tests/unit/replication/crdt/law_cases.h"

namespace causeway::replication::crdt {
namespace {

using State = std::unique_ptr<DataType>;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

Status Add(DataType* counter, causal::ActorId actor, int64_t increment,
           State* delta = nullptr) {
  State unused;
  UpdateArgs args;
  args.actor = actor;
  return counter->Update(CounterOp{increment}, args, delta ? delta : &unused);
}

int64_t ValueOf(const DataType& counter) { return counter.Read().counter; }

// The encoding of a counter with the given (actor, p, n) entries.
std::string Encoded(
    std::initializer_list<std::tuple<uint64_t, uint64_t, uint64_t>> entries) {
  std::string out(1, '\x01');
  coding::PutVarint64(&out, entries.size());
  for (const auto& [actor, p, n] : entries) {
    coding::PutFixed64(&out, actor);
    coding::PutVarint64(&out, p);
    coding::PutVarint64(&out, n);
  }
  return out;
}

TEST(Counter, StartsAtZero) {
  const State c = NewCounter();
  EXPECT_EQ(c->tag(), TypeTag::kCounter);
  EXPECT_EQ(c->Read().type, TypeTag::kCounter);
  EXPECT_EQ(ValueOf(*c), 0);
  EXPECT_EQ(c->Context(), "");
  EXPECT_EQ(c->Encode(), std::string("\x01\x00", 2));
}

TEST(Counter, SumsIncrementsAndDecrementsOfEveryActor) {
  const State c = NewCounter();
  ASSERT_TRUE(Add(c.get(), 1, 5).ok());
  ASSERT_TRUE(Add(c.get(), 2, -3).ok());
  ASSERT_TRUE(Add(c.get(), 1, -1).ok());
  ASSERT_TRUE(Add(c.get(), 3, 10).ok());
  EXPECT_EQ(ValueOf(*c), 11);
  EXPECT_EQ(c->Encode(), Encoded({{1, 5, 1}, {2, 0, 3}, {3, 10, 0}}));
}

TEST(Counter, DeltaHoldsOnlyTheActorsNewTotals) {
  const State c = NewCounter();
  ASSERT_TRUE(Add(c.get(), 7, 4).ok());
  ASSERT_TRUE(Add(c.get(), 9, 2).ok());
  State delta;
  ASSERT_TRUE(Add(c.get(), 7, -6, &delta).ok());
  EXPECT_EQ(delta->Encode(), Encoded({{7, 4, 6}}));
  EXPECT_EQ(ValueOf(*delta), -2);
}

TEST(Counter, ZeroIncrementChangesNothing) {
  const State c = NewCounter();
  State delta;
  ASSERT_TRUE(Add(c.get(), 7, 0, &delta).ok());
  EXPECT_EQ(c->Encode(), NewCounter()->Encode());
  EXPECT_EQ(delta->Encode(), NewCounter()->Encode());
}

TEST(Counter, MergeTakesTheMaximumOfEachActorsTotals) {
  const State a = NewCounter();
  const State b = NewCounter();
  ASSERT_TRUE(Add(a.get(), 1, 5).ok());
  ASSERT_TRUE(Add(a.get(), 2, -1).ok());
  ASSERT_TRUE(Add(b.get(), 1, 3).ok());
  ASSERT_TRUE(Add(b.get(), 2, -4).ok());
  ASSERT_TRUE(Add(b.get(), 3, 1).ok());
  a->Merge(*b);
  EXPECT_EQ(a->Encode(), Encoded({{1, 5, 0}, {2, 0, 4}, {3, 1, 0}}));
  EXPECT_EQ(ValueOf(*a), 2);
}

TEST(Counter, RefusesMinInt64AndOtherTypesOps) {
  const State c = NewCounter();
  ASSERT_TRUE(Add(c.get(), 1, 2).ok());
  const std::string before = c->Encode();
  EXPECT_EQ(Add(c.get(), 1, kMin).code(), Status::Code::kInvalidArgument);
  State delta;
  UpdateArgs args;
  args.actor = 1;
  for (const Operation& op : {Operation(GSetOp{{"x"}}), Operation(SetOp{}),
                              Operation(MapOp{}), Operation(HllOp{})}) {
    EXPECT_EQ(c->Update(op, args, &delta).code(),
              Status::Code::kInvalidArgument);
  }
  EXPECT_EQ(c->Encode(), before);
}

TEST(Counter, ExtremeIncrementsAreExact) {
  const State c = NewCounter();
  ASSERT_TRUE(Add(c.get(), 1, kMax).ok());
  ASSERT_TRUE(Add(c.get(), 2, -kMax).ok());
  EXPECT_EQ(ValueOf(*c), 0);
  ASSERT_TRUE(Add(c.get(), 3, 1).ok());
  EXPECT_EQ(ValueOf(*c), 1);
}

TEST(Counter, ValueWrapsBeyondInt64) {
  const State c = NewCounter();
  ASSERT_TRUE(Add(c.get(), 1, kMax).ok());
  ASSERT_TRUE(Add(c.get(), 2, 1).ok());
  EXPECT_EQ(ValueOf(*c), kMin);
}

TEST(Counter, RefusesAnIncrementThatWouldWrapTheActorsTotal) {
  const State c = NewCounter();
  ASSERT_TRUE(Add(c.get(), 1, kMax).ok());
  ASSERT_TRUE(Add(c.get(), 1, kMax).ok());
  ASSERT_TRUE(Add(c.get(), 1, 1).ok());  // P = 2^64 - 1
  const std::string before = c->Encode();
  EXPECT_EQ(Add(c.get(), 1, 1).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(c->Encode(), before);
  // Decrements are a separate total; another actor's are its own.
  EXPECT_TRUE(Add(c.get(), 1, -1).ok());
  EXPECT_TRUE(Add(c.get(), 2, 1).ok());
}

TEST(Counter, EqualComparesStates) {
  const State a = NewCounter();
  const State b = NewCounter();
  EXPECT_TRUE(a->Equal(*b));
  ASSERT_TRUE(Add(a.get(), 1, 1).ok());
  EXPECT_FALSE(a->Equal(*b));
  ASSERT_TRUE(Add(b.get(), 2, 1).ok());
  EXPECT_FALSE(a->Equal(*b));  // same value, different state
  EXPECT_FALSE(NewCounter()->Equal(*NewGSet()));
}

TEST(Counter, DecodesWhatItEncodes) {
  const State c = NewCounter();
  ASSERT_TRUE(Add(c.get(), 0xfedcba9876543210u, 300).ok());
  ASSERT_TRUE(Add(c.get(), 5, -kMax).ok());
  State decoded;
  ASSERT_TRUE(DecodeCounter(c->Encode(), &decoded).ok());
  EXPECT_TRUE(decoded->Equal(*c));
  EXPECT_EQ(decoded->Encode(), c->Encode());
}

TEST(Counter, DecodeRefusesMalformedStates) {
  const std::string bad[] = {
      "",
      std::string("\x02\x00", 2),                   // unknown version
      std::string("\x01", 1),                       // no count
      std::string("\x01\x80\x00", 3),               // padded count
      std::string("\x01\x00\x00", 3),               // trailing byte
      std::string("\x01\x01", 2),                   // count beyond input
      Encoded({{0, 1, 0}}),                         // zero actor
      Encoded({{1, 0, 0}}),                         // empty entry
      Encoded({{2, 1, 0}, {1, 1, 0}}),              // unsorted
      Encoded({{1, 1, 0}, {1, 2, 0}}),              // duplicate actor
      Encoded({{1, 1, 0}}) + std::string(1, '\0'),  // trailing byte
      std::string("\x01\x01") + coding::EncodeFixed64(1) +
          std::string("\x81\x00\x00", 3),                  // padded total
      std::string("\x01\x7f") + std::string(100, '\x01'),  // count too large
  };
  for (const std::string& bytes : bad) {
    State out = NewCounter();
    DataType* const before = out.get();
    EXPECT_EQ(DecodeCounter(bytes, &out).code(), Status::Code::kCorruption)
        << ::testing::PrintToString(bytes);
    EXPECT_EQ(out.get(), before) << "output changed on failure";
  }
}

TEST(Counter, DecodeRefusesEveryTruncation) {
  const std::string bytes = Encoded({{1, 5, 300}, {0xffffffffffffffffu, 1, 0}});
  State probe;
  ASSERT_TRUE(DecodeCounter(bytes, &probe).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    State out;
    EXPECT_FALSE(DecodeCounter(bytes.substr(0, n), &out).ok()) << n;
    EXPECT_EQ(out, nullptr);
  }
}

TEST(Counter, RandomBytesDecodeOnlyToCanonicalStates) {
  std::mt19937_64 rng(7);
  const std::string valid = Encoded({{1, 5, 300}, {2, 1, 0}});
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % 40);
      for (char& b : bytes) b = static_cast<char>(rng());
      if (!bytes.empty() && rng() % 2) bytes[0] = '\x01';
    } else {
      bytes = valid;
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    State out;
    if (DecodeCounter(bytes, &out).ok()) {
      EXPECT_EQ(out->Encode(), bytes);
    }
  }
}

using testing::LawCase;

LawCase MakeCounterCase() {
  LawCase c;
  c.name = "counter";
  c.tag = TypeTag::kCounter;
  c.random_op = [](std::mt19937_64& rng, const DataType&) -> Operation {
    switch (rng() % 10) {
      case 0:
        return GSetOp{{"x"}};  // refused: another type's op
      case 1:
        return CounterOp{kMin};  // refused
      case 2:
        return CounterOp{static_cast<int64_t>(rng())};  // may hit overflow
      default:
        return CounterOp{static_cast<int64_t>(rng() % 7) - 3};
    }
  };
  c.small_universe = {CounterOp{1}, CounterOp{-1}, CounterOp{0},
                      CounterOp{kMax}};
  return c;
}

CAUSEWAY_LAW_CASE(MakeCounterCase());

}  // namespace
}  // namespace causeway::replication::crdt
