#pragma once
// LatencyHistogram: a fixed-size, log-linear histogram of microsecond
// latencies (the HdrHistogram layout, simplified). Values below 128 are exact;
// above, each power of two is split into 64 buckets, so any reported value is
// within 1/64 (about 1.6%) above the true one. Memory is fixed (about 30 KB)
// however long the run, and Record is safe from several threads at once
// (relaxed atomics: the counts are read only after the threads are joined).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace causeway::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 6;
  static constexpr size_t kBucketCount =
      (size_t{2} << kSubBucketBits) +
      (63 - kSubBucketBits) * (size_t{1} << kSubBucketBits);

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Record(uint64_t micros);

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t max() const { return max_.load(std::memory_order_relaxed); }
  // The smallest recorded-bucket upper bound at or below which `percent` of
  // the values lie (never above max()); 0 when empty.
  uint64_t ValueAtPercentile(double percent) const;

  // Exposed for tests: the bucket of a value and the largest value in a
  // bucket.
  static size_t BucketOf(uint64_t value);
  static uint64_t BucketUpperBound(size_t bucket);

 private:
  std::array<std::atomic<uint64_t>, kBucketCount> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace causeway::bench
