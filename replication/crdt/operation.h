#pragma once
// Operations on data types: what a client asks a data type to do, in the
// shape of Riak's DtOp (counter, set, map, hll, gset). The node's protocol
// front end builds them from client messages; a node that forwards an
// update to a replica sends them encoded (EncodeOperation), so the decoder
// takes hostile bytes and checks every length and limit before allocating.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace causeway::replication::crdt {

// The types a map field may hold. Values are Riak's MapField.MapFieldType.
enum class FieldType : uint8_t {
  kCounter = 1,
  kSet = 2,
  kRegister = 3,
  kFlag = 4,
  kMap = 5,
};

// A map field is named by its name and its type: two clients may use one
// name for fields of different types, and those converge independently.
struct FieldKey {
  std::string name;
  FieldType type = FieldType::kCounter;
  auto operator<=>(const FieldKey&) const = default;
  bool operator==(const FieldKey&) const = default;
};

struct CounterOp {
  int64_t increment = 0;
  bool operator==(const CounterOp&) const = default;
};

struct SetOp {
  std::vector<std::string> adds;
  std::vector<std::string> removes;
  bool operator==(const SetOp&) const = default;
};

struct GSetOp {
  std::vector<std::string> adds;
  bool operator==(const GSetOp&) const = default;
};

struct HllOp {
  std::vector<std::string> adds;
  bool operator==(const HllOp&) const = default;
};

struct MapOp;

// One field's change inside a map operation: exactly the member that
// matches `field.type` is set.
struct MapUpdate {
  FieldKey field;
  std::optional<CounterOp> counter_op;
  std::optional<SetOp> set_op;
  std::optional<std::string> register_op;  // the new value
  std::optional<bool> flag_op;             // true: enable, false: disable
  std::shared_ptr<const MapOp> map_op;
  bool operator==(const MapUpdate& other) const;
};

struct MapOp {
  std::vector<FieldKey> removes;
  std::vector<MapUpdate> updates;
  bool operator==(const MapOp&) const = default;
};

using Operation = std::variant<CounterOp, SetOp, MapOp, HllOp, GSetOp>;

// Versioned binary form, for forwarding an update to another node.
std::string EncodeOperation(const Operation& op);
// InvalidArgument for malformed input, input over the limits in
// data_type.h (element sizes, counts, nesting depth), or trailing bytes;
// `out` is left unchanged then.
Status DecodeOperation(std::string_view bytes, Operation* out);

}  // namespace causeway::replication::crdt
