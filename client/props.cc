#include "client/props.h"

#include <algorithm>
#include <cctype>

namespace causeway::client {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

// Decimal digits only, no sign, no overflow past `max`.
std::optional<uint64_t> ParseNumber(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// One settable property: how to parse it into the message and read it back.
// A table rather than a chain of ifs, so that the list of valid names in
// error messages and the parser can never disagree.
struct PropSpec {
  const char* name;
  PropKind kind;
  bool (*has)(const pbc::RpbBucketProps&);
  uint64_t (*get_number)(const pbc::RpbBucketProps&);
  void (*set_number)(pbc::RpbBucketProps*, uint64_t);
  const std::string& (*get_text)(const pbc::RpbBucketProps&);
  void (*set_text)(pbc::RpbBucketProps*, std::string);
};

// Numeric, boolean and quorum fields differ only in the field name; the
// static_cast turns the stored uint64 back into uint32 or bool.
#define CW_NUMBER_PROP(field, kind_)                                  \
  PropSpec {                                                          \
#field, kind_,                                                      \
        [](const pbc::RpbBucketProps& p) { return p.has_##field(); },   \
        [](const pbc::RpbBucketProps& p) {                              \
          return static_cast<uint64_t>(p.field());                      \
        },                                                              \
        [](pbc::RpbBucketProps* p, uint64_t v) {                        \
          p->set_##field(static_cast<decltype(p->field())>(v));         \
        },                                                              \
        nullptr, nullptr \
  }

const std::vector<PropSpec>& Specs() {
  static const std::vector<PropSpec> specs = {
      CW_NUMBER_PROP(n_val, PropKind::kNumber),
      CW_NUMBER_PROP(allow_mult, PropKind::kBool),
      CW_NUMBER_PROP(last_write_wins, PropKind::kBool),
      CW_NUMBER_PROP(r, PropKind::kQuorum),
      CW_NUMBER_PROP(w, PropKind::kQuorum),
      CW_NUMBER_PROP(pr, PropKind::kQuorum),
      CW_NUMBER_PROP(pw, PropKind::kQuorum),
      CW_NUMBER_PROP(dw, PropKind::kQuorum),
      CW_NUMBER_PROP(rw, PropKind::kQuorum),
      CW_NUMBER_PROP(basic_quorum, PropKind::kBool),
      CW_NUMBER_PROP(notfound_ok, PropKind::kBool),
      CW_NUMBER_PROP(hll_precision, PropKind::kNumber),
      PropSpec{"datatype", PropKind::kText,
               [](const pbc::RpbBucketProps& p) { return p.has_datatype(); },
               nullptr, nullptr,
               [](const pbc::RpbBucketProps& p) -> const std::string& {
                 return p.datatype();
               },
               [](pbc::RpbBucketProps* p, std::string v) {
                 p->set_datatype(std::move(v));
               }},
  };
  return specs;
}

#undef CW_NUMBER_PROP

std::string JoinedNames() {
  std::string out;
  for (const std::string& name : BucketPropNames()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

std::optional<uint32_t> ParseQuorum(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "one") return kQuorumOne;
  if (lower == "quorum") return kQuorumQuorum;
  if (lower == "all") return kQuorumAll;
  if (lower == "default") return kQuorumDefault;
  // Numbers in the symbolic range would silently mean something else.
  auto n = ParseNumber(text, kQuorumDefault - 1);
  if (!n) return std::nullopt;
  return static_cast<uint32_t>(*n);
}

std::string QuorumName(uint32_t wire) {
  switch (wire) {
    case kQuorumOne:
      return "one";
    case kQuorumQuorum:
      return "quorum";
    case kQuorumAll:
      return "all";
    case kQuorumDefault:
      return "default";
    default:
      return std::to_string(wire);
  }
}

std::optional<bool> ParseBool(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") {
    return true;
  }
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") {
    return false;
  }
  return std::nullopt;
}

const std::vector<std::string>& BucketPropNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const PropSpec& spec : Specs()) out.emplace_back(spec.name);
    return out;
  }();
  return names;
}

Status ApplyBucketProp(std::string_view assignment,
                       pbc::RpbBucketProps* props) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return Status::InvalidArgument(
        "bucket property '" + std::string(assignment) +
        "' must be NAME=VALUE (valid names: " + JoinedNames() + ")");
  }
  const std::string name = Lower(assignment.substr(0, eq));
  const std::string_view value = assignment.substr(eq + 1);
  for (const PropSpec& spec : Specs()) {
    if (name != spec.name) continue;
    auto bad = [&](const char* expected) {
      return Status::InvalidArgument("bad value '" + std::string(value) +
                                     "' for " + spec.name + ": expected " +
                                     expected);
    };
    switch (spec.kind) {
      case PropKind::kNumber: {
        auto n = ParseNumber(value, UINT32_MAX);
        if (!n || *n == 0) return bad("a positive number");
        spec.set_number(props, *n);
        return Status::Ok();
      }
      case PropKind::kBool: {
        auto b = ParseBool(value);
        if (!b) return bad("true or false");
        spec.set_number(props, *b ? 1 : 0);
        return Status::Ok();
      }
      case PropKind::kQuorum: {
        auto q = ParseQuorum(value);
        if (!q) return bad("one, quorum, all, default or a number");
        spec.set_number(props, *q);
        return Status::Ok();
      }
      case PropKind::kText:
        spec.set_text(props, std::string(value));
        return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown bucket property '" +
                                 std::string(assignment.substr(0, eq)) +
                                 "' (valid names: " + JoinedNames() + ")");
}

std::vector<PropValue> DescribeBucketProps(const pbc::RpbBucketProps& props) {
  std::vector<PropValue> out;
  for (const PropSpec& spec : Specs()) {
    if (!spec.has(props)) continue;
    PropValue v;
    v.name = spec.name;
    v.kind = spec.kind;
    switch (spec.kind) {
      case PropKind::kNumber:
      case PropKind::kQuorum:
        v.number = spec.get_number(props);
        break;
      case PropKind::kBool:
        v.flag = spec.get_number(props) != 0;
        break;
      case PropKind::kText:
        v.text = spec.get_text(props);
        break;
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace causeway::client
