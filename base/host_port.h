#pragma once
// HOST:PORT, the one address syntax of Causeway: client addresses (the
// CLI's --node), peer addresses (what the ring records, join seeds) and the
// addresses the peer transport dials all go through ParseHostPort.
//
// The rule:
// - "[HOST]:PORT": HOST is what lies between the brackets, which is how an
//   IPv6 address is written with a port ("[::1]:8087").
// - Otherwise the port follows the last colon ("node1.example:8087",
//   "10.0.0.1:8087").
// - PORT is 1 to 5 decimal digits with a value from 1 to 65535: no sign,
//   no spaces. HOST is never empty; its characters are not checked here
//   (a caller that needs a plain token checks HasSpaceOrControl).
// - Only where the caller gives a default port may the port be left out:
//   "HOST", "[HOST]", and unbracketed text with more than one colon, which
//   is then a bare IPv6 address ("::1"). Where a port is required, such
//   text is split at its last colon like any other.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace causeway {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};

// Parses `text` by the rule above into `*out` (untouched on error). An
// error is InvalidArgument whose message says what is wrong ("empty port",
// "missing ']'", ...) without quoting `text`: the caller names what the
// text was meant to be.
Status ParseHostPort(std::string_view text, HostPort* out,
                     std::optional<uint16_t> default_port = std::nullopt);

// "HOST:PORT", with HOST in brackets when it holds a colon (an IPv6
// address) and is not bracketed already.
std::string FormatHostPort(std::string_view host, uint16_t port);

}  // namespace causeway
