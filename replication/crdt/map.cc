// map: fields named by (name, type) holding counters, sets, registers,
// flags and maps, all sharing the map's one causal context (the recursive
// map of the delta-state paper, and of riak_dt's map). Every field is a dot
// store (dot_store.h), so one join serves every kind and nesting level, and
// a field is present exactly while it holds a dot:
//
//   counter   one dot per actor, carrying the actor's cumulative increments
//             and decrements; an update replaces the actor's dot.
//   set       elements to the dots of their adds (as set.cc).
//   register  dots to (HLC time, value); a write replaces the observed
//             dots; concurrent writes both survive and the read shows the
//             one with the larger (time, value): last writer wins.
//   flag      a set of dots; enable mints one, disable takes the observed
//             ones, so a concurrent enable wins.
//   map       fields, recursively (at most kMaxMapDepth levels).
//
// Removing a field takes the dots the remover observed (all of them, or
// those in the client's context); an update the remover had not seen keeps
// its dots, so the field survives with that update. For a counter that is
// the updating actor's whole cumulative count, as in riak_dt.
//
// An operation is checked and turned into a delta against the unchanged
// state, then the delta is merged in; a refused operation changes nothing.
// Within one map level a field may be named once (removed or updated).
//
// Encoding: version byte 1, the context, then the fields (varint count;
// each: length-prefixed name, type byte, the field's store), in field order.
#include <set>

#include "base/assert.h"
#include "base/coding.h"
#include "base/printable.h"
#include "replication/crdt/dot_store.h"
#include "replication/crdt/types.h"

namespace causeway::replication::crdt {
namespace {

constexpr char kVersion = 1;

// A counter, register or flag write.
struct Leaf {
  uint64_t increments = 0;  // counter: the actor's totals
  uint64_t decrements = 0;
  causal::HlcTimestamp timestamp;  // register
  std::string value;               // register
  bool operator==(const Leaf&) const = default;
};

struct Field;
using Fields = std::map<FieldKey, Field>;

// Only the member of the field's type is used.
struct Field {
  DotMap<Leaf> leaves;  // counter, register, flag
  SetStore set;
  Fields map;
  bool empty() const { return leaves.empty() && set.empty() && map.empty(); }
  bool operator==(const Field&) const = default;
};

void JoinFields(Fields* mine, const CausalContext& my_context,
                const Fields& theirs, const CausalContext& their_context) {
  JoinKeyed(
      mine, theirs,
      [&](Field* m, const Field& t) {
        JoinDots(&m->leaves, my_context, t.leaves, their_context);
        JoinSetStores(&m->set, my_context, t.set, their_context);
        JoinFields(&m->map, my_context, t.map, their_context);
      },
      [](const Field& f) { return f.empty(); });
}

void TakeField(const Field& field, const RemoveScope& scope,
               CausalContext* into) {
  TakeDots(field.leaves, scope, into);
  for (const auto& [element, dots] : field.set) TakeDots(dots, scope, into);
  for (const auto& [key, child] : field.map) TakeField(child, scope, into);
}

std::string Describe(const FieldKey& key) {
  static constexpr const char* kNames[] = {"",         "counter", "set",
                                           "register", "flag",    "map"};
  const auto t = static_cast<size_t>(key.type);
  return Printable(key.name) + " (" + (t < 6 ? kNames[t] : "?") + ")";
}

bool Matches(const MapUpdate& u) {
  const int set = u.counter_op.has_value() + u.set_op.has_value() +
                  u.register_op.has_value() + u.flag_op.has_value() +
                  (u.map_op != nullptr);
  if (set != 1) return false;
  switch (u.field.type) {
    case FieldType::kCounter:
      return u.counter_op.has_value();
    case FieldType::kSet:
      return u.set_op.has_value();
    case FieldType::kRegister:
      return u.register_op.has_value();
    case FieldType::kFlag:
      return u.flag_op.has_value();
    case FieldType::kMap:
      return u.map_op != nullptr;
  }
  return false;
}

bool HasRemoves(const MapOp& op) {
  if (!op.removes.empty()) return true;
  for (const MapUpdate& u : op.updates) {
    if ((u.set_op && !u.set_op->removes.empty()) ||
        (u.map_op && HasRemoves(*u.map_op))) {
      return true;
    }
  }
  return false;
}

// What one update shares across fields and levels.
struct Updater {
  const UpdateArgs& args;
  const RemoveScope& scope;
  DotMinter minter;

  Status Level(const Fields& state, const MapOp& op, size_t depth,
               Fields* delta, CausalContext* delta_context);
  Status One(const Field& state, const MapUpdate& update, size_t depth,
             Field* delta, CausalContext* delta_context);
  // Replaces the observed leaves by one new one (register, flag, counter).
  void Replace(const DotMap<Leaf>& observed, Leaf leaf, Field* delta,
               CausalContext* delta_context);
};

// Checks one level of an operation before anything is built.
bool AnyTaken(const Field& field, const RemoveScope& scope) {
  if (scope.TakesAny(field.leaves)) return true;
  for (const auto& [element, dots] : field.set) {
    if (scope.TakesAny(dots)) return true;
  }
  for (const auto& [key, child] : field.map) {
    if (AnyTaken(child, scope)) return true;
  }
  return false;
}

Status CheckLevel(const Fields& state, const MapOp& op, size_t depth,
                  const RemoveScope& scope) {
  if (depth > kMaxMapDepth) {
    return Status::InvalidArgument("maps nest at most " +
                                   std::to_string(kMaxMapDepth) + " deep");
  }
  if (op.removes.size() + op.updates.size() > kMaxMapFields) {
    return Status::InvalidArgument("a map operation names too many fields");
  }
  std::set<FieldKey> named;
  size_t new_fields = 0;
  auto name = [&](const FieldKey& key) {
    if (key.name.size() > kMaxFieldNameBytes) {
      return Status::InvalidArgument("a field name is longer than " +
                                     std::to_string(kMaxFieldNameBytes) +
                                     " bytes");
    }
    if (!named.insert(key).second) {
      return Status::InvalidArgument("field " + Describe(key) +
                                     " is named twice");
    }
    return Status::Ok();
  };
  for (const FieldKey& key : op.removes) {
    Status s = name(key);
    if (!s.ok()) return s;
    // Absent, or the client's context saw none of it.
    auto it = state.find(key);
    if (it == state.end() || !AnyTaken(it->second, scope)) {
      return Status::PreconditionFailed("not_present: " + Describe(key));
    }
  }
  for (const MapUpdate& u : op.updates) {
    Status s = name(u.field);
    if (!s.ok()) return s;
    if (!Matches(u)) {
      return Status::InvalidArgument("the update of field " +
                                     Describe(u.field) +
                                     " does not match its type");
    }
    new_fields += state.count(u.field) == 0;
  }
  if (state.size() + new_fields > kMaxMapFields) {
    return Status::InvalidArgument("a map holds at most " +
                                   std::to_string(kMaxMapFields) + " fields");
  }
  return Status::Ok();
}

Status Updater::Level(const Fields& state, const MapOp& op, size_t depth,
                      Fields* delta, CausalContext* delta_context) {
  Status s = CheckLevel(state, op, depth, scope);
  if (!s.ok()) return s;
  for (const FieldKey& key : op.removes) {
    TakeField(state.at(key), scope, delta_context);
  }
  static const Field kAbsent;
  for (const MapUpdate& u : op.updates) {
    auto it = state.find(u.field);
    Field d;
    s = One(it == state.end() ? kAbsent : it->second, u, depth, &d,
            delta_context);
    if (!s.ok()) return s;
    if (!d.empty()) (*delta)[u.field] = std::move(d);
  }
  return Status::Ok();
}

void Updater::Replace(const DotMap<Leaf>& observed, Leaf leaf, Field* delta,
                      CausalContext* delta_context) {
  TakeDots(observed, RemoveScope(), delta_context);
  const Dot dot = minter.Next();
  delta->leaves.emplace(dot, std::move(leaf));
  delta_context->Add(dot);
}

Status Updater::One(const Field& state, const MapUpdate& u, size_t depth,
                    Field* delta, CausalContext* delta_context) {
  switch (u.field.type) {
    case FieldType::kCounter: {
      // The actor's own entry: its dots sort together, newest last.
      DotMap<Leaf> own(state.leaves.lower_bound(Dot{args.actor, 0}),
                       state.leaves.lower_bound(Dot{args.actor + 1, 0}));
      Leaf leaf = own.empty() ? Leaf() : own.rbegin()->second;
      const int64_t inc = u.counter_op->increment;
      if (inc >= 0) {
        leaf.increments += static_cast<uint64_t>(inc);
      } else {
        leaf.decrements += 0 - static_cast<uint64_t>(inc);
      }
      Replace(own, std::move(leaf), delta, delta_context);
      return Status::Ok();
    }
    case FieldType::kRegister:
      if (u.register_op->size() > kMaxRegisterBytes) {
        return Status::InvalidArgument("a register value is longer than " +
                                       std::to_string(kMaxRegisterBytes) +
                                       " bytes");
      }
      Replace(state.leaves, Leaf{0, 0, args.timestamp, *u.register_op}, delta,
              delta_context);
      return Status::Ok();
    case FieldType::kFlag:
      if (*u.flag_op) {
        Replace(state.leaves, Leaf(), delta, delta_context);
      } else {
        TakeDots(state.leaves, RemoveScope(), delta_context);
      }
      return Status::Ok();
    case FieldType::kSet:
      return SetDelta(state.set, *u.set_op, scope, &minter, &delta->set,
                      delta_context);
    case FieldType::kMap:
      return Level(state.map, *u.map_op, depth + 1, &delta->map, delta_context);
  }
  return Status::InvalidArgument("unknown field type");
}

// --- reading ---------------------------------------------------------------

MapEntry ReadField(const FieldKey& key, const Field& field) {
  MapEntry e;
  e.field = key;
  switch (key.type) {
    case FieldType::kCounter: {
      uint64_t sum = 0;
      for (const auto& [dot, leaf] : field.leaves) {
        sum += leaf.increments - leaf.decrements;
      }
      e.counter = static_cast<int64_t>(sum);
      break;
    }
    case FieldType::kSet:
      for (const auto& [element, dots] : field.set) e.set.push_back(element);
      break;
    case FieldType::kRegister: {
      const Leaf* best = nullptr;
      for (const auto& [dot, leaf] : field.leaves) {
        if (best == nullptr || std::tie(leaf.timestamp, leaf.value) >
                                   std::tie(best->timestamp, best->value)) {
          best = &leaf;
        }
      }
      if (best != nullptr) e.register_value = best->value;
      break;
    }
    case FieldType::kFlag:
      e.flag = !field.leaves.empty();
      break;
    case FieldType::kMap:
      for (const auto& [k, child] : field.map) {
        e.map.push_back(ReadField(k, child));
      }
      break;
  }
  return e;
}

// --- encoding --------------------------------------------------------------

void PutFields(std::string* out, const Fields& fields);

void PutLeaves(std::string* out, FieldType type, const DotMap<Leaf>& leaves) {
  coding::PutVarint64(out, leaves.size());
  for (const auto& [dot, leaf] : leaves) {
    PutDot(out, dot);
    if (type == FieldType::kCounter) {
      coding::PutVarint64(out, leaf.increments);
      coding::PutVarint64(out, leaf.decrements);
    } else if (type == FieldType::kRegister) {
      coding::PutVarint64(out, leaf.timestamp.wall_ms);
      coding::PutVarint64(out, leaf.timestamp.logical);
      coding::PutLengthPrefixedVarint(out, leaf.value);
    }
  }
}

void PutFields(std::string* out, const Fields& fields) {
  coding::PutVarint64(out, fields.size());
  for (const auto& [key, field] : fields) {
    coding::PutLengthPrefixedVarint(out, key.name);
    out->push_back(static_cast<char>(key.type));
    switch (key.type) {
      case FieldType::kSet:
        PutSetStore(out, field.set);
        break;
      case FieldType::kMap:
        PutFields(out, field.map);
        break;
      default:
        PutLeaves(out, key.type, field.leaves);
    }
  }
}

bool GetLeaf(std::string_view* in, FieldType type, Leaf* leaf) {
  if (type == FieldType::kCounter) {
    return coding::GetCanonicalVarint64(in, &leaf->increments) &&
           coding::GetCanonicalVarint64(in, &leaf->decrements);
  }
  if (type == FieldType::kRegister) {
    uint64_t logical = 0;
    std::string_view value;
    if (!coding::GetCanonicalVarint64(in, &leaf->timestamp.wall_ms) ||
        !coding::GetCanonicalVarint64(in, &logical) || logical > UINT32_MAX ||
        !coding::GetLengthPrefixedVarint(in, &value) ||
        value.size() > kMaxRegisterBytes) {
      return false;
    }
    leaf->timestamp.logical = static_cast<uint32_t>(logical);
    leaf->value = std::string(value);
  }
  return true;
}

bool GetLeaves(std::string_view* in, const CausalContext& context,
               FieldType type, DotMap<Leaf>* leaves) {
  uint64_t n = 0;
  if (!GetCount(in, kMinDotBytes, &n) || n == 0) return false;
  for (uint64_t i = 0; i < n; ++i) {
    Dot dot;
    Leaf leaf;
    if (!GetDot(in, &dot) || !context.Contains(dot) ||
        (!leaves->empty() && !(leaves->rbegin()->first < dot)) ||
        !GetLeaf(in, type, &leaf)) {
      return false;
    }
    leaves->emplace_hint(leaves->end(), dot, std::move(leaf));
  }
  return true;
}

bool GetFields(std::string_view* in, const CausalContext& context, size_t depth,
               Fields* fields) {
  uint64_t n = 0;
  // As for sets, merges may pass kMaxMapFields; the depth no merge can pass.
  // A field takes at least its name's length, its type and a count.
  if (depth > kMaxMapDepth || !GetCount(in, 3, &n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    if (!coding::GetLengthPrefixedVarint(in, &name) ||
        name.size() > kMaxFieldNameBytes || in->empty()) {
      return false;
    }
    const auto type = static_cast<FieldType>((*in)[0]);
    in->remove_prefix(1);
    FieldKey key{std::string(name), type};
    if (type < FieldType::kCounter || type > FieldType::kMap ||
        (!fields->empty() && !(fields->rbegin()->first < key))) {
      return false;
    }
    Field& field = fields->emplace_hint(fields->end(), key, Field())->second;
    const bool ok = type == FieldType::kSet
                        ? GetSetStore(in, context, &field.set)
                    : type == FieldType::kMap
                        ? GetFields(in, context, depth + 1, &field.map)
                        : GetLeaves(in, context, type, &field.leaves);
    if (!ok || field.empty()) return false;
  }
  return true;
}

class MapState final : public DataType {
 public:
  TypeTag tag() const override { return TypeTag::kMap; }
  std::unique_ptr<DataType> Clone() const override {
    return std::make_unique<MapState>(*this);
  }

  Status Update(const Operation& op, const UpdateArgs& args,
                std::unique_ptr<DataType>* delta) override {
    CAUSEWAY_ASSERT(args.actor != 0);
    const MapOp* map_op = std::get_if<MapOp>(&op);
    if (map_op == nullptr) {
      return Status::InvalidArgument("not a map operation");
    }
    // Only removes read the client's context.
    RemoveScope scope;
    Status s;
    if (HasRemoves(*map_op))
      s = RemoveScope::Make(args.context, context_, &scope);
    if (!s.ok()) return s;
    auto d = std::make_unique<MapState>();
    Updater updater{args, scope, DotMinter(context_, args.actor)};
    s = updater.Level(fields_, *map_op, 1, &d->fields_, &d->context_);
    if (!s.ok()) return s;
    Merge(*d);
    *delta = std::move(d);
    return Status::Ok();
  }

  void Merge(const DataType& other) override {
    CAUSEWAY_ASSERT(other.tag() == tag());
    const auto& o = static_cast<const MapState&>(other);
    JoinFields(&fields_, context_, o.fields_, o.context_);
    context_.Merge(o.context_);
  }

  bool Equal(const DataType& other) const override {
    if (other.tag() != tag()) return false;
    const auto& o = static_cast<const MapState&>(other);
    return context_ == o.context_ && fields_ == o.fields_;
  }

  Value Read() const override {
    Value v;
    v.type = TypeTag::kMap;
    for (const auto& [key, field] : fields_) {
      v.map.push_back(ReadField(key, field));
    }
    return v;
  }

  std::string Context() const override { return context_.Encode(); }

  std::string Encode() const override {
    std::string out(1, kVersion);
    context_.EncodeTo(&out);
    PutFields(&out, fields_);
    return out;
  }

  static Status Decode(std::string_view in, std::unique_ptr<DataType>* out) {
    auto state = std::make_unique<MapState>();
    if (in.empty() || in[0] != kVersion) {
      return Status::Corruption("map: unknown version");
    }
    in.remove_prefix(1);
    if (!CausalContext::DecodeFrom(&in, &state->context_) ||
        !GetFields(&in, state->context_, 1, &state->fields_) || !in.empty()) {
      return Status::Corruption("map: malformed state");
    }
    *out = std::move(state);
    return Status::Ok();
  }

 private:
  CausalContext context_;
  Fields fields_;
};

}  // namespace

std::unique_ptr<DataType> NewMap() { return std::make_unique<MapState>(); }

Status DecodeMap(std::string_view bytes, std::unique_ptr<DataType>* out) {
  return MapState::Decode(bytes, out);
}

}  // namespace causeway::replication::crdt
