// The operation codec: round trips of every kind of operation, the byte
// layout, every refusal (limits, malformed input, sub-ops that do not match
// their field type), truncation at every byte, and hostile bytes.
#include "replication/crdt/operation.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "replication/crdt/data_type.h"

namespace causeway::replication::crdt {
namespace {

using Strings = std::vector<std::string>;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

MapUpdate CounterField(std::string name, int64_t increment) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kCounter};
  u.counter_op = CounterOp{increment};
  return u;
}

MapUpdate SetField(std::string name, Strings adds, Strings removes = {}) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kSet};
  u.set_op = SetOp{std::move(adds), std::move(removes)};
  return u;
}

MapUpdate RegisterField(std::string name, std::string value) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kRegister};
  u.register_op = std::move(value);
  return u;
}

MapUpdate FlagField(std::string name, bool enable) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kFlag};
  u.flag_op = enable;
  return u;
}

MapUpdate MapField(std::string name, MapOp op) {
  MapUpdate u;
  u.field = {std::move(name), FieldType::kMap};
  u.map_op = std::make_shared<const MapOp>(std::move(op));
  return u;
}

// A map operation nested `depth` maps deep (1: no inner map).
MapOp Nested(size_t depth) {
  MapOp op;
  op.updates.push_back(CounterField("c", 1));
  if (depth > 1) op.updates.push_back(MapField("m", Nested(depth - 1)));
  return op;
}

// `n` distinct strings.
Strings Numbered(size_t n) {
  Strings out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
  return out;
}

std::vector<Operation> ValidOps() {
  MapOp every_field;
  every_field.removes = {{"gone", FieldType::kSet}, {"", FieldType::kMap}};
  every_field.updates = {CounterField("n", -5),
                         SetField("s", {"a", ""}, {"b"}),
                         RegisterField("r", std::string("v\0w", 3)),
                         FlagField("on", true),
                         FlagField("off", false),
                         MapField("inner", Nested(2))};
  return {
      CounterOp{0},
      CounterOp{1},
      CounterOp{-1},
      CounterOp{kMax},
      CounterOp{kMin},
      SetOp{},
      SetOp{{"a", "", std::string("\xff\x00", 2)}, {"b"}},
      SetOp{{}, {"only removes"}},
      GSetOp{},
      GSetOp{{"x", "y", "x"}},
      HllOp{{"Jokes", "are", "better", "explained", "Jokes"}},
      MapOp{},
      every_field,
      Nested(kMaxMapDepth),
  };
}

::testing::AssertionResult RoundTrips(const Operation& op) {
  const std::string bytes = EncodeOperation(op);
  Operation decoded;
  const Status s = DecodeOperation(bytes, &decoded);
  if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
  if (!(decoded == op)) return ::testing::AssertionFailure() << "differs";
  if (EncodeOperation(decoded) != bytes) {
    return ::testing::AssertionFailure() << "re-encodes differently";
  }
  return ::testing::AssertionSuccess();
}

// Refused with InvalidArgument, leaving the output alone.
::testing::AssertionResult Refused(std::string_view bytes) {
  const Operation sentinel = GSetOp{{"sentinel"}};
  Operation out = sentinel;
  const Status s = DecodeOperation(bytes, &out);
  if (s.code() != Status::Code::kInvalidArgument) {
    return ::testing::AssertionFailure() << "decoded with " << s.ToString();
  }
  if (!(out == sentinel)) {
    return ::testing::AssertionFailure() << "output changed on failure";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Refused(const Operation& op) {
  return Refused(EncodeOperation(op));
}

TEST(OperationCodec, EveryKindOfOperationRoundTrips) {
  for (const Operation& op : ValidOps()) EXPECT_TRUE(RoundTrips(op));
}

TEST(OperationCodec, LayoutIsVersionKindBody) {
  EXPECT_EQ(EncodeOperation(CounterOp{1}), std::string("\x01\x01\x02", 3));
  EXPECT_EQ(EncodeOperation(CounterOp{-1}), std::string("\x01\x01\x01", 3));
  EXPECT_EQ(EncodeOperation(GSetOp{{"ab"}}), std::string("\x01\x05\x01\x02"
                                                         "ab"));
  EXPECT_EQ(EncodeOperation(HllOp{}), std::string("\x01\x04\x00", 3));
  EXPECT_EQ(EncodeOperation(SetOp{{"a"}, {"b"}}), std::string("\x01\x02\x01\x01"
                                                              "a\x01\x01"
                                                              "b"));
  MapOp map;
  map.removes = {{"f", FieldType::kFlag}};
  map.updates = {RegisterField("r", "v")};
  EXPECT_EQ(EncodeOperation(map), std::string("\x01\x03\x01\x01"
                                              "f\x04\x01\x01"
                                              "r\x03\x04\x01"
                                              "v"));
}

TEST(OperationCodec, AcceptsOpsAtEveryLimit) {
  EXPECT_TRUE(RoundTrips(GSetOp{Numbered(kMaxElementsPerOp)}));
  EXPECT_TRUE(RoundTrips(HllOp{Numbered(kMaxElementsPerOp)}));
  EXPECT_TRUE(RoundTrips(
      SetOp{Numbered(kMaxElementsPerOp / 2), Numbered(kMaxElementsPerOp / 2)}));
  EXPECT_TRUE(RoundTrips(GSetOp{{std::string(kMaxElementBytes, 'e')}}));
  MapOp map;
  map.removes.push_back(
      {std::string(kMaxFieldNameBytes, 'n'), FieldType::kCounter});
  map.updates.push_back(
      RegisterField("r", std::string(kMaxRegisterBytes, 'v')));
  EXPECT_TRUE(RoundTrips(map));
  MapOp wide;
  for (size_t i = 0; i < kMaxMapFields / 2; ++i) {
    wide.removes.push_back({std::to_string(i), FieldType::kFlag});
    wide.updates.push_back(FlagField(std::to_string(i), true));
  }
  EXPECT_TRUE(RoundTrips(wide));
  EXPECT_TRUE(RoundTrips(Nested(kMaxMapDepth)));
}

TEST(OperationCodec, RefusesElementsOverTheSizeLimit) {
  const std::string big(kMaxElementBytes + 1, 'e');
  EXPECT_TRUE(Refused(SetOp{{big}, {}}));
  EXPECT_TRUE(Refused(SetOp{{}, {big}}));
  EXPECT_TRUE(Refused(GSetOp{{"a", big}}));
  EXPECT_TRUE(Refused(HllOp{{big}}));
  MapOp map;
  map.updates.push_back(SetField("s", {big}));
  EXPECT_TRUE(Refused(map));
}

TEST(OperationCodec, RefusesTooManyElementsInOneOp) {
  EXPECT_TRUE(Refused(GSetOp{Numbered(kMaxElementsPerOp + 1)}));
  EXPECT_TRUE(Refused(HllOp{Numbered(kMaxElementsPerOp + 1)}));
  EXPECT_TRUE(Refused(SetOp{Numbered(kMaxElementsPerOp + 1), {}}));
  EXPECT_TRUE(Refused(SetOp{Numbered(kMaxElementsPerOp / 2),
                            Numbered(kMaxElementsPerOp / 2 + 1)}));
  MapOp map;
  map.updates.push_back(SetField("s", Numbered(kMaxElementsPerOp), {"x"}));
  EXPECT_TRUE(Refused(map));
}

TEST(OperationCodec, RefusesLongFieldNamesAndLargeRegisters) {
  const std::string name(kMaxFieldNameBytes + 1, 'n');
  MapOp remove;
  remove.removes.push_back({name, FieldType::kCounter});
  EXPECT_TRUE(Refused(remove));
  MapOp update;
  update.updates.push_back(CounterField(name, 1));
  EXPECT_TRUE(Refused(update));
  MapOp big_register;
  big_register.updates.push_back(
      RegisterField("r", std::string(kMaxRegisterBytes + 1, 'v')));
  EXPECT_TRUE(Refused(big_register));
}

TEST(OperationCodec, RefusesTooManyFieldsInOneMapLevel) {
  MapOp wide;
  for (size_t i = 0; i < kMaxMapFields / 2; ++i) {
    wide.removes.push_back({std::to_string(i), FieldType::kFlag});
    wide.updates.push_back(FlagField(std::to_string(i), true));
  }
  wide.updates.push_back(FlagField("one more", true));
  EXPECT_TRUE(Refused(wide));
  MapOp outer;
  outer.updates.push_back(MapField("inner", wide));
  EXPECT_TRUE(Refused(outer));
  MapOp only_removes;
  for (size_t i = 0; i <= kMaxMapFields; ++i) {
    only_removes.removes.push_back({std::to_string(i), FieldType::kSet});
  }
  EXPECT_TRUE(Refused(only_removes));
}

TEST(OperationCodec, RefusesMapsNestedTooDeeply) {
  EXPECT_TRUE(Refused(Nested(kMaxMapDepth + 1)));
  EXPECT_TRUE(Refused(Nested(100)));
}

TEST(OperationCodec, RefusesUpdatesWhoseSubOpDoesNotMatchTheFieldType) {
  MapUpdate wrong = CounterField("c", 1);
  wrong.field.type = FieldType::kSet;
  MapUpdate none;
  none.field = {"c", FieldType::kCounter};
  MapUpdate two = CounterField("c", 1);
  two.set_op = SetOp{};
  MapUpdate map_without_op;
  map_without_op.field = {"m", FieldType::kMap};
  MapUpdate flag_with_register = FlagField("f", true);
  flag_with_register.register_op = "v";
  for (const MapUpdate& u :
       {wrong, none, two, map_without_op, flag_with_register}) {
    MapOp op;
    op.updates.push_back(u);
    EXPECT_TRUE(Refused(op));
    MapOp outer;
    outer.updates.push_back(MapField("m", op));
    EXPECT_TRUE(Refused(outer));
  }
}

TEST(OperationCodec, RefusesMalformedBytes) {
  using std::string;
  const string bad[] = {
      "",
      string("\x01", 1),              // no kind
      string("\x02\x01\x02", 3),      // unknown version
      string("\x00\x01\x02", 3),      // unknown version
      string("\x01\x00\x02", 3),      // kind 0
      string("\x01\x06\x02", 3),      // kind 6
      string("\x01\x01\x02\x00", 4),  // trailing byte
      string("\x01\x01\x82\x00", 4),  // padded varint
      string("\x01\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 12),
      string("\x01\x05\x02\x01"
             "a",
             5),  // count beyond input
      string("\x01\x05\x01\x05"
             "ab",
             6),                          // length beyond input
      string("\x01\x05\x01\x81\x00", 5),  // padded length
      string("\x01\x03\x01\x01"
             "f\x00\x00",
             7),  // field type 0 (removes)
      string("\x01\x03\x01\x01"
             "f\x06\x00",
             7),  // field type 6 (removes)
      string("\x01\x03\x00\x01\x01"
             "f\x00\x01\x02",
             9),  // type 0 (update)
      string("\x01\x03\x00\x01\x01"
             "f\x06\x20\x02",
             9),  // type 6 (update)
      string("\x01\x03\x00\x01\x01"
             "f\x04\x08\x02",
             9),  // flag byte 2
      string("\x01\x03\x00\x01\x01"
             "f\x04\x09\x01",
             9),  // mask, two bits
      string("\x01\x03\x00\x01\x01"
             "f\x04\x88\x01",
             9),                          // mask, unknown bit
      string("\x01\x03\x00\x00\x00", 5),  // trailing byte
  };
  for (const string& bytes : bad) {
    EXPECT_TRUE(Refused(bytes)) << ::testing::PrintToString(bytes);
  }
  Operation flag;
  ASSERT_TRUE(DecodeOperation(string("\x01\x03\x00\x01\x01"
                                     "f\x04\x08\x01",
                                     9),
                              &flag)
                  .ok());
  EXPECT_EQ(flag, Operation(MapOp{{}, {FlagField("f", true)}}));
}

TEST(OperationCodec, RefusesEveryTruncation) {
  for (const Operation& op : ValidOps()) {
    const std::string bytes = EncodeOperation(op);
    for (size_t n = 0; n < bytes.size(); ++n) {
      ASSERT_TRUE(Refused(std::string_view(bytes).substr(0, n)))
          << "prefix of " << n << " of " << bytes.size() << " bytes";
    }
  }
}

// Whatever decodes re-encodes to the same bytes: one encoding per op.
// Returns whether it decoded.
bool ExpectCanonicalIfAccepted(const std::string& bytes) {
  Operation op;
  if (!DecodeOperation(bytes, &op).ok()) return false;
  EXPECT_EQ(EncodeOperation(op), bytes) << ::testing::PrintToString(bytes);
  return true;
}

TEST(OperationCodec, RandomBytesNeverCrashAndDecodeOnlyCanonically) {
  std::mt19937_64 rng(13);
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& b : bytes) b = static_cast<char>(rng() % 10);
    if (bytes.size() > 1) bytes[0] = '\x01';
    accepted += ExpectCanonicalIfAccepted(bytes);
  }
  EXPECT_GT(accepted, 500);  // the inputs reach past the header
}

TEST(OperationCodec, MutatedEncodingsNeverCrashAndDecodeOnlyCanonically) {
  std::mt19937_64 rng(17);
  int accepted = 0;
  for (const Operation& op : ValidOps()) {
    const std::string valid = EncodeOperation(op);
    for (int i = 0; i < 2000; ++i) {
      std::string bytes = valid;
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes.insert(at, 1, static_cast<char>(rng()));
          break;
        default:
          bytes.erase(at, 1);
      }
      accepted += ExpectCanonicalIfAccepted(bytes);
    }
  }
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace causeway::replication::crdt
