#pragma once
// Output formatting for the CLI: base64, UTF-8 checks, a minimal JSON
// builder, and renderers that turn reply messages into the text or JSON the
// user sees. Pure functions returning strings, so every format is testable
// without a server.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/utf8.h"
#include "proto/riak.pb.h"

namespace causeway::client {

// Standard base64 (RFC 4648 alphabet, '=' padding).
std::string Base64Encode(std::string_view bytes);
// Strict: rejects characters outside the alphabet, bad padding and
// non-zero trailing bits, so two different inputs never decode alike.
// Surrounding whitespace is ignored (it is easy to paste).
Status Base64Decode(std::string_view text, std::string* out);

// Well-formed UTF-8: no overlong forms, surrogates or code points past
// U+10FFFF (base/utf8.h).
using causeway::IsValidUtf8;

// A JSON string literal (quotes included). `text` must be valid UTF-8;
// control characters are escaped.
std::string JsonString(std::string_view text);
// A string when `bytes` is valid UTF-8, else {"base64": "..."}: the form
// used for names (keys, buckets) that are usually text but need not be.
std::string JsonName(std::string_view bytes);

// Builds one JSON object; values are given already rendered.
class JsonObject {
 public:
  JsonObject& Raw(std::string_view key, std::string_view json);
  JsonObject& String(std::string_view key, std::string_view utf8);
  JsonObject& Bool(std::string_view key, bool value);
  JsonObject& Number(std::string_view key, int64_t value);
  // Counters from the wire are unsigned 64-bit; no sign flip past 2^63.
  JsonObject& Unsigned(std::string_view key, uint64_t value);
  JsonObject& Null(std::string_view key);
  std::string str() const { return body_ + "}"; }

 private:
  std::string body_ = "{";
};

std::string JsonArray(const std::vector<std::string>& rendered_items);

// Riak's last_mod / last_mod_usecs as "2024-05-01T12:00:00.123456Z".
std::string FormatTimestamp(uint32_t secs, uint32_t usecs);

using Contents = google::protobuf::RepeatedPtrField<pbc::RpbContent>;

struct ObjectTextOptions {
  // A lone value gets a trailing newline only on a terminal, so that
  // `causeway get b k > file` stores the exact bytes.
  bool terminal = false;
};

// One sibling: the raw value alone. Several: each under a numbered header
// ("sibling 2 of 3: text/plain, last modified ...").
std::string RenderObjectText(const Contents& contents,
                             const ObjectTextOptions& options);
// {"found":..,"vclock":B64|null,"siblings":[{"value":..,"base64":bool,
//  "content_type":..,"last_modified":..,...}]}
std::string RenderObjectJson(bool found, const Contents& contents,
                             std::string_view vclock, bool has_vclock);

// "NAME: VALUE" lines in the order of BucketPropNames().
std::string RenderBucketPropsText(const pbc::RpbBucketProps& props);
std::string RenderBucketPropsJson(const pbc::RpbBucketProps& props);

// "PARTITION NODE primary|fallback" lines.
std::string RenderPreflistText(const pbc::RpbGetBucketKeyPreflistResp& resp);
std::string RenderPreflistJson(const pbc::RpbGetBucketKeyPreflistResp& resp);

}  // namespace causeway::client
