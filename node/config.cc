#include "node/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>

#include "base/host_port.h"

namespace causeway::node {

replication::NodeConfig ToNodeConfig(const NodeOptions& options) {
  replication::NodeConfig config;
  config.name = options.name;
  config.ring_size = options.ring_size;
  config.default_props = options.bucket_defaults;
  config.always_sync = options.sync_writes;
  config.cluster_name = options.cluster_name;
  config.request_timeout_ms = options.request_timeout_ms;
  config.max_clock_offset_ms = options.max_clock_offset_ms;
  config.cluster_timing.down_after_ms = options.down_after_ms;
  config.cluster_timing.suspect_after_ms = options.peer_suspect_ms;
  config.aae_timing.enabled = options.aae;
  config.object_cache_bytes = size_t{options.object_cache_mb} << 20;
  config.delta_buffer.max_deltas = options.delta_buffer_deltas;
  config.delta_buffer.max_bytes = size_t{options.delta_buffer_mb} << 20;
  config.delta_buffer.timeout_ms = options.delta_buffer_timeout_ms;
  config.aae_timing.exchange_interval_ms = options.aae_exchange_interval_ms;
  config.aae_timing.tombstone_reap_delay_ms = options.tombstone_reap_delay_ms;
  return config;
}

PeerTransportOptions ToPeerTransportOptions(const NodeOptions& options,
                                            std::string secret) {
  PeerTransportOptions peer;
  peer.host = options.peer_host;
  peer.port = options.peer_port;
  peer.node_name = options.name;
  peer.cluster_name = options.cluster_name;
  peer.secret = std::move(secret);
  peer.max_unauthenticated = options.peer_max_unauthenticated;
  peer.handshake_timeout_ms = options.peer_handshake_timeout_ms;
  // A value a client may write in one frame must also cross to the
  // replicas, inside an envelope with its clock and metadata, and an object
  // can hold several such values as siblings: allow twice the client frame
  // and some room. The queue must hold at least one such message, or it
  // would drop every one.
  const uint64_t frame =
      std::min<uint64_t>(2 * uint64_t{options.max_frame_bytes} + (1u << 20),
                         std::numeric_limits<uint32_t>::max());
  peer.max_frame_bytes =
      std::max<uint32_t>(peer.max_frame_bytes, static_cast<uint32_t>(frame));
  peer.max_queue_bytes =
      std::max<uint64_t>(peer.max_queue_bytes, peer.max_frame_bytes);
  return peer;
}

std::string PeerAddress(const NodeOptions& options, uint16_t bound_port) {
  const std::string& host = options.peer_advertise_host.empty()
                                ? options.peer_host
                                : options.peer_advertise_host;
  return FormatHostPort(host, bound_port);
}

Status ReadClusterSecret(const std::string& path, std::string* secret,
                         std::string* warning) {
  constexpr off_t kMaxBytes = 64 * 1024;
  if (warning != nullptr) warning->clear();
  const std::string what = "cluster secret file '" + path + "'";
  if (path.empty()) {
    return Status::InvalidArgument(
        "no cluster secret file given (--cluster-secret-file)");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return Status::InvalidArgument("cannot open " + what + ": " +
                                   std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return Status::InvalidArgument("cannot read " + what + ": " +
                                   std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(what + " is not a regular file");
  }
  if (st.st_size > kMaxBytes) {
    return Status::InvalidArgument(what +
                                   " is over 64 KiB; a secret is a "
                                   "line of random text");
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < content.size()) {
    const ssize_t n = ::read(fd, content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::InvalidArgument("cannot read " + what + ": " +
                                     std::strerror(errno));
    }
    if (n == 0) break;  // shrank while we read: use what is there
    got += static_cast<size_t>(n);
  }
  content.resize(got);
  while (!content.empty() &&
         std::isspace(static_cast<unsigned char>(content.back()))) {
    content.pop_back();
  }
  if (content.empty()) {
    return Status::InvalidArgument(what + " is empty");
  }
  if (warning != nullptr && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    *warning = what + " can be read by other users; chmod 600 it";
  }
  *secret = std::move(content);
  return Status::Ok();
}

// The nodes of a cluster receive the same writes, so memtables of one size
// would fill and flush at the same moments on every node. Each node takes
// its own size from the top fifth below the configured one (never above
// it, so write_buffer_mb stays the most memory a memtable takes);
// docs/design-notes.md has the measurements.
constexpr double kWriteBufferSpread = 0.2;

storage::LevelDbOptions ToLevelDbOptions(const NodeOptions& options,
                                         double draw) {
  draw = std::clamp(draw, 0.0, 1.0);
  const size_t configured = size_t{options.write_buffer_mb} << 20;
  storage::LevelDbOptions engine;
  engine.write_buffer_bytes = static_cast<size_t>(
      static_cast<double>(configured) * (1 - kWriteBufferSpread * draw));
  engine.block_cache_bytes = size_t{options.block_cache_mb} << 20;
  engine.background_idle = options.compaction_idle;
  engine.background_nice = static_cast<int>(options.compaction_nice);
  engine.defer_log_writes = true;
  return engine;
}

PbcServerOptions ToPbcServerOptions(const NodeOptions& options) {
  PbcServerOptions pbc;
  pbc.admin_from_any_address = options.admin_from_any_address;
  pbc.host = options.pb_host;
  pbc.port = options.pb_port;
  pbc.max_frame_bytes = options.max_frame_bytes;
  pbc.max_connections = options.max_connections;
  pbc.idle_timeout_ms = options.client_idle_timeout_ms;
  pbc.frame_deadline_ms = options.client_frame_deadline_ms;
  pbc.tls_cert_file = options.tls_cert_file;
  pbc.tls_key_file = options.tls_key_file;
  pbc.tls_ca_file = options.tls_ca_file;
  // Never below one largest frame, which the budget would refuse always.
  pbc.buffer_budget_bytes =
      std::max(uint64_t{options.client_buffer_budget_mb} << 20,
               uint64_t{options.max_frame_bytes});
  return pbc;
}

}  // namespace causeway::node
