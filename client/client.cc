#include "client/client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "base/host_port.h"

namespace causeway::client {
namespace {

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
  }
  return "message code " + std::to_string(code);
}

Client::Client(ClientOptions options) : options_(std::move(options)) {}

Client::~Client() { Close(); }

void Client::Close() {
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
  return Status::Ok();
}

Status Client::WriteAll(const char* data, size_t size, int64_t deadline_ms) {
  while (size > 0) {
    ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int ready = WaitFor(fd_, POLLOUT, deadline_ms);
      if (ready == 0) {
        return TimedOut("sending to " + endpoint() + " took longer than " +
                        std::to_string(options_.io_timeout_ms) + " ms");
      }
      if (ready < 0) {
        return Unreachable("lost connection to " + endpoint() + ": " +
                           ErrnoText(errno));
      }
      continue;
    }
    return Unreachable("lost connection to " + endpoint() + ": " +
                       ErrnoText(n < 0 ? errno : EPIPE));
  }
  return Status::Ok();
}

Status Client::ReadAll(char* data, size_t size, int64_t deadline_ms) {
  while (size > 0) {
    ssize_t n = ::recv(fd_, data, size, 0);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      return Unreachable("connection to " + endpoint() +
                         " closed by the server before the reply was complete");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      int ready = WaitFor(fd_, POLLIN, deadline_ms);
      if (ready == 0) {
        return TimedOut("no reply from " + endpoint() + " within " +
                        std::to_string(options_.io_timeout_ms) + " ms");
      }
      if (ready < 0) {
        return Unreachable("lost connection to " + endpoint() + ": " +
                           ErrnoText(errno));
      }
      continue;
    }
    return Unreachable("lost connection to " + endpoint() + ": " +
                       ErrnoText(errno));
  }
  return Status::Ok();
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
