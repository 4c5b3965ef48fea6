#pragma once
// Byte coding: the one codec every hand-written encoder uses (storage keys,
// records, hash-tree entries, hints, version vectors).
//
// - Fixed-width integers are big-endian, so encoded keys sort as numbers;
//   the *LE forms are for formats defined little-endian (protobuf's
//   fixed32 and fixed64, and records that predate this library).
// - Varints are LEB128 (7 bits a byte, low group first), as protobuf's.
// - Length-prefixed strings carry a fixed16, fixed32 or varint length.
//
// Put* append to a string. Get* read from the front of `*in` and advance it
// past what they read; on malformed or short input they return false and
// leave `*in` and the output unchanged. Input is untrusted: every length is
// checked against what is left before anything is copied or allocated.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace causeway::coding {

inline constexpr size_t kMaxVarint64Bytes = 10;

// --- Fixed-width, big-endian ---------------------------------------------

inline void PutFixed16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

inline void PutFixed32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(v >> shift));
  }
}

inline void PutFixed64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(v >> shift));
  }
}

inline std::string EncodeFixed64(uint64_t v) {
  std::string out;
  out.reserve(8);
  PutFixed64(&out, v);
  return out;
}

// REQUIRES: `p` points at at least 2, 4 or 8 readable bytes.
inline uint16_t DecodeFixed16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) |
                               static_cast<uint8_t>(p[1]));
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

inline bool GetFixed16(std::string_view* in, uint16_t* v) {
  if (in->size() < 2) return false;
  *v = DecodeFixed16(in->data());
  in->remove_prefix(2);
  return true;
}

inline bool GetFixed32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = DecodeFixed32(in->data());
  in->remove_prefix(4);
  return true;
}

inline bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeFixed64(in->data());
  in->remove_prefix(8);
  return true;
}

// --- Fixed-width, little-endian ------------------------------------------

inline void PutFixed32LE(std::string* out, uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) {
    out->push_back(static_cast<char>(v >> shift));
  }
}

inline void PutFixed64LE(std::string* out, uint64_t v) {
  for (int shift = 0; shift < 64; shift += 8) {
    out->push_back(static_cast<char>(v >> shift));
  }
}

// REQUIRES: `p` points at at least 4 or 8 readable bytes.
inline uint32_t DecodeFixed32LE(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

inline uint64_t DecodeFixed64LE(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// --- Varints ---------------------------------------------------------------

inline size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Writes the varint at `p`, which must have VarintLength(v) bytes of room;
// returns the byte after it.
inline char* EncodeVarint64(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Accepts any encoding of a 64-bit value in at most ten bytes, padded ones
// included (protobuf's rule); refuses truncated input and values that do
// not fit in 64 bits.
bool GetVarint64(std::string_view* in, uint64_t* v);

// As GetVarint64, but accepts only the shortest encoding of each value, so
// every accepted input re-encodes to the same bytes. For formats whose bytes
// are compared or hashed.
bool GetCanonicalVarint64(std::string_view* in, uint64_t* v);

// --- Length-prefixed strings ------------------------------------------------

namespace internal {

// A length written by `put_length`, then the bytes.
template <typename Length>
void PutLengthPrefixed(std::string* out, std::string_view s,
                       void (*put_length)(std::string*, Length)) {
  assert(s.size() <= std::numeric_limits<Length>::max());
  put_length(out, static_cast<Length>(s.size()));
  out->append(s);
}

// A length read by `get_length`, then that many bytes.
template <typename Length>
bool GetLengthPrefixed(std::string_view* in, std::string_view* s,
                       bool (*get_length)(std::string_view*, Length*)) {
  std::string_view rest = *in;
  Length n = 0;
  if (!get_length(&rest, &n) || n > rest.size()) return false;
  *s = rest.substr(0, n);
  rest.remove_prefix(n);
  *in = rest;
  return true;
}

}  // namespace internal

// A fixed32 length, then the bytes. Fixed-width lengths keep every string of
// one length sorted together, which storage keys rely on.
// REQUIRES: `s` is shorter than 4 GiB.
inline void PutLengthPrefixed32(std::string* out, std::string_view s) {
  internal::PutLengthPrefixed<uint32_t>(out, s, PutFixed32);
}

inline bool GetLengthPrefixed32(std::string_view* in, std::string_view* s) {
  return internal::GetLengthPrefixed<uint32_t>(in, s, GetFixed32);
}

// A fixed16 length, then the bytes: for short names.
// REQUIRES: `s` is shorter than 64 KiB.
inline void PutLengthPrefixed16(std::string* out, std::string_view s) {
  internal::PutLengthPrefixed<uint16_t>(out, s, PutFixed16);
}

inline bool GetLengthPrefixed16(std::string_view* in, std::string_view* s) {
  return internal::GetLengthPrefixed<uint16_t>(in, s, GetFixed16);
}

// A varint length, then the bytes: the compact form for records.
inline void PutLengthPrefixedVarint(std::string* out, std::string_view s) {
  internal::PutLengthPrefixed<uint64_t>(out, s, PutVarint64);
}

inline bool GetLengthPrefixedVarint(std::string_view* in, std::string_view* s) {
  return internal::GetLengthPrefixed<uint64_t>(in, s, GetCanonicalVarint64);
}

}  // namespace causeway::coding
