#include "bench/resp.h"

#include <charconv>

namespace causeway::bench::resp {

void AppendCommand(std::initializer_list<std::string_view> args,
                   std::string* out) {
  out->append("*").append(std::to_string(args.size())).append("\r\n");
  for (std::string_view arg : args) {
    out->append("$").append(std::to_string(arg.size())).append("\r\n");
    out->append(arg).append("\r\n");
  }
}

namespace {

// The line after the type byte, without its CRLF; npos if it is not all in.
size_t LineEnd(std::string_view in) { return in.find("\r\n", 1); }

bool ParseInteger(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

ParseResult ParseReply(std::string_view in, uint32_t max_bulk_bytes,
                       Reply* reply, size_t* consumed, std::string* error) {
  if (in.empty()) return ParseResult::kNeedMore;
  // A header line longer than this is not a reply the bench can get; say
  // so rather than wait for a CRLF that may never come.
  constexpr size_t kMaxLine = 4096;
  size_t end = LineEnd(in);
  if (end == std::string_view::npos) {
    if (in.size() > kMaxLine) {
      *error = "reply line longer than " + std::to_string(kMaxLine) + " bytes";
      return ParseResult::kMalformed;
    }
    return ParseResult::kNeedMore;
  }
  std::string_view line = in.substr(1, end - 1);
  size_t after_line = end + 2;
  switch (in[0]) {
    case '+':
    case '-':
      reply->kind = in[0] == '+' ? Reply::Kind::kSimple : Reply::Kind::kError;
      reply->text.assign(line);
      *consumed = after_line;
      return ParseResult::kComplete;
    case ':':
      if (!ParseInteger(line, &reply->integer)) {
        *error = "bad integer reply";
        return ParseResult::kMalformed;
      }
      reply->kind = Reply::Kind::kInteger;
      *consumed = after_line;
      return ParseResult::kComplete;
    case '$': {
      int64_t length = 0;
      if (!ParseInteger(line, &length) || length < -1) {
        *error = "bad bulk string length";
        return ParseResult::kMalformed;
      }
      if (length == -1) {
        reply->kind = Reply::Kind::kNil;
        reply->text.clear();
        *consumed = after_line;
        return ParseResult::kComplete;
      }
      if (length > max_bulk_bytes) {
        *error = "bulk string of " + std::to_string(length) +
                 " bytes is over the limit of " +
                 std::to_string(max_bulk_bytes);
        return ParseResult::kMalformed;
      }
      size_t total = after_line + static_cast<size_t>(length) + 2;
      if (in.size() < total) return ParseResult::kNeedMore;
      if (in.substr(total - 2, 2) != "\r\n") {
        *error = "bulk string not followed by CRLF";
        return ParseResult::kMalformed;
      }
      reply->kind = Reply::Kind::kBulk;
      reply->text.assign(in.substr(after_line, static_cast<size_t>(length)));
      *consumed = total;
      return ParseResult::kComplete;
    }
    default:
      *error = "unexpected reply type byte " +
               std::to_string(static_cast<unsigned char>(in[0]));
      return ParseResult::kMalformed;
  }
}

}  // namespace causeway::bench::resp
