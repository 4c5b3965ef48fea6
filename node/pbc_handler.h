#pragma once
// PbcHandler: the client protocol's request handling, with no sockets. It
// takes one decoded frame, parses the body, calls replication::NodeCore and
// turns the result back into reply frames through a PbcResponder. Bad input
// is answered, never trusted: a body that does not parse, lacks a required
// field or carries an invalid vclock gets an RpbErrorResp and nothing is
// applied; an unknown code gets an RpbErrorResp naming it. Neither closes
// the connection. Besides Riak's codes it serves Causeway's cluster admin
// messages (codes 200-212, proto/admin.proto): join, leave, status,
// bucket-type creation and listing, and security changes and status;
// administration is for loopback clients only unless configured otherwise
// (PbcHandlerOptions).
//
// Security (Riak's model, through PbcHandlerOptions::security): with a gate
// that reports security enabled, a connection must switch to TLS
// (RpbStartTls) and log in (RpbAuthReq) before anything else is served,
// and each request is then checked against the user's grants: the
// handlers ask for Riak's permission on the request's type and bucket,
// administration asks for causeway.cluster_admin on any. With no gate, or
// security disabled, nothing is checked and the loopback rule above holds.
//
// Ordering: a connection hands the handler one request at a time and waits
// for PbcResponder::RequestDone() before handing it the next, so replies go
// out in request order. The core may complete a request before Handle()
// returns or later; RequestDone() is called exactly once per Handle() either
// way, after the request's last frame has been sent.
//
// Ownership: the node owns the core and the stats and keeps both alive
// until the core has stopped calling back; requests in flight hold the
// responder and the handler's own state by shared_ptr, so the handler and
// the connection may be destroyed first. Runs on the node's logic thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/version.h"
#include "node/pbc_codec.h"
#include "node/security_gate.h"
#include "proto/pbc_codes.h"

namespace causeway::replication {
class NodeCore;
}

namespace causeway::node {

struct Stats;

// The longest bucket, key or bucket type name a request may carry; longer
// ones are refused with an RpbErrorResp (bad request). Riak itself sets no
// limit on names, only on object size; but a name is repeated in every
// replica's storage keys, hash trees and peer messages, so Causeway bounds
// it, at the limit Amazon S3 puts on object keys.
constexpr size_t kMaxNameBytes = 1024;

// The connection, as the handler sees it.
class PbcResponder {
 public:
  virtual ~PbcResponder() = default;
  // Queues one encoded frame (from EncodeFrame) for the client.
  virtual void Send(std::string frame) = 0;
  // Closes the connection once the frames already queued are written.
  virtual void Close() = 0;
  // The current request's replies are all queued; the next may be read.
  virtual void RequestDone() = 0;
  // The client connected from a loopback address (administration needs it
  // unless PbcHandlerOptions::admin_from_any_address or security is on).
  virtual bool FromLoopback() const = 0;

  // What the connection has established: the client's address, TLS and its
  // certificate, and (set by the handler on a successful RpbAuthReq) the
  // user. Lives as long as the responder.
  virtual Session& session() = 0;

  enum class TlsStart {
    kStarted,        // the switch happens once the queued frames are sent
    kNotConfigured,  // this node has no certificate for the client port
    kAlreadyTls,     // the connection runs over TLS already
    kPipelined,      // the client sent bytes after RpbStartTls
  };
  // Asks the connection to switch to TLS: after the frames queued so far
  // (the handler queues the RpbStartTls answer right after kStarted) are
  // written in plain text, the server side of the TLS handshake runs and
  // every later byte goes through TLS. Nothing is read meanwhile; once the
  // handshake succeeds session().tls is true, and if it fails the
  // connection closes. Any other answer changes nothing.
  virtual TlsStart StartTls() = 0;

  // RpbAuthReqs refused on this connection so far; the handler closes the
  // connection when they reach kMaxFailedLogins, as Riak does.
  int failed_logins = 0;
};

// Refused logins a connection may make before it is closed (Riak's three).
inline constexpr int kMaxFailedLogins = 3;

struct PbcHandlerOptions {
  std::string server_version = kServerVersion;
  // The frame limit; also bounds a reply the handler assembles from many
  // parts (a non-streamed bucket list), which would otherwise be unbounded.
  uint32_t max_frame_bytes = pbc::kDefaultMaxFrameBytes;
  // Monotonic microseconds for latency statistics; steady_clock if unset.
  std::function<uint64_t()> clock_us;
  // Cluster administration (join, leave, status: codes 200-205) and bucket
  // type changes (create 206, set 32) are served only to loopback clients
  // unless this is set: without authentication, reaching the client port
  // must not be enough to remove a member or change a whole type. With
  // security on, the causeway.cluster_admin grant decides instead.
  bool admin_from_any_address = false;
  // Riak's security model (TLS, authentication, grants); null: none.
  // Owned by the node, which keeps it alive as long as the handler.
  const SecurityGate* security = nullptr;
};

class PbcHandler {
 public:
  PbcHandler(replication::NodeCore& core, Stats& stats,
             PbcHandlerOptions options);
  ~PbcHandler();
  PbcHandler(const PbcHandler&) = delete;
  PbcHandler& operator=(const PbcHandler&) = delete;

  // Serves one request; see the ordering promise above.
  void Handle(Frame frame, std::shared_ptr<PbcResponder> responder);

  // Answers a stream the decoder gave up on (zero or oversized length): an
  // RpbErrorResp, then Close(). Does not call RequestDone().
  void RejectStream(const FrameDecoder& decoder, PbcResponder& responder);

  // Shared with requests in flight; defined in the .cc file.
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace causeway::node
