#include "client/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <utility>

#include "base/host_port.h"

namespace causeway::client {

struct Client::Tls {
  ~Tls() {
    if (ssl != nullptr) SSL_free(ssl);
    if (ctx != nullptr) SSL_CTX_free(ctx);
  }
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
};

namespace {

// OpenSSL's reason for the last failure on this thread, and clears the
// queue so the next call starts clean.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown TLS error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "TLS error " + std::to_string(code);
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// strerror text with a lowercase first letter, to sit inside a sentence.
std::string ErrnoText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

// Waits until `fd` is ready for `events` or the deadline passes. Returns 1
// when ready, 0 on timeout, -1 on a poll error (errno set).
int WaitFor(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    int64_t remaining = deadline_ms - NowMs();
    if (remaining <= 0) return 0;
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(remaining));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return -1;
    if (rc == 0) return 0;
    return 1;
  }
}

Status MapServerCode(uint32_t errcode, std::string message) {
  switch (static_cast<pbc::ErrorCode>(errcode)) {
    case pbc::ErrorCode::kNotFound:
      return Status::NotFound(std::move(message));
    case pbc::ErrorCode::kBadRequest:
    case pbc::ErrorCode::kUnknownMessage:
      return Status::InvalidArgument(std::move(message));
    case pbc::ErrorCode::kUnavailable:
      return Status::Unavailable(std::move(message));
    case pbc::ErrorCode::kTimeout:
      return Status::Timeout(std::move(message));
    case pbc::ErrorCode::kPreconditionFailed:
      return Status::PreconditionFailed(std::move(message));
    default:
      return Status::IoError(std::move(message));
  }
}

}  // namespace

Status ParseEndpoint(std::string_view text, std::string* host, uint16_t* port) {
  HostPort parsed;
  Status s = ParseHostPort(text, &parsed, kDefaultPort);
  if (!s.ok()) {
    return Status::InvalidArgument(
        "bad node address '" + std::string(text) + "': " + s.message() +
        " (expected HOST:PORT, e.g. 127.0.0.1:8087)");
  }
  *host = std::move(parsed.host);
  *port = parsed.port;
  return Status::Ok();
}

std::string CodeName(uint8_t code) {
  switch (static_cast<pbc::Code>(code)) {
    case pbc::Code::kErrorResp:
      return "RpbErrorResp";
    case pbc::Code::kPingReq:
      return "RpbPingReq";
    case pbc::Code::kPingResp:
      return "RpbPingResp";
    case pbc::Code::kGetClientIdReq:
      return "RpbGetClientIdReq";
    case pbc::Code::kGetClientIdResp:
      return "RpbGetClientIdResp";
    case pbc::Code::kSetClientIdReq:
      return "RpbSetClientIdReq";
    case pbc::Code::kSetClientIdResp:
      return "RpbSetClientIdResp";
    case pbc::Code::kGetServerInfoReq:
      return "RpbGetServerInfoReq";
    case pbc::Code::kGetServerInfoResp:
      return "RpbGetServerInfoResp";
    case pbc::Code::kGetReq:
      return "RpbGetReq";
    case pbc::Code::kGetResp:
      return "RpbGetResp";
    case pbc::Code::kPutReq:
      return "RpbPutReq";
    case pbc::Code::kPutResp:
      return "RpbPutResp";
    case pbc::Code::kDelReq:
      return "RpbDelReq";
    case pbc::Code::kDelResp:
      return "RpbDelResp";
    case pbc::Code::kListBucketsReq:
      return "RpbListBucketsReq";
    case pbc::Code::kListBucketsResp:
      return "RpbListBucketsResp";
    case pbc::Code::kListKeysReq:
      return "RpbListKeysReq";
    case pbc::Code::kListKeysResp:
      return "RpbListKeysResp";
    case pbc::Code::kGetBucketReq:
      return "RpbGetBucketReq";
    case pbc::Code::kGetBucketResp:
      return "RpbGetBucketResp";
    case pbc::Code::kSetBucketReq:
      return "RpbSetBucketReq";
    case pbc::Code::kSetBucketResp:
      return "RpbSetBucketResp";
    case pbc::Code::kResetBucketReq:
      return "RpbResetBucketReq";
    case pbc::Code::kResetBucketResp:
      return "RpbResetBucketResp";
    case pbc::Code::kGetBucketTypeReq:
      return "RpbGetBucketTypeReq";
    case pbc::Code::kSetBucketTypeReq:
      return "RpbSetBucketTypeReq";
    case pbc::Code::kGetBucketKeyPreflistReq:
      return "RpbGetBucketKeyPreflistReq";
    case pbc::Code::kGetBucketKeyPreflistResp:
      return "RpbGetBucketKeyPreflistResp";
    case pbc::Code::kClusterJoinReq:
      return "CwClusterJoinReq";
    case pbc::Code::kClusterJoinResp:
      return "CwClusterJoinResp";
    case pbc::Code::kClusterLeaveReq:
      return "CwClusterLeaveReq";
    case pbc::Code::kClusterLeaveResp:
      return "CwClusterLeaveResp";
    case pbc::Code::kDtFetchReq:
      return "DtFetchReq";
    case pbc::Code::kDtFetchResp:
      return "DtFetchResp";
    case pbc::Code::kDtUpdateReq:
      return "DtUpdateReq";
    case pbc::Code::kDtUpdateResp:
      return "DtUpdateResp";
    case pbc::Code::kCreateBucketTypeReq:
      return "CwCreateBucketTypeReq";
    case pbc::Code::kListBucketTypesReq:
      return "CwListBucketTypesReq";
    case pbc::Code::kListBucketTypesResp:
      return "CwListBucketTypesResp";
    case pbc::Code::kClusterStatusReq:
      return "CwClusterStatusReq";
    case pbc::Code::kClusterStatusResp:
      return "CwClusterStatusResp";
    case pbc::Code::kSecurityChangeReq:
      return "CwSecurityChangeReq";
    case pbc::Code::kSecurityChangeResp:
      return "CwSecurityChangeResp";
    case pbc::Code::kSecurityStatusReq:
      return "CwSecurityStatusReq";
    case pbc::Code::kSecurityStatusResp:
      return "CwSecurityStatusResp";
    case pbc::Code::kAuthReq:
      return "RpbAuthReq";
    case pbc::Code::kAuthResp:
      return "RpbAuthResp";
    case pbc::Code::kStartTls:
      return "RpbStartTls";
  }
  return "message code " + std::to_string(code);
}

Client::Client(ClientOptions options) : options_(std::move(options)) {}

Client::~Client() { Close(); }

void Client::Close() {
  if (tls_) {
    // A best-effort close_notify; the socket is non-blocking and closing.
    SSL_shutdown(tls_->ssl);
    ERR_clear_error();
    tls_.reset();
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

std::string Client::endpoint() const {
  return FormatHostPort(options_.host, options_.port);
}

Status Client::Unreachable(const std::string& what) {
  Close();
  last_error_ = {ErrorKind::kUnreachable, 0};
  return Status::Unavailable(what);
}

Status Client::SecurityError(const std::string& what) {
  Close();
  last_error_ = {ErrorKind::kSecurity, 0};
  return Status::Unavailable(what);
}

Status Client::TimedOut(const std::string& what) {
  Close();
  last_error_ = {ErrorKind::kTimeout, 0};
  return Status::Timeout(what);
}

Status Client::ProtocolError(const std::string& what) {
  Close();
  last_error_ = {ErrorKind::kProtocol, 0};
  return Status::Corruption("protocol error from " + endpoint() + ": " + what);
}

Status Client::ServerError(const std::string& body) {
  pbc::RpbErrorResp error;
  // Lenient on purpose: a server that forgot errcode still meant to send
  // its message, and that message is what the user needs to see.
  if (!error.ParsePartialFromString(body)) {
    return ProtocolError("undecodable RpbErrorResp");
  }
  last_error_ = {ErrorKind::kServer, error.errcode()};
  std::string message = error.errmsg();
  if (message.empty()) message = "server error without a message";
  return MapServerCode(error.errcode(), std::move(message));
}

Status Client::Connect() {
  if (fd_ >= 0) return Status::Ok();
  const std::string where = "cannot reach " + endpoint() + ": ";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  const std::string port = std::to_string(options_.port);
  int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &addrs);
  if (rc != 0) {
    return Unreachable(where + "cannot resolve host (" + gai_strerror(rc) +
                       ")");
  }
  const int64_t deadline = NowMs() + options_.connect_timeout_ms;
  std::string failure = "no addresses";
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 a->ai_protocol);
    if (fd < 0) {
      failure = ErrnoText(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        int ready = WaitFor(fd, POLLOUT, deadline);
        if (ready == 0) {
          err = ETIMEDOUT;
        } else if (ready < 0) {
          err = errno;
        } else {
          socklen_t len = sizeof(err);
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
          }
        }
      }
    }
    if (err != 0) {
      failure = err == ETIMEDOUT
                    ? "timed out after " +
                          std::to_string(options_.connect_timeout_ms) + " ms"
                    : ErrnoText(err);
      ::close(fd);
      continue;
    }
    int one = 1;
    // Requests are small and answered one at a time: do not wait for Nagle.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fd_ = fd;
    break;
  }
  ::freeaddrinfo(addrs);
  if (fd_ < 0) return Unreachable(where + failure);
  if (!options_.tls_ca_file.empty() || !options_.user.empty()) {
    return StartSecureSession();
  }
  return Status::Ok();
}

Status Client::StartSecureSession() {
  if (options_.tls_ca_file.empty()) {
    return SecurityError("logging in to " + endpoint() +
                         " needs TLS: give the CA file that vouches for the "
                         "node's certificate");
  }
  // RpbStartTls and its answer travel in plain text.
  Status s = Call(pbc::Code::kStartTls, nullptr, pbc::Code::kStartTls, nullptr);
  if (!s.ok()) {
    if (last_error_.kind != ErrorKind::kServer) return s;
    return SecurityError(endpoint() + " refused STARTTLS: " + s.message());
  }
  s = Handshake();
  if (!s.ok()) return s;
  if (options_.user.empty()) return Status::Ok();
  pbc::RpbAuthReq auth;
  auth.set_user(options_.user);
  auth.set_password(options_.password);
  s = Call(pbc::Code::kAuthReq, &auth, pbc::Code::kAuthResp, nullptr);
  if (!s.ok() && last_error_.kind == ErrorKind::kServer) {
    return SecurityError(endpoint() + " refused the login of '" +
                         options_.user + "': " + s.message());
  }
  return s;
}

Status Client::Handshake() {
  const std::string where = "TLS with " + endpoint() + ": ";
  auto tls = std::make_unique<Tls>();
  tls->ctx = SSL_CTX_new(TLS_client_method());
  if (tls->ctx == nullptr) return SecurityError(where + OpenSslError());
  SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
  // A server that closes without close_notify has closed all the same.
  SSL_CTX_set_options(tls->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  if (SSL_CTX_load_verify_locations(tls->ctx, options_.tls_ca_file.c_str(),
                                    nullptr) != 1) {
    return SecurityError("cannot use the CA file '" + options_.tls_ca_file +
                         "': " + OpenSslError());
  }
  SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, nullptr);
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return SecurityError(
        "a client certificate needs its key, and a key its certificate");
  }
  if (!options_.tls_cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(
            tls->ctx, options_.tls_cert_file.c_str()) != 1) {
      return SecurityError("cannot use the certificate file '" +
                           options_.tls_cert_file + "': " + OpenSslError());
    }
    if (SSL_CTX_use_PrivateKey_file(tls->ctx, options_.tls_key_file.c_str(),
                                    SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls->ctx) != 1) {
      return SecurityError("cannot use the key file '" + options_.tls_key_file +
                           "': " + OpenSslError());
    }
  }
  tls->ssl = SSL_new(tls->ctx);
  if (tls->ssl == nullptr) return SecurityError(where + OpenSslError());
  // The certificate must name the host the user gave: an address as an IP
  // subject alternative name, a name as a DNS one (and sent as SNI).
  if (IsIpAddress(options_.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls->ssl),
                                  options_.host.c_str());
  } else {
    SSL_set1_host(tls->ssl, options_.host.c_str());
    SSL_set_tlsext_host_name(tls->ssl, options_.host.c_str());
  }
  SSL_set_fd(tls->ssl, fd_);
  const int64_t deadline = NowMs() + options_.io_timeout_ms;
  for (;;) {
    int rc = SSL_connect(tls->ssl);
    if (rc == 1) break;
    int err = SSL_get_error(tls->ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      int ready =
          WaitFor(fd_, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
      if (ready == 0) {
        return TimedOut(where + "the handshake did not finish within " +
                        std::to_string(options_.io_timeout_ms) + " ms");
      }
      if (ready > 0) continue;
    }
    long verify = SSL_get_verify_result(tls->ssl);
    std::string reason =
        verify != X509_V_OK
            ? std::string("the node's certificate did not verify against '") +
                  options_.tls_ca_file +
                  "': " + X509_verify_cert_error_string(verify)
        : err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
            ? std::string("the node closed the connection during the handshake")
            : "handshake failed: " + OpenSslError();
    ERR_clear_error();
    return SecurityError(where + reason);
  }
  tls_ = std::move(tls);
  return Status::Ok();
}

// One blocking transfer with a deadline, either way, over TLS or plain TCP.
// Each step moves what it can; when the socket must be waited on it says
// for what, and when the connection is done for it says why.
Status Client::Transfer(Direction direction, char* data, size_t size,
                        int64_t deadline_ms) {
  const bool sending = direction == Direction::kSend;
  while (size > 0) {
    const size_t want = std::min<size_t>(size, INT_MAX);
    short wait = 0;
    Status failed;
    ssize_t n = 0;
    if (tls_) {
      int rc = sending ? SSL_write(tls_->ssl, data, static_cast<int>(want))
                       : SSL_read(tls_->ssl, data, static_cast<int>(want));
      n = rc;
      if (rc <= 0) {
        int err = SSL_get_error(tls_->ssl, rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          wait = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        } else if (err == SSL_ERROR_SSL) {
          // Under TLS 1.3 a server that refuses the client's certificate
          // says so here, after the client's side of the handshake ended.
          failed = SecurityError("TLS with " + endpoint() +
                                 " failed: " + OpenSslError());
        } else {
          ERR_clear_error();
          failed = sending ? Unreachable("lost connection to " + endpoint())
                           : ClosedMidReply();
        }
      }
    } else {
      n = sending ? ::send(fd_, data, want, MSG_NOSIGNAL)
                  : ::recv(fd_, data, want, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        wait = sending ? POLLOUT : POLLIN;
      } else if (n == 0 && !sending) {
        failed = ClosedMidReply();
      } else if (n <= 0) {
        failed = Unreachable("lost connection to " + endpoint() + ": " +
                             ErrnoText(n < 0 ? errno : EPIPE));
      }
    }
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (wait == 0) return failed;
    int ready = WaitFor(fd_, wait, deadline_ms);
    if (ready == 0) {
      return TimedOut(sending
                          ? "sending to " + endpoint() + " took longer than " +
                                std::to_string(options_.io_timeout_ms) + " ms"
                          : "no reply from " + endpoint() + " within " +
                                std::to_string(options_.io_timeout_ms) + " ms");
    }
    if (ready < 0) {
      return Unreachable("lost connection to " + endpoint() + ": " +
                         ErrnoText(errno));
    }
  }
  return Status::Ok();
}

Status Client::ClosedMidReply() {
  return Unreachable("connection to " + endpoint() +
                     " closed by the server before the reply was complete");
}

Status Client::SendRequest(pbc::Code code,
                           const google::protobuf::MessageLite* body) {
  last_error_ = {};
  std::string payload;
  if (body != nullptr && !body->SerializeToString(&payload)) {
    // Only a missing required field makes serialization fail.
    return Status::InvalidArgument(CodeName(static_cast<uint8_t>(code)) +
                                   " is missing a required field");
  }
  const uint64_t frame_len = 1 + static_cast<uint64_t>(payload.size());
  if (frame_len > options_.max_frame_bytes) {
    return Status::InvalidArgument("request of " + std::to_string(frame_len) +
                                   " bytes is over the frame limit of " +
                                   std::to_string(options_.max_frame_bytes) +
                                   " bytes");
  }
  Status s = Connect();
  if (!s.ok()) return s;
  std::string frame;
  frame.reserve(pbc::kLengthPrefixBytes + frame_len);
  frame.push_back(static_cast<char>((frame_len >> 24) & 0xFF));
  frame.push_back(static_cast<char>((frame_len >> 16) & 0xFF));
  frame.push_back(static_cast<char>((frame_len >> 8) & 0xFF));
  frame.push_back(static_cast<char>(frame_len & 0xFF));
  frame.push_back(static_cast<char>(code));
  frame.append(payload);
  return WriteAll(frame.data(), frame.size(), NowMs() + options_.io_timeout_ms);
}

Status Client::ReceiveFrame(Frame* frame) {
  if (fd_ < 0) return Unreachable("not connected to " + endpoint());
  const int64_t deadline = NowMs() + options_.io_timeout_ms;
  unsigned char header[pbc::kLengthPrefixBytes + 1];
  Status s = ReadAll(reinterpret_cast<char*>(header), pbc::kLengthPrefixBytes,
                     deadline);
  if (!s.ok()) return s;
  const uint32_t len = (static_cast<uint32_t>(header[0]) << 24) |
                       (static_cast<uint32_t>(header[1]) << 16) |
                       (static_cast<uint32_t>(header[2]) << 8) |
                       static_cast<uint32_t>(header[3]);
  if (len == 0) return ProtocolError("empty frame (no message code)");
  if (len > options_.max_frame_bytes) {
    return ProtocolError("reply frame of " + std::to_string(len) +
                         " bytes is over the limit of " +
                         std::to_string(options_.max_frame_bytes) + " bytes");
  }
  s = ReadAll(reinterpret_cast<char*>(&header[pbc::kLengthPrefixBytes]), 1,
              deadline);
  if (!s.ok()) return s;
  frame->code = header[pbc::kLengthPrefixBytes];
  frame->body.resize(len - 1);
  if (len > 1) {
    s = ReadAll(frame->body.data(), frame->body.size(), deadline);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status Client::ReceiveReply(pbc::Code expected,
                            google::protobuf::MessageLite* out) {
  Frame frame;
  Status s = ReceiveFrame(&frame);
  if (!s.ok()) return s;
  if (frame.code == static_cast<uint8_t>(pbc::Code::kErrorResp)) {
    return ServerError(frame.body);
  }
  if (frame.code != static_cast<uint8_t>(expected)) {
    return ProtocolError("expected " +
                         CodeName(static_cast<uint8_t>(expected)) + ", got " +
                         CodeName(frame.code));
  }
  if (out != nullptr) {
    out->Clear();
    if (!out->ParseFromString(frame.body)) {
      return ProtocolError("undecodable " + CodeName(frame.code) + " body");
    }
  }
  return Status::Ok();
}

Status Client::Call(pbc::Code request,
                    const google::protobuf::MessageLite* body,
                    pbc::Code expected, google::protobuf::MessageLite* out) {
  Status s = SendRequest(request, body);
  if (!s.ok()) return s;
  return ReceiveReply(expected, out);
}

Status Client::Ping() {
  return Call(pbc::Code::kPingReq, nullptr, pbc::Code::kPingResp, nullptr);
}

Status Client::GetServerInfo(pbc::RpbGetServerInfoResp* out) {
  return Call(pbc::Code::kGetServerInfoReq, nullptr,
              pbc::Code::kGetServerInfoResp, out);
}

Status Client::Get(const pbc::RpbGetReq& req, pbc::RpbGetResp* out) {
  Status s = Call(pbc::Code::kGetReq, &req, pbc::Code::kGetResp, out);
  if (!s.ok()) return s;
  if (out->content_size() == 0 && !out->unchanged()) {
    return Status::NotFound(req.bucket() + "/" + req.key());
  }
  return Status::Ok();
}

Status Client::Put(const pbc::RpbPutReq& req, pbc::RpbPutResp* out) {
  return Call(pbc::Code::kPutReq, &req, pbc::Code::kPutResp, out);
}

Status Client::Delete(const pbc::RpbDelReq& req) {
  return Call(pbc::Code::kDelReq, &req, pbc::Code::kDelResp, nullptr);
}

Status Client::ListBuckets(const pbc::RpbListBucketsReq& req,
                           const NameCallback& on_item) {
  Status s = SendRequest(pbc::Code::kListBucketsReq, &req);
  if (!s.ok()) return s;
  pbc::RpbListBucketsResp resp;
  for (;;) {
    s = ReceiveReply(pbc::Code::kListBucketsResp, &resp);
    if (!s.ok()) return s;
    for (const std::string& b : resp.buckets()) on_item(b);
    if (!req.stream() || resp.done()) return Status::Ok();
  }
}

Status Client::ListBuckets(const pbc::RpbListBucketsReq& req,
                           std::vector<std::string>* out) {
  return ListBuckets(req, [out](const std::string& b) { out->push_back(b); });
}

Status Client::ListKeys(const pbc::RpbListKeysReq& req,
                        const NameCallback& on_item) {
  Status s = SendRequest(pbc::Code::kListKeysReq, &req);
  if (!s.ok()) return s;
  pbc::RpbListKeysResp resp;
  for (;;) {
    s = ReceiveReply(pbc::Code::kListKeysResp, &resp);
    if (!s.ok()) return s;
    for (const std::string& k : resp.keys()) on_item(k);
    if (resp.done()) return Status::Ok();
  }
}

Status Client::ListKeys(const pbc::RpbListKeysReq& req,
                        std::vector<std::string>* out) {
  return ListKeys(req, [out](const std::string& k) { out->push_back(k); });
}

Status Client::GetBucket(const pbc::RpbGetBucketReq& req,
                         pbc::RpbBucketProps* out) {
  pbc::RpbGetBucketResp resp;
  Status s =
      Call(pbc::Code::kGetBucketReq, &req, pbc::Code::kGetBucketResp, &resp);
  if (s.ok()) out->Swap(resp.mutable_props());
  return s;
}

Status Client::SetBucket(const pbc::RpbSetBucketReq& req) {
  return Call(pbc::Code::kSetBucketReq, &req, pbc::Code::kSetBucketResp,
              nullptr);
}

Status Client::ResetBucket(const pbc::RpbResetBucketReq& req) {
  return Call(pbc::Code::kResetBucketReq, &req, pbc::Code::kResetBucketResp,
              nullptr);
}

Status Client::GetBucketType(const pbc::RpbGetBucketTypeReq& req,
                             pbc::RpbBucketProps* out) {
  pbc::RpbGetBucketResp resp;
  Status s = Call(pbc::Code::kGetBucketTypeReq, &req, pbc::Code::kGetBucketResp,
                  &resp);
  if (s.ok()) out->Swap(resp.mutable_props());
  return s;
}

Status Client::SetBucketType(const pbc::RpbSetBucketTypeReq& req) {
  return Call(pbc::Code::kSetBucketTypeReq, &req, pbc::Code::kSetBucketResp,
              nullptr);
}

Status Client::CreateBucketType(const pbc::RpbSetBucketTypeReq& req) {
  return Call(pbc::Code::kCreateBucketTypeReq, &req, pbc::Code::kSetBucketResp,
              nullptr);
}

Status Client::ListBucketTypes(admin::CwListBucketTypesResp* out) {
  return Call(pbc::Code::kListBucketTypesReq, nullptr,
              pbc::Code::kListBucketTypesResp, out);
}

Status Client::DtFetch(const pbc::DtFetchReq& req, pbc::DtFetchResp* out) {
  return Call(pbc::Code::kDtFetchReq, &req, pbc::Code::kDtFetchResp, out);
}

Status Client::DtUpdate(const pbc::DtUpdateReq& req, pbc::DtUpdateResp* out) {
  return Call(pbc::Code::kDtUpdateReq, &req, pbc::Code::kDtUpdateResp, out);
}

Status Client::GetPreflist(const pbc::RpbGetBucketKeyPreflistReq& req,
                           pbc::RpbGetBucketKeyPreflistResp* out) {
  return Call(pbc::Code::kGetBucketKeyPreflistReq, &req,
              pbc::Code::kGetBucketKeyPreflistResp, out);
}

Status Client::ClusterJoin(const std::string& seed) {
  admin::CwClusterJoinReq req;
  req.set_seed(seed);
  return Call(pbc::Code::kClusterJoinReq, &req, pbc::Code::kClusterJoinResp,
              nullptr);
}

Status Client::ClusterLeave(const std::optional<std::string>& node) {
  admin::CwClusterLeaveReq req;
  if (node) req.set_node(*node);
  return Call(pbc::Code::kClusterLeaveReq, &req, pbc::Code::kClusterLeaveResp,
              nullptr);
}

Status Client::ClusterStatus(admin::CwClusterStatusResp* out) {
  return Call(pbc::Code::kClusterStatusReq, nullptr,
              pbc::Code::kClusterStatusResp, out);
}

Status Client::SecurityChange(const admin::CwSecurityChangeReq& req) {
  return Call(pbc::Code::kSecurityChangeReq, &req,
              pbc::Code::kSecurityChangeResp, nullptr);
}

Status Client::SecurityStatus(admin::CwSecurityStatusResp* out) {
  return Call(pbc::Code::kSecurityStatusReq, nullptr,
              pbc::Code::kSecurityStatusResp, out);
}

}  // namespace causeway::client
