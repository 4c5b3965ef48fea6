#include "client/format.h"

#include <cstdio>
#include <ctime>

#include "client/props.h"

namespace causeway::client {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string EnsureNewline(std::string_view value) {
  std::string out(value);
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  return out;
}

std::string RenderSiblingJson(const pbc::RpbContent& c) {
  JsonObject o;
  if (IsValidUtf8(c.value())) {
    o.String("value", c.value()).Bool("base64", false);
  } else {
    o.String("value", Base64Encode(c.value())).Bool("base64", true);
  }
  if (c.has_content_type()) {
    o.Raw("content_type", JsonName(c.content_type()));
  } else {
    o.Null("content_type");
  }
  if (c.has_charset()) o.Raw("charset", JsonName(c.charset()));
  if (c.has_content_encoding()) {
    o.Raw("content_encoding", JsonName(c.content_encoding()));
  }
  if (c.has_last_mod()) {
    o.String("last_modified",
             FormatTimestamp(c.last_mod(), c.last_mod_usecs()));
  } else {
    o.Null("last_modified");
  }
  if (c.has_vtag()) o.Raw("vtag", JsonName(c.vtag()));
  o.Bool("deleted", c.deleted());
  if (c.usermeta_size() > 0) {
    std::vector<std::string> meta;
    for (const pbc::RpbPair& p : c.usermeta()) {
      meta.push_back(JsonObject()
                         .Raw("key", JsonName(p.key()))
                         .Raw("value", JsonName(p.value()))
                         .str());
    }
    o.Raw("usermeta", JsonArray(meta));
  }
  return o.str();
}

std::string PropJson(const PropValue& v) {
  switch (v.kind) {
    case PropKind::kNumber:
      return std::to_string(v.number);
    case PropKind::kBool:
      return v.flag ? "true" : "false";
    case PropKind::kQuorum: {
      std::string name = QuorumName(static_cast<uint32_t>(v.number));
      // Symbolic values as strings, counts as numbers.
      if (name[0] >= '0' && name[0] <= '9') return name;
      return JsonString(name);
    }
    case PropKind::kText:
      return JsonName(v.text);
  }
  return "null";
}

std::string PropText(const PropValue& v) {
  switch (v.kind) {
    case PropKind::kNumber:
      return std::to_string(v.number);
    case PropKind::kBool:
      return v.flag ? "true" : "false";
    case PropKind::kQuorum:
      return QuorumName(static_cast<uint32_t>(v.number));
    case PropKind::kText:
      return v.text;
  }
  return "";
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

Status Base64Decode(std::string_view text, std::string* out) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  if (text.size() % 4 != 0) {
    return Status::InvalidArgument("not base64: length is not a multiple of 4");
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding++;
  if (padding == 1 && text.size() >= 2 && text[text.size() - 2] == '=') {
    padding++;
  }
  std::string result;
  result.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const size_t pad_here = last ? padding : 0;
    uint32_t n = 0;
    for (size_t j = 0; j < 4; ++j) {
      int v = 0;
      if (j < 4 - pad_here) {
        v = Base64Value(text[i + j]);
        if (v < 0) {
          return Status::InvalidArgument("not base64: unexpected character");
        }
      }
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    result.push_back(static_cast<char>((n >> 16) & 0xFF));
    if (pad_here < 2) result.push_back(static_cast<char>((n >> 8) & 0xFF));
    if (pad_here < 1) result.push_back(static_cast<char>(n & 0xFF));
    // Bits below the last full byte must be zero in canonical base64.
    if ((pad_here == 1 && (n & 0xFF) != 0) ||
        (pad_here == 2 && (n & 0xFFFF) != 0)) {
      return Status::InvalidArgument("not base64: non-canonical padding bits");
    }
  }
  *out = std::move(result);
  return Status::Ok();
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const uint8_t c = static_cast<uint8_t>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string JsonName(std::string_view bytes) {
  if (IsValidUtf8(bytes)) return JsonString(bytes);
  return JsonObject().String("base64", Base64Encode(bytes)).str();
}

JsonObject& JsonObject::Raw(std::string_view key, std::string_view json) {
  if (body_.size() > 1) body_.push_back(',');
  body_ += JsonString(key);
  body_.push_back(':');
  body_ += json;
  return *this;
}

JsonObject& JsonObject::String(std::string_view key, std::string_view utf8) {
  return Raw(key, JsonString(utf8));
}

JsonObject& JsonObject::Bool(std::string_view key, bool value) {
  return Raw(key, value ? "true" : "false");
}

JsonObject& JsonObject::Number(std::string_view key, int64_t value) {
  return Raw(key, std::to_string(value));
}

JsonObject& JsonObject::Unsigned(std::string_view key, uint64_t value) {
  return Raw(key, std::to_string(value));
}

JsonObject& JsonObject::Null(std::string_view key) { return Raw(key, "null"); }

std::string JsonArray(const std::vector<std::string>& rendered_items) {
  std::string out = "[";
  for (size_t i = 0; i < rendered_items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += rendered_items[i];
  }
  out.push_back(']');
  return out;
}

std::string FormatTimestamp(uint32_t secs, uint32_t usecs) {
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (usecs != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%06u", usecs % 1000000);
    out += frac;
  }
  out.push_back('Z');
  return out;
}

std::string RenderObjectText(const Contents& contents,
                             const ObjectTextOptions& options) {
  std::string out;
  if (contents.size() == 1) {
    const std::string& value = contents.Get(0).value();
    out += value;
    if (options.terminal && (value.empty() || value.back() != '\n')) {
      out.push_back('\n');
    }
    return out;
  }
  const std::string total = std::to_string(contents.size());
  for (int i = 0; i < contents.size(); ++i) {
    const pbc::RpbContent& c = contents.Get(i);
    out += "sibling " + std::to_string(i + 1) + " of " + total + ": ";
    out += c.has_content_type() && !c.content_type().empty()
               ? c.content_type()
               : std::string("no content type");
    if (c.deleted()) out += ", deleted";
    if (c.has_last_mod()) {
      out += ", last modified " +
             FormatTimestamp(c.last_mod(), c.last_mod_usecs());
    }
    out.push_back('\n');
    // Siblings are separated by their headers, so each value ends a line.
    if (!c.deleted() || !c.value().empty()) out += EnsureNewline(c.value());
  }
  return out;
}

std::string RenderObjectJson(bool found, const Contents& contents,
                             std::string_view vclock, bool has_vclock) {
  std::vector<std::string> siblings;
  for (const pbc::RpbContent& c : contents) {
    siblings.push_back(RenderSiblingJson(c));
  }
  JsonObject o;
  o.Bool("found", found);
  if (has_vclock) {
    o.String("vclock", Base64Encode(vclock));
  } else {
    o.Null("vclock");
  }
  o.Raw("siblings", JsonArray(siblings));
  return o.str();
}

std::string RenderBucketPropsText(const pbc::RpbBucketProps& props) {
  std::string out;
  for (const PropValue& v : DescribeBucketProps(props)) {
    out += v.name + ": " + PropText(v) + "\n";
  }
  return out;
}

std::string RenderBucketPropsJson(const pbc::RpbBucketProps& props) {
  JsonObject o;
  for (const PropValue& v : DescribeBucketProps(props)) {
    o.Raw(v.name, PropJson(v));
  }
  return o.str();
}

std::string RenderPreflistText(const pbc::RpbGetBucketKeyPreflistResp& resp) {
  std::string out;
  for (const pbc::RpbBucketKeyPreflistItem& item : resp.preflist()) {
    out += std::to_string(item.partition()) + " " + item.node() + " " +
           (item.primary() ? "primary" : "fallback") + "\n";
  }
  return out;
}

std::string RenderPreflistJson(const pbc::RpbGetBucketKeyPreflistResp& resp) {
  std::vector<std::string> items;
  for (const pbc::RpbBucketKeyPreflistItem& item : resp.preflist()) {
    items.push_back(JsonObject()
                        .Number("partition", item.partition())
                        .Raw("node", JsonName(item.node()))
                        .Bool("primary", item.primary())
                        .str());
  }
  return JsonObject().Raw("preflist", JsonArray(items)).str();
}

}  // namespace causeway::client
