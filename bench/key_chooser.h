#pragma once
// KeyChooser: picks key indexes in [0, keys) for the load generator.
//
// uniform: every key equally likely.
// pareto:  the self-similar "80/20" distribution of Gray et al., "Quickly
//          generating billion-record synthetic databases" (SIGMOD 1994):
//          80% of operations go to the first 20% of keys, 64% to the first
//          4%, and so on. Hot keys are the low indexes; the server hashes
//          keys onto the ring, so adjacency does not matter.
//
// Deterministic for a given seed. Not thread-safe: one per connection.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace causeway::bench {

enum class Distribution { kUniform, kPareto };

// "uniform" or "pareto"; false for anything else.
bool ParseDistribution(std::string_view text, Distribution* out);
const char* DistributionName(Distribution d);

class KeyChooser {
 public:
  KeyChooser(Distribution distribution, uint64_t keys, uint64_t seed);
  uint64_t Next();

 private:
  Distribution distribution_;
  uint64_t keys_;
  std::mt19937_64 rng_;
};

// The key sent for index i: fixed width, so keys sort like their indexes.
std::string KeyName(uint64_t index);

}  // namespace causeway::bench
