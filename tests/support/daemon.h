#pragma once
// Daemon: runs one real causewayd process for an integration test. It owns a
// fresh temporary directory (data dir, ports file, node log), starts the
// daemon there with --pb-port 0 --http-port 0 --ports-file, and reports the
// ports it bound. The process is always stopped when the Daemon is destroyed,
// also when a test fails half way, and the kernel kills it if the test
// process dies first. Start() after Stop() or Kill() restarts it on the same
// data, which is how tests check durability.
//
// By default the daemon runs standalone (--no-peer). With `peer` set it
// opens a peer port (picked on the first start, kept on restarts, because
// the cluster remembers the address), proves a cluster secret that the
// harness writes into its directory, and can join other Daemons.
//
// The directory is removed on destruction unless CAUSEWAY_KEEP_TEST_DIRS is
// set in the environment (then its path is printed, to read the log).
// Not thread-safe: drive it from the test's own thread.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace causeway::testing {

struct DaemonOptions {
  // Path of the causewayd binary; empty means the one this build made (or
  // $CAUSEWAYD when set).
  std::string binary;
  // Appended to the command line after the harness's own flags.
  std::vector<std::string> extra_args;
  // --name; empty leaves the daemon's default. Nodes of one cluster need
  // distinct names.
  std::string name;
  // Open a peer port so the node can be a cluster member. Without it the
  // harness passes --no-peer.
  bool peer = false;
  // With `peer`: the shared secret (written to a mode-600 file in the
  // Daemon's directory and passed as --cluster-secret-file), the cluster
  // name (empty: the daemon's default) and the peer port (0: pick a free
  // one on the first start, then keep it).
  std::string cluster_secret = "causeway-test-cluster-secret";
  std::string cluster_name;
  uint16_t peer_port = 0;
  // How long Start() waits for the ports file.
  std::chrono::milliseconds start_timeout{std::chrono::seconds(30)};
  // How long Stop() waits after SIGTERM before SIGKILL.
  std::chrono::milliseconds stop_timeout{std::chrono::seconds(15)};
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts the process and waits until it has written its ports file. On
  // failure the process is gone and the message includes the node log.
  Status Start();

  // SIGTERM, then waits up to stop_timeout; SIGKILL after that. Returns an
  // error when the process had to be killed or exited other than with 0
  // (the message includes the log). A no-op when not running.
  Status Stop();

  // SIGKILL, as a crash would; waits for the process to be gone.
  void Kill();

  // Waits up to `timeout` for the process to exit by itself (a node that
  // left its cluster does). Ok once it has exited, whatever its status (see
  // last_wait_status()); Timeout, with the log, when it still runs. A no-op
  // when not running.
  Status WaitForExit(std::chrono::milliseconds timeout);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Ports of the current (or last) run; 0 before the first Start().
  uint16_t pb_port() const { return pb_port_; }
  uint16_t http_port() const { return http_port_; }
  // 0 when the daemon runs without a peer port.
  uint16_t peer_port() const { return peer_port_; }
  // "127.0.0.1:PORT" of the peer port: what `cluster join` takes as a seed.
  std::string peer_address() const;
  // The --name given, or empty for the daemon's default.
  const std::string& name() const { return options_.name; }
  // The wait status of the last exit, as waitpid reported it; -1 if none.
  int last_wait_status() const { return last_wait_status_; }

  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string log_path() const { return dir_ + "/node.log"; }
  std::string secret_path() const { return dir_ + "/cluster.secret"; }
  // The end of the node log (at most max_bytes), for error messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  std::string ports_file() const { return dir_ + "/ports.json"; }
  // Waits until the child exits or the deadline passes; true if it exited.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);
  void RemoveDir();

  DaemonOptions options_;
  std::string binary_;
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t pb_port_ = 0;
  uint16_t http_port_ = 0;
  uint16_t peer_port_ = 0;
  int last_wait_status_ = -1;
};

// Parses the ports file's one line of JSON, {"pb":N,"http":M} and, from a
// node with a peer port, "peer":P. Strict about what it needs (pb and http,
// integers in 1..65535; peer, when present, likewise), lenient about spacing
// and key order. *peer is 0 when the key is absent.
Status ParsePortsJson(const std::string& text, uint16_t* pb, uint16_t* http,
                      uint16_t* peer);
Status ParsePortsJson(const std::string& text, uint16_t* pb, uint16_t* http);

// Writes `secret` and a newline to `path`, readable by the owner only (the
// daemon warns about a secret others can read).
Status WriteSecretFile(const std::string& path, const std::string& secret);

}  // namespace causeway::testing
