#include "base/host_port.h"

namespace causeway {
namespace {

constexpr size_t kMaxPortDigits = 5;

bool ParsePort(std::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > kMaxPortDigits) return false;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

// Splits "[HOST]" or "[HOST]:PORT"; `port` stays empty when absent.
Status SplitBracketed(std::string_view text, std::string_view* host,
                      std::optional<std::string_view>* port) {
  const size_t close = text.find(']');
  if (close == std::string_view::npos) {
    return Status::InvalidArgument("missing ']'");
  }
  *host = text.substr(1, close - 1);
  const std::string_view rest = text.substr(close + 1);
  if (rest.empty()) return Status::Ok();
  if (rest.front() != ':') return Status::InvalidArgument("junk after ']'");
  *port = rest.substr(1);
  return Status::Ok();
}

// Splits unbracketed text; with a default port, text with no colon or
// several (a bare IPv6 address) is a host alone.
void SplitPlain(std::string_view text, bool port_optional,
                std::string_view* host, std::optional<std::string_view>* port) {
  const size_t colon = text.rfind(':');
  const bool one_colon =
      colon != std::string_view::npos && text.find(':') == colon;
  if (colon == std::string_view::npos || (port_optional && !one_colon)) {
    *host = text;
    return;
  }
  *host = text.substr(0, colon);
  *port = text.substr(colon + 1);
}

}  // namespace

Status ParseHostPort(std::string_view text, HostPort* out,
                     std::optional<uint16_t> default_port) {
  if (text.empty()) return Status::InvalidArgument("empty");
  std::string_view host;
  std::optional<std::string_view> port_text;
  if (text.front() == '[') {
    Status s = SplitBracketed(text, &host, &port_text);
    if (!s.ok()) return s;
  } else {
    SplitPlain(text, default_port.has_value(), &host, &port_text);
  }
  if (port_text && port_text->empty()) {
    return Status::InvalidArgument("empty port");
  }
  if (!port_text && !default_port) return Status::InvalidArgument("no port");
  if (host.empty()) return Status::InvalidArgument("empty host");
  uint16_t port = default_port.value_or(0);
  if (port_text && !ParsePort(*port_text, &port)) {
    return Status::InvalidArgument("port must be a number from 1 to 65535");
  }
  out->host.assign(host);
  out->port = port;
  return Status::Ok();
}

std::string FormatHostPort(std::string_view host, uint16_t port) {
  const bool bracketed =
      !host.empty() && host.front() == '[' && host.back() == ']';
  const bool needs_brackets =
      host.find(':') != std::string_view::npos && !bracketed;
  std::string out;
  if (needs_brackets) out.push_back('[');
  out.append(host);
  if (needs_brackets) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

}  // namespace causeway
