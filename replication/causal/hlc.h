#pragma once
// Hybrid logical clock (Kulkarni et al.): timestamps that stay close to
// physical time yet never go backwards and respect causality across nodes.
// The physical reading is passed in (from Env::WallMillis), so the clock is
// pure and the simulator can skew it.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

namespace causeway::replication::causal {

struct HlcTimestamp {
  uint64_t wall_ms = 0;
  uint32_t logical = 0;

  auto operator<=>(const HlcTimestamp&) const = default;
  // Order-preserving 64-bit form: 48 bits of milliseconds, 16 logical.
  uint64_t Pack() const;
  static HlcTimestamp Unpack(uint64_t packed);
  std::string ToString() const;
};

class HybridClock {
 public:
  // A local event (minting a write) at physical time `physical_ms`.
  HlcTimestamp Now(uint64_t physical_ms);
  // A message carrying `remote` arrived at physical time `physical_ms`.
  HlcTimestamp Observe(HlcTimestamp remote, uint64_t physical_ms);
  // As Observe, unless `remote` leads `physical_ms` by more than
  // `max_offset_ms`: then the clock stays where it is and nullopt says the
  // remote timestamp was refused. One clock running ahead cannot drag the
  // others along further than the bound.
  std::optional<HlcTimestamp> ObserveWithin(HlcTimestamp remote,
                                            uint64_t physical_ms,
                                            uint64_t max_offset_ms);
  // How far `remote` leads `physical_ms` (0 when it does not).
  static uint64_t Lead(HlcTimestamp remote, uint64_t physical_ms);
  // Restores the high-water mark persisted before a restart.
  void Restore(HlcTimestamp high_water);
  HlcTimestamp last() const { return last_; }

 private:
  HlcTimestamp last_;
};

}  // namespace causeway::replication::causal
