// The grow-only set: adds, deltas, limits and its codec (including hostile
// bytes), and its law case.
#include <gtest/gtest.h>

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

Status Add(DataType* gset, Strings adds, State* delta = nullptr) {
  State unused;
  UpdateArgs args;
  args.actor = 1;
  return gset->Update(GSetOp{std::move(adds)}, args, delta ? delta : &unused);
}

std::string Encoded(const Strings& elements) {
  std::string out(1, '\x01');
  coding::PutVarint64(&out, elements.size());
  for (const std::string& e : elements)
    coding::PutLengthPrefixedVarint(&out, e);
  return out;
}

// `n` distinct elements, in order: the big-endian numbers 0..n-1.
Strings Numbered(size_t n, uint64_t first = 0) {
  Strings out;
  out.reserve(n);
  for (uint64_t i = first; i < first + n; ++i) {
    out.push_back(coding::EncodeFixed64(i));
  }
  return out;
}

TEST(GSet, StartsEmpty) {
  const State s = NewGSet();
  EXPECT_EQ(s->tag(), TypeTag::kGSet);
  EXPECT_EQ(s->Read().type, TypeTag::kGSet);
  EXPECT_TRUE(s->Read().elements.empty());
  EXPECT_EQ(s->Context(), "");
  EXPECT_EQ(s->Encode(), std::string("\x01\x00", 2));
}

TEST(GSet, ReadsItsElementsSorted) {
  const State s = NewGSet();
  ASSERT_TRUE(Add(s.get(), {"pear", "apple", "", "pear"}).ok());
  ASSERT_TRUE(Add(s.get(), {std::string("\0x", 2), "fig"}).ok());
  EXPECT_EQ(s->Read().elements,
            (Strings{"", std::string("\0x", 2), "apple", "fig", "pear"}));
}

TEST(GSet, DeltaHoldsOnlyTheNewElements) {
  const State s = NewGSet();
  ASSERT_TRUE(Add(s.get(), {"a", "b"}).ok());
  State delta;
  ASSERT_TRUE(Add(s.get(), {"c", "b", "c", "a", "d"}, &delta).ok());
  EXPECT_EQ(delta->Read().elements, (Strings{"c", "d"}));
  ASSERT_TRUE(Add(s.get(), {"a"}, &delta).ok());
  EXPECT_TRUE(delta->Read().elements.empty());
}

TEST(GSet, MergeIsUnion) {
  const State a = NewGSet();
  const State b = NewGSet();
  ASSERT_TRUE(Add(a.get(), {"a", "c"}).ok());
  ASSERT_TRUE(Add(b.get(), {"b", "c", "d"}).ok());
  a->Merge(*b);
  EXPECT_EQ(a->Read().elements, (Strings{"a", "b", "c", "d"}));
  EXPECT_FALSE(a->Equal(*b));
  b->Merge(*a);
  EXPECT_TRUE(a->Equal(*b));
  EXPECT_FALSE(a->Equal(*NewCounter()));
}

TEST(GSet, RefusesOtherTypesOps) {
  const State s = NewGSet();
  State delta;
  UpdateArgs args;
  args.actor = 1;
  for (const Operation& op :
       {Operation(CounterOp{1}), Operation(SetOp{{"a"}, {}}),
        Operation(MapOp{}), Operation(HllOp{{"a"}})}) {
    EXPECT_EQ(s->Update(op, args, &delta).code(),
              Status::Code::kInvalidArgument);
  }
  EXPECT_TRUE(s->Read().elements.empty());
}

TEST(GSet, EnforcesTheElementSizeLimit) {
  const State s = NewGSet();
  ASSERT_TRUE(Add(s.get(), {std::string(kMaxElementBytes, 'x')}).ok());
  EXPECT_EQ(Add(s.get(), {"a", std::string(kMaxElementBytes + 1, 'y')}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(s->Read().elements.size(), 1u);  // "a" was not added either
}

TEST(GSet, EnforcesTheElementsPerOpLimit) {
  const State s = NewGSet();
  EXPECT_EQ(Add(s.get(), Numbered(kMaxElementsPerOp + 1)).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(s->Read().elements.empty());
  ASSERT_TRUE(Add(s.get(), Numbered(kMaxElementsPerOp)).ok());
  EXPECT_EQ(s->Read().elements.size(), kMaxElementsPerOp);
}

TEST(GSet, EnforcesTheSetSizeLimitButDecodesLargerMergedSets) {
  State s;
  ASSERT_TRUE(DecodeGSet(Encoded(Numbered(kMaxSetElements - 1)), &s).ok());
  const std::string before = s->Encode();
  // Two new elements would pass the limit; neither is added.
  EXPECT_EQ(Add(s.get(), Numbered(2, kMaxSetElements)).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(s->Encode(), before);
  ASSERT_TRUE(Add(s.get(), Numbered(2, 0)).ok());  // present already
  ASSERT_TRUE(Add(s.get(), Numbered(1, kMaxSetElements)).ok());
  EXPECT_EQ(Add(s.get(), Numbered(1, kMaxSetElements + 1)).code(),
            Status::Code::kInvalidArgument);
  // A merge of concurrent adds may pass the limit; the result still
  // decodes.
  const State other = NewGSet();
  ASSERT_TRUE(Add(other.get(), {"more"}).ok());
  s->Merge(*other);
  EXPECT_EQ(s->Read().elements.size(), kMaxSetElements + 1);
  State decoded;
  ASSERT_TRUE(DecodeGSet(s->Encode(), &decoded).ok());
  EXPECT_TRUE(decoded->Equal(*s));
}

TEST(GSet, DecodesWhatItEncodes) {
  const State s = NewGSet();
  ASSERT_TRUE(Add(s.get(), {"", "a", std::string(300, 'z')}).ok());
  State decoded;
  ASSERT_TRUE(DecodeGSet(s->Encode(), &decoded).ok());
  EXPECT_TRUE(decoded->Equal(*s));
  EXPECT_EQ(s->Encode(), Encoded({"", "a", std::string(300, 'z')}));
}

TEST(GSet, DecodeRefusesMalformedStates) {
  const std::string bad[] = {
      "",
      std::string("\x02\x00", 2),                         // unknown version
      std::string("\x01", 1),                             // no count
      std::string("\x01\x80\x00", 3),                     // padded count
      std::string("\x01\x00\x00", 3),                     // trailing byte
      std::string("\x01\x02\x00", 3),                     // count beyond input
      Encoded({"b", "a"}),                                // unsorted
      Encoded({"a", "a"}),                                // duplicate
      Encoded({"a"}) + "x",                               // trailing byte
      std::string("\x01\x01\x81\x00x", 5),                // padded length
      std::string("\x01\x01\x05xy", 5),                   // length beyond input
      Encoded({std::string(kMaxElementBytes + 1, 'x')}),  // too large
  };
  for (const std::string& bytes : bad) {
    State out;
    EXPECT_EQ(DecodeGSet(bytes, &out).code(), Status::Code::kCorruption)
        << ::testing::PrintToString(bytes.substr(0, 20));
    EXPECT_EQ(out, nullptr);
  }
}

TEST(GSet, DecodeRefusesEveryTruncation) {
  const std::string bytes = Encoded({"", "ab", std::string(200, 'c')});
  for (size_t n = 0; n < bytes.size(); ++n) {
    State out;
    EXPECT_FALSE(DecodeGSet(bytes.substr(0, n), &out).ok()) << n;
  }
}

TEST(GSet, RandomBytesDecodeOnlyToCanonicalStates) {
  std::mt19937_64 rng(11);
  const std::string valid = Encoded({"", "ab", "b", "bcd"});
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % 24);
      for (char& b : bytes) b = static_cast<char>(rng() % 8);
      if (!bytes.empty()) bytes[0] = '\x01';
    } else {
      bytes = valid;
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    State out;
    if (DecodeGSet(bytes, &out).ok()) {
      EXPECT_EQ(out->Encode(), bytes);
    }
  }
}

using testing::LawCase;

LawCase MakeGSetCase() {
  LawCase c;
  c.name = "gset";
  c.tag = TypeTag::kGSet;
  c.random_op = [](std::mt19937_64& rng, const DataType&) -> Operation {
    static const char* const kElements[] = {"", "a", "b", "c", "d", "e"};
    if (rng() % 12 == 0) return CounterOp{1};  // refused: another type's op
    GSetOp op;
    for (uint64_t n = rng() % 4; n > 0; --n) {
      op.adds.push_back(kElements[rng() % std::size(kElements)]);
    }
    return op;
  };
  c.small_universe = {GSetOp{{"a"}}, GSetOp{{"b"}}, GSetOp{{"a", "b"}},
                      GSetOp{}, GSetOp{{""}}};
  return c;
}

CAUSEWAY_LAW_CASE(MakeGSetCase());

}  // namespace
}  // namespace causeway::replication::crdt
