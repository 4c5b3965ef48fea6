#pragma once
// ClockLease: the node's hybrid logical clock, kept monotonic across
// restarts. Before a timestamp is issued, a high-water mark above it is
// persisted; a restarted node resumes above the last mark, so even a
// physical clock that went backwards never makes it issue a smaller
// timestamp. The mark is renewed a lease ahead of the clock, so it is
// written about once per lease, not once per timestamp. A restarted node's
// clock starts at the mark, so the lease must stay below the bound on
// clock drift (clock_guard.h), or peers refuse a node that restarted
// quickly until its physical clock catches up.
//
// Pure: physical time is passed in and persistence is the caller's
// function, so the simulator runs it as it is.

#include <cstdint>
#include <functional>

#include "base/status.h"
#include "replication/causal/hlc.h"

namespace causeway::replication::causal {

class ClockLease {
 public:
  static constexpr uint64_t kLeaseMs = 2000;
  // Stores the mark durably; called before a timestamp beyond the last
  // stored mark is issued.
  using Persist = std::function<Status(uint64_t high_water_ms)>;

  explicit ClockLease(Persist persist, uint64_t lease_ms = kLeaseMs)
      : persist_(std::move(persist)), lease_ms_(lease_ms) {}

  // The mark a previous run persisted. REQUIRES: before the first Issue.
  void Restore(uint64_t high_water_ms);
  // The next timestamp, at physical time `physical_ms`.
  HlcTimestamp Issue(uint64_t physical_ms);
  // Observes a peer's timestamp unless it leads `physical_ms` by more than
  // `max_offset_ms` (HybridClock::ObserveWithin); false when refused. The
  // mark is renewed at the next Issue, before anything above it is issued.
  bool Observe(HlcTimestamp remote, uint64_t physical_ms,
               uint64_t max_offset_ms) {
    return clock_.ObserveWithin(remote, physical_ms, max_offset_ms).has_value();
  }
  HlcTimestamp last() const { return clock_.last(); }
  // Persists a mark above every timestamp issued (at shutdown).
  Status Close();

  uint64_t persisted() const { return persisted_; }

 private:
  Status Renew(uint64_t high_water_ms);

  Persist persist_;
  const uint64_t lease_ms_;
  HybridClock clock_;
  uint64_t persisted_ = 0;
};

}  // namespace causeway::replication::causal
