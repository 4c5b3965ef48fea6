#pragma once
// Small helpers for writing JSON by hand (the admin endpoints render a few
// flat documents; a JSON library would be more than they need). Strings are
// escaped so that any bytes, including invalid UTF-8 from a config file or a
// client, come out as a valid JSON string.

#include <string>
#include <string_view>

namespace causeway::node {

// Appends `text` as a quoted JSON string: quote, backslash and control
// characters escaped, invalid UTF-8 sequences replaced by U+FFFD.
void AppendJsonString(std::string* out, std::string_view text);

// Returns `text` with invalid UTF-8 sequences replaced by U+FFFD; valid text
// comes back unchanged.
std::string SanitizeUtf8(std::string_view text);

}  // namespace causeway::node
