#pragma once
// Env: everything the deterministic core may ask of the outside world. The
// node process implements it with Boost.Asio (real sockets, timers, clock);
// the simulator implements it with a seeded virtual network and clock, so a
// whole cluster runs in one thread and a seed replays a run bit for bit.
// Nothing under replication/ may reach the world any other way.

#include <cstdint>
#include <functional>
#include <string>

namespace causeway::replication {

using NodeName = std::string;
using TimerId = uint64_t;

class Env {
 public:
  virtual ~Env() = default;

  // Milliseconds from a monotonic source; only differences are meaningful.
  virtual uint64_t MonotonicMillis() = 0;
  // Milliseconds since the Unix epoch from the physical clock, the source of
  // hybrid logical clocks. May jump, may be skewed; callers must cope.
  virtual uint64_t WallMillis() = 0;
  // Runs `fn` on the node's logic thread after `delay_ms`, unless cancelled.
  virtual TimerId After(uint64_t delay_ms, std::function<void()> fn) = 0;
  virtual void Cancel(TimerId id) = 0;
  virtual uint64_t Random() = 0;
};

}  // namespace causeway::replication
