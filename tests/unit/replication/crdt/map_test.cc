// The map: every field kind, removes against concurrent updates, nesting,
// limits, the codec on hostile bytes, and its law case.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "replication/crdt/types.h"
#include "tests/unit/replication/crdt/law_cases.h"

namespace causeway::replication::crdt {
namespace {

using State = std::unique_ptr<DataType>;

MapUpdate Counter(std::string name, int64_t by) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kCounter};
  u.counter_op = CounterOp{by};
  return u;
}
MapUpdate Register(std::string name, std::string value) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kRegister};
  u.register_op = std::move(value);
  return u;
}
MapUpdate Flag(std::string name, bool on) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kFlag};
  u.flag_op = on;
  return u;
}
MapUpdate SetField(std::string name, SetOp op) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kSet};
  u.set_op = std::move(op);
  return u;
}
MapUpdate Nested(std::string name, MapOp op) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kMap};
  u.map_op = std::make_shared<MapOp>(std::move(op));
  return u;
}

Status Apply(DataType* map, causal::ActorId actor, MapOp op,
             State* delta = nullptr, uint64_t ms = 1,
             const std::string* context = nullptr) {
  State unused;
  UpdateArgs args;
  args.actor = actor;
  args.timestamp = causal::HlcTimestamp{ms, 0};
  args.context = context;
  return map->Update(op, args, delta ? delta : &unused);
}

const MapEntry* Find(const std::vector<MapEntry>& entries,
                     const std::string& name, FieldType type) {
  for (const MapEntry& e : entries) {
    if (e.field == FieldKey{name, type}) return &e;
  }
  return nullptr;
}

TEST(Map, EveryFieldKindReadsBack) {
  State m = NewMap();
  MapOp inner{{}, {Counter("c", 50)}};
  ASSERT_TRUE(Apply(m.get(), 1,
                    MapOp{{},
                          {Counter("c", 50), SetField("s", SetOp{{"v"}, {}}),
                           Register("r", "val"), Flag("f", true),
                           Nested("m", inner), Nested("empty", MapOp{})}})
                  .ok());
  ASSERT_TRUE(Apply(m.get(), 2, MapOp{{}, {Counter("c", -8)}}).ok());
  const Value v = m->Read();
  ASSERT_EQ(v.map.size(), 5u);  // an empty nested update makes no field
  EXPECT_EQ(Find(v.map, "c", FieldType::kCounter)->counter, 42);
  EXPECT_EQ(Find(v.map, "s", FieldType::kSet)->set,
            std::vector<std::string>{"v"});
  EXPECT_EQ(Find(v.map, "r", FieldType::kRegister)->register_value, "val");
  EXPECT_TRUE(Find(v.map, "f", FieldType::kFlag)->flag);
  EXPECT_EQ(Find(v.map, "m", FieldType::kMap)->map.at(0).counter, 50);
}

TEST(Map, ARemoveTakesWhatItSawAndAConcurrentUpdateSurvives) {
  State a = NewMap();
  ASSERT_TRUE(Apply(a.get(), 1, MapOp{{}, {SetField("s", {{"x"}, {}})}}).ok());
  State b = a->Clone();
  State remove, update;
  ASSERT_TRUE(
      Apply(a.get(), 1, MapOp{{FieldKey{"s", FieldType::kSet}}, {}}, &remove)
          .ok());
  EXPECT_TRUE(a->Read().map.empty());
  ASSERT_TRUE(
      Apply(b.get(), 2, MapOp{{}, {SetField("s", {{"y"}, {}})}}, &update).ok());
  a->Merge(*update);
  b->Merge(*remove);
  EXPECT_TRUE(a->Equal(*b));
  // The remover saw x, not y: y stays.
  EXPECT_EQ(Find(a->Read().map, "s", FieldType::kSet)->set,
            std::vector<std::string>{"y"});
  EXPECT_TRUE(Apply(a.get(), 1, MapOp{{FieldKey{"gone", FieldType::kFlag}}, {}})
                  .code() == Status::Code::kPreconditionFailed);
}

TEST(Map, ARemoveWhoseContextSawNothingOfTheFieldIsRefused) {
  State m = NewMap();
  const std::string before = m->Context();
  ASSERT_TRUE(Apply(m.get(), 1, MapOp{{}, {Flag("f", true)}}).ok());
  const std::string seen = m->Context();
  EXPECT_EQ(Apply(m.get(), 1, MapOp{{FieldKey{"f", FieldType::kFlag}}, {}},
                  nullptr, 2, &before)
                .code(),
            Status::Code::kPreconditionFailed);
  EXPECT_EQ(m->Read().map.size(), 1u);
  ASSERT_TRUE(Apply(m.get(), 1, MapOp{{FieldKey{"f", FieldType::kFlag}}, {}},
                    nullptr, 3, &seen)
                  .ok());
  EXPECT_TRUE(m->Read().map.empty());
}

TEST(Map, RegistersTakeTheLaterWriteAndFlagsEnableWins) {
  State a = NewMap();
  ASSERT_TRUE(Apply(a.get(), 1, MapOp{{}, {Flag("f", true)}}).ok());
  State b = a->Clone();
  State d1, d2, d3, d4;
  ASSERT_TRUE(
      Apply(a.get(), 1, MapOp{{}, {Register("r", "late")}}, &d1, 9).ok());
  ASSERT_TRUE(
      Apply(b.get(), 2, MapOp{{}, {Register("r", "early")}}, &d2, 3).ok());
  ASSERT_TRUE(Apply(a.get(), 1, MapOp{{}, {Flag("f", false)}}, &d3).ok());
  ASSERT_TRUE(Apply(b.get(), 2, MapOp{{}, {Flag("f", true)}}, &d4).ok());
  a->Merge(*d2);
  a->Merge(*d4);
  b->Merge(*d1);
  b->Merge(*d3);
  EXPECT_TRUE(a->Equal(*b));
  EXPECT_EQ(Find(a->Read().map, "r", FieldType::kRegister)->register_value,
            "late");
  EXPECT_TRUE(Find(a->Read().map, "f", FieldType::kFlag)->flag);
}

TEST(Map, FieldsOfOneNameAndTwoTypesAreApart) {
  State m = NewMap();
  ASSERT_TRUE(
      Apply(m.get(), 1, MapOp{{}, {Counter("x", 1), Register("x", "v")}}).ok());
  EXPECT_EQ(m->Read().map.size(), 2u);
  EXPECT_EQ(
      Apply(m.get(), 1, MapOp{{}, {Counter("x", 1), Counter("x", 2)}}).code(),
      Status::Code::kInvalidArgument);
}

TEST(Map, BadOperationsChangeNothing) {
  State m = NewMap();
  ASSERT_TRUE(Apply(m.get(), 1, MapOp{{}, {Counter("c", 1)}}).ok());
  const std::string before = m->Encode();
  MapUpdate mismatched = Counter("c", 1);
  mismatched.field.type = FieldType::kSet;
  EXPECT_EQ(Apply(m.get(), 1, MapOp{{}, {mismatched}}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(Apply(m.get(), 1,
                    MapOp{{}, {Counter("c", 5), SetField("s", {{}, {"no"}})}})
                  .code() == Status::Code::kPreconditionFailed);
  MapOp deep{{}, {Counter("c", 1)}};
  for (size_t i = 0; i < kMaxMapDepth; ++i)
    deep = MapOp{{}, {Nested("m", deep)}};
  EXPECT_EQ(Apply(m.get(), 1, deep).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(
      Apply(m.get(), 1,
            MapOp{{}, {Register("r", std::string(kMaxRegisterBytes + 1, 'x'))}})
          .code(),
      Status::Code::kInvalidArgument);
  EXPECT_EQ(m->Encode(), before);
}

TEST(Map, DecodeRefusesEveryTruncationAndRandomBytes) {
  State m = NewMap();
  ASSERT_TRUE(Apply(m.get(), 1,
                    MapOp{{},
                          {Counter("c", 3), SetField("s", {{"a", "b"}, {}}),
                           Register("r", "v"), Flag("f", true),
                           Nested("m", MapOp{{}, {Flag("g", true)}})}})
                  .ok());
  const std::string bytes = m->Encode();
  State back;
  ASSERT_TRUE(DecodeMap(bytes, &back).ok());
  EXPECT_TRUE(back->Equal(*m));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(DecodeMap(bytes.substr(0, n), &back).code() ==
                Status::Code::kCorruption)
        << n;
  }
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string junk = bytes;
    junk[rng() % junk.size()] ^= static_cast<char>(1 + rng() % 255);
    if (DecodeMap(junk, &back).ok()) EXPECT_EQ(back->Encode(), junk);
  }
}

testing::LawCase MakeMapCase() {
  testing::LawCase c;
  c.name = "map";
  c.tag = TypeTag::kMap;
  c.random_op = [](std::mt19937_64& rng, const DataType& state) -> Operation {
    if (rng() % 15 == 0) return SetOp{{"a"}, {}};  // refused: another type's
    const Value v = state.Read();
    MapOp op;
    if (!v.map.empty() && rng() % 4 == 0) {
      op.removes.push_back(v.map[rng() % v.map.size()].field);
      return op;
    }
    switch (rng() % 6) {
      case 0:
        op.updates.push_back(Counter("c", static_cast<int64_t>(rng() % 5) - 2));
        break;
      case 1:
        op.updates.push_back(SetField("s", {{rng() % 2 ? "x" : "y"}, {}}));
        break;
      case 2:
        op.updates.push_back(Register("r", rng() % 2 ? "p" : "q"));
        break;
      case 3:
        op.updates.push_back(Flag("f", rng() % 2 == 0));
        break;
      case 4:
        op.updates.push_back(
            Nested("m", MapOp{{}, {Counter("c", 1), Flag("f", true)}}));
        break;
      default:
        op.updates.push_back(Counter("c", 1));
        op.updates.push_back(Register("r", "z"));
    }
    return op;
  };
  c.small_universe = {
      MapOp{{}, {Counter("c", 1)}},
      MapOp{{}, {SetField("s", {{"x"}, {}})}},
      MapOp{{FieldKey{"c", FieldType::kCounter}}, {}},
      MapOp{{}, {Flag("f", true)}},
      MapOp{{}, {Flag("f", false)}},
      MapOp{{}, {Register("r", "v")}},
      MapOp{{}, {Nested("m", MapOp{{}, {Counter("c", 2)}})}},
  };
  return c;
}

CAUSEWAY_LAW_CASE(MakeMapCase());

}  // namespace
}  // namespace causeway::replication::crdt
