#include "node/stats.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string_view>

#include "node/json.h"
#include "node/prometheus.h"

namespace causeway::node {

// Layout: values below kSubBuckets get one exact bucket each (group 0). A
// value whose highest set bit is m >= 5 falls in group m - 4, which splits
// [2^m, 2^(m+1)) into kSubBuckets equal slices, each at most 1/32 of the
// values in it, hence the ~3% bound. Group 59 (m = 63) is the last one used,
// so every uint64_t has a bucket.
size_t Histogram::BucketOf(uint64_t value) {
  static_assert(kSubBuckets == 32, "the shifts below assume 5 bits");
  if (value < kSubBuckets) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - 5;
  const uint64_t slice = (value >> shift) - kSubBuckets;  // in [0, 32)
  return static_cast<size_t>(msb - 4) * kSubBuckets +
         static_cast<size_t>(slice);
}

uint64_t Histogram::BucketUpperBound(size_t bucket) {
  const size_t group = bucket / kSubBuckets;
  const uint64_t slice = bucket % kSubBuckets;
  if (group == 0) return slice;
  const int shift = static_cast<int>(group) - 1;  // msb - 5
  const uint64_t lower = (kSubBuckets + slice) << shift;
  // lower + width - 1 cannot overflow: the last slice ends at 2^64 - 1.
  return lower + ((uint64_t{1} << shift) - 1);
}

void Histogram::Record(uint64_t value) {
  ++counts_[BucketOf(value)];
  ++count_;
  max_ = std::max(max_, value);
  // Saturate rather than wrap: a wrapped sum would make the mean nonsense.
  sum_ = value > std::numeric_limits<uint64_t>::max() - sum_
             ? std::numeric_limits<uint64_t>::max()
             : sum_ + value;
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) q = 0;  // also catches NaN
  if (q > 1) q = 1;
  // The smallest recorded value with at least q * count values at or below
  // it (nearest-rank definition); rank 1 is the minimum.
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::min(BucketUpperBound(b), max_);
  }
  return max_;
}

namespace {

struct Quantile {
  double q;
  const char* json_name;
  const char* label;
};
constexpr Quantile kQuantiles[] = {
    {0.50, "p50", "0.5"}, {0.95, "p95", "0.95"}, {0.99, "p99", "0.99"}};

// {"count", "p50", "p95", "p99", "max", "mean"} of one histogram.
void WriteHistogram(JsonWriter& w, std::string_view name, const Histogram& h) {
  w.Key(name);
  w.BeginObject();
  w.Key("count");
  w.Uint(h.count());
  for (const Quantile& q : kQuantiles) {
    w.Key(q.json_name);
    w.Uint(h.Percentile(q.q));
  }
  w.Key("max");
  w.Uint(h.max());
  w.Key("mean");
  w.Uint(h.count() == 0 ? 0 : h.sum() / h.count());
  w.EndObject();
}

// A summary (quantiles, _sum, _count) plus a <name>_max gauge, since a
// summary has no place for the maximum.
void WriteSummary(PrometheusWriter& w, std::string_view name,
                  std::string_view help, const Histogram& h) {
  w.Family(name, help, "summary");
  for (const Quantile& q : kQuantiles) {
    w.Sample(name, std::string(",quantile=\"") + q.label + "\"",
             h.Percentile(q.q));
  }
  const std::string base(name);
  w.Sample(base + "_sum", "", h.sum());
  w.Sample(base + "_count", "", h.count());
  w.Gauge(base + "_max", std::string("Largest value of ") + base + ".",
          h.max());
}

void WriteClock(PrometheusWriter& w, const ClockCounters& clock) {
  w.Counter("causeway_clock_offset_refusals_total",
            "Peer timestamps refused for leading this node's clock by more "
            "than max_clock_offset_ms.",
            clock.refusals_total);
  w.Gauge("causeway_clock_peers_beyond_offset",
          "Peers whose clock last read more than max_clock_offset_ms away "
          "from this node's.",
          clock.peers_beyond);
  w.Gauge("causeway_clock_suspect",
          "1 when most peers' clocks read beyond max_clock_offset_ms from "
          "this node's: this node's clock is probably wrong.",
          clock.suspect ? 1 : 0);
  w.Gauge("causeway_clock_max_offset_ms", "The max_clock_offset_ms setting.",
          clock.max_offset_ms);
}

}  // namespace

std::string Stats::ToJson(const std::string& node_name) const {
  std::string out;
  out.reserve(2048);
  JsonWriter w(&out);
  const auto uint = [&w](std::string_view key, uint64_t v) {
    w.Key(key);
    w.Uint(v);
  };
  w.BeginObject();
  w.Key("node");
  w.String(node_name);
  uint("uptime_seconds", uptime_seconds);
  uint("gets", gets);
  uint("get_not_found", get_not_found);
  uint("get_errors", get_errors);
  uint("puts", puts);
  uint("put_errors", put_errors);
  uint("deletes", deletes);
  uint("delete_errors", delete_errors);
  uint("dt_fetches", dt_fetches);
  uint("dt_fetch_errors", dt_fetch_errors);
  uint("dt_updates", dt_updates);
  uint("dt_update_errors", dt_update_errors);
  uint("list_requests", list_requests);
  uint("other_requests", other_requests);
  uint("bad_requests", bad_requests);
  uint("requests_refused_too_long", requests_refused_too_long);
  WriteHistogram(w, "get_latency_us", get_latency_us);
  WriteHistogram(w, "put_latency_us", put_latency_us);
  WriteHistogram(w, "delete_latency_us", delete_latency_us);
  WriteHistogram(w, "siblings", siblings);
  WriteHistogram(w, "object_bytes", object_bytes);
  w.Key("connections");
  w.BeginObject();
  uint("open", connections_open);
  uint("total", connections_total);
  uint("rejected", connections_rejected);
  uint("closed_idle", connections_closed_idle);
  uint("closed_frame_deadline", connections_closed_frame_deadline);
  uint("closed_budget", connections_closed_budget);
  uint("buffered_bytes", buffered_bytes);
  w.EndObject();
  w.Key("client_security");
  w.BeginObject();
  uint("tls_handshakes", client_security.tls_handshakes);
  uint("tls_handshake_failures", client_security.tls_handshake_failures);
  uint("auth_successes", client_security.auth_successes);
  uint("auth_failures", client_security.auth_failures);
  uint("unauthenticated", client_security.unauthenticated);
  uint("permission_denied", client_security.permission_denied);
  w.EndObject();
  uint("disk_bytes", disk_bytes);
  uint("rss_bytes", rss_bytes);
  w.Key("object_cache");
  w.BeginObject();
  uint("bytes", object_cache.bytes);
  uint("entries", object_cache.entries);
  uint("hits", object_cache.hits);
  uint("misses", object_cache.misses);
  w.EndObject();
  w.Key("deltas");
  w.BeginObject();
  uint("sent", deltas.sent);
  uint("sent_bytes", deltas.sent_bytes);
  uint("applied", deltas.applied);
  uint("duplicates", deltas.duplicates);
  uint("buffered", deltas.buffered);
  uint("buffered_bytes", deltas.buffered_bytes);
  uint("buffered_high_water", deltas.buffered_high_water);
  uint("timeouts", deltas.timeouts);
  uint("overflows", deltas.overflows);
  uint("full_state_fetches", deltas.full_state_fetches);
  uint("full_state_failures", deltas.full_state_failures);
  w.EndObject();
  w.Key("clock");
  w.BeginObject();
  uint("max_offset_ms", clock.max_offset_ms);
  uint("clock_offset_refusals_total", clock.refusals_total);
  uint("max_refused_lead_ms", clock.max_refused_lead_ms);
  uint("peers_heard", clock.peers_heard);
  uint("peers_beyond_offset", clock.peers_beyond);
  w.Key("clock_suspect");
  w.Bool(clock.suspect);
  w.EndObject();
  w.Key("storage");
  w.BeginObject();
  uint("writer_stalls", storage.writer_stalls);
  uint("background_raises", storage.background_raises);
  w.EndObject();
  w.EndObject();
  return out;
}

std::string Stats::ToPrometheus(const std::string& node_name) const {
  std::string out;
  out.reserve(8192);
  PrometheusWriter w(&out, node_name);
  w.Gauge("causeway_uptime_seconds", "Seconds since the node started.",
          uptime_seconds);
  w.Counter("causeway_gets_total", "Get requests served.", gets);
  w.Counter("causeway_get_not_found_total", "Get requests that found nothing.",
            get_not_found);
  w.Counter("causeway_get_errors_total", "Get requests that failed.",
            get_errors);
  w.Counter("causeway_puts_total", "Put requests served.", puts);
  w.Counter("causeway_put_errors_total", "Put requests that failed.",
            put_errors);
  w.Counter("causeway_deletes_total", "Delete requests served.", deletes);
  w.Counter("causeway_delete_errors_total", "Delete requests that failed.",
            delete_errors);
  w.Counter("causeway_dt_fetches_total", "Data-type fetch requests served.",
            dt_fetches);
  w.Counter("causeway_dt_fetch_errors_total",
            "Data-type fetch requests that failed.", dt_fetch_errors);
  w.Counter("causeway_dt_updates_total", "Data-type update requests served.",
            dt_updates);
  w.Counter("causeway_dt_update_errors_total",
            "Data-type update requests that failed.", dt_update_errors);
  w.Counter("causeway_list_requests_total",
            "List buckets and list keys requests.", list_requests);
  w.Counter("causeway_other_requests_total",
            "Ping, server info, bucket property and preflist requests.",
            other_requests);
  w.Counter("causeway_bad_requests_total",
            "Malformed requests and unknown message codes.", bad_requests);
  WriteSummary(w, "causeway_get_latency_microseconds", "Get request latency.",
               get_latency_us);
  WriteSummary(w, "causeway_put_latency_microseconds", "Put request latency.",
               put_latency_us);
  WriteSummary(w, "causeway_delete_latency_microseconds",
               "Delete request latency.", delete_latency_us);
  WriteSummary(w, "causeway_siblings", "Live siblings per successful get.",
               siblings);
  WriteSummary(w, "causeway_object_bytes",
               "Value bytes per successful get and put.", object_bytes);
  w.Gauge("causeway_connections_open", "Client connections open now.",
          connections_open);
  w.Counter("causeway_connections_total", "Client connections accepted.",
            connections_total);
  w.Counter("causeway_connections_rejected_total",
            "Client connections refused over the connection limit.",
            connections_rejected);
  w.Counter("causeway_connections_closed_idle_total",
            "Client connections closed after the idle timeout.",
            connections_closed_idle);
  w.Counter("causeway_connections_closed_frame_deadline_total",
            "Client connections closed for a frame not finished in time.",
            connections_closed_frame_deadline);
  w.Counter("causeway_connections_closed_budget_total",
            "Client connections closed over the partial-frame byte budget.",
            connections_closed_budget);
  w.Gauge("causeway_connections_buffered_bytes",
          "Bytes held for partial client frames now.", buffered_bytes);
  w.Counter("causeway_requests_refused_too_long_total",
            "Requests refused for an over-long bucket, key or type name.",
            requests_refused_too_long);
  w.Counter("causeway_client_tls_handshakes_total",
            "Client TLS handshakes finished (after RpbStartTls).",
            client_security.tls_handshakes);
  w.Counter("causeway_client_tls_handshake_failures_total",
            "Client TLS handshakes that failed or ran out of time.",
            client_security.tls_handshake_failures);
  w.Counter("causeway_client_auth_successes_total",
            "Client logins (RpbAuthReq) accepted.",
            client_security.auth_successes);
  w.Counter("causeway_client_auth_failures_total",
            "Client logins (RpbAuthReq) refused.",
            client_security.auth_failures);
  w.Counter("causeway_client_unauthenticated_total",
            "Requests refused with security on before TLS or a login.",
            client_security.unauthenticated);
  w.Counter("causeway_client_permission_denied_total",
            "Requests refused for want of a grant.",
            client_security.permission_denied);
  w.Gauge("causeway_disk_bytes", "Approximate bytes the store uses on disk.",
          disk_bytes);
  w.Gauge("causeway_rss_bytes", "Resident memory of the node process.",
          rss_bytes);
  w.Gauge("causeway_object_cache_bytes",
          "Bytes charged to the cache of decoded objects.", object_cache.bytes);
  w.Counter("causeway_object_cache_hits_total",
            "Object reads served by the object cache.", object_cache.hits);
  w.Counter("causeway_object_cache_misses_total",
            "Object reads that went to the engine.", object_cache.misses);
  w.Counter("causeway_deltas_sent_total",
            "Data-type deltas sent to other replicas.", deltas.sent);
  w.Counter("causeway_deltas_sent_bytes_total",
            "Bytes of the data-type deltas sent (their encoded states).",
            deltas.sent_bytes);
  w.Counter("causeway_deltas_applied_total",
            "Other replicas' data-type deltas applied, in their origin's "
            "order.",
            deltas.applied);
  w.Counter("causeway_deltas_duplicate_total",
            "Data-type deltas received again after they were applied.",
            deltas.duplicates);
  w.Gauge("causeway_deltas_buffered",
          "Early data-type deltas waiting for an earlier change.",
          deltas.buffered);
  w.Gauge("causeway_deltas_buffered_bytes",
          "Bytes of the early data-type deltas waiting now.",
          deltas.buffered_bytes);
  w.Gauge("causeway_deltas_buffered_high_water",
          "The most early data-type deltas waiting at once.",
          deltas.buffered_high_water);
  w.Counter("causeway_deltas_timeouts_total",
            "Early data-type deltas whose gap did not fill in time.",
            deltas.timeouts);
  w.Counter("causeway_deltas_overflows_total",
            "Early data-type deltas refused because the buffer was full.",
            deltas.overflows);
  w.Counter("causeway_deltas_full_state_fetches_total",
            "Full states fetched instead of waiting for missing deltas.",
            deltas.full_state_fetches);
  w.Counter("causeway_deltas_full_state_failures_total",
            "Full-state fetches that failed.", deltas.full_state_failures);
  WriteClock(w, clock);
  w.Counter("causeway_storage_writer_stalls_total",
            "Writes that waited for LevelDB's background thread.",
            storage.writer_stalls);
  w.Counter("causeway_storage_background_raises_total",
            "Stalls that raised the background thread out of SCHED_IDLE.",
            storage.background_raises);
  return out;
}

}  // namespace causeway::node
