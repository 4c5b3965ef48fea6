#pragma once
// PbcServer: the client protocol endpoint (Riak PBC compatible). Accepts TCP
// connections on the node's io_context, reads length-prefixed frames (each
// length checked against the limit before any allocation), hands requests to
// NodeCore and writes replies in request order. A malformed body or an
// unknown code gets an RpbErrorResp; a frame over the limit gets an error and
// the connection is closed. One connection's trouble never stops the others.

#include <cstdint>
#include <memory>
#include <string>

#include "storage/status.h"

namespace boost::asio {
class io_context;
}

namespace causeway::replication {
class NodeCore;
}

namespace causeway::node {

struct Stats;

struct PbcServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8087;  // 0 picks a free port
  uint32_t max_frame_bytes = 64u << 20;
  uint32_t max_connections = 1024;
  std::string server_version = "causeway";
};

class PbcServer {
 public:
  PbcServer(boost::asio::io_context& io, replication::NodeCore& core,
            Stats& stats, PbcServerOptions options);
  ~PbcServer();
  PbcServer(const PbcServer&) = delete;
  PbcServer& operator=(const PbcServer&) = delete;

  // Binds and starts accepting.
  Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Stops accepting and closes every connection.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace causeway::node
