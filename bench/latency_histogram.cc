#include "bench/latency_histogram.h"

#include <bit>
#include <cmath>

namespace causeway::bench {
namespace {

constexpr uint64_t kSubBuckets = uint64_t{1}
                                 << LatencyHistogram::kSubBucketBits;
// Values below this are their own bucket.
constexpr uint64_t kExactLimit = 2 * kSubBuckets;

}  // namespace

size_t LatencyHistogram::BucketOf(uint64_t value) {
  if (value < kExactLimit) return static_cast<size_t>(value);
  int msb = std::bit_width(value) - 1;  // >= kSubBucketBits + 1
  int shift = msb - kSubBucketBits;     // >= 1
  uint64_t top = value >> shift;        // in [kSubBuckets, 2 * kSubBuckets)
  return static_cast<size_t>(kExactLimit + (shift - 1) * kSubBuckets +
                             (top - kSubBuckets));
}

uint64_t LatencyHistogram::BucketUpperBound(size_t bucket) {
  if (bucket < kExactLimit) return bucket;
  uint64_t j = bucket - kExactLimit;
  int shift = static_cast<int>(j / kSubBuckets) + 1;
  uint64_t top = kSubBuckets + j % kSubBuckets;
  uint64_t next = (top + 1) << shift;  // wraps to 0 only for the last bucket
  return next - 1;
}

void LatencyHistogram::Record(uint64_t micros) {
  buckets_[BucketOf(micros)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (micros > seen &&
         !max_.compare_exchange_weak(seen, micros, std::memory_order_relaxed)) {
  }
}

uint64_t LatencyHistogram::ValueAtPercentile(double percent) const {
  uint64_t total = count();
  if (total == 0) return 0;
  if (percent < 0) percent = 0;
  if (percent > 100) percent = 100;
  auto rank = static_cast<uint64_t>(std::ceil(percent / 100.0 * total));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t b = 0; b < kBucketCount; ++b) {
    seen += buckets_[b].load(std::memory_order_relaxed);
    if (seen >= rank) {
      uint64_t upper = BucketUpperBound(b);
      return upper < max() ? upper : max();
    }
  }
  return max();
}

}  // namespace causeway::bench
