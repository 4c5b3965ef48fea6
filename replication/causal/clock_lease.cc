#include "replication/causal/clock_lease.h"

#include <algorithm>

#include "base/assert.h"

namespace causeway::replication::causal {

void ClockLease::Restore(uint64_t high_water_ms) {
  CAUSEWAY_ASSERT(clock_.last() == HlcTimestamp{});
  clock_.Restore(HlcTimestamp{high_water_ms, 0});
  persisted_ = high_water_ms;
}

HlcTimestamp ClockLease::Issue(uint64_t physical_ms) {
  HlcTimestamp ts = clock_.Now(physical_ms);
  // A failed renewal is tried again at the next timestamp; an engine that
  // cannot write fails the write this timestamp is for as well.
  if (ts.wall_ms >= persisted_) Renew(ts.wall_ms + lease_ms_);
  return ts;
}

Status ClockLease::Close() {
  return Renew(std::max(persisted_, clock_.last().wall_ms + 1));
}

Status ClockLease::Renew(uint64_t high_water_ms) {
  Status s = persist_(high_water_ms);
  if (s.ok()) persisted_ = high_water_ms;
  return s;
}

}  // namespace causeway::replication::causal
