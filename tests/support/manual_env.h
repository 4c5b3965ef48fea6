#pragma once
// ManualEnv: an Env for tests whose clocks move only when the test says so.
// Timers fire in deadline order (ties by creation) when time is advanced.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <utility>

#include "replication/env.h"

namespace causeway::testing {

class ManualEnv : public replication::Env {
 public:
  explicit ManualEnv(uint64_t seed = 1, uint64_t wall_start_ms = 1700000000000)
      : rng_(seed), wall_offset_(wall_start_ms) {}

  uint64_t MonotonicMillis() override { return now_; }
  uint64_t WallMillis() override { return wall_offset_ + now_; }
  replication::TimerId After(uint64_t delay_ms,
                             std::function<void()> fn) override {
    replication::TimerId id = next_id_++;
    timers_.emplace(std::make_pair(now_ + delay_ms, id), std::move(fn));
    return id;
  }
  void Cancel(replication::TimerId id) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
    }
  }
  uint64_t Random() override { return rng_(); }

  // Moves time forward by `ms`, firing due timers in order.
  void Advance(uint64_t ms) {
    uint64_t until = now_ + ms;
    while (!timers_.empty() && timers_.begin()->first.first <= until) {
      auto node = timers_.extract(timers_.begin());
      // Never backwards: after a Stall, overdue timers fire late.
      now_ = std::max(now_, node.key().first);
      node.mapped()();
    }
    now_ = until;
  }
  // Moves time forward by `ms` without firing anything, as for a process
  // that was stopped: timers then due fire, late, at the next Advance.
  void Stall(uint64_t ms) { now_ += ms; }
  // Shifts the wall clock (a skewed or stepped physical clock).
  void SkewWall(int64_t delta_ms) { wall_offset_ += delta_ms; }
  size_t pending_timers() const { return timers_.size(); }

 private:
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
  uint64_t wall_offset_;
  replication::TimerId next_id_ = 1;
  std::map<std::pair<uint64_t, replication::TimerId>, std::function<void()>>
      timers_;
};

}  // namespace causeway::testing
