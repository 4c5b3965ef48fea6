#pragma once
// PbcServer: the client protocol endpoint (Riak PBC compatible). Accepts TCP
// connections on the node's io_context, reads length-prefixed frames (each
// length checked against the limit before any allocation), hands requests to
// NodeCore and writes replies in request order. A malformed body or an
// unknown code gets an RpbErrorResp; a frame over the limit gets an error and
// the connection is closed. One connection's trouble never stops the others.
//
// TLS: with a certificate configured, a client may send RpbStartTls; the
// server answers it in plain text, runs the TLS handshake (TLS 1.2 or
// later) and carries every later byte of the connection over TLS, with all
// the bounds below unchanged. The connection's Session (node/
// security_gate.h) records the switch and the verified client
// certificate's common name; the handler decides what TLS is required for.
//
// Shutdown: Stop() closes everything at once. For a graceful exit the node
// calls Drain() instead (or StopAccepting() first, then Drain()): no new
// connections, no new requests read, the requests in flight finish and
// their replies are written, then each connection closes; whatever is still
// open at the drain time limit is closed anyway. Call every method on the
// io_context's thread (Start() may also come before the io_context runs).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "base/version.h"

namespace boost::asio {
class io_context;
}

namespace causeway::replication {
class NodeCore;
}

namespace causeway::node {

class SecurityGate;
struct Stats;

struct PbcServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8087;  // 0 picks a free port
  uint32_t max_frame_bytes = 64u << 20;
  uint32_t max_connections = 1024;
  std::string server_version = kServerVersion;
  // See PbcHandlerOptions::admin_from_any_address.
  bool admin_from_any_address = false;
  // See PbcHandlerOptions::security.
  const SecurityGate* security = nullptr;
  // A connection with no request in progress and nothing received for this
  // long is closed; 0: never.
  uint32_t idle_timeout_ms = 60000;
  // Once a frame's first byte is in, the rest must follow within this long
  // (time spent serving earlier requests does not count); 0: no deadline.
  uint32_t frame_deadline_ms = 10000;
  // Bytes all connections together may hold for partial frames; a
  // connection that would take the total over it is closed. 0: no budget.
  uint64_t buffer_budget_bytes = uint64_t{256} << 20;
  // How long Drain() waits for requests in flight before closing anyway.
  uint32_t drain_timeout_ms = 5000;
  // TLS on the client port (Riak's RpbStartTls), PEM files: the server's
  // certificate chain and its private key (both, or neither: no TLS), and
  // optionally CAs whose client certificates are verified (a client need
  // not present one; one that fails verification fails the handshake).
  // Start() loads them and fails with the file and the reason if it cannot.
  // The handshake must finish within frame_deadline_ms (10 s if that is 0).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  // Called before every write to a socket; a node flushes its storage log
  // here so that no reply goes out ahead of the writes it may report
  // (storage::Engine::FlushLog). Empty: nothing.
  std::function<void()> before_send;
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
  // Closes the listening socket; open connections carry on. port() is 0
  // afterwards. Idempotent.
  void StopAccepting();
  // Stops accepting, reads no further requests, lets each request in flight
  // finish and its replies flush, then closes the connection; after
  // drain_timeout_ms the rest are closed as by Stop(). `done` is posted to
  // the io_context (never run inside Drain) once no connection is left
  // open; it runs only if the io_context keeps running until then. A
  // second call while a drain is under way adds its `done` to the first
  // drain; a call after Stop() or a finished drain posts `done` at once.
  void Drain(std::function<void()> done);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace causeway::node
