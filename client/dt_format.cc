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

struct ActionSyntax {
  const char* prefix;
  Action action;
};

constexpr ActionSyntax kActions[] = {
    {"counter+=", Action::kCounterAdd}, {"counter-=", Action::kCounterSub},
    {"set+=", Action::kSetAdd},         {"set-=", Action::kSetRemove},
    {"register=", Action::kRegister},   {"flag=", Action::kFlag},
    {"remove=", Action::kRemove},
};

constexpr const char* kExpected =
    "expected PATH:counter+=N, PATH:counter-=N, PATH:set+=ELEM, "
    "PATH:set-=ELEM, PATH:register=VALUE, PATH:flag=on|off or "
    "PATH:remove=counter|set|register|flag|map";

// One operation taken apart, and its text for error messages.
struct ParsedOp {
  explicit ParsedOp(const std::string& t) : text(t) {}
  const std::string& text;
  std::vector<std::string> path;
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

// Splits the path into names, up to the first unescaped ':'; the rest of
// the text goes to *rest.
Status SplitPath(ParsedOp* op, std::string* rest) {
  const std::string& text = op->text;
  std::string name;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (escaped || (c != '\\' && c != '.' && c != ':')) {
      name.push_back(c);
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else {
      if (name.empty()) return Bad(*op, "a field name in PATH is empty");
      op->path.push_back(std::move(name));
      name.clear();
      if (c == ':') {
        *rest = text.substr(i + 1);
        return Status::Ok();
      }
    }
  }
  return Bad(*op, std::string("no ':' after PATH; ") + kExpected);
}

Status ParseOne(ParsedOp* op) {
  std::string rest;
  Status s = SplitPath(op, &rest);
  if (!s.ok()) return s;
  for (const ActionSyntax& a : kActions) {
    const std::string prefix = a.prefix;
    if (rest.compare(0, prefix.size(), prefix) == 0) {
      op->action = a.action;
      op->arg = rest.substr(prefix.size());
      return Status::Ok();
    }
  }
  return Bad(*op, "unknown operation '" + Printable(rest) + "'; " + kExpected);
}

bool ParseInt64(const std::string& text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
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
  FieldType type = pbc::MapField::COUNTER;
  if (!ParseFieldType(op.arg, &type)) {
    return Bad(op, "remove= takes counter, set, register, flag or map");
  }
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
    return Bad(op, "flag= takes on or off");
  }
  if (u->has_flag_op()) return Bad(op, "the flag is set twice");
  u->set_flag_op(op.arg == "on" ? pbc::MapUpdate::ENABLE
                                : pbc::MapUpdate::DISABLE);
  return Status::Ok();
}

FieldType LeafType(Action action) {
  switch (action) {
    case Action::kCounterAdd:
    case Action::kCounterSub:
      return pbc::MapField::COUNTER;
    case Action::kSetAdd:
    case Action::kSetRemove:
      return pbc::MapField::SET;
    case Action::kRegister:
      return pbc::MapField::REGISTER;
    case Action::kFlag:
    case Action::kRemove:  // names its type in its argument instead
      break;
  }
  return pbc::MapField::FLAG;
}

Status ApplyLeaf(const ParsedOp& op, pbc::MapOp* level,
                 const std::string& name) {
  if (op.action == Action::kRemove) return RemoveField(op, level, name);
  pbc::MapUpdate* u = nullptr;
  Status s = FindOrAddUpdate(op, level, name, LeafType(op.action), &u);
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

Status ParseMapOps(const std::vector<std::string>& ops, pbc::MapOp* out) {
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
