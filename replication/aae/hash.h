#pragma once
// Hashing for anti-entropy trees: a 64-bit, seedable, streaming hash whose
// value depends only on the sequence of fields added, so every node computes
// the same hash for the same object on any machine (no std::hash, no
// pointer values, explicit little-endian reads). It is not cryptographic: a
// collision can only hide a divergence from one exchange, and a replica that
// forges hashes can already forge objects.
//
// Fields are framed (numbers fixed-width, byte strings length-prefixed), so
// ("ab", "c") and ("a", "bc") hash differently.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace causeway::replication::aae {

class Hasher {
 public:
  explicit Hasher(uint64_t seed) : state_(Mix(seed ^ kOdd)) {}

  Hasher& Add(uint64_t v) {
    state_ = Mix(state_ ^ v) + kOdd;
    return *this;
  }
  Hasher& Add(std::string_view bytes) {
    Add(static_cast<uint64_t>(bytes.size()));
    const char* p = bytes.data();
    size_t n = bytes.size();
    // Eight bytes per round; the tail is zero-padded, which the length
    // added above keeps unambiguous.
    while (n >= 8) {
      Add(Load(p, 8));
      p += 8;
      n -= 8;
    }
    if (n > 0) Add(Load(p, n));
    return *this;
  }
  uint64_t Finish() const { return Mix(state_ ^ (state_ >> 29)); }

 private:
  static constexpr uint64_t kOdd = 0x9e3779b97f4a7c15ULL;

  // A bijective avalanche step (xor-shift and odd multiplies): every input
  // bit reaches every output bit, so XOR-combining finished hashes (the
  // segment hashes) behaves like combining random values.
  static uint64_t Mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    x ^= x >> 33;
    return x;
  }
  static uint64_t Load(const char* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
    }
    return v;
  }

  uint64_t state_;
};

}  // namespace causeway::replication::aae
