#include "tests/fault/history.h"

#include <cstdio>

namespace causeway::fault {

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFail:
      return "fail";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

const char* OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kAdd:
      return "add";
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
    case OpKind::kIncrement:
      return "increment";
    case OpKind::kDtAdd:
      return "dt-add";
    case OpKind::kDtRemove:
      return "dt-remove";
  }
  return "?";
}

void History::Add(Op op) {
  std::lock_guard<std::mutex> lock(mu_);
  ops_.push_back(std::move(op));
}

std::vector<Op> History::ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

size_t History::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_.size();
}

namespace {

void AppendString(std::string* out, const std::string& s) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

}  // namespace

std::string ToJsonLines(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) {
    out += "{\"process\":" + std::to_string(op.process) + ",\"kind\":\"" +
           OpKindName(op.kind) + "\",\"node\":";
    AppendString(&out, op.node);
    out += ",\"key\":";
    AppendString(&out, op.key);
    out += ",\"value\":";
    AppendString(&out, op.value);
    out += ",\"values\":[";
    for (size_t i = 0; i < op.values.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendString(&out, op.values[i]);
    }
    out += "],\"siblings\":" + std::to_string(op.siblings);
    if (op.read_missed_own_previous) {
      out += ",\"read_missed_own_previous\":true";
    }
    if (op.kind == OpKind::kIncrement) {
      out += ",\"amount\":" + std::to_string(op.amount);
    }
    out += ",\"outcome\":\"" + std::string(OutcomeName(op.outcome)) +
           "\",\"invoke_ms\":" + std::to_string(op.invoke_ms) +
           ",\"complete_ms\":" + std::to_string(op.complete_ms);
    if (!op.error.empty()) {
      out += ",\"error\":";
      AppendString(&out, op.error);
    }
    out += "}\n";
  }
  return out;
}

}  // namespace causeway::fault
