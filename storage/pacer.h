// Divides a long stretch of background work into slices with a short sleep
// after each; storage/leveldb_engine.cc says why LevelDB's flushes and
// compactions may want it. Only LevelDB's own background thread sleeps on
// it: the memory engine the simulator runs has no background work, and
// the deterministic core never sees a Pacer.

#ifndef CAUSEWAY_STORAGE_PACER_H_
#define CAUSEWAY_STORAGE_PACER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>

namespace causeway::storage {

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;
  using SleepFn = std::function<void(Clock::duration)>;

  // The first slice starts now. A pause that takes longer than `overrun`
  // (the thread slept, then waited that long for a CPU) ends the pauses:
  // the CPUs are saturated, idle moments are not coming, and each further
  // pause would only starve the work. `now` and `sleep` are the real clock
  // and sleep unless a test replaces them.
  Pacer(
      Clock::duration slice, Clock::duration pause, Clock::duration overrun,
      NowFn now = Clock::now,
      SleepFn sleep = [](Clock::duration d) { std::this_thread::sleep_for(d); })
      : slice_(slice),
        pause_(pause),
        overrun_(overrun),
        now_(std::move(now)),
        sleep_(std::move(sleep)),
        slice_start_(now_()) {}

  // Called between small units of work: once a slice has passed since the
  // slice started, sleeps for the pause, starts the next slice and returns
  // true (unless an overrun ended the pauses).
  bool Tick() {
    if (stopped_ || now_() - slice_start_ < slice_) return false;
    const Clock::time_point before = now_();
    sleep_(pause_);
    ++pauses_;
    slice_start_ = now_();
    if (slice_start_ - before > overrun_) stopped_ = true;
    return true;
  }

  uint64_t pauses() const { return pauses_; }
  bool stopped() const { return stopped_; }

 private:
  const Clock::duration slice_;
  const Clock::duration pause_;
  const Clock::duration overrun_;
  const NowFn now_;
  const SleepFn sleep_;
  Clock::time_point slice_start_;
  uint64_t pauses_ = 0;
  bool stopped_ = false;
};

}  // namespace causeway::storage

#endif  // CAUSEWAY_STORAGE_PACER_H_
