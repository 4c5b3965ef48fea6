#pragma once
// UTF-8 well-formedness, as RFC 3629 defines it: no overlong forms, no
// surrogates (U+D800-U+DFFF), nothing above U+10FFFF. Names, keys and
// messages that reach logs, JSON or a terminal are checked with these
// before they are shown as text.

#include <cstddef>
#include <string_view>

namespace causeway {

// Length (1-4) of the well-formed UTF-8 sequence that starts at text[i], or
// 0 when the bytes there are not one. REQUIRES: i < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t i);

// True when all of `text` is well-formed UTF-8 (the empty string is).
bool IsValidUtf8(std::string_view text);

}  // namespace causeway
