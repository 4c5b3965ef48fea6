#pragma once
// What the parts of one randomized run share (see random_sim_test.cc): the
// simulated world, the one random stream that the driver, the workload and
// the nemesis all draw from, the cluster's current members and the log.
//
// A seed replays the same run only while the draws come in the same order:
// the parts take turns on one stream, so moving a Pick or a Chance from one
// place to another changes every run after it.

#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "tests/sim/sim.h"

namespace causeway::sim {

constexpr uint32_t kRing = 16;
constexpr uint32_t kNVal = 3;
constexpr const char* kMultBucket = "m";
constexpr const char* kLwwBucket = "l";
// Default properties (allow_mult=false, last_write_wins=false): concurrent
// values resolve to the newest timestamp.
constexpr const char* kNewestBucket = "n";
// A client gives up on a request it has no answer for after this long (the
// node it asked may have crashed with the request).
constexpr uint64_t kClientTimeoutMs = 10000;

class RunContext {
 public:
  RunContext(uint64_t seed, bool verbose)
      : world(seed),
        rng(seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL),
        verbose(verbose) {}

  uint64_t Pick(uint64_t n) { return n == 0 ? 0 : rng() % n; }
  bool Chance(double p) {
    return std::uniform_real_distribution<>(0, 1)(rng) < p;
  }
  void Log(const std::string& line) const {
    if (verbose) std::cerr << "[" << world.now() << "ms] " << line << "\n";
  }

  // A member that is up, picked at random; null if none is.
  SimNode* AnyUpMember() {
    std::vector<SimNode*> up;
    for (const auto& n : members) {
      if (world.node(n).up()) up.push_back(&world.node(n));
    }
    return up.empty() ? nullptr : up[Pick(up.size())];
  }

  World world;
  std::mt19937_64 rng;
  const bool verbose;
  // The cluster's members: formed by the driver, changed by the nemesis's
  // joins and leaves.
  std::vector<NodeName> members;
  // The workload is over: clients finish what they are doing and the
  // nemesis stops.
  bool stopping = false;
};

}  // namespace causeway::sim
