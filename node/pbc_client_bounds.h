#pragma once
// The bounds a client connection lives under, as plain logic with no
// sockets or timers so they can be tested on their own:
//
// - BufferBudget: bytes held for partial frames across every client
//   connection. A connection reserves what it holds (and what a frame
//   header announces, before the body is allocated); a reservation that
//   would take the total over the budget is refused and the connection is
//   to be closed.
// - ConnectionClock: when a connection has been idle too long (no request
//   in progress and nothing received), or a frame it started sending has
//   not finished within the frame deadline. Zero disables either.

#include <chrono>
#include <cstdint>
#include <optional>

#include "node/log_limiter.h"

namespace causeway::node {

class BufferBudget {
 public:
  // 0: no budget (every reservation succeeds).
  explicit BufferBudget(uint64_t limit_bytes) : limit_(limit_bytes) {}

  // Moves one connection's holding from `*held` to `want` bytes. Shrinking
  // always succeeds; growing fails (and leaves `*held` as it was) if the
  // total would go over the limit.
  bool Resize(uint64_t* held, uint64_t want);
  uint64_t used() const { return used_; }
  uint64_t limit() const { return limit_; }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
};

class ConnectionClock {
 public:
  using Clock = std::chrono::steady_clock;
  using Duration = std::chrono::milliseconds;
  enum class Expiry { kNone, kIdle, kFrameDeadline };

  ConnectionClock(Duration idle_timeout, Duration frame_deadline,
                  Clock::time_point now)
      : idle_timeout_(idle_timeout),
        frame_deadline_(frame_deadline),
        last_activity_(now) {}

  // Bytes arrived, a request finished or a reply was written.
  void Activity(Clock::time_point now) { last_activity_ = now; }
  // The server waits for the rest of a frame from now (no-op if already
  // waiting for the same frame).
  void FrameWaiting(Clock::time_point now);
  // No partial frame is being waited for (it completed, or reading paused).
  void FrameDone() { frame_started_.reset(); }
  bool frame_waiting() const { return frame_started_.has_value(); }

  // What, if anything, has expired at `now`; `busy` means a request is in
  // progress, which is never idle.
  Expiry Check(Clock::time_point now, bool busy) const;
  // The earliest time at which Check(_, busy) may report an expiry; nullopt
  // when none can come without a change of state (a busy connection with
  // no frame awaited, or both bounds disabled).
  std::optional<Clock::time_point> NextCheck(bool busy) const;

 private:
  Duration idle_timeout_;
  Duration frame_deadline_;
  Clock::time_point last_activity_;
  std::optional<Clock::time_point> frame_started_;
};

}  // namespace causeway::node
