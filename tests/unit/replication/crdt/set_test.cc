// The observed-remove set: add-wins, removes of what was observed, client
// contexts, limits, the codec on hostile bytes, and its law case.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "replication/crdt/causal_context.h"
#include "replication/crdt/types.h"
#include "tests/unit/replication/crdt/law_cases.h"

namespace causeway::replication::crdt {
namespace {

using State = std::unique_ptr<DataType>;
using Strings = std::vector<std::string>;

Status Apply(DataType* set, causal::ActorId actor, Operation op,
             State* delta = nullptr, const std::string* context = nullptr) {
  State unused;
  UpdateArgs args;
  args.actor = actor;
  args.context = context;
  return set->Update(op, args, delta ? delta : &unused);
}

TEST(Set, AddsAndRemoves) {
  State s = NewSet();
  ASSERT_TRUE(Apply(s.get(), 1, SetOp{{"b", "a", "b"}, {}}).ok());
  EXPECT_EQ(s->Read().elements, (Strings{"a", "b"}));
  ASSERT_TRUE(Apply(s.get(), 1, SetOp{{}, {"a"}}).ok());
  EXPECT_EQ(s->Read().elements, (Strings{"b"}));
  Status st = Apply(s.get(), 1, SetOp{{}, {"a"}});
  EXPECT_TRUE(st.code() == Status::Code::kPreconditionFailed) << st.ToString();
  EXPECT_NE(st.message().find("not_present"), std::string::npos);
  // A refused operation changes nothing, its adds included.
  EXPECT_FALSE(Apply(s.get(), 1, SetOp{{"c"}, {"zz"}}).ok());
  EXPECT_EQ(s->Read().elements, (Strings{"b"}));
  EXPECT_EQ(Apply(s.get(), 1, SetOp{{"c"}, {"c"}}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Apply(s.get(), 1, CounterOp{1}).code(),
            Status::Code::kInvalidArgument);
}

TEST(Set, AConcurrentAddSurvivesARemove) {
  State a = NewSet();
  ASSERT_TRUE(Apply(a.get(), 1, SetOp{{"x"}, {}}).ok());
  State b = a->Clone();
  State remove, add;
  ASSERT_TRUE(Apply(a.get(), 1, SetOp{{}, {"x"}}, &remove).ok());
  ASSERT_TRUE(Apply(b.get(), 2, SetOp{{"x"}, {}}, &add).ok());
  a->Merge(*add);
  b->Merge(*remove);
  EXPECT_EQ(a->Read().elements, Strings{"x"});
  EXPECT_TRUE(a->Equal(*b));
  EXPECT_EQ(a->Encode(), b->Encode());
}

TEST(Set, ARemoveWithAContextTakesOnlyWhatTheClientSaw) {
  State s = NewSet();
  ASSERT_TRUE(Apply(s.get(), 1, SetOp{{"x"}, {}}).ok());
  const std::string seen = s->Context();
  ASSERT_TRUE(Apply(s.get(), 2, SetOp{{"x"}, {}}).ok());  // unseen re-add
  // The client's context has seen none of x's adds now: refused, as Riak
  // refuses a remove without a context that has seen the element.
  EXPECT_EQ(Apply(s.get(), 1, SetOp{{}, {"x"}}, nullptr, &seen).code(),
            Status::Code::kPreconditionFailed);
  EXPECT_EQ(s->Read().elements, Strings{"x"});
  // Concurrent adds: the remove takes the one the client saw, the other
  // stays.
  State other = NewSet();
  ASSERT_TRUE(Apply(other.get(), 3, SetOp{{"y"}, {}}).ok());
  const std::string saw_one = other->Context();
  State concurrent = NewSet();
  ASSERT_TRUE(Apply(concurrent.get(), 4, SetOp{{"y"}, {}}).ok());
  other->Merge(*concurrent);
  ASSERT_TRUE(Apply(other.get(), 3, SetOp{{}, {"y"}}, nullptr, &saw_one).ok());
  EXPECT_EQ(other->Read().elements, Strings{"y"});
  const std::string all = s->Context();
  ASSERT_TRUE(Apply(s.get(), 1, SetOp{{}, {"x"}}, nullptr, &all).ok());
  EXPECT_TRUE(s->Read().elements.empty());
}

TEST(Set, AContextThisReplicaHasNotSeenIsRetriedNotGuessed) {
  State ahead = NewSet();
  ASSERT_TRUE(Apply(ahead.get(), 1, SetOp{{"x"}, {}}).ok());
  State behind = NewSet();
  ASSERT_TRUE(Apply(behind.get(), 2, SetOp{{"y"}, {}}).ok());
  const std::string context = ahead->Context();
  EXPECT_TRUE(
      Apply(behind.get(), 2, SetOp{{}, {"y"}}, nullptr, &context).code() ==
      Status::Code::kUnavailable);
  const std::string garbage = "\x07junk";
  EXPECT_EQ(Apply(behind.get(), 2, SetOp{{}, {"y"}}, nullptr, &garbage).code(),
            Status::Code::kInvalidArgument);
  // Adds need no context.
  EXPECT_TRUE(Apply(behind.get(), 2, SetOp{{"z"}, {}}, nullptr, &context).ok());
}

TEST(Set, LimitsAreCheckedFirst) {
  State s = NewSet();
  EXPECT_EQ(
      Apply(s.get(), 1, SetOp{{std::string(kMaxElementBytes + 1, 'a')}, {}})
          .code(),
      Status::Code::kInvalidArgument);
  SetOp many;
  many.adds.assign(kMaxElementsPerOp + 1, "e");
  EXPECT_EQ(Apply(s.get(), 1, many).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(s->Read().elements.empty());
}

TEST(Set, DecodeRefusesEveryTruncationAndRandomBytes) {
  State s = NewSet();
  ASSERT_TRUE(Apply(s.get(), 1, SetOp{{"a", "b"}, {}}).ok());
  ASSERT_TRUE(Apply(s.get(), 2, SetOp{{"c"}, {"a"}}).ok());
  const std::string bytes = s->Encode();
  State back;
  ASSERT_TRUE(DecodeSet(bytes, &back).ok());
  EXPECT_TRUE(back->Equal(*s));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(DecodeSet(bytes.substr(0, n), &back).code() ==
                Status::Code::kCorruption)
        << n;
  }
  EXPECT_TRUE(DecodeSet(bytes + "x", &back).code() ==
              Status::Code::kCorruption);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string junk = bytes;
    junk[rng() % junk.size()] ^= static_cast<char>(1 + rng() % 255);
    if (DecodeSet(junk, &back).ok()) EXPECT_EQ(back->Encode(), junk);
  }
}

TEST(CausalContextTest, CompactsAndEncodesCanonically) {
  CausalContext a, b;
  a.Add({5, 2});
  a.Add({5, 1});
  b.Add({5, 1});
  b.Add({5, 2});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Encode(), b.Encode());
  a.Add({5, 4});
  EXPECT_TRUE(a.Contains({5, 4}));
  EXPECT_FALSE(a.Contains({5, 3}));
  EXPECT_EQ(a.Max(5), 4u);
  EXPECT_TRUE(a.Covers(b));
  EXPECT_FALSE(b.Covers(a));
  CausalContext back;
  ASSERT_TRUE(CausalContext::Decode(a.Encode(), &back));
  EXPECT_EQ(back, a);
}

testing::LawCase MakeSetCase() {
  testing::LawCase c;
  c.name = "set";
  c.tag = TypeTag::kSet;
  c.random_op = [](std::mt19937_64& rng, const DataType& state) -> Operation {
    static const char* const kElements[] = {"a", "b", "c", "d"};
    if (rng() % 15 == 0) return GSetOp{{"a"}};  // refused: another type's
    SetOp op;
    const Strings present = state.Read().elements;
    if (!present.empty() && rng() % 3 == 0) {
      op.removes.push_back(present[rng() % present.size()]);
    } else {
      for (uint64_t n = 1 + rng() % 2; n > 0; --n) {
        op.adds.push_back(kElements[rng() % std::size(kElements)]);
      }
    }
    return op;
  };
  c.small_universe = {SetOp{{"a"}, {}}, SetOp{{"b"}, {}}, SetOp{{}, {"a"}},
                      SetOp{{"a", "b"}, {}}, SetOp{{"b"}, {"a"}}};
  return c;
}

CAUSEWAY_LAW_CASE(MakeSetCase());

}  // namespace
}  // namespace causeway::replication::crdt
