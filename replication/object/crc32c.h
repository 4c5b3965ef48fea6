#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum that
// ends every object record. Every replica write computes it twice (encoding
// the record it stores and decoding the one it received), so it uses the
// processor's CRC32 instruction where there is one (x86-64 with SSE4.2,
// checked once at run time) and a table otherwise. Both give the same
// values; the tests compare them.

#include <cstdint>
#include <string_view>

namespace causeway::replication::object {

uint32_t Crc32c(std::string_view data);

namespace internal {
// One table lookup per byte; works everywhere.
uint32_t Crc32cPortable(std::string_view data);
// True when Crc32c uses the CRC32 instruction on this machine.
bool HardwareCrc32cAvailable();
}  // namespace internal

}  // namespace causeway::replication::object
