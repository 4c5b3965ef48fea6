#include "bench/options.h"

#include <charconv>
#include <limits>

namespace causeway::bench {
namespace {

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Whole-string unsigned decimal, no sign, no overflow.
template <typename T>
bool ParseUnsigned(std::string_view s, T* out) {
  if (s.empty()) return false;
  T value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  *out = value;
  return true;
}

}  // namespace

Status ParseNodes(std::string_view text, std::vector<NodeAddress>* out) {
  std::vector<NodeAddress> nodes;
  for (std::string_view item : Split(text, ',')) {
    item = Trim(item);
    if (item.empty()) {
      return Status::InvalidArgument("empty node in '" + std::string(text) +
                                     "'");
    }
    NodeAddress node;
    std::string_view port_text;
    if (item.front() == '[') {
      size_t close = item.find(']');
      if (close == std::string_view::npos || close + 1 >= item.size() ||
          item[close + 1] != ':') {
        return Status::InvalidArgument("bad node '" + std::string(item) +
                                       "': expected [IPV6]:PORT");
      }
      node.host = std::string(item.substr(1, close - 1));
      port_text = item.substr(close + 2);
    } else {
      size_t colon = item.rfind(':');
      if (colon == std::string_view::npos || item.find(':') != colon) {
        return Status::InvalidArgument("bad node '" + std::string(item) +
                                       "': expected HOST:PORT");
      }
      node.host = std::string(item.substr(0, colon));
      port_text = item.substr(colon + 1);
    }
    if (node.host.empty()) {
      return Status::InvalidArgument("bad node '" + std::string(item) +
                                     "': empty host");
    }
    if (!ParseUnsigned(port_text, &node.port) || node.port == 0) {
      return Status::InvalidArgument("bad node '" + std::string(item) +
                                     "': port must be 1-65535");
    }
    nodes.push_back(std::move(node));
  }
  *out = std::move(nodes);
  return Status::Ok();
}

Status CheckMix(const OpMix& mix) {
  if (mix.total() == 0) {
    return Status::InvalidArgument("mix has no operation with weight > 0");
  }
  if (mix.total() > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument("mix weights too large");
  }
  if (mix.has_kv() && mix.has_data_type()) {
    return Status::InvalidArgument(
        "mix combines key/value operations (put, get) with data-type "
        "operations (incr, dtget, sadd); one bucket type cannot serve both");
  }
  if (mix.incr > 0 && mix.sadd > 0) {
    return Status::InvalidArgument(
        "mix combines incr (a counter) and sadd (a set); one bucket type "
        "holds one datatype");
  }
  return Status::Ok();
}

Status ParseMix(std::string_view text, OpMix* out) {
  OpMix mix;
  struct Kind {
    const char* name;
    uint32_t OpMix::*weight;
    bool seen = false;
  };
  Kind kinds[] = {{"put", &OpMix::put},
                  {"get", &OpMix::get},
                  {"incr", &OpMix::incr},
                  {"dtget", &OpMix::dtget},
                  {"sadd", &OpMix::sadd}};
  for (std::string_view item : Split(text, ',')) {
    item = Trim(item);
    std::string_view name = item;
    uint32_t weight = 1;
    size_t eq = item.find('=');
    if (eq != std::string_view::npos) {
      name = Trim(item.substr(0, eq));
      if (!ParseUnsigned(Trim(item.substr(eq + 1)), &weight)) {
        return Status::InvalidArgument("bad weight in '" + std::string(item) +
                                       "'");
      }
    }
    Kind* kind = nullptr;
    for (Kind& k : kinds) {
      if (name == k.name) kind = &k;
    }
    if (kind == nullptr) {
      return Status::InvalidArgument(
          "unknown operation '" + std::string(name) +
          "' in mix (known: put, get, incr, dtget, sadd)");
    }
    if (kind->seen) {
      return Status::InvalidArgument("operation '" + std::string(name) +
                                     "' given twice in mix");
    }
    kind->seen = true;
    mix.*(kind->weight) = weight;
  }
  Status s = CheckMix(mix);
  if (!s.ok()) return s;
  *out = mix;
  return Status::Ok();
}

Status ParseQuorum(std::string_view text, uint32_t* out) {
  text = Trim(text);
  if (text == "one") {
    *out = kQuorumOne;
  } else if (text == "quorum") {
    *out = kQuorumQuorum;
  } else if (text == "all") {
    *out = kQuorumAll;
  } else if (text == "default") {
    *out = kQuorumDefault;
  } else {
    uint32_t n = 0;
    // Numbers in the symbolic range would silently mean something else.
    if (!ParseUnsigned(text, &n) || n >= kQuorumDefault) {
      return Status::InvalidArgument(
          "bad quorum '" + std::string(text) +
          "': expected a number or one|quorum|all|default");
    }
    *out = n;
  }
  return Status::Ok();
}

}  // namespace causeway::bench
