#pragma once
// Daemon: runs one real causewayd process for an integration test. It owns a
// fresh temporary directory (data dir, ports file, node log), starts the
// daemon there with --pb-port 0 --http-port 0 --ports-file, and reports the
// ports it bound. The process is always stopped when the Daemon is destroyed,
// also when a test fails half way, and the kernel kills it if the test
// process dies first. Start() after Stop() or Kill() restarts it on the same
// data, which is how tests check durability.
//
// The directory is removed on destruction unless CAUSEWAY_KEEP_TEST_DIRS is
// set in the environment (then its path is printed, to read the log).
// Not thread-safe: drive it from the test's own thread.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "storage/status.h"

namespace causeway::testing {

struct DaemonOptions {
  // Path of the causewayd binary; empty means the one this build made (or
  // $CAUSEWAYD when set).
  std::string binary;
  // Appended to the command line after the harness's own flags.
  std::vector<std::string> extra_args;
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

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Ports of the current (or last) run; 0 before the first Start().
  uint16_t pb_port() const { return pb_port_; }
  uint16_t http_port() const { return http_port_; }
  // The wait status of the last exit, as waitpid reported it; -1 if none.
  int last_wait_status() const { return last_wait_status_; }

  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string log_path() const { return dir_ + "/node.log"; }
  // The end of the node log (at most max_bytes), for error messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  std::string ports_file() const { return dir_ + "/ports.json"; }
  // Waits until the child exits or the deadline passes; true if it exited.
  bool WaitForExit(std::chrono::steady_clock::time_point deadline);
  void RemoveDir();

  DaemonOptions options_;
  std::string binary_;
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t pb_port_ = 0;
  uint16_t http_port_ = 0;
  int last_wait_status_ = -1;
};

// Parses the ports file's one line of JSON, {"pb":N,"http":M}. Strict about
// what it needs (both keys, integers in 1..65535), lenient about spacing and
// key order.
Status ParsePortsJson(const std::string& text, uint16_t* pb, uint16_t* http);

}  // namespace causeway::testing
