#pragma once
// Client: a small blocking client for the client protocol (Riak PBC
// compatible). One Client owns one TCP connection, opened lazily on the first
// call and kept for the next ones; it is not thread-safe (use one per
// thread). Every call waits at most the configured I/O timeout for each
// reply frame, and every reply frame's length is checked against
// max_frame_bytes before any buffer is allocated for it.
//
// Errors come back as a Status, and last_error() says which of three kinds
// of failure it was, because callers react differently to each:
//   - unreachable (connect refused, reset, closed, DNS failure):
//     Status::Unavailable. Nothing reached the server, or the link broke.
//   - timeout waiting for a reply: Status::Timeout.
//   - server error (an RpbErrorResp): the status code follows its errcode
//     (NotFound, InvalidArgument, Unavailable, Timeout, PreconditionFailed,
//     otherwise IoError) and the message is the server's, unchanged.
//   - protocol error (oversized or empty frame, unexpected message code,
//     unparseable body): Status::Corruption.
//   - security (the TLS handshake failed, the server's certificate did not
//     verify, a TLS file could not be used, or the login was refused):
//     the status names which, and the connection is closed.
// After an unreachable, timeout or protocol error the connection is closed
// (its byte stream can no longer be trusted); the next call reconnects.
// A server error leaves the connection open.
//
// Security, as Riak clients do it: with tls_ca_file set, every connection
// first sends RpbStartTls, then runs a TLS handshake (1.2 or later) that
// verifies the server's certificate against that CA file and its address
// or name against `host`, optionally presenting a client certificate; with
// `user` set it then logs in (RpbAuthReq). Only then does the call that
// opened the connection go out. OpenSSL stays inside client.cc.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "proto/admin.pb.h"
#include "proto/pbc_codes.h"
#include "proto/riak.pb.h"

namespace causeway::client {

inline constexpr uint16_t kDefaultPort = 8087;

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = kDefaultPort;
  // Budget for establishing the TCP connection.
  int connect_timeout_ms = 5000;
  // Budget for sending one request, and separately for receiving each reply
  // frame (a long streamed listing is fine as long as frames keep coming).
  int io_timeout_ms = 30000;
  // Largest frame (code byte + body) accepted from the server or sent to it.
  uint32_t max_frame_bytes = pbc::kDefaultMaxFrameBytes;
  // TLS (see above): the CA file (PEM) that vouches for the server; empty:
  // plain TCP. A client certificate and its key (PEM), both or neither.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // The login after the handshake; empty: none. Needs tls_ca_file.
  std::string user;
  std::string password;
};

// Parses "HOST:PORT", "[V6ADDR]:PORT" or a bare "HOST" (port 8087), by
// the rule of base/host_port.h.
Status ParseEndpoint(std::string_view text, std::string* host, uint16_t* port);

enum class ErrorKind {
  kNone,         // the last call succeeded (or returned only NotFound)
  kUnreachable,  // could not connect, or the connection broke
  kTimeout,      // no (complete) reply within io_timeout_ms
  kServer,       // the server answered with RpbErrorResp
  kProtocol,     // the server's bytes did not follow the protocol
  kSecurity,     // TLS could not be set up, or the login was refused
};

struct ClientError {
  ErrorKind kind = ErrorKind::kNone;
  // RpbErrorResp.errcode when kind is kServer.
  uint32_t server_code = 0;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Opens the connection now rather than on the first call.
  Status Connect();
  void Close();
  bool connected() const { return fd_ >= 0; }
  const ClientOptions& options() const { return options_; }
  // "HOST:PORT" as given, for messages.
  std::string endpoint() const;
  const ClientError& last_error() const { return last_error_; }

  Status Ping();
  Status GetServerInfo(pbc::RpbGetServerInfoResp* out);
  // NotFound when the object has no content; *out still holds whatever the
  // server sent (with deletedvclock, a tombstone's vclock).
  Status Get(const pbc::RpbGetReq& req, pbc::RpbGetResp* out);
  Status Put(const pbc::RpbPutReq& req, pbc::RpbPutResp* out);
  Status Delete(const pbc::RpbDelReq& req);

  // Listing calls stream: `on_item` is called for every name as its frame
  // arrives, so memory stays bounded by one frame. An error mid-stream ends
  // the call with that error after the names already delivered.
  using NameCallback = std::function<void(const std::string&)>;
  // Streams when req.stream() is set (then reads frames until `done`);
  // otherwise expects a single reply.
  Status ListBuckets(const pbc::RpbListBucketsReq& req,
                     const NameCallback& on_item);
  Status ListBuckets(const pbc::RpbListBucketsReq& req,
                     std::vector<std::string>* out);
  Status ListKeys(const pbc::RpbListKeysReq& req, const NameCallback& on_item);
  Status ListKeys(const pbc::RpbListKeysReq& req,
                  std::vector<std::string>* out);

  Status GetBucket(const pbc::RpbGetBucketReq& req, pbc::RpbBucketProps* out);
  Status SetBucket(const pbc::RpbSetBucketReq& req);
  Status ResetBucket(const pbc::RpbResetBucketReq& req);
  Status GetBucketType(const pbc::RpbGetBucketTypeReq& req,
                       pbc::RpbBucketProps* out);
  // Changes an existing type; CreateBucketType makes a new one (Causeway's
  // code 206) and ListBucketTypes lists them all (207).
  Status SetBucketType(const pbc::RpbSetBucketTypeReq& req);
  Status CreateBucketType(const pbc::RpbSetBucketTypeReq& req);
  Status ListBucketTypes(admin::CwListBucketTypesResp* out);

  // Riak's data types (codes 80-83).
  Status DtFetch(const pbc::DtFetchReq& req, pbc::DtFetchResp* out);
  Status DtUpdate(const pbc::DtUpdateReq& req, pbc::DtUpdateResp* out);
  Status GetPreflist(const pbc::RpbGetBucketKeyPreflistReq& req,
                     pbc::RpbGetBucketKeyPreflistResp* out);

  // Cluster administration (Causeway's own codes 200-205, proto/admin.proto).
  // Makes the node this client talks to join the cluster of the member whose
  // PEER address (not client address) is `seed`, "HOST:PORT". The reply
  // means the node accepted the request; partitions move afterwards.
  Status ClusterJoin(const std::string& seed);
  // Makes `node` leave the cluster; without a name, the node this client
  // talks to. The leaving node hands its data off, then exits.
  Status ClusterLeave(const std::optional<std::string>& node = std::nullopt);
  // The answering node's view of the cluster: members, ring, handoff.
  Status ClusterStatus(admin::CwClusterStatusResp* out);

  // Riak's security state (codes 209-212): one change (enable, users,
  // sources, grants; see CwSecurityChangeReq), and the state as the
  // answering node holds it.
  Status SecurityChange(const admin::CwSecurityChangeReq& req);
  Status SecurityStatus(admin::CwSecurityStatusResp* out);

 private:
  // One frame as received: the code byte and the body.
  struct Frame {
    uint8_t code = 0;
    std::string body;
  };

  // Sends one request frame (connecting first if needed).
  Status SendRequest(pbc::Code code, const google::protobuf::MessageLite* body);
  // Receives one frame; fails on I/O trouble or an oversized frame.
  Status ReceiveFrame(Frame* frame);
  // Receives one frame and checks it is `expected` (or RpbErrorResp, turned
  // into a server error); parses the body into `out` when given.
  Status ReceiveReply(pbc::Code expected, google::protobuf::MessageLite* out);
  // Request + one reply.
  Status Call(pbc::Code request, const google::protobuf::MessageLite* body,
              pbc::Code expected, google::protobuf::MessageLite* out);

  enum class Direction { kSend, kReceive };
  Status Transfer(Direction direction, char* data, size_t size,
                  int64_t deadline_ms);
  Status WriteAll(const char* data, size_t size, int64_t deadline_ms) {
    // Transfer only reads from `data` when sending.
    return Transfer(Direction::kSend, const_cast<char*>(data), size,
                    deadline_ms);
  }
  Status ReadAll(char* data, size_t size, int64_t deadline_ms) {
    return Transfer(Direction::kReceive, data, size, deadline_ms);
  }
  Status ClosedMidReply();

  // After the TCP connection: RpbStartTls, the handshake, the login.
  Status StartSecureSession();
  Status Handshake();
  Status Unreachable(const std::string& what);
  Status SecurityError(const std::string& what);
  Status TimedOut(const std::string& what);
  Status ProtocolError(const std::string& what);
  Status ServerError(const std::string& body);

  ClientOptions options_;
  int fd_ = -1;
  // The TLS session over fd_ once the handshake is done (client.cc).
  struct Tls;
  std::unique_ptr<Tls> tls_;
  ClientError last_error_;
};

// The message code's name, for error messages ("RpbGetResp", "code 77").
std::string CodeName(uint8_t code);

}  // namespace causeway::client
