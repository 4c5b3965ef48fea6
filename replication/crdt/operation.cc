// The operation codec: the bytes a node sends when it forwards a client's
// data-type update to another node, which decodes them as hostile input.
//
// Format (version 1): a version byte, an op-kind byte (the TypeTag value:
// counter 1, set 2, map 3, hll 4, gset 5), then the body:
//   counter  the increment, zigzag varint
//   set      adds, then removes: each a varint count then length-prefixed
//            (varint) strings
//   hll      adds, as above
//   gset     adds, as above
//   map      varint count of removes, each a field key; varint count of
//            updates, each a field key, a byte with bit (t - 1) set for each
//            sub-op of field type t present, then those sub-ops in field
//            type order (counter: zigzag varint; set: as above; register:
//            length-prefixed string; flag: byte 0 or 1; map: a map body)
//   field key: length-prefixed name, then the field type byte
//
// Non-obvious choices:
// - An update's sub-ops are written as a presence mask rather than implied
//   by the field type, so that any MapUpdate encodes faithfully (Encode
//   cannot fail) and one whose sub-ops do not match its field type, which
//   a client can send, is refused by the decoder instead of silently
//   becoming a different operation.
// - Every varint must be in its shortest form, so an operation has one
//   encoding. Every count is checked against its limit and against the
//   bytes left (each item takes at least one byte), and vectors grow only
//   by items actually decoded (no reserve from a claimed count); nesting
//   is bounded by kMaxMapDepth. So neither memory nor recursion can be
//   driven far beyond the input's own length.
#include "replication/crdt/operation.h"

#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/coding.h"
#include "replication/crdt/data_type.h"

namespace causeway::replication::crdt {

bool MapUpdate::operator==(const MapUpdate& other) const {
  if (!(field == other.field && counter_op == other.counter_op &&
        set_op == other.set_op && register_op == other.register_op &&
        flag_op == other.flag_op)) {
    return false;
  }
  if (!map_op || !other.map_op) return !map_op && !other.map_op;
  return *map_op == *other.map_op;
}

namespace {

constexpr uint8_t kFormatVersion = 1;

uint8_t Bit(FieldType type) {
  return static_cast<uint8_t>(1u << (static_cast<uint8_t>(type) - 1));
}

uint64_t ZigZag(int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  return (u << 1) ^ (v < 0 ? ~uint64_t{0} : uint64_t{0});
}

int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (uint64_t{0} - (v & 1)));
}

// --- Encoding ---------------------------------------------------------------

void PutStrings(std::string* out, const std::vector<std::string>& strings) {
  coding::PutVarint64(out, strings.size());
  for (const std::string& s : strings) coding::PutLengthPrefixedVarint(out, s);
}

void PutFieldKey(std::string* out, const FieldKey& key) {
  coding::PutLengthPrefixedVarint(out, key.name);
  out->push_back(static_cast<char>(key.type));
}

void PutMap(std::string* out, const MapOp& op);

void PutUpdate(std::string* out, const MapUpdate& u) {
  PutFieldKey(out, u.field);
  uint8_t mask = 0;
  if (u.counter_op) mask |= Bit(FieldType::kCounter);
  if (u.set_op) mask |= Bit(FieldType::kSet);
  if (u.register_op) mask |= Bit(FieldType::kRegister);
  if (u.flag_op) mask |= Bit(FieldType::kFlag);
  if (u.map_op) mask |= Bit(FieldType::kMap);
  out->push_back(static_cast<char>(mask));
  if (u.counter_op) coding::PutVarint64(out, ZigZag(u.counter_op->increment));
  if (u.set_op) {
    PutStrings(out, u.set_op->adds);
    PutStrings(out, u.set_op->removes);
  }
  if (u.register_op) coding::PutLengthPrefixedVarint(out, *u.register_op);
  if (u.flag_op) out->push_back(*u.flag_op ? 1 : 0);
  if (u.map_op) PutMap(out, *u.map_op);
}

void PutMap(std::string* out, const MapOp& op) {
  coding::PutVarint64(out, op.removes.size());
  for (const FieldKey& key : op.removes) PutFieldKey(out, key);
  coding::PutVarint64(out, op.updates.size());
  for (const MapUpdate& u : op.updates) PutUpdate(out, u);
}

struct BodyEncoder {
  std::string* out;
  void operator()(const CounterOp& op) const {
    coding::PutVarint64(out, ZigZag(op.increment));
  }
  void operator()(const SetOp& op) const {
    PutStrings(out, op.adds);
    PutStrings(out, op.removes);
  }
  void operator()(const MapOp& op) const { PutMap(out, op); }
  void operator()(const HllOp& op) const { PutStrings(out, op.adds); }
  void operator()(const GSetOp& op) const { PutStrings(out, op.adds); }
};

// --- Decoding ---------------------------------------------------------------

Status Malformed(const char* what) {
  return Status::InvalidArgument(std::string("operation: ") + what);
}

Status GetByte(std::string_view* in, uint8_t* b) {
  if (in->empty()) return Malformed("truncated");
  *b = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return Status::Ok();
}

Status GetVarint(std::string_view* in, uint64_t* v) {
  if (!coding::GetCanonicalVarint64(in, v)) return Malformed("bad varint");
  return Status::Ok();
}

// A count of at most `max` items, each at least one byte of what is left.
Status GetCount(std::string_view* in, uint64_t max, const char* what,
                uint64_t* count) {
  Status s = GetVarint(in, count);
  if (!s.ok()) return s;
  if (*count > max) return Malformed(what);
  if (*count > in->size()) return Malformed("truncated");
  return Status::Ok();
}

Status GetString(std::string_view* in, size_t max, const char* what,
                 std::string* s) {
  std::string_view view;
  if (!coding::GetLengthPrefixedVarint(in, &view)) {
    return Malformed("truncated string");
  }
  if (view.size() > max) return Malformed(what);
  s->assign(view);
  return Status::Ok();
}

// Up to `*budget` elements; the budget shrinks by the number read.
Status GetElements(std::string_view* in, uint64_t* budget,
                   std::vector<std::string>* elements) {
  uint64_t count = 0;
  Status s = GetCount(in, *budget, "too many elements", &count);
  if (!s.ok()) return s;
  *budget -= count;
  for (uint64_t i = 0; i < count; ++i) {
    std::string e;
    s = GetString(in, kMaxElementBytes, "element too large", &e);
    if (!s.ok()) return s;
    elements->push_back(std::move(e));
  }
  return Status::Ok();
}

Status GetSetBody(std::string_view* in, SetOp* op) {
  uint64_t budget = kMaxElementsPerOp;
  Status s = GetElements(in, &budget, &op->adds);
  if (!s.ok()) return s;
  return GetElements(in, &budget, &op->removes);
}

Status GetFieldKey(std::string_view* in, FieldKey* key) {
  Status s =
      GetString(in, kMaxFieldNameBytes, "field name too long", &key->name);
  uint8_t type = 0;
  if (s.ok()) s = GetByte(in, &type);
  if (!s.ok()) return s;
  if (type < static_cast<uint8_t>(FieldType::kCounter) ||
      type > static_cast<uint8_t>(FieldType::kMap)) {
    return Malformed("unknown field type");
  }
  key->type = static_cast<FieldType>(type);
  return Status::Ok();
}

Status GetMapBody(std::string_view* in, size_t depth, MapOp* op);

// The one sub-op of an update whose field key has been read.
Status GetSubOp(std::string_view* in, size_t depth, MapUpdate* u) {
  uint64_t v = 0;
  uint8_t b = 0;
  Status s;
  switch (u->field.type) {
    case FieldType::kCounter:
      s = GetVarint(in, &v);
      if (s.ok()) u->counter_op = CounterOp{UnZigZag(v)};
      return s;
    case FieldType::kSet:
      return GetSetBody(in, &u->set_op.emplace());
    case FieldType::kRegister:
      return GetString(in, kMaxRegisterBytes, "register value too large",
                       &u->register_op.emplace());
    case FieldType::kFlag:
      s = GetByte(in, &b);
      if (s.ok() && b > 1) s = Malformed("bad flag value");
      if (s.ok()) u->flag_op = (b == 1);
      return s;
    case FieldType::kMap: {
      auto map = std::make_shared<MapOp>();
      s = GetMapBody(in, depth + 1, map.get());
      if (s.ok()) u->map_op = std::move(map);
      return s;
    }
  }
  return Malformed("unknown field type");
}

Status GetUpdate(std::string_view* in, size_t depth, MapUpdate* u) {
  Status s = GetFieldKey(in, &u->field);
  uint8_t mask = 0;
  if (s.ok()) s = GetByte(in, &mask);
  if (!s.ok()) return s;
  if (mask != Bit(u->field.type)) {
    return Malformed("update does not hold exactly its field type's sub-op");
  }
  return GetSubOp(in, depth, u);
}

// A map body at `depth` (the top map is 1).
Status GetMapBody(std::string_view* in, size_t depth, MapOp* op) {
  if (depth > kMaxMapDepth) return Malformed("maps nested too deeply");
  uint64_t count = 0;
  Status s = GetCount(in, kMaxMapFields, "too many map fields", &count);
  if (!s.ok()) return s;
  for (uint64_t i = 0; i < count; ++i) {
    FieldKey key;
    s = GetFieldKey(in, &key);
    if (!s.ok()) return s;
    op->removes.push_back(std::move(key));
  }
  s = GetCount(in, kMaxMapFields - count, "too many map fields", &count);
  if (!s.ok()) return s;
  for (uint64_t i = 0; i < count; ++i) {
    MapUpdate u;
    s = GetUpdate(in, depth, &u);
    if (!s.ok()) return s;
    op->updates.push_back(std::move(u));
  }
  return Status::Ok();
}

Status GetBody(std::string_view* in, uint8_t kind, Operation* op) {
  uint64_t v = 0;
  uint64_t budget = kMaxElementsPerOp;
  Status s;
  switch (kind) {
    case static_cast<uint8_t>(TypeTag::kCounter):
      s = GetVarint(in, &v);
      if (s.ok()) *op = CounterOp{UnZigZag(v)};
      return s;
    case static_cast<uint8_t>(TypeTag::kSet):
      return GetSetBody(in, &op->emplace<SetOp>());
    case static_cast<uint8_t>(TypeTag::kMap):
      return GetMapBody(in, 1, &op->emplace<MapOp>());
    case static_cast<uint8_t>(TypeTag::kHll):
      return GetElements(in, &budget, &op->emplace<HllOp>().adds);
    case static_cast<uint8_t>(TypeTag::kGSet):
      return GetElements(in, &budget, &op->emplace<GSetOp>().adds);
  }
  return Malformed("unknown operation kind");
}

// The kind byte of each alternative, in the variant's order.
constexpr TypeTag kKinds[] = {TypeTag::kCounter, TypeTag::kSet, TypeTag::kMap,
                              TypeTag::kHll, TypeTag::kGSet};
static_assert(std::variant_size_v<Operation> == std::size(kKinds));

}  // namespace

std::string EncodeOperation(const Operation& op) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(kKinds[op.index()]));
  std::visit(BodyEncoder{&out}, op);
  return out;
}

Status DecodeOperation(std::string_view bytes, Operation* out) {
  uint8_t version = 0;
  uint8_t kind = 0;
  Status s = GetByte(&bytes, &version);
  if (s.ok() && version != kFormatVersion) s = Malformed("unknown version");
  if (s.ok()) s = GetByte(&bytes, &kind);
  Operation op;
  if (s.ok()) s = GetBody(&bytes, kind, &op);
  if (s.ok() && !bytes.empty()) s = Malformed("trailing bytes");
  if (s.ok()) *out = std::move(op);
  return s;
}

}  // namespace causeway::replication::crdt
