#include "replication/causal/hlc.h"

#include <algorithm>
#include <cstdio>

namespace causeway::replication::causal {
namespace {

constexpr uint64_t kLogicalBits = 16;
constexpr uint64_t kMaxLogical = (uint64_t{1} << kLogicalBits) - 1;
constexpr uint64_t kMaxWall = (uint64_t{1} << (64 - kLogicalBits)) - 1;

// Builds a timestamp from a wall reading and a logical count that may have
// outgrown its 16 bits. Rather than wrap (which would go backwards), the
// clock borrows one millisecond from the future: order is preserved and the
// drift is bounded by how many events one millisecond can hold.
// Walls beyond 48 bits (year 10889, so only a hostile remote) saturate: the
// clock then stops advancing instead of wrapping to zero.
HlcTimestamp Normalize(uint64_t wall_ms, uint64_t logical) {
  if (wall_ms > kMaxWall) return HlcTimestamp{kMaxWall, kMaxLogical};
  if (logical > kMaxLogical) {
    if (wall_ms == kMaxWall) return HlcTimestamp{kMaxWall, kMaxLogical};
    wall_ms += 1;
    logical = 0;
  }
  return HlcTimestamp{wall_ms, static_cast<uint32_t>(logical)};
}

}  // namespace

uint64_t HlcTimestamp::Pack() const {
  // Out-of-range parts are clamped rather than allowed to bleed into each
  // other; the clock never produces them, only hostile input could.
  uint64_t wall = std::min<uint64_t>(wall_ms, kMaxWall);
  uint64_t log = std::min<uint64_t>(logical, kMaxLogical);
  return (wall << kLogicalBits) | log;
}

HlcTimestamp HlcTimestamp::Unpack(uint64_t packed) {
  return HlcTimestamp{packed >> kLogicalBits,
                      static_cast<uint32_t>(packed & kMaxLogical)};
}

std::string HlcTimestamp::ToString() const {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%llu.%u",
                static_cast<unsigned long long>(wall_ms), logical);
  return buf;
}

HlcTimestamp HybridClock::Now(uint64_t physical_ms) {
  uint64_t wall = std::max(last_.wall_ms, physical_ms);
  uint64_t logical =
      wall == last_.wall_ms ? uint64_t{last_.logical} + 1 : uint64_t{0};
  last_ = Normalize(wall, logical);
  return last_;
}

HlcTimestamp HybridClock::Observe(HlcTimestamp remote, uint64_t physical_ms) {
  uint64_t wall = std::max({last_.wall_ms, remote.wall_ms, physical_ms});
  uint64_t logical;
  if (wall == last_.wall_ms && wall == remote.wall_ms) {
    logical = uint64_t{std::max(last_.logical, remote.logical)} + 1;
  } else if (wall == last_.wall_ms) {
    logical = uint64_t{last_.logical} + 1;
  } else if (wall == remote.wall_ms) {
    logical = uint64_t{remote.logical} + 1;
  } else {
    logical = 0;
  }
  last_ = Normalize(wall, logical);
  return last_;
}

std::optional<HlcTimestamp> HybridClock::ObserveWithin(HlcTimestamp remote,
                                                       uint64_t physical_ms,
                                                       uint64_t max_offset_ms) {
  if (Lead(remote, physical_ms) > max_offset_ms) return std::nullopt;
  return Observe(remote, physical_ms);
}

uint64_t HybridClock::Lead(HlcTimestamp remote, uint64_t physical_ms) {
  return remote.wall_ms > physical_ms ? remote.wall_ms - physical_ms : 0;
}

void HybridClock::Restore(HlcTimestamp high_water) {
  // A restored mark below the current reading must not rewind the clock.
  last_ = std::max(last_, high_water);
}

}  // namespace causeway::replication::causal
