#include "base/coding.h"

namespace causeway::coding {
namespace {

// Reads one varint; `canonical` refuses padded encodings (a last byte of 0
// after the first).
bool GetVarint(std::string_view* in, uint64_t* v, bool canonical) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarint64Bytes && i < in->size(); ++i) {
    const auto byte = static_cast<uint8_t>((*in)[i]);
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (i == kMaxVarint64Bytes - 1 && byte > 1) return false;
    result |= uint64_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      if (canonical && byte == 0 && i > 0) return false;
      in->remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;  // truncated, or longer than ten bytes
}

}  // namespace

bool GetVarint64(std::string_view* in, uint64_t* v) {
  return GetVarint(in, v, /*canonical=*/false);
}

bool GetCanonicalVarint64(std::string_view* in, uint64_t* v) {
  return GetVarint(in, v, /*canonical=*/true);
}

}  // namespace causeway::coding
