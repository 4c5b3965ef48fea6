#pragma once
// The few pieces of redis's protocol (RESP2) the bench needs to drive
// redis-server with the same connection model, pacing and latency accounting
// as it drives Causeway: commands as arrays of bulk strings, and a reply
// parser for simple strings, errors, integers and bulk strings. Replies are
// parsed from a byte buffer that may hold less than a whole reply, so the
// caller reads until ParseReply says it is complete.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace causeway::bench::resp {

// Appends one command (e.g. {"SET", key, value}) to *out.
void AppendCommand(std::initializer_list<std::string_view> args,
                   std::string* out);

struct Reply {
  enum class Kind { kSimple, kError, kInteger, kBulk, kNil };
  Kind kind = Kind::kNil;
  // The text of a simple string or error, a bulk string's bytes.
  std::string text;
  int64_t integer = 0;
};

enum class ParseResult { kComplete, kNeedMore, kMalformed };

// Parses the reply at the start of `in`. kComplete sets *reply and
// *consumed (the reply's bytes, which the caller drops); kNeedMore means
// `in` ends inside the reply; kMalformed sets *error. A bulk string longer
// than `max_bulk_bytes` is malformed, found before anything is allocated.
// Arrays are not parsed: no command the bench sends answers with one.
ParseResult ParseReply(std::string_view in, uint32_t max_bulk_bytes,
                       Reply* reply, size_t* consumed, std::string* error);

}  // namespace causeway::bench::resp
