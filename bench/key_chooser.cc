#include "bench/key_chooser.h"

#include <cmath>
#include <cstdio>

namespace causeway::bench {
namespace {

// With h = 0.2: index = keys * u^(ln h / ln (1 - h)) puts a fraction 1 - h of
// draws below h * keys, at every scale.
const double kParetoExponent = std::log(0.2) / std::log(0.8);

}  // namespace

bool ParseDistribution(std::string_view text, Distribution* out) {
  if (text == "uniform") {
    *out = Distribution::kUniform;
  } else if (text == "pareto") {
    *out = Distribution::kPareto;
  } else {
    return false;
  }
  return true;
}

const char* DistributionName(Distribution d) {
  return d == Distribution::kPareto ? "pareto" : "uniform";
}

KeyChooser::KeyChooser(Distribution distribution, uint64_t keys, uint64_t seed)
    : distribution_(distribution), keys_(keys == 0 ? 1 : keys), rng_(seed) {}

uint64_t KeyChooser::Next() {
  if (distribution_ == Distribution::kUniform) {
    return std::uniform_int_distribution<uint64_t>(0, keys_ - 1)(rng_);
  }
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  auto index = static_cast<uint64_t>(static_cast<double>(keys_) *
                                     std::pow(u, kParetoExponent));
  // u is below 1, but rounding at the top end could still reach keys_.
  return index < keys_ ? index : keys_ - 1;
}

std::string KeyName(uint64_t index) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "k%012llu",
                        static_cast<unsigned long long>(index));
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace causeway::bench
