#include "replication/object/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define CAUSEWAY_CRC32C_X86 1
#endif

namespace causeway::replication::object {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

#ifdef CAUSEWAY_CRC32C_X86
// Eight bytes per instruction, then the tail a byte at a time. The target
// attribute lets this one function use SSE4.2 while the rest of the build
// stays portable; it only runs after the run-time check.
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(std::string_view data) {
  const char* p = data.data();
  size_t n = data.size();
  uint64_t crc = 0xFFFFFFFFu;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    crc = _mm_crc32_u64(crc, word);
    p += 8;
    n -= 8;
  }
  auto crc32 = static_cast<uint32_t>(crc);
  while (n > 0) {
    crc32 = _mm_crc32_u8(crc32, static_cast<uint8_t>(*p));
    ++p;
    --n;
  }
  return crc32 ^ 0xFFFFFFFFu;
}
#endif

}  // namespace

namespace internal {

uint32_t Crc32cPortable(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kPolynomial : 0);
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) {
    crc = table[(crc ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

bool HardwareCrc32cAvailable() {
#ifdef CAUSEWAY_CRC32C_X86
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
#else
  return false;
#endif
}

}  // namespace internal

uint32_t Crc32c(std::string_view data) {
#ifdef CAUSEWAY_CRC32C_X86
  if (internal::HardwareCrc32cAvailable()) return Crc32cSse42(data);
#endif
  return internal::Crc32cPortable(data);
}

}  // namespace causeway::replication::object
