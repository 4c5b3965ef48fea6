#pragma once
// Node statistics: request counts, latency and size distributions, and
// connection counts, rendered as JSON (/stats) and Prometheus text
// (/metrics). Updated and read only on the node's logic thread, so nothing
// here is atomic.

#include <array>
#include <cstdint>
#include <string>

namespace causeway::node {

// Log-linear histogram of non-negative integers (latencies in microseconds,
// sizes in bytes, sibling counts): about 3% relative error, fixed memory.
class Histogram {
 public:
  void Record(uint64_t value);
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t sum() const { return sum_; }
  // Value at quantile q in [0, 1]; 0 when empty.
  uint64_t Percentile(double q) const;

 private:
  static constexpr int kSubBuckets = 32;  // per power of two
  static constexpr int kBuckets = 64 * kSubBuckets;
  static size_t BucketOf(uint64_t value);
  static uint64_t BucketUpperBound(size_t bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

// The bound on clock drift (replication/clock_guard.h's ClockStats).
struct ClockCounters {
  uint64_t max_offset_ms = 0, refusals_total = 0, max_refused_lead_ms = 0,
           peers_heard = 0, peers_beyond = 0;
  bool suspect = false;
};

struct Stats {
  uint64_t gets = 0;
  uint64_t get_not_found = 0;
  uint64_t get_errors = 0;
  uint64_t puts = 0;
  uint64_t put_errors = 0;
  uint64_t deletes = 0;
  uint64_t delete_errors = 0;
  uint64_t dt_fetches = 0;  // data types (DtFetchReq, DtUpdateReq)
  uint64_t dt_fetch_errors = 0;
  uint64_t dt_updates = 0;
  uint64_t dt_update_errors = 0;
  uint64_t list_requests = 0;
  uint64_t other_requests = 0;  // ping, info, properties, preflist
  uint64_t bad_requests = 0;    // malformed bodies, unknown codes
  uint64_t connections_open = 0;
  uint64_t connections_total = 0;
  uint64_t connections_rejected = 0;  // over the connection limit
  // Client connections closed by the server's bounds (node/pbc_server.h).
  uint64_t connections_closed_idle = 0;
  uint64_t connections_closed_frame_deadline = 0;
  uint64_t connections_closed_budget = 0;
  // Bytes held for partial client frames now, across all connections.
  uint64_t buffered_bytes = 0;
  // Requests refused for a bucket, key or type name over the length limit.
  uint64_t requests_refused_too_long = 0;
  // Riak's security on the client port (node/security_gate.h): TLS
  // handshakes finished and failed (or timed out), logins accepted and
  // refused, requests refused for want of TLS or a login while security is
  // on, and requests refused for want of a grant.
  struct {
    uint64_t tls_handshakes = 0, tls_handshake_failures = 0, auth_successes = 0,
             auth_failures = 0, unauthenticated = 0, permission_denied = 0;
  } client_security;

  Histogram get_latency_us;
  Histogram put_latency_us;
  Histogram delete_latency_us;
  Histogram siblings;      // live siblings per successful get
  Histogram object_bytes;  // value bytes per successful get and put

  // Filled in by the node before rendering.
  uint64_t uptime_seconds = 0;
  uint64_t disk_bytes = 0;
  uint64_t rss_bytes = 0;
  struct {
    uint64_t bytes = 0, entries = 0, hits = 0, misses = 0;
  } object_cache;
  // Data-type deltas (replication/vnode/delta_applier.h's DeltaStats).
  struct {
    uint64_t sent = 0, sent_bytes = 0, applied = 0, duplicates = 0,
             buffered = 0, buffered_bytes = 0, buffered_high_water = 0,
             timeouts = 0, overflows = 0, full_state_fetches = 0,
             full_state_failures = 0;
  } deltas;
  ClockCounters clock;
  // LevelDB's background thread (storage::LevelDbOptions::Counters).
  struct {
    uint64_t writer_stalls = 0, background_raises = 0;
  } storage;

  std::string ToJson(const std::string& node_name) const;
  std::string ToPrometheus(const std::string& node_name) const;
};

}  // namespace causeway::node
