#pragma once
// Node: one causewayd process, wired together. Run() reads the cluster
// secret, opens the LevelDB engine in <data_dir>/db, binds the peer
// transport (unless no_peer) so the core knows the address peers reach it
// at, opens the replication core over the engine and the transport, starts
// the client protocol server and the admin HTTP server (/ping, /stats,
// /metrics, /cluster, and /faults with enable_fault_injection, see
// node/faults.h) on one io_context, and runs that io_context on the
// calling thread, which thereby becomes the node's single logic thread
// (DESIGN.md, "Runtime"). It returns after a graceful shutdown, asked for by
// SIGTERM, SIGINT or RequestStop(), or begun by the node itself once it has
// left its cluster and handed off its data: stop accepting, drain the client
// connections (requests in flight finish and their replies are written,
// bounded by the drain timeout; peers keep flowing meanwhile), then stop
// admin HTTP and the peer transport, NodeCore::Close(), close LevelDB.
//
// The Node owns everything it opens; nothing outlives Run().

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "node/config.h"

namespace causeway::node {

class Node {
 public:
  explicit Node(NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Serves until shut down. Ok after a graceful shutdown; otherwise what
  // failed during startup (InvalidArgument: unusable settings such as a log
  // file that cannot be opened or a cluster secret file that cannot be
  // read; IoError: storage or a port).
  // `handle_signals` installs the SIGTERM/SIGINT handler (false in tests
  // that run a node inside the test process).
  Status Run(bool handle_signals = true);

  // Asks a running node to shut down; safe from any thread, and harmless
  // before Run() (the node then stops as soon as it has started).
  void RequestStop();

  // Operator actions, safe from any thread; they run on the logic thread
  // once the node serves, and `done` is called there: Unavailable when the
  // node is not serving (stopping, or failed to start). If the node stops
  // while the action is under way, `done` may never be called.
  // Joins the cluster of the node whose peer address is `seed_address`.
  void Join(std::string seed_address, std::function<void(Status)> done);
  // Makes `node` (this node when empty) leave the cluster.
  void Leave(std::string node, std::function<void(Status)> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sets up spdlog's default logger from the options (level, file or stderr).
Status SetUpLogging(const NodeOptions& options);

// Writes {"pb":N,"http":M} (and ,"peer":P when `peer_port` is not 0) and a
// newline to `path` atomically: a temporary file in the same directory, then
// rename, so a reader never sees half.
Status WritePortsFile(const std::string& path, uint16_t pb_port,
                      uint16_t http_port, uint16_t peer_port = 0);

// Resident set size of this process from /proc/self/statm; 0 if unknown.
uint64_t ReadProcessRssBytes();

}  // namespace causeway::node
