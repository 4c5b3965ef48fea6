// Target "client_reply": how client::Client (the CLI's client library)
// reads a server's replies. The client connects over loopback to a
// listener of this process, which has already written the fuzzed server
// byte stream and closed its sending side, so every read ends in bounded
// time without threads or timers.
// Input: byte 0: frame limit (0: the default, else that many 16-byte
// units); byte 1: number of calls (mod 8, plus 1); then one byte per call
// picking the call; the rest is what the server sends.
// Promises checked, against an independent reading of the documented
// protocol (4-byte big-endian length of code and body, then the code):
// every call reads exactly the frames a correct client should, and ends
// with the status and last_error() kind the header promises (truncated:
// unreachable; empty, oversized, wrong code or unparseable body: protocol
// error, after which the client is disconnected; RpbErrorResp: server
// error with its errcode, connection kept); listings deliver exactly the
// names of their frames.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using client::Client;
using client::ErrorKind;
using pbc::Code;

// Large enough for any input libFuzzer is given by run-all; the listener's
// socket buffers hold the whole stream (bigger inputs are cut).
constexpr size_t kMaxStream = 48 * 1024;

int Listener(uint16_t* port) {
  static int fd = -1;
  static uint16_t bound = 0;
  if (fd < 0) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FUZZ_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
               0);
    FUZZ_CHECK(::listen(fd, 8) == 0);
    socklen_t len = sizeof addr;
    FUZZ_CHECK(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) ==
               0);
    bound = ntohs(addr.sin_port);
  }
  *port = bound;
  return fd;
}

// What a correct client makes of the stream, one reply frame at a time.
struct Model {
  std::string_view stream;
  uint32_t limit;
  bool connected = true;

  struct Outcome {
    Status::Code code = Status::Code::kOk;
    ErrorKind kind = ErrorKind::kNone;
    uint32_t server_code = 0;
  };

  // Reads one frame expecting `expected`, parsing its body into `out`
  // (unless null).
  Outcome Frame(Code expected, google::protobuf::MessageLite* out) {
    Outcome o;
    auto fail = [&](ErrorKind kind, Status::Code code) {
      connected = false;
      o.kind = kind;
      o.code = code;
      return o;
    };
    if (stream.size() < 4) {
      return fail(ErrorKind::kUnreachable, Status::Code::kUnavailable);
    }
    const uint32_t len = (uint32_t(uint8_t(stream[0])) << 24) |
                         (uint32_t(uint8_t(stream[1])) << 16) |
                         (uint32_t(uint8_t(stream[2])) << 8) |
                         uint32_t(uint8_t(stream[3]));
    if (len == 0 || len > limit) {
      return fail(ErrorKind::kProtocol, Status::Code::kCorruption);
    }
    if (stream.size() - 4 < len) {
      return fail(ErrorKind::kUnreachable, Status::Code::kUnavailable);
    }
    const uint8_t code = uint8_t(stream[4]);
    const std::string body(stream.substr(5, len - 1));
    stream.remove_prefix(4 + len);
    if (code == uint8_t(Code::kErrorResp)) {
      pbc::RpbErrorResp error;
      if (!error.ParsePartialFromString(body)) {
        return fail(ErrorKind::kProtocol, Status::Code::kCorruption);
      }
      o.kind = ErrorKind::kServer;
      o.server_code = error.errcode();
      o.code = Status::Code::kIoError;  // some error; compared as not-ok
      return o;
    }
    if (code != uint8_t(expected)) {
      return fail(ErrorKind::kProtocol, Status::Code::kCorruption);
    }
    if (out != nullptr && !out->ParseFromString(body)) {
      return fail(ErrorKind::kProtocol, Status::Code::kCorruption);
    }
    return o;
  }
};

void Expect(const Client& c, const Status& s, const Model::Outcome& o) {
  FUZZ_CHECK(c.last_error().kind == o.kind);
  switch (o.kind) {
    case ErrorKind::kServer:
      FUZZ_CHECK(!s.ok());
      FUZZ_CHECK(c.last_error().server_code == o.server_code);
      FUZZ_CHECK(c.connected());
      break;
    case ErrorKind::kNone:
      FUZZ_CHECK(s.ok() || s.IsNotFound());
      FUZZ_CHECK(c.connected());
      break;
    default:
      FUZZ_CHECK(s.code() == o.code);
      FUZZ_CHECK(!c.connected());
      break;
  }
}

// One call of the client and the same call in the model; false when the
// connection is gone.
bool Step(uint8_t op, Client& c, Model& m) {
  switch (op % 12) {
    case 0: {
      const Status s = c.Ping();
      Expect(c, s, m.Frame(Code::kPingResp, nullptr));
      break;
    }
    case 1: {
      pbc::RpbGetServerInfoResp got, want;
      const Status s = c.GetServerInfo(&got);
      const auto o = m.Frame(Code::kGetServerInfoResp, &want);
      Expect(c, s, o);
      if (s.ok())
        FUZZ_CHECK(got.SerializeAsString() == want.SerializeAsString());
      break;
    }
    case 2: {
      pbc::RpbGetReq req;
      req.set_bucket("b");
      req.set_key("k");
      pbc::RpbGetResp got, want;
      const Status s = c.Get(req, &got);
      const auto o = m.Frame(Code::kGetResp, &want);
      Expect(c, s, o);
      if (o.kind == ErrorKind::kNone) {
        FUZZ_CHECK(s.IsNotFound() ==
                   (want.content_size() == 0 && !want.unchanged()));
        FUZZ_CHECK(got.SerializeAsString() == want.SerializeAsString());
      }
      break;
    }
    case 3: {
      pbc::RpbPutReq req;
      req.set_bucket("b");
      req.mutable_content()->set_value("v");
      pbc::RpbPutResp got, want;
      const Status s = c.Put(req, &got);
      Expect(c, s, m.Frame(Code::kPutResp, &want));
      if (s.ok())
        FUZZ_CHECK(got.SerializeAsString() == want.SerializeAsString());
      break;
    }
    case 4: {
      pbc::RpbDelReq req;
      req.set_bucket("b");
      req.set_key("k");
      const Status s = c.Delete(req);
      const auto o = m.Frame(Code::kDelResp, nullptr);
      Expect(c, s, o);
      if (o.kind == ErrorKind::kNone) FUZZ_CHECK(s.ok());
      break;
    }
    case 5:
    case 6: {
      const bool keys = op % 12 == 5;
      std::vector<std::string> got, want;
      Status s;
      if (keys) {
        pbc::RpbListKeysReq req;
        req.set_bucket("b");
        s = c.ListKeys(req, &got);
      } else {
        pbc::RpbListBucketsReq req;
        req.set_stream(true);
        s = c.ListBuckets(req, &got);
      }
      Model::Outcome o;
      for (;;) {
        pbc::RpbListKeysResp k;
        pbc::RpbListBucketsResp b;
        o = keys ? m.Frame(Code::kListKeysResp, &k)
                 : m.Frame(Code::kListBucketsResp, &b);
        if (o.kind != ErrorKind::kNone) break;
        for (const auto& n : keys ? k.keys() : b.buckets()) want.push_back(n);
        if (keys ? k.done() : b.done()) break;
      }
      Expect(c, s, o);
      if (o.kind == ErrorKind::kNone) FUZZ_CHECK(s.ok());
      FUZZ_CHECK(got == want);
      break;
    }
    case 7: {
      pbc::RpbGetBucketReq req;
      req.set_bucket("b");
      pbc::RpbBucketProps got;
      pbc::RpbGetBucketResp want;
      const Status s = c.GetBucket(req, &got);
      Expect(c, s, m.Frame(Code::kGetBucketResp, &want));
      if (s.ok()) {
        FUZZ_CHECK(got.SerializeAsString() == want.props().SerializeAsString());
      }
      break;
    }
    case 8: {
      pbc::DtFetchReq req;
      req.set_bucket("b");
      req.set_key("k");
      req.set_type("maps");
      pbc::DtFetchResp got, want;
      const Status s = c.DtFetch(req, &got);
      Expect(c, s, m.Frame(Code::kDtFetchResp, &want));
      break;
    }
    case 9: {
      admin::CwClusterStatusResp got, want;
      const Status s = c.ClusterStatus(&got);
      Expect(c, s, m.Frame(Code::kClusterStatusResp, &want));
      break;
    }
    case 10: {
      admin::CwListBucketTypesResp got, want;
      const Status s = c.ListBucketTypes(&got);
      Expect(c, s, m.Frame(Code::kListBucketTypesResp, &want));
      break;
    }
    default: {
      pbc::RpbGetBucketKeyPreflistReq req;
      req.set_bucket("b");
      req.set_key("k");
      pbc::RpbGetBucketKeyPreflistResp got, want;
      const Status s = c.GetPreflist(req, &got);
      Expect(c, s, m.Frame(Code::kGetBucketKeyPreflistResp, &want));
      break;
    }
  }
  return m.connected;
}

void FuzzClientReply(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const uint32_t limit =
      data[0] == 0 ? pbc::kDefaultMaxFrameBytes : uint32_t(data[0]) * 16;
  const size_t calls = data[1] % 8 + 1;
  if (size < 2 + calls) return;
  const uint8_t* ops = data + 2;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2 + calls,
                          size - 2 - calls);
  if (stream.size() > kMaxStream) stream = stream.substr(0, kMaxStream);

  uint16_t port = 0;
  const int listener = Listener(&port);
  client::ClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.connect_timeout_ms = 2000;
  // The stream is complete and closed before the first call: a read
  // never waits for more than the kernel to hand over bytes.
  options.io_timeout_ms = 5000;
  options.max_frame_bytes = limit;
  Client c(options);
  FUZZ_CHECK(c.Connect().ok());
  const int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  FUZZ_CHECK(server >= 0);
  const int buffer = 1 << 20;
  ::setsockopt(server, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  size_t sent = 0;
  while (sent < stream.size()) {
    const ssize_t n = ::send(server, stream.data() + sent, stream.size() - sent,
                             MSG_NOSIGNAL);
    FUZZ_CHECK(n > 0);
    sent += size_t(n);
  }
  FUZZ_CHECK(::shutdown(server, SHUT_WR) == 0);

  Model model{stream, limit};
  for (size_t i = 0; i < calls; ++i) {
    if (!Step(ops[i], c, model)) break;
  }
  c.Close();
  ::close(server);
}

const Registration kRegistration("client_reply", &FuzzClientReply);

}  // namespace
}  // namespace causeway::fuzz
