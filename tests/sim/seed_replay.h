#pragma once
// While a seed runs, a failed CAUSEWAY_ASSERT anywhere in the process (the
// core, storage, the simulator itself) is that seed's failure: before the
// process aborts, stderr names the seed and the command that replays it:
//
//   seed 31 failed an assertion; replay: random_sim_test --seed=31 ...
//
// Scopes nest (the innermost seed is the one reported) and restore the hook
// they replaced. The simulator runs on one thread; so does this.

#include <cstdint>
#include <string>

#include "base/assert.h"

namespace causeway::sim {

class CurrentSeed {
 public:
  CurrentSeed(uint64_t seed, std::string replay_command);
  ~CurrentSeed();
  CurrentSeed(const CurrentSeed&) = delete;
  CurrentSeed& operator=(const CurrentSeed&) = delete;

 private:
  // The assertion hook: prints the innermost current seed's replay line.
  static void OnAssertionFailed();

  const uint64_t seed_;
  const std::string replay_command_;
  CurrentSeed* const outer_;
  const AssertHook previous_hook_;
};

}  // namespace causeway::sim
