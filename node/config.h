#pragma once
// NodeOptions: every setting of a causewayd process, with the documented
// defaults. Settings come from three layers, later ones winning: the
// defaults below, a TOML file named by --config, then command-line flags.
// Loading never exits or prints; it returns a Status whose message names the
// offending setting, so it can be tested without a process.
//
// TOML layout: top-level keys are the flag names with '_' for '-' (pb_port,
// data_dir, ...); default bucket properties sit in a [bucket_defaults] table
// (n_val, allow_mult, last_write_wins, r, w, dw, pr, pw, rw, notfound_ok,
// basic_quorum). Unknown keys are errors, so a typo never silently falls back
// to a default. Relative paths are relative to the working directory.
//
// The cluster secret never sits in NodeOptions: only the name of the file
// that holds it does, and ReadClusterSecret() reads it when the node starts,
// so options can be printed or logged without leaking it.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "node/pbc_server.h"
#include "node/peer_transport.h"
#include "replication/buckets/bucket_props.h"
#include "replication/core.h"
#include "storage/engine.h"

namespace causeway::node {

struct NodeOptions {
  std::string config_file;  // empty: none
  std::string name = "causeway@127.0.0.1";
  std::string data_dir = "./var/data";
  std::string pb_host = "127.0.0.1";
  uint16_t pb_port = 8087;  // 0 picks a free port
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 8098;  // 0 picks a free port
  std::string ports_file;     // empty: not written
  uint32_t ring_size = 64;
  std::string log_level = "info";  // trace|debug|info|warn|error
  std::string log_file;            // empty: stderr
  uint32_t max_frame_bytes = 64u << 20;
  uint32_t max_connections = 1024;
  // Serve cluster administration and bucket-type changes to clients on any
  // address, not only loopback ones.
  bool admin_from_any_address = false;
  // Client connection bounds (PbcServerOptions): idle timeout and frame
  // deadline (0 disables either), and the budget of partial-frame bytes
  // across all client connections.
  uint32_t client_idle_timeout_ms = 60000;
  uint32_t client_frame_deadline_ms = 10000;
  uint32_t client_buffer_budget_mb = 256;
  // TLS on the client port (PbcServerOptions): the certificate chain and
  // private key (PEM; both or neither), and CAs whose client certificates
  // are verified (optional).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  // Over Riak's defaults; only the settings given are present.
  replication::BucketPropsPatch bucket_defaults;
  bool sync_writes = false;
  // LevelDB: the memtable size (a bigger one flushes less often but makes
  // every write and read walk a deeper, cache-cold skip list) and the
  // block cache.
  uint32_t write_buffer_mb = 16;
  uint32_t block_cache_mb = 64;
  // Decoded objects kept in front of LevelDB (replication/vnode/
  // object_cache.h); 0 turns the cache off.
  uint32_t object_cache_mb = 64;
  // The reorder buffer for other replicas' data-type deltas
  // (replication/vnode/delta_applier.h): deltas and MiB it holds at most,
  // and how long an early delta waits for the one before it before the
  // replica fetches the full state instead.
  uint32_t delta_buffer_deltas = 10000;
  uint32_t delta_buffer_mb = 64;
  uint32_t delta_buffer_timeout_ms = 1000;
  // LevelDB's flush and compaction thread: under SCHED_IDLE (it runs only
  // on an otherwise idle CPU), or else at this nice value; either way
  // request handling goes first when the CPUs are busy.
  bool compaction_idle = true;
  uint32_t compaction_nice = 10;

  // Node-to-node transport. With no_peer the node opens no peer port and
  // runs as a standalone one-node cluster that cannot join others.
  bool no_peer = false;
  std::string peer_host = "127.0.0.1";
  uint16_t peer_port = 8097;  // 0 picks a free port
  // The host peers are told to reach this node at; empty: peer_host. Needed
  // when peer_host is a wildcard address (0.0.0.0, ::).
  std::string peer_advertise_host;
  std::string cluster_name = "causeway";
  // Required unless no_peer: every node of a cluster holds the same secret.
  std::string cluster_secret_file;
  // Inbound peer connections that have not yet proved the cluster secret:
  // how many may be open at once (apart from the authenticated ones, which
  // they cannot crowd out) and how long each has to prove it.
  uint32_t peer_max_unauthenticated = 32;
  uint64_t peer_handshake_timeout_ms = 2000;
  // A peer not heard from for this long is down.
  uint64_t down_after_ms = 3000;
  // A peer not heard from for this long is suspect: new requests do not
  // choose it, and requests waiting on it fail over to another replica or
  // fail at once (replication/membership/cluster.h). At most down_after_ms.
  uint64_t peer_suspect_ms = 1000;
  // Client requests that wait on peers fail after this long.
  uint64_t request_timeout_ms = 10000;
  // Peer timestamps leading this node's clock by more than this are
  // refused (replication/clock_guard.h).
  uint64_t max_clock_offset_ms = 500;

  // Anti-entropy (replication/aae): exchanges with the other replicas of
  // each partition, and how old a tombstone must be before it is reaped.
  bool aae = true;
  uint64_t aae_exchange_interval_ms = 100;
  uint64_t tombstone_reap_delay_ms = 3000;

  // Test clusters only: the /faults admin endpoints (node/faults.h). Set
  // by the --enable-fault-injection flag alone; TOML cannot set it, so no
  // config file turns it on by accident.
  bool enable_fault_injection = false;
};

// The outcome of reading a command line.
struct ParsedCommandLine {
  enum class Action {
    kRun,    // `options` is complete and valid
    kHelp,   // --help or --version: print `help` to stdout, exit 0
    kError,  // `status` says what is wrong: print it to stderr, exit 2
  };
  Action action = Action::kError;
  NodeOptions options;
  Status status;
  std::string help;
};

// Parses flags (argv[0] is the program name), reads the --config file if one
// is given, applies the flags over it and validates the result.
ParsedCommandLine ParseCommandLine(int argc, const char* const* argv);

// Applies the settings in a TOML document over `options`. `source` names the
// document in error messages (a file name, or "<string>").
Status ApplyToml(std::string_view toml_text, std::string_view source,
                 NodeOptions* options);
// Reads and applies a TOML file.
Status ApplyTomlFile(const std::string& path, NodeOptions* options);

// Checks every setting and the settings together (ranges, power-of-two ring,
// quorum values within n_val, distinct ports).
Status ValidateOptions(const NodeOptions& options);

// The --help text (flags, defaults, the TOML layout).
std::string HelpText();

// Everything but NodeConfig::peer_address, which only the bound port
// settles (see PeerAddress).
replication::NodeConfig ToNodeConfig(const NodeOptions& options);
PbcServerOptions ToPbcServerOptions(const NodeOptions& options);

// The storage engine's settings. `draw`, from [0, 1), picks this node's
// memtable size between 80% and 100% of write_buffer_mb (see config.cc);
// a node draws it at random when it starts.
storage::LevelDbOptions ToLevelDbOptions(const NodeOptions& options,
                                         double draw);

// The peer transport's settings: listen address, names, `secret`, and
// limits that let through any object a client could write (see config.cc).
PeerTransportOptions ToPeerTransportOptions(const NodeOptions& options,
                                            std::string secret);

// HOST:PORT under which peers reach this node once the peer port is bound:
// the advertised host (or peer_host), in brackets when it is an IPv6
// literal.
std::string PeerAddress(const NodeOptions& options, uint16_t bound_port);

// Reads the cluster secret from `path`: a regular file of at most 64 KiB
// whose content, less trailing whitespace (the newline an editor or `echo`
// leaves), is the secret. A missing, unreadable, oversized or empty file is
// InvalidArgument naming the file, never the content. `warning`, if given,
// receives a note when the file can be read by other users (else empty).
Status ReadClusterSecret(const std::string& path, std::string* secret,
                         std::string* warning = nullptr);

}  // namespace causeway::node
