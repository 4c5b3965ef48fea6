// Object's data-type rules (datatype.cc): updates that return deltas, deltas
// applied in each origin's order, tombstones against states, the record.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "proto/records.pb.h"
#include "replication/object/object.h"
#include "tests/unit/replication/object/world.h"

namespace causeway::replication::object {
namespace {

using crdt::CounterOp;
using crdt::SetOp;
using crdt::TypeTag;

constexpr ActorId kA = 0xA;
constexpr ActorId kB = 0xB;

Status Incr(Object* o, ActorId actor, int64_t n, Delta* delta = nullptr) {
  Delta ignored;
  return o->UpdateData(TypeTag::kCounter, {}, CounterOp{n}, actor,
                       HlcTimestamp{1000, 0}, nullptr,
                       delta != nullptr ? delta : &ignored);
}

int64_t CounterOf(const Object& o) {
  EXPECT_NE(o.data(), nullptr);
  return o.data() == nullptr ? 0 : o.data()->Read().counter;
}

Sibling Tombstone() {
  Sibling s;
  s.deleted = true;
  s.timestamp = HlcTimestamp{2000, 0};
  return s;
}

TEST(DataObjectTest, EachUpdateIsTheNextDotOfItsActor) {
  Object o;
  EXPECT_TRUE(o.empty());
  Delta d1, d2, d3;
  ASSERT_TRUE(Incr(&o, kA, 5, &d1).ok());
  ASSERT_TRUE(Incr(&o, kA, 2, &d2).ok());
  ASSERT_TRUE(Incr(&o, kB, -1, &d3).ok());
  EXPECT_EQ(d1.dot, (Dot{kA, 1}));
  EXPECT_EQ(d2.dot, (Dot{kA, 2}));
  EXPECT_EQ(d3.dot, (Dot{kB, 1}));
  EXPECT_FALSE(o.empty());
  EXPECT_FALSE(o.IsTombstone());
  EXPECT_TRUE(o.siblings().empty());
  EXPECT_EQ(CounterOf(o), 6);
  EXPECT_EQ(o.clock().Get(kA), 2u);
  EXPECT_EQ(o.clock().Get(kB), 1u);
}

TEST(DataObjectTest, DeltasApplyOnlyInTheirOriginsOrder) {
  Object origin;
  Delta d1, d2, d3;
  ASSERT_TRUE(Incr(&origin, kA, 1, &d1).ok());
  ASSERT_TRUE(Incr(&origin, kA, 10, &d2).ok());
  ASSERT_TRUE(Incr(&origin, kA, 100, &d3).ok());

  Object replica;
  DeltaOrder order;
  ASSERT_TRUE(replica.ApplyDelta(d2, &order).ok());
  EXPECT_EQ(order, DeltaOrder::kEarly);
  EXPECT_TRUE(replica.empty());  // nothing of the early delta shows
  ASSERT_TRUE(replica.ApplyDelta(d1, &order).ok());
  EXPECT_EQ(order, DeltaOrder::kApplied);
  EXPECT_EQ(CounterOf(replica), 1);
  ASSERT_TRUE(replica.ApplyDelta(d3, &order).ok());
  EXPECT_EQ(order, DeltaOrder::kEarly);
  EXPECT_EQ(CounterOf(replica), 1);
  ASSERT_TRUE(replica.ApplyDelta(d2, &order).ok());
  EXPECT_EQ(order, DeltaOrder::kApplied);
  ASSERT_TRUE(replica.ApplyDelta(d3, &order).ok());
  EXPECT_EQ(order, DeltaOrder::kApplied);
  EXPECT_EQ(replica, origin);
  ASSERT_TRUE(replica.ApplyDelta(d1, &order).ok());
  EXPECT_EQ(order, DeltaOrder::kDuplicate);
  EXPECT_EQ(replica, origin);
}

TEST(DataObjectTest, ADeltaOfAnotherTypeChangesNothing) {
  Object counter;
  ASSERT_TRUE(Incr(&counter, kA, 1).ok());
  Object set;
  Delta d;
  ASSERT_TRUE(set.UpdateData(TypeTag::kSet, {}, SetOp{{"x"}, {}}, kB,
                             HlcTimestamp{1, 0}, nullptr, &d)
                  .ok());
  const Object before = counter;
  DeltaOrder order;
  EXPECT_EQ(counter.ApplyDelta(d, &order).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(counter, before);
  // An operation for another type than the key holds is refused too.
  EXPECT_EQ(counter
                .UpdateData(TypeTag::kSet, {}, SetOp{{"x"}, {}}, kA,
                            HlcTimestamp{1, 0}, nullptr, &d)
                .code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(counter, before);
}

TEST(DataObjectTest, FullStatesMergeAsJoinsInAnyOrder) {
  Object a, b;
  ASSERT_TRUE(Incr(&a, kA, 3).ok());
  ASSERT_TRUE(Incr(&b, kB, 4).ok());
  Object ab = a, ba = b;
  ab.Merge(b, Resolution::kDataType);
  ba.Merge(a, Resolution::kDataType);
  EXPECT_EQ(ab, ba);
  EXPECT_EQ(CounterOf(ab), 7);
  Object again = ab;
  again.Merge(a, Resolution::kDataType);
  EXPECT_EQ(again, ab);
  EXPECT_TRUE(ab.Descends(a));
  EXPECT_TRUE(ab.Descends(b));
  EXPECT_FALSE(a.Descends(ab));
}

TEST(DataObjectTest, ADeleteThatSawEverythingWinsAndOneThatDidNotLoses) {
  Object state;
  ASSERT_TRUE(Incr(&state, kA, 3).ok());

  // The delete saw the state's whole clock: the tombstone replaces it.
  Object deleted = state;
  deleted.Update(state.clock(), Tombstone(), kB, Resolution::kDataType);
  EXPECT_TRUE(deleted.IsTombstone());
  EXPECT_EQ(deleted.data(), nullptr);

  // A replica that got one more update the delete did not see keeps its
  // state, whichever way round the two meet.
  Object later = state;
  ASSERT_TRUE(Incr(&later, kA, 1).ok());
  Object x = later, y = deleted;
  x.Merge(deleted, Resolution::kDataType);
  y.Merge(later, Resolution::kDataType);
  EXPECT_EQ(x, y);
  EXPECT_FALSE(x.IsTombstone());
  EXPECT_EQ(CounterOf(x), 4);

  // A replica still at the deleted state takes the tombstone.
  Object z = state;
  z.Merge(deleted, Resolution::kDataType);
  EXPECT_TRUE(z.IsTombstone());
  EXPECT_TRUE(z.Descends(state));

  // An update on a tombstone starts from an empty state, above the
  // tombstone's clock.
  Delta d;
  ASSERT_TRUE(Incr(&z, kA, 7, &d).ok());
  EXPECT_EQ(CounterOf(z), 7);
  EXPECT_GT(d.dot.counter, state.clock().Get(kA));
  EXPECT_TRUE(z.clock().Descends(deleted.clock()));
}

TEST(DataObjectTest, RecordsRoundTripAndRefuseStateWithSiblings) {
  Object o;
  ASSERT_TRUE(Incr(&o, kA, 42).ok());
  Object back;
  ActorId actor = 0;
  ASSERT_TRUE(Object::Decode(o.Encode(99), &back, &actor).ok());
  EXPECT_EQ(back, o);
  EXPECT_EQ(actor, 99u);
  EXPECT_EQ(back.data()->tag(), TypeTag::kCounter);
  EXPECT_EQ(CounterOf(back), 42);

  // A key/value record is untouched by the new field.
  Object kv;
  Sibling s;
  s.value = "v";
  kv.Update({}, s, kA, Resolution::kKeepSiblings);
  ASSERT_TRUE(Object::Decode(kv.Encode(), &back).ok());
  EXPECT_EQ(back, kv);
  EXPECT_EQ(back.data(), nullptr);

  // A delete's tombstone replaces the state in the record.
  Object tomb = o;
  tomb.Update(o.clock(), Tombstone(), kB, Resolution::kDataType);
  ASSERT_TRUE(Object::Decode(tomb.Encode(), &back).ok());
  EXPECT_TRUE(back.IsTombstone());
  EXPECT_EQ(back.data(), nullptr);
}

// Well-sealed records that break the data-type rules of the format.
TEST(DataObjectTest, InvalidDataRecordsAreCorruption) {
  Object counter;
  ASSERT_TRUE(Incr(&counter, kA, 1).ok());
  records::ObjectRecord valid;
  ASSERT_TRUE(valid.ParseFromString(counter.Encode()));
  valid.clear_checksum();  // Seal appends its own
  {
    Object out;
    Status s = Object::Decode(testing::Seal(valid), &out);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(out, counter);
  }
  struct Case {
    const char* name;
    void (*mutate)(records::ObjectRecord*);
  };
  const Case cases[] = {
      {"a state and a sibling",
       [](records::ObjectRecord* r) {
         auto* s = r->add_siblings();
         s->set_actor(kA);
         s->set_counter(1);
         s->set_hlc(1);
       }},
      {"no type",
       [](records::ObjectRecord* r) { r->mutable_data()->clear_type(); }},
      {"unknown type",
       [](records::ObjectRecord* r) { r->mutable_data()->set_type(77); }},
      {"another type's state",
       [](records::ObjectRecord* r) {
         r->mutable_data()->set_type(static_cast<uint32_t>(TypeTag::kMap));
       }},
      {"garbage state",
       [](records::ObjectRecord* r) {
         r->mutable_data()->set_state(std::string("\xff\xff\xff", 3));
       }},
  };
  for (const Case& c : cases) {
    records::ObjectRecord rec = valid;
    c.mutate(&rec);
    Object out;
    EXPECT_EQ(Object::Decode(testing::Seal(rec), &out).code(),
              Status::Code::kCorruption)
        << c.name;
    EXPECT_TRUE(out.empty()) << c.name;
  }
}

TEST(DataObjectTest, CorruptStatesAreCorruption) {
  Object o;
  ASSERT_TRUE(Incr(&o, kA, 42).ok());
  std::string bytes = o.Encode();
  // Flip a bit in the middle: the checksum catches it.
  bytes[bytes.size() / 2] ^= 0x10;
  Object back;
  EXPECT_EQ(Object::Decode(bytes, &back).code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace causeway::replication::object
