#include "node/pbc_client_bounds.h"

#include <algorithm>

namespace causeway::node {

bool BufferBudget::Resize(uint64_t* held, uint64_t want) {
  if (want <= *held) {
    used_ -= *held - want;
    *held = want;
    return true;
  }
  const uint64_t grow = want - *held;
  if (limit_ != 0 && used_ + grow > limit_) return false;
  used_ += grow;
  *held = want;
  return true;
}

void ConnectionClock::FrameWaiting(Clock::time_point now) {
  if (!frame_started_) frame_started_ = now;
}

ConnectionClock::Expiry ConnectionClock::Check(Clock::time_point now,
                                               bool busy) const {
  if (frame_deadline_.count() > 0 && frame_started_ &&
      now - *frame_started_ >= frame_deadline_) {
    return Expiry::kFrameDeadline;
  }
  if (idle_timeout_.count() > 0 && !busy &&
      now - last_activity_ >= idle_timeout_) {
    return Expiry::kIdle;
  }
  return Expiry::kNone;
}

std::optional<ConnectionClock::Clock::time_point> ConnectionClock::NextCheck(
    bool busy) const {
  std::optional<Clock::time_point> next;
  if (idle_timeout_.count() > 0 && !busy) next = last_activity_ + idle_timeout_;
  if (frame_deadline_.count() > 0 && frame_started_) {
    const Clock::time_point t = *frame_started_ + frame_deadline_;
    next = next ? std::min(*next, t) : t;
  }
  return next;
}

}  // namespace causeway::node
