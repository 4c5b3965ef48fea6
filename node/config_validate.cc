// ValidateOptions (node/config.h): each setting alone, then the settings
// together, in named steps; the first problem found is the one reported.

#include <arpa/inet.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>

#include "base/printable.h"
#include "node/config.h"

namespace causeway::node {
namespace {

using replication::Quorum;

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

Status Invalid(const std::string& setting, const std::string& flag,
               const std::string& what) {
  return Status::InvalidArgument(setting + " (" + flag + ") " + what);
}

Status CheckQuorum(const char* name, const char* flag,
                   const std::optional<Quorum>& q, uint32_t n_val,
                   uint32_t min) {
  if (!q || q->kind() != Quorum::Kind::kNumber) return Status::Ok();
  if (q->number() < min || q->number() > n_val) {
    return Invalid(std::string("bucket_defaults.") + name, flag,
                   "must be from " + std::to_string(min) + " to n_val (" +
                       std::to_string(n_val) + "), got " +
                       std::to_string(q->number()));
  }
  return Status::Ok();
}

// An IP literal that means "every interface": peers cannot dial it.
bool IsWildcardAddress(std::string_view host) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  unsigned char bytes[16];
  const int family = h.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (::inet_pton(family, h.c_str(), bytes) != 1) return false;
  const size_t n = family == AF_INET ? 4 : 16;
  return std::all_of(bytes, bytes + n, [](unsigned char b) { return b == 0; });
}

// Ports clash only when both are fixed and the hosts are the same (or one
// side listens everywhere).
bool PortsClash(uint16_t a_port, const std::string& a_host, uint16_t b_port,
                const std::string& b_host) {
  return a_port != 0 && a_port == b_port &&
         (a_host == b_host || IsWildcardAddress(a_host) ||
          IsWildcardAddress(b_host));
}

// The flag of a top-level setting: --name with '-' for '_'.
std::string FlagOf(std::string setting) {
  std::replace(setting.begin(), setting.end(), '_', '-');
  return "--" + setting;
}

// A numeric setting and the range it must fall in.
struct Range {
  const char* setting;
  uint64_t value;
  uint64_t min;
  uint64_t max;
};

Status CheckRanges(std::initializer_list<Range> ranges) {
  for (const Range& r : ranges) {
    if (r.value < r.min || r.value > r.max) {
      return Invalid(r.setting, FlagOf(r.setting),
                     "must be from " + std::to_string(r.min) + " to " +
                         std::to_string(r.max) + ", got " +
                         std::to_string(r.value));
    }
  }
  return Status::Ok();
}

// Names no member or cluster can have: empty, too long, or with spaces or
// control characters.
bool IsBadName(const std::string& name) {
  return name.empty() || name.size() > 255 || HasSpaceOrControl(name);
}

// The node's name, its data directory and the client and admin listeners.
Status CheckNodeAndListeners(const NodeOptions& o) {
  if (o.name.empty()) return Invalid("name", "--name", "must not be empty");
  if (IsBadName(o.name)) {
    return Invalid("name", "--name",
                   "must be at most 255 bytes without spaces or control "
                   "characters, got '" +
                       o.name + "'");
  }
  if (o.data_dir.empty()) {
    return Invalid("data_dir", "--data-dir", "must not be empty");
  }
  if (o.pb_host.empty()) {
    return Invalid("pb_host", "--pb-host", "must not be empty");
  }
  if (o.http_host.empty()) {
    return Invalid("http_host", "--http-host", "must not be empty");
  }
  if (PortsClash(o.pb_port, o.pb_host, o.http_port, o.http_host)) {
    return Invalid("http_port", "--http-port",
                   "must differ from pb_port (both are " +
                       std::to_string(o.pb_port) + ")");
  }
  return Status::Ok();
}

Status CheckRingAndLog(const NodeOptions& o) {
  if (!IsPowerOfTwo(o.ring_size) || o.ring_size > 1024) {
    return Invalid("ring_size", "--ring-size",
                   "must be a power of two from 1 to 1024, got " +
                       std::to_string(o.ring_size));
  }
  static const char* const kLevels[] = {"trace", "debug", "info", "warn",
                                        "error"};
  if (std::find(std::begin(kLevels), std::end(kLevels), o.log_level) ==
      std::end(kLevels)) {
    return Invalid(
        "log_level", "--log-level",
        "must be trace, debug, info, warn or error, got '" + o.log_level + "'");
  }
  return Status::Ok();
}

// Which TLS files go together; PbcServer::Start() reads them.
Status CheckClientTls(const NodeOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return o.tls_cert_file.empty() ? Invalid("tls_cert_file", "--tls-cert-file",
                                             "is required with tls_key_file")
                                   : Invalid("tls_key_file", "--tls-key-file",
                                             "is required with tls_cert_file");
  }
  if (!o.tls_ca_file.empty() && o.tls_cert_file.empty()) {
    return Invalid("tls_ca_file", "--tls-ca-file",
                   "needs tls_cert_file and tls_key_file: client "
                   "certificates are only checked over TLS");
  }
  return Status::Ok();
}

Status CheckClientLimits(const NodeOptions& o) {
  Status tls = CheckClientTls(o);
  if (!tls.ok()) return tls;
  return CheckRanges(
      {{"max_frame_bytes", o.max_frame_bytes, 1024, 1u << 30},
       {"max_connections", o.max_connections, 1, 1u << 20},
       {"client_idle_timeout_ms", o.client_idle_timeout_ms, 0, 86400000},
       {"client_frame_deadline_ms", o.client_frame_deadline_ms, 0, 86400000},
       {"client_buffer_budget_mb", o.client_buffer_budget_mb, 1, 1u << 20}});
}

// The peer listener and how peers reach and trust this node.
Status CheckPeer(const NodeOptions& o) {
  if (o.peer_host.empty()) {
    return Invalid("peer_host", "--peer-host", "must not be empty");
  }
  if (PortsClash(o.peer_port, o.peer_host, o.pb_port, o.pb_host)) {
    return Invalid("peer_port", "--peer-port",
                   "must differ from pb_port (both are " +
                       std::to_string(o.peer_port) + ")");
  }
  if (PortsClash(o.peer_port, o.peer_host, o.http_port, o.http_host)) {
    return Invalid("peer_port", "--peer-port",
                   "must differ from http_port (both are " +
                       std::to_string(o.peer_port) + ")");
  }
  if (HasSpaceOrControl(o.peer_advertise_host)) {
    return Invalid("peer_advertise_host", "--peer-advertise-host",
                   "must not hold spaces or control characters");
  }
  if (o.peer_advertise_host.empty() && IsWildcardAddress(o.peer_host)) {
    return Invalid("peer_advertise_host", "--peer-advertise-host",
                   "is required when peer_host is a wildcard address ('" +
                       o.peer_host + "'): peers need an address they can dial");
  }
  if (IsWildcardAddress(o.peer_advertise_host)) {
    return Invalid("peer_advertise_host", "--peer-advertise-host",
                   "must be an address peers can dial, not the wildcard '" +
                       o.peer_advertise_host + "'");
  }
  if (o.cluster_secret_file.empty()) {
    return Invalid("cluster_secret_file", "--cluster-secret-file",
                   "is required unless --no-peer: every node of a cluster "
                   "proves the shared secret to its peers");
  }
  return Status::Ok();
}

Status CheckCluster(const NodeOptions& o) {
  if (IsBadName(o.cluster_name)) {
    return Invalid("cluster_name", "--cluster-name",
                   "must be 1 to 255 bytes without spaces or control "
                   "characters, got '" +
                       o.cluster_name + "'");
  }
  return o.no_peer ? Status::Ok() : CheckPeer(o);
}

Status CheckTimingAndMemory(const NodeOptions& o) {
  if (o.peer_suspect_ms > o.down_after_ms) {
    return Invalid("peer_suspect_ms", "--peer-suspect-ms",
                   "must be at most down_after_ms (" +
                       std::to_string(o.down_after_ms) + "), got " +
                       std::to_string(o.peer_suspect_ms));
  }
  return CheckRanges(
      {{"down_after_ms", o.down_after_ms, 1000, 600000},
       {"peer_suspect_ms", o.peer_suspect_ms, 100, 600000},
       {"request_timeout_ms", o.request_timeout_ms, 100, 3600000},
       {"max_clock_offset_ms", o.max_clock_offset_ms, 10, 3600000},
       {"peer_max_unauthenticated", o.peer_max_unauthenticated, 1, 65536},
       {"peer_handshake_timeout_ms", o.peer_handshake_timeout_ms, 100, 600000},
       {"write_buffer_mb", o.write_buffer_mb, 1, 1024},
       {"block_cache_mb", o.block_cache_mb, 1, 65536},
       {"compaction_nice", o.compaction_nice, 0, 19},
       {"object_cache_mb", o.object_cache_mb, 0, 65536},
       {"delta_buffer_deltas", o.delta_buffer_deltas, 1, 10000000},
       {"delta_buffer_mb", o.delta_buffer_mb, 1, 65536},
       {"delta_buffer_timeout_ms", o.delta_buffer_timeout_ms, 10, 600000},
       {"aae_exchange_interval_ms", o.aae_exchange_interval_ms, 1, 3600000}});
}

Status CheckBucketDefaults(const NodeOptions& o) {
  const replication::BucketPropsPatch& b = o.bucket_defaults;
  if (b.n_val && (*b.n_val < 1 || *b.n_val > 16)) {
    return Invalid("bucket_defaults.n_val", "--n-val",
                   "must be from 1 to 16, got " + std::to_string(*b.n_val));
  }
  const uint32_t n_val = b.n_val.value_or(replication::BucketProps{}.n_val);
  // A read or write that waits for zero replies means nothing; zero primaries
  // (pr, pw) and zero durable writes (dw) are ordinary.
  for (Status s : {CheckQuorum("r", "--r", b.r, n_val, 1),
                   CheckQuorum("w", "--w", b.w, n_val, 1),
                   CheckQuorum("rw", "--rw", b.rw, n_val, 1),
                   CheckQuorum("dw", "--dw", b.dw, n_val, 0),
                   CheckQuorum("pr", "--pr", b.pr, n_val, 0),
                   CheckQuorum("pw", "--pw", b.pw, n_val, 0)}) {
    if (!s.ok()) return s;
  }
  if (b.allow_mult.value_or(false) && b.last_write_wins.value_or(false)) {
    return Invalid("bucket_defaults.last_write_wins", "--last-write-wins",
                   "cannot be true together with allow_mult");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateOptions(const NodeOptions& o) {
  for (Status (*check)(const NodeOptions&) :
       {CheckNodeAndListeners, CheckRingAndLog, CheckClientLimits, CheckCluster,
        CheckTimingAndMemory, CheckBucketDefaults}) {
    Status s = check(o);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace causeway::node
