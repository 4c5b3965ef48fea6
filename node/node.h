#pragma once
// Node: one causewayd process, wired together. Run() opens the LevelDB
// engine in <data_dir>/db, opens the replication core over it, starts the
// client protocol server and the admin HTTP server on one io_context, and
// runs that io_context on the calling thread, which thereby becomes the
// node's single logic thread (DESIGN.md, "Runtime"). It returns after a
// graceful shutdown, asked for by SIGTERM, SIGINT or RequestStop(): stop
// accepting, close connections, NodeCore::Close(), close LevelDB.
//
// The Node owns everything it opens; nothing outlives Run().

#include <cstdint>
#include <memory>
#include <string>

#include "node/config.h"
#include "storage/status.h"

namespace causeway::node {

class Node {
 public:
  explicit Node(NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Serves until shut down. Ok after a graceful shutdown; otherwise what
  // failed during startup (InvalidArgument: unusable settings such as a log
  // file that cannot be opened; IoError: storage or a port).
  // `handle_signals` installs the SIGTERM/SIGINT handler (false in tests
  // that run a node inside the test process).
  Status Run(bool handle_signals = true);

  // Asks a running node to shut down; safe from any thread, and harmless
  // before Run() (the node then stops as soon as it has started).
  void RequestStop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sets up spdlog's default logger from the options (level, file or stderr).
Status SetUpLogging(const NodeOptions& options);

// Writes {"pb":N,"http":M} and a newline to `path` atomically: a temporary
// file in the same directory, then rename, so a reader never sees half.
Status WritePortsFile(const std::string& path, uint16_t pb_port,
                      uint16_t http_port);

// Resident set size of this process from /proc/self/statm; 0 if unknown.
uint64_t ReadProcessRssBytes();

}  // namespace causeway::node
