#pragma once
// Bytes from outside (bucket and key names, node and cluster names a peer
// claims, addresses, a server's words) quoted in a log line, an error
// message or on a terminal. The one rule everything that quotes such bytes
// follows:
//
// - printable ASCII (0x20-0x7e) and well-formed multi-byte UTF-8 stay as
//   they are;
// - every other byte (control characters, DEL, bytes of malformed UTF-8)
//   and the backslash itself become \xNN, lower-case hex, so the output
//   reads back unambiguously: "back\slash" is shown as "back\x5cslash".

#include <cstddef>
#include <string>
#include <string_view>

namespace causeway {

// `bytes` in the form above. With `max_bytes`, only the first max_bytes
// bytes are shown, followed by "..." when there were more (a sequence cut
// at the limit shows as \xNN).
std::string Printable(std::string_view bytes,
                      size_t max_bytes = std::string_view::npos);

// True when `text` holds a space or an ASCII control character (bytes up
// to 0x20, and 0x7f): such text cannot be a node name, a cluster name or an
// address.
bool HasSpaceOrControl(std::string_view text);

}  // namespace causeway
