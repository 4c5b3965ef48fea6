#pragma once
// AsioEnv: the node process's replication::Env. Timers are Asio steady timers
// on the node's io_context, so every callback runs on the logic thread that
// runs that io_context; the clocks are std::chrono's steady and system
// clocks; Random() is a std::mt19937_64 seeded from std::random_device.
// WallMillis() may carry an offset (fault injection's clock skew); the
// monotonic clock and the timers never do.
//
// Must be used only from the logic thread. The io_context must outlive the
// AsioEnv. Destroying the AsioEnv cancels its pending timers: none of their
// callbacks runs afterwards, even one whose deadline had already passed.
// Asio stays out of this header so that including it is cheap.

#include <cstdint>
#include <functional>
#include <memory>

#include "replication/env.h"

namespace boost::asio {
class io_context;
}

namespace causeway::node {

class AsioEnv : public replication::Env {
 public:
  explicit AsioEnv(boost::asio::io_context& io);
  ~AsioEnv() override;
  AsioEnv(const AsioEnv&) = delete;
  AsioEnv& operator=(const AsioEnv&) = delete;

  uint64_t MonotonicMillis() override;
  uint64_t WallMillis() override;
  // Never runs `fn` inline, even with a zero delay: it always goes through
  // the io_context. Timers with different deadlines fire in deadline order.
  replication::TimerId After(uint64_t delay_ms,
                             std::function<void()> fn) override;
  // Unknown, fired and already cancelled ids are ignored.
  void Cancel(replication::TimerId id) override;
  uint64_t Random() override;

  // Added to every WallMillis() reading from now on (a reading that would
  // fall before 1970 is 0). The HLC copes with the jump as with any clock
  // step: it never goes backwards.
  void SetWallOffsetMillis(int64_t offset_ms);
  int64_t wall_offset_millis() const;

  // Cancels every pending timer (used at shutdown).
  void CancelAll();
  size_t pending_timers() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace causeway::node
