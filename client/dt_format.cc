#include "client/dt_format.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "base/printable.h"
#include "client/format.h"

namespace causeway::client {
namespace {

using FieldType = pbc::MapField::MapFieldType;

enum class Action {
  kCounterAdd,
  kCounterSub,
  kSetAdd,
  kSetRemove,
  kRegister,
  kFlag,
  kRemove,
};

constexpr const char* kExpected =
    "expected NAME_counter+=N, NAME_counter-=N, NAME_set+=ELEM, "
    "NAME_set-=ELEM, NAME_register=VALUE or NAME_flag=on|off, with "
    "NAME_map. before a field of a nested map";

// One operation taken apart, and its text for error messages.
struct ParsedOp {
  explicit ParsedOp(const std::string& t) : text(t) {}
  const std::string& text;
  std::vector<std::string> path;  // field names, outermost first
  FieldType leaf_type = pbc::MapField::COUNTER;
  Action action = Action::kRemove;
  std::string arg;
};

Status Bad(const ParsedOp& op, const std::string& why) {
  return Status::InvalidArgument("bad map operation '" + Printable(op.text) +
                                 "': " + why);
}

std::string FieldText(const std::string& name, FieldType type) {
  return "field '" + Printable(name) + "' (" + MapFieldTypeName(type) + ")";
}

bool SameField(const pbc::MapField& f, const std::string& name,
               FieldType type) {
  return f.type() == type && f.name() == name;
}

bool ParseFieldType(const std::string& text, FieldType* type) {
  for (FieldType t :
       {pbc::MapField::COUNTER, pbc::MapField::SET, pbc::MapField::REGISTER,
        pbc::MapField::FLAG, pbc::MapField::MAP}) {
    if (text == MapFieldTypeName(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

// One path segment, NAME_TYPE: the type is what follows the last '_'.
Status AddSegment(ParsedOp* op, const std::string& segment) {
  const size_t cut = segment.rfind('_');
  FieldType type = pbc::MapField::COUNTER;
  if (cut == std::string::npos || cut == 0 ||
      !ParseFieldType(segment.substr(cut + 1), &type)) {
    return Bad(*op, "'" + Printable(segment) +
                        "' is not NAME_TYPE (TYPE: counter, set, register, "
                        "flag or map)");
  }
  if (!op->path.empty() && op->leaf_type != pbc::MapField::MAP) {
    return Bad(*op, "only a map field has fields inside it");
  }
  op->path.push_back(segment.substr(0, cut));
  op->leaf_type = type;
  return Status::Ok();
}

// Splits `path` at unescaped '.' into NAME_TYPE segments.
Status SplitPath(ParsedOp* op, const std::string& path) {
  std::string segment;
  bool escaped = false;
  for (char c : path) {
    if (escaped || (c != '\\' && c != '.')) {
      segment.push_back(c);
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else {
      Status s = AddSegment(op, segment);
      if (!s.ok()) return s;
      segment.clear();
    }
  }
  return AddSegment(op, segment);
}

// The first unescaped '=' ends the path; a '+' or '-' before it belongs to
// the operator.
bool FindOperator(const std::string& text, size_t* path_end, size_t* eq) {
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (text[i] == '\\') {
      escaped = true;
    } else if (text[i] == '=') {
      *eq = i;
      const bool step = i > 0 && (text[i - 1] == '+' || text[i - 1] == '-') &&
                        (i < 2 || text[i - 2] != '\\');
      *path_end = step ? i - 1 : i;
      return true;
    }
  }
  return false;
}

Status ChooseAction(ParsedOp* op, char step) {
  switch (op->leaf_type) {
    case pbc::MapField::COUNTER:
    case pbc::MapField::SET: {
      if (step == 0) return Bad(*op, "a counter or set takes += or -=");
      const bool counter = op->leaf_type == pbc::MapField::COUNTER;
      op->action = step == '+'
                       ? (counter ? Action::kCounterAdd : Action::kSetAdd)
                       : (counter ? Action::kCounterSub : Action::kSetRemove);
      return Status::Ok();
    }
    case pbc::MapField::REGISTER:
    case pbc::MapField::FLAG:
      if (step != 0) return Bad(*op, "a register or flag takes =");
      op->action = op->leaf_type == pbc::MapField::REGISTER ? Action::kRegister
                                                            : Action::kFlag;
      return Status::Ok();
    default:
      return Bad(*op, "a map field takes no value; name a field inside it");
  }
}

Status ParseOne(ParsedOp* op) {
  size_t path_end = 0, eq = 0;
  if (!FindOperator(op->text, &path_end, &eq)) {
    return Bad(*op, std::string("no operator; ") + kExpected);
  }
  Status s = SplitPath(op, op->text.substr(0, path_end));
  if (!s.ok()) return s;
  op->arg = op->text.substr(eq + 1);
  return ChooseAction(op, path_end == eq ? 0 : op->text[path_end]);
}

// A removal: the field's path, NAME_TYPE segments.
Status ParseRemove(ParsedOp* op) {
  op->action = Action::kRemove;
  return SplitPath(op, op->text);
}

bool ParseInt64(const std::string& text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

// The update of (name, type) in `level`, added when it is not there yet.
Status FindOrAddUpdate(const ParsedOp& op, pbc::MapOp* level,
                       const std::string& name, FieldType type,
                       pbc::MapUpdate** out) {
  for (const pbc::MapField& f : level->removes()) {
    if (SameField(f, name, type)) {
      return Bad(op, FieldText(name, type) + " is both removed and updated");
    }
  }
  for (pbc::MapUpdate& u : *level->mutable_updates()) {
    if (SameField(u.field(), name, type)) {
      *out = &u;
      return Status::Ok();
    }
  }
  *out = level->add_updates();
  (*out)->mutable_field()->set_name(name);
  (*out)->mutable_field()->set_type(type);
  return Status::Ok();
}

Status RemoveField(const ParsedOp& op, pbc::MapOp* level,
                   const std::string& name) {
  const FieldType type = op.leaf_type;
  for (const pbc::MapUpdate& u : level->updates()) {
    if (SameField(u.field(), name, type)) {
      return Bad(op, FieldText(name, type) + " is both removed and updated");
    }
  }
  for (const pbc::MapField& f : level->removes()) {
    if (SameField(f, name, type)) return Status::Ok();
  }
  pbc::MapField* f = level->add_removes();
  f->set_name(name);
  f->set_type(type);
  return Status::Ok();
}

Status StepCounter(const ParsedOp& op, pbc::MapUpdate* u) {
  int64_t n = 0;
  if (!ParseInt64(op.arg, &n)) {
    return Bad(op,
               "the step '" + Printable(op.arg) + "' is not a 64-bit integer");
  }
  if (op.action == Action::kCounterSub) {
    if (n == std::numeric_limits<int64_t>::min()) {
      return Bad(op, "the step does not fit in 64 bits");
    }
    n = -n;
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(u->counter_op().increment(), n, &sum)) {
    return Bad(op, "the steps of this counter add up past 64 bits");
  }
  u->mutable_counter_op()->set_increment(sum);
  return Status::Ok();
}

bool Contains(const Elements& elements, const std::string& e) {
  for (const std::string& x : elements) {
    if (x == e) return true;
  }
  return false;
}

Status StepSet(const ParsedOp& op, pbc::MapUpdate* u) {
  pbc::SetOp* set = u->mutable_set_op();
  const bool add = op.action == Action::kSetAdd;
  Elements* mine = add ? set->mutable_adds() : set->mutable_removes();
  const Elements& other = add ? set->removes() : set->adds();
  if (Contains(other, op.arg)) {
    return Bad(op,
               "element '" + Printable(op.arg) + "' is both added and removed");
  }
  if (!Contains(*mine, op.arg)) mine->Add()->assign(op.arg);
  return Status::Ok();
}

Status StepRegisterOrFlag(const ParsedOp& op, pbc::MapUpdate* u) {
  if (op.action == Action::kRegister) {
    if (u->has_register_op()) return Bad(op, "the register is set twice");
    u->set_register_op(op.arg);
    return Status::Ok();
  }
  if (op.arg != "on" && op.arg != "off") {
    return Bad(op, "a flag takes on or off");
  }
  if (u->has_flag_op()) return Bad(op, "the flag is set twice");
  u->set_flag_op(op.arg == "on" ? pbc::MapUpdate::ENABLE
                                : pbc::MapUpdate::DISABLE);
  return Status::Ok();
}

Status ApplyLeaf(const ParsedOp& op, pbc::MapOp* level,
                 const std::string& name) {
  if (op.action == Action::kRemove) return RemoveField(op, level, name);
  pbc::MapUpdate* u = nullptr;
  Status s = FindOrAddUpdate(op, level, name, op.leaf_type, &u);
  if (!s.ok()) return s;
  switch (op.action) {
    case Action::kCounterAdd:
    case Action::kCounterSub:
      return StepCounter(op, u);
    case Action::kSetAdd:
    case Action::kSetRemove:
      return StepSet(op, u);
    default:
      return StepRegisterOrFlag(op, u);
  }
}

Status Apply(const ParsedOp& op, pbc::MapOp* top) {
  pbc::MapOp* level = top;
  for (size_t i = 0; i + 1 < op.path.size(); ++i) {
    pbc::MapUpdate* u = nullptr;
    Status s = FindOrAddUpdate(op, level, op.path[i], pbc::MapField::MAP, &u);
    if (!s.ok()) return s;
    level = u->mutable_map_op();
  }
  return ApplyLeaf(op, level, op.path.back());
}

std::string JoinElements(const Elements& elements) {
  if (elements.empty()) return "{}";
  std::string out;
  for (const std::string& e : elements) {
    if (!out.empty()) out += ", ";
    out += Printable(e);
  }
  return out;
}

void AppendMapText(const MapEntries& entries, const std::string& prefix,
                   std::string* out) {
  for (const pbc::MapEntry& e : entries) {
    const std::string path =
        (prefix.empty() ? "" : prefix + ".") + Printable(e.field().name());
    const std::string head =
        path + " (" + MapFieldTypeName(e.field().type()) + ") = ";
    switch (e.field().type()) {
      case pbc::MapField::COUNTER:
        *out += head + std::to_string(e.counter_value()) + "\n";
        break;
      case pbc::MapField::SET:
        *out += head + JoinElements(e.set_value()) + "\n";
        break;
      case pbc::MapField::REGISTER:
        *out += head + "\"" + Printable(e.register_value()) + "\"\n";
        break;
      case pbc::MapField::FLAG:
        *out += head + (e.flag_value() ? "true" : "false") + "\n";
        break;
      case pbc::MapField::MAP:
        if (e.map_value().empty()) *out += head + "{}\n";
        AppendMapText(e.map_value(), path, out);
        break;
    }
  }
}

std::string ElementsArray(const Elements& elements) {
  std::vector<std::string> items;
  for (const std::string& e : elements) items.push_back(JsonName(e));
  return JsonArray(items);
}

std::string MapObjectJson(const MapEntries& entries) {
  JsonObject o;
  for (const pbc::MapEntry& e : entries) {
    const std::string key = Printable(e.field().name()) + " (" +
                            MapFieldTypeName(e.field().type()) + ")";
    switch (e.field().type()) {
      case pbc::MapField::COUNTER:
        o.Number(key, e.counter_value());
        break;
      case pbc::MapField::SET:
        o.Raw(key, ElementsArray(e.set_value()));
        break;
      case pbc::MapField::REGISTER:
        o.Raw(key, JsonName(e.register_value()));
        break;
      case pbc::MapField::FLAG:
        o.Bool(key, e.flag_value());
        break;
      case pbc::MapField::MAP:
        o.Raw(key, MapObjectJson(e.map_value()));
        break;
    }
  }
  return o.str();
}

}  // namespace

Status ParseMapOps(const std::vector<std::string>& ops,
                   const std::vector<std::string>& removes, pbc::MapOp* out) {
  for (const std::string& text : removes) {
    ParsedOp op(text);
    Status s = ParseRemove(&op);
    if (s.ok()) s = Apply(op, out);
    if (!s.ok()) return s;
  }
  for (const std::string& text : ops) {
    ParsedOp op(text);
    Status s = ParseOne(&op);
    if (s.ok()) s = Apply(op, out);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

bool MapOpRemoves(const pbc::MapOp& op) {
  if (op.removes_size() > 0) return true;
  for (const pbc::MapUpdate& u : op.updates()) {
    if (u.has_set_op() && u.set_op().removes_size() > 0) return true;
    if (u.has_map_op() && MapOpRemoves(u.map_op())) return true;
  }
  return false;
}

const char* MapFieldTypeName(pbc::MapField::MapFieldType type) {
  switch (type) {
    case pbc::MapField::COUNTER:
      return "counter";
    case pbc::MapField::SET:
      return "set";
    case pbc::MapField::REGISTER:
      return "register";
    case pbc::MapField::FLAG:
      return "flag";
    case pbc::MapField::MAP:
      return "map";
  }
  return "unknown";
}

std::string RenderElementsText(const Elements& elements) {
  std::string out;
  for (const std::string& e : elements) out += Printable(e) + "\n";
  return out;
}

std::string RenderElementsJson(const Elements& elements) {
  return JsonObject().Raw("elements", ElementsArray(elements)).str();
}

std::string RenderMapText(const MapEntries& entries) {
  std::string out;
  AppendMapText(entries, "", &out);
  return out;
}

std::string RenderMapJson(const MapEntries& entries) {
  return JsonObject().Raw("map", MapObjectJson(entries)).str();
}

}  // namespace causeway::client
