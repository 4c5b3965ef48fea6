// End-to-end tests of one causewayd process: the client protocol over a raw
// TCP socket (framing, requests, hostile input), the admin HTTP endpoints,
// graceful shutdown, and durability across restarts.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "gtest/gtest.h"
#include "proto/pbc_codes.h"
#include "proto/riak.pb.h"
#include "tests/support/daemon.h"
#include "tests/support/test_certs.h"

namespace causeway {
namespace {

using pbc::Code;
using testing::Daemon;
using testing::DaemonOptions;

// A reply that never comes must fail the test, not hang it.
constexpr int kIoTimeoutMs = 10000;

// A blocking TCP connection to 127.0.0.1 with bounded waits.
class Conn {
 public:
  Conn() = default;
  ~Conn() {
    if (fd_ >= 0) close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  ::testing::AssertionResult Connect(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Fail("socket");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Fail("connect to port " + std::to_string(port));
    }
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult SendAll(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n =
          send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail("send");
      off += static_cast<size_t>(n);
    }
    return ::testing::AssertionSuccess();
  }

  // Reads exactly n bytes. *eof is set when the peer closed before any byte
  // of this read arrived.
  ::testing::AssertionResult ReadExactly(size_t n, std::string* out,
                                         bool* eof = nullptr) {
    out->assign(n, '\0');
    size_t off = 0;
    while (off < n) {
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, kIoTimeoutMs);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) {
        return ::testing::AssertionFailure()
               << "no reply within " << kIoTimeoutMs << " ms";
      }
      ssize_t got = recv(fd_, out->data() + off, n - off, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && errno == ECONNRESET && off == 0 && eof != nullptr) {
        *eof = true;
        return ::testing::AssertionSuccess();
      }
      if (got < 0) return Fail("recv");
      if (got == 0) {
        if (off == 0 && eof != nullptr) {
          *eof = true;
          return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure()
               << "connection closed after " << off << " of " << n << " bytes";
      }
      off += static_cast<size_t>(got);
    }
    if (eof != nullptr) *eof = false;
    return ::testing::AssertionSuccess();
  }

  // True when the peer has closed (EOF or reset) within the I/O timeout.
  bool ClosedByPeer() {
    std::string byte;
    bool eof = false;
    return ReadExactly(1, &byte, &eof) && eof;
  }

  int fd() const { return fd_; }

 private:
  ::testing::AssertionResult Fail(const std::string& what) {
    return ::testing::AssertionFailure()
           << what << ": " << std::strerror(errno);
  }
  int fd_ = -1;
};

std::string BigEndian32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

std::string Frame(uint8_t code, const std::string& body = "") {
  return BigEndian32(static_cast<uint32_t>(body.size() + 1)) +
         static_cast<char>(code) + body;
}

std::string Frame(Code code, const google::protobuf::MessageLite& msg) {
  return Frame(static_cast<uint8_t>(code), msg.SerializeAsString());
}

struct Reply {
  uint8_t code = 0xFF;
  std::string body;
};

::testing::AssertionResult ReadReply(Conn& c, Reply* reply) {
  std::string header;
  if (auto r = c.ReadExactly(4, &header); !r) return r;
  uint32_t len =
      (static_cast<uint32_t>(static_cast<uint8_t>(header[0])) << 24) |
      (static_cast<uint32_t>(static_cast<uint8_t>(header[1])) << 16) |
      (static_cast<uint32_t>(static_cast<uint8_t>(header[2])) << 8) |
      static_cast<uint32_t>(static_cast<uint8_t>(header[3]));
  if (len == 0 || len > (64u << 20)) {
    return ::testing::AssertionFailure() << "bad reply length " << len;
  }
  std::string rest;
  if (auto r = c.ReadExactly(len, &rest); !r) return r;
  reply->code = static_cast<uint8_t>(rest[0]);
  reply->body = rest.substr(1);
  return ::testing::AssertionSuccess();
}

// Sends one request and reads one reply of the expected code. An
// RpbErrorResp instead is reported with its message.
template <typename Resp = pbc::RpbErrorResp>
::testing::AssertionResult Call(Conn& c, const std::string& frame,
                                Code expected, Resp* resp = nullptr) {
  if (auto r = c.SendAll(frame); !r) return r;
  Reply reply;
  if (auto r = ReadReply(c, &reply); !r) return r;
  if (reply.code != static_cast<uint8_t>(expected)) {
    auto f = ::testing::AssertionFailure()
             << "expected reply code " << static_cast<int>(expected) << ", got "
             << static_cast<int>(reply.code);
    pbc::RpbErrorResp err;
    if (reply.code == static_cast<uint8_t>(Code::kErrorResp) &&
        err.ParseFromString(reply.body)) {
      f << " (error " << err.errcode() << ": " << err.errmsg() << ")";
    }
    return f;
  }
  if (resp != nullptr && !resp->ParseFromString(reply.body)) {
    return ::testing::AssertionFailure()
           << "reply body of code " << static_cast<int>(reply.code)
           << " does not parse";
  }
  return ::testing::AssertionSuccess();
}

std::string PutFrame(const std::string& bucket, const std::string& key,
                     const std::string& value, const std::string& vclock = "") {
  pbc::RpbPutReq req;
  req.set_bucket(bucket);
  req.set_key(key);
  req.mutable_content()->set_value(value);
  req.mutable_content()->set_content_type("text/plain");
  if (!vclock.empty()) req.set_vclock(vclock);
  return Frame(Code::kPutReq, req);
}

std::string GetFrame(const std::string& bucket, const std::string& key) {
  pbc::RpbGetReq req;
  req.set_bucket(bucket);
  req.set_key(key);
  return Frame(Code::kGetReq, req);
}

::testing::AssertionResult Ping(uint16_t port) {
  Conn c;
  if (auto r = c.Connect(port); !r) return r;
  return Call(c, Frame(static_cast<uint8_t>(Code::kPingReq)), Code::kPingResp);
}

// --- HTTP ------------------------------------------------------------------

struct HttpResponse {
  int status = 0;
  std::string headers;  // lower-cased
  std::string body;
};

std::string Lower(std::string s) {
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return s;
}

// Undoes chunked transfer coding; nullopt when the framing is broken.
std::optional<std::string> Dechunk(const std::string& in) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return std::nullopt;
    size_t size = 0;
    try {
      size = std::stoul(in.substr(pos, eol - pos), nullptr, 16);
    } catch (...) {
      return std::nullopt;
    }
    pos = eol + 2;
    if (size == 0) return out;
    if (pos + size > in.size()) return std::nullopt;
    out += in.substr(pos, size);
    pos += size + 2;
  }
}

::testing::AssertionResult HttpGet(uint16_t port, const std::string& path,
                                   HttpResponse* resp) {
  Conn c;
  if (auto r = c.Connect(port); !r) return r;
  std::string req = "GET " + path +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (auto r = c.SendAll(req); !r) return r;
  std::string all;
  while (true) {
    std::string byte;
    bool eof = false;
    if (auto r = c.ReadExactly(1, &byte, &eof); !r) return r;
    if (eof) break;
    all += byte;
    if (all.size() > (16u << 20)) {
      return ::testing::AssertionFailure() << "HTTP reply over 16 MiB";
    }
  }
  size_t head_end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
    return ::testing::AssertionFailure() << "not an HTTP reply: " << all;
  }
  resp->status = std::atoi(all.substr(9, 3).c_str());
  resp->headers = Lower(all.substr(0, head_end));
  resp->body = all.substr(head_end + 4);
  if (resp->headers.find("transfer-encoding: chunked") != std::string::npos) {
    auto body = Dechunk(resp->body);
    if (!body) return ::testing::AssertionFailure() << "bad chunked body";
    resp->body = *body;
  }
  return ::testing::AssertionSuccess();
}

// --- fixture ---------------------------------------------------------------

class NodeProcessTest : public ::testing::Test {
 protected:
  void StartDaemon(std::vector<std::string> extra_args = {}) {
    DaemonOptions options;
    options.extra_args = std::move(extra_args);
    daemon_ = std::make_unique<Daemon>(options);
    Status s = daemon_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  uint16_t pb() const { return daemon_->pb_port(); }
  uint16_t http() const { return daemon_->http_port(); }

  std::unique_ptr<Daemon> daemon_;
};

TEST(DaemonHarnessTest, ParsesPortsJson) {
  uint16_t pb = 0, http = 0;
  ASSERT_TRUE(
      testing::ParsePortsJson("{\"pb\":8087,\"http\":8098}\n", &pb, &http)
          .ok());
  EXPECT_EQ(pb, 8087);
  EXPECT_EQ(http, 8098);
  ASSERT_TRUE(
      testing::ParsePortsJson("{ \"http\" : 1, \"pb\" : 65535 }", &pb, &http)
          .ok());
  EXPECT_EQ(pb, 65535);
  EXPECT_EQ(http, 1);
  EXPECT_FALSE(testing::ParsePortsJson("", &pb, &http).ok());
  EXPECT_FALSE(testing::ParsePortsJson("{\"pb\":8087}", &pb, &http).ok());
  EXPECT_FALSE(
      testing::ParsePortsJson("{\"pb\":70000,\"http\":1}", &pb, &http).ok());
  EXPECT_FALSE(
      testing::ParsePortsJson("{\"pb\":0,\"http\":1}", &pb, &http).ok());
  EXPECT_FALSE(
      testing::ParsePortsJson("{\"pb\":\"x\",\"http\":1}", &pb, &http).ok());
}

TEST(DaemonHarnessTest, ReportsADaemonThatCannotStart) {
  DaemonOptions options;
  options.extra_args = {"--no-such-flag-exists"};
  Daemon d(options);
  Status s = d.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(d.running());
  // Bad configuration is exit status 2 by contract.
  ASSERT_TRUE(WIFEXITED(d.last_wait_status()));
  EXPECT_EQ(WEXITSTATUS(d.last_wait_status()), 2) << s.ToString();
  EXPECT_NE(s.message().find("log:"), std::string::npos);
}

// Writes an executable shell script standing in for causewayd, so the
// harness's own failure paths can be exercised.
std::string WriteFakeDaemon(const std::string& dir, const std::string& body) {
  std::string path = dir + "/fake-causewayd";
  std::ofstream out(path);
  out << "#!/bin/sh\n"
         "while [ $# -gt 0 ]; do\n"
         "  [ \"$1\" = --ports-file ] && pf=\"$2\"\n"
         "  shift\n"
         "done\n"
      << body;
  out.close();
  chmod(path.c_str(), 0755);
  return path;
}

class FakeDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/causeway-fake-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FakeDaemonTest, StopKillsAProcessThatIgnoresSigterm) {
  DaemonOptions options;
  options.binary = WriteFakeDaemon(dir_,
                                   "trap '' TERM\n"
                                   "echo '{\"pb\":1,\"http\":2}' > \"$pf\"\n"
                                   "while :; do sleep 1; done\n");
  options.stop_timeout = std::chrono::milliseconds(300);
  Daemon d(options);
  Status s = d.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(d.pb_port(), 1);
  EXPECT_EQ(d.http_port(), 2);
  pid_t pid = d.pid();
  s = d.Stop();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("killed"), std::string::npos) << s.ToString();
  EXPECT_FALSE(d.running());
  EXPECT_EQ(kill(pid, 0), -1) << "the process must be gone";
}

TEST_F(FakeDaemonTest, DestructorStopsTheProcess) {
  DaemonOptions options;
  options.binary = WriteFakeDaemon(dir_,
                                   "trap '' TERM\n"
                                   "echo '{\"pb\":1,\"http\":2}' > \"$pf\"\n"
                                   "while :; do sleep 1; done\n");
  options.stop_timeout = std::chrono::milliseconds(300);
  pid_t pid = -1;
  {
    Daemon d(options);
    ASSERT_TRUE(d.Start().ok());
    pid = d.pid();
    ASSERT_EQ(kill(pid, 0), 0);
  }
  EXPECT_EQ(kill(pid, 0), -1) << "the destructor must reap the process";
}

TEST_F(FakeDaemonTest, StartTimesOutWithTheLogWhenNoPortsFileAppears) {
  DaemonOptions options;
  options.binary = WriteFakeDaemon(dir_,
                                   "echo 'fake: stuck before listening'\n"
                                   "while :; do sleep 1; done\n");
  options.start_timeout = std::chrono::milliseconds(300);
  Daemon d(options);
  Status s = d.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kTimeout);
  EXPECT_NE(s.message().find("stuck before listening"), std::string::npos)
      << s.ToString();
  EXPECT_FALSE(d.running());
}

TEST_F(NodeProcessTest, AnswersPing) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  EXPECT_TRUE(Ping(pb()));
}

TEST_F(NodeProcessTest, PutThenGetReturnsTheValue) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  pbc::RpbPutResp put;
  ASSERT_TRUE(Call(c, PutFrame("fruit", "apple", "red"), Code::kPutResp, &put));

  pbc::RpbGetResp get;
  ASSERT_TRUE(Call(c, GetFrame("fruit", "apple"), Code::kGetResp, &get));
  ASSERT_EQ(get.content_size(), 1);
  EXPECT_EQ(get.content(0).value(), "red");
  EXPECT_EQ(get.content(0).content_type(), "text/plain");
  EXPECT_FALSE(get.vclock().empty());

  // A write with the context just read replaces the value: no sibling.
  ASSERT_TRUE(Call(c, PutFrame("fruit", "apple", "green", get.vclock()),
                   Code::kPutResp, &put));
  ASSERT_TRUE(Call(c, GetFrame("fruit", "apple"), Code::kGetResp, &get));
  ASSERT_EQ(get.content_size(), 1);
  EXPECT_EQ(get.content(0).value(), "green");
}

TEST_F(NodeProcessTest, GetOfAMissingKeyIsAnEmptyGetResp) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  pbc::RpbGetResp get;
  ASSERT_TRUE(Call(c, GetFrame("fruit", "nothing"), Code::kGetResp, &get));
  EXPECT_EQ(get.content_size(), 0);
}

TEST_F(NodeProcessTest, PipelinedRequestsAreAnsweredInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  std::string burst = Frame(static_cast<uint8_t>(Code::kPingReq)) +
                      PutFrame("b", "k", "v1") + GetFrame("b", "k") +
                      Frame(static_cast<uint8_t>(Code::kPingReq));
  ASSERT_TRUE(c.SendAll(burst));
  const Code expected[] = {Code::kPingResp, Code::kPutResp, Code::kGetResp,
                           Code::kPingResp};
  for (Code code : expected) {
    Reply r;
    ASSERT_TRUE(ReadReply(c, &r));
    EXPECT_EQ(r.code, static_cast<uint8_t>(code));
    if (code == Code::kGetResp) {
      pbc::RpbGetResp get;
      ASSERT_TRUE(get.ParseFromString(r.body));
      ASSERT_EQ(get.content_size(), 1);
      EXPECT_EQ(get.content(0).value(), "v1");
    }
  }
}

TEST_F(NodeProcessTest, GarbageBodyGetsAnErrorAndTheNodeKeepsServing) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  // Not a protobuf message: a field header with wire type 7 (invalid)
  // followed by noise.
  ASSERT_TRUE(
      c.SendAll(Frame(static_cast<uint8_t>(Code::kPutReq),
                      std::string("\xFF\xFF\xFF\xFF\x0F\x07garbage", 13))));
  Reply r;
  ASSERT_TRUE(ReadReply(c, &r));
  ASSERT_EQ(r.code, static_cast<uint8_t>(Code::kErrorResp));
  pbc::RpbErrorResp err;
  ASSERT_TRUE(err.ParseFromString(r.body));
  EXPECT_FALSE(err.errmsg().empty());

  // Nothing was half-applied and other clients are unaffected.
  Conn other;
  ASSERT_TRUE(other.Connect(pb()));
  ASSERT_TRUE(Call(other, Frame(static_cast<uint8_t>(Code::kPingReq)),
                   Code::kPingResp));
  ASSERT_TRUE(Call(other, PutFrame("b", "k", "v"), Code::kPutResp));
  pbc::RpbGetResp get;
  ASSERT_TRUE(Call(other, GetFrame("b", "k"), Code::kGetResp, &get));
  ASSERT_EQ(get.content_size(), 1);
  EXPECT_EQ(get.content(0).value(), "v");
}

TEST_F(NodeProcessTest, UnknownMessageCodeIsNamedAndTheConnectionStaysOpen) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  ASSERT_TRUE(c.SendAll(Frame(150, "xyz")));
  Reply r;
  ASSERT_TRUE(ReadReply(c, &r));
  ASSERT_EQ(r.code, static_cast<uint8_t>(Code::kErrorResp));
  pbc::RpbErrorResp err;
  ASSERT_TRUE(err.ParseFromString(r.body));
  EXPECT_NE(err.errmsg().find("150"), std::string::npos) << err.errmsg();
  ASSERT_TRUE(
      Call(c, Frame(static_cast<uint8_t>(Code::kPingReq)), Code::kPingResp));
}

TEST_F(NodeProcessTest, OversizedLengthPrefixIsRefusedAndTheNodeKeepsServing) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  // Claims 4 GiB; the server must refuse on the prefix alone, not wait for
  // (or allocate) the body.
  ASSERT_TRUE(c.SendAll(BigEndian32(0xFFFFFFFFu) + "\x0b"));
  Reply r;
  ASSERT_TRUE(ReadReply(c, &r));
  ASSERT_EQ(r.code, static_cast<uint8_t>(Code::kErrorResp));
  pbc::RpbErrorResp err;
  ASSERT_TRUE(err.ParseFromString(r.body));
  EXPECT_EQ(err.errcode(),
            static_cast<uint32_t>(pbc::ErrorCode::kFrameTooLarge))
      << err.errmsg();
  EXPECT_TRUE(c.ClosedByPeer());

  EXPECT_TRUE(Ping(pb()));
}

TEST_F(NodeProcessTest, MaxFrameBytesFlagIsEnforced) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--max-frame-bytes", "1024"}));
  Conn small;
  ASSERT_TRUE(small.Connect(pb()));
  ASSERT_TRUE(Call(small, PutFrame("b", "small", std::string(100, 'x')),
                   Code::kPutResp));

  Conn big;
  ASSERT_TRUE(big.Connect(pb()));
  ASSERT_TRUE(big.SendAll(PutFrame("b", "big", std::string(2000, 'x'))));
  Reply r;
  ASSERT_TRUE(ReadReply(big, &r));
  EXPECT_EQ(r.code, static_cast<uint8_t>(Code::kErrorResp));
  EXPECT_TRUE(big.ClosedByPeer());

  pbc::RpbGetResp get;
  ASSERT_TRUE(Call(small, GetFrame("b", "big"), Code::kGetResp, &get));
  EXPECT_EQ(get.content_size(), 0) << "a refused frame must not be applied";
}

// The unsigned number after `"key":` at the top level of a flat JSON
// object (enough for /stats counters); nullopt when absent.
std::optional<uint64_t> JsonUint(const std::string& json,
                                 const std::string& key) {
  size_t pos = json.find("\"" + key + "\"");
  if (pos == std::string::npos) return std::nullopt;
  pos = json.find(':', pos);
  if (pos == std::string::npos) return std::nullopt;
  ++pos;
  while (pos < json.size() && json[pos] == ' ') ++pos;
  if (pos >= json.size() || json[pos] < '0' || json[pos] > '9') {
    return std::nullopt;
  }
  return std::stoull(json.substr(pos, 20));
}

// The value of the first sample of `metric` (labels ignored) in Prometheus
// text; nullopt when absent.
std::optional<double> PromValue(const std::string& text,
                                const std::string& metric) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind(metric, 0) != 0) continue;
    char next = line.size() > metric.size() ? line[metric.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    size_t space = line.rfind(' ');
    if (space == std::string::npos) return std::nullopt;
    return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

TEST_F(NodeProcessTest, ServesStatsAndMetricsOverHttp) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  {
    Conn c;
    ASSERT_TRUE(c.Connect(pb()));
    ASSERT_TRUE(Call(c, PutFrame("b", "k", "v"), Code::kPutResp));
    ASSERT_TRUE(Call(c, GetFrame("b", "k"), Code::kGetResp));
    ASSERT_TRUE(Call(c, GetFrame("b", "missing"), Code::kGetResp));
    ASSERT_TRUE(Call(c, Frame(150, ""), Code::kErrorResp));
  }

  HttpResponse ping;
  ASSERT_TRUE(HttpGet(http(), "/ping", &ping));
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body.substr(0, 2), "OK");

  HttpResponse stats;
  ASSERT_TRUE(HttpGet(http(), "/stats", &stats));
  EXPECT_EQ(stats.status, 200);
  EXPECT_NE(stats.headers.find("application/json"), std::string::npos)
      << stats.headers;
  ASSERT_FALSE(stats.body.empty());
  EXPECT_EQ(stats.body.front(), '{') << stats.body;
  EXPECT_NE(stats.body.find("\"node\""), std::string::npos) << stats.body;
  EXPECT_EQ(JsonUint(stats.body, "puts"), 1u) << stats.body;
  EXPECT_EQ(JsonUint(stats.body, "gets"), 2u) << stats.body;
  EXPECT_EQ(JsonUint(stats.body, "get_not_found"), 1u) << stats.body;
  EXPECT_EQ(JsonUint(stats.body, "bad_requests"), 1u) << stats.body;

  HttpResponse metrics;
  ASSERT_TRUE(HttpGet(http(), "/metrics", &metrics));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers.find("text/plain"), std::string::npos)
      << metrics.headers;
  EXPECT_NE(metrics.body.find("# TYPE causeway_puts_total counter"),
            std::string::npos)
      << metrics.body;
  EXPECT_EQ(PromValue(metrics.body, "causeway_puts_total"), 1.0)
      << metrics.body;
  EXPECT_EQ(PromValue(metrics.body, "causeway_gets_total"), 2.0)
      << metrics.body;

  HttpResponse missing;
  ASSERT_TRUE(HttpGet(http(), "/no-such-page", &missing));
  EXPECT_EQ(missing.status, 404);
}

// --- client connection bounds -------------------------------------------

// Waits up to `limit_ms` for the peer to close `c` (EOF or reset), reading
// and dropping whatever it sends first; the time it took, or nullopt.
std::optional<int64_t> MsUntilClosed(Conn& c, int64_t limit_ms) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - start)
        .count();
  };
  while (elapsed() < limit_ms) {
    pollfd p{c.fd(), POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(limit_ms - elapsed()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t got = recv(c.fd(), buf, sizeof(buf), 0);
    if (got == 0 || (got < 0 && errno != EINTR)) return elapsed();
  }
  return std::nullopt;
}

// A /stats or /metrics number, fetched now.
std::optional<uint64_t> StatNow(uint16_t http_port, const std::string& key) {
  HttpResponse stats;
  if (!HttpGet(http_port, "/stats", &stats)) return std::nullopt;
  return JsonUint(stats.body, key);
}
std::optional<double> MetricNow(uint16_t http_port, const std::string& name) {
  HttpResponse metrics;
  if (!HttpGet(http_port, "/metrics", &metrics)) return std::nullopt;
  return PromValue(metrics.body, name);
}

TEST_F(NodeProcessTest, IdleConnectionIsClosedWhileOthersAreServed) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--client-idle-timeout-ms", "300"}));
  Conn idle;
  ASSERT_TRUE(idle.Connect(pb()));
  EXPECT_TRUE(Ping(pb()));
  // Generous: the bound is 300 ms; only "much later" or "never" fails.
  std::optional<int64_t> closed = MsUntilClosed(idle, 5000);
  ASSERT_TRUE(closed.has_value()) << "idle connection still open after 5 s";
  EXPECT_TRUE(Ping(pb()));
  EXPECT_GE(StatNow(http(), "closed_idle").value_or(0), 1u);
  EXPECT_GE(
      MetricNow(http(), "causeway_connections_closed_idle_total").value_or(0),
      1.0);
}

TEST_F(NodeProcessTest, AFrameTrickledInIsCutOffAtTheFrameDeadline) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--client-frame-deadline-ms", "500"}));
  Conn slow;
  ASSERT_TRUE(slow.Connect(pb()));
  // A header announcing 200 bytes, then one byte per 100 ms: 20 s to finish.
  ASSERT_TRUE(slow.SendAll(BigEndian32(200)));
  const auto start = std::chrono::steady_clock::now();
  std::optional<int64_t> closed;
  for (int i = 0; i < 100 && !closed; ++i) {
    if (send(slow.fd(), "\x0b", 1, MSG_NOSIGNAL) != 1) break;
    closed = MsUntilClosed(slow, 100);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  EXPECT_LT(took, 5000) << "the trickling connection was not cut off";
  EXPECT_TRUE(Ping(pb()));
  EXPECT_GE(StatNow(http(), "closed_frame_deadline").value_or(0), 1u);
}

TEST_F(NodeProcessTest, OverLongKeyGetsAnErrorAndTheConnectionKeepsWorking) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  ASSERT_TRUE(c.SendAll(PutFrame("b", std::string(1025, 'k'), "v")));
  Reply r;
  ASSERT_TRUE(ReadReply(c, &r));
  ASSERT_EQ(r.code, static_cast<uint8_t>(Code::kErrorResp));
  pbc::RpbErrorResp err;
  ASSERT_TRUE(err.ParseFromString(r.body));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("1024"), std::string::npos) << err.errmsg();

  ASSERT_TRUE(
      Call(c, Frame(static_cast<uint8_t>(Code::kPingReq)), Code::kPingResp));
  ASSERT_TRUE(
      Call(c, PutFrame("b", std::string(1024, 'k'), "v"), Code::kPutResp));
  EXPECT_EQ(StatNow(http(), "requests_refused_too_long"), 1u);
  EXPECT_EQ(MetricNow(http(), "causeway_requests_refused_too_long_total"), 1.0);
}

TEST_F(NodeProcessTest, PartialFramesOverTheBudgetCloseTheConnection) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(
      {"--max-frame-bytes", "1048576", "--client-buffer-budget-mb", "1"}));
  const std::string first = PutFrame("b", "first", std::string(900000, 'x'));
  const std::string second = PutFrame("b", "second", std::string(900000, 'y'));
  Conn a;
  ASSERT_TRUE(a.Connect(pb()));
  ASSERT_TRUE(a.SendAll(first.substr(0, 600000)));
  // Wait until the node holds the first connection's bytes.
  for (int i = 0; i < 100; ++i) {
    if (StatNow(http(), "buffered_bytes").value_or(0) >= 600000) break;
    usleep(50 * 1000);
  }
  ASSERT_GE(StatNow(http(), "buffered_bytes").value_or(0), 600000u);

  Conn b;
  ASSERT_TRUE(b.Connect(pb()));
  ASSERT_TRUE(b.SendAll(second.substr(0, 500000)));
  Reply r;
  ASSERT_TRUE(ReadReply(b, &r));
  ASSERT_EQ(r.code, static_cast<uint8_t>(Code::kErrorResp));
  EXPECT_TRUE(MsUntilClosed(b, 5000).has_value());

  // The first connection, within the budget, finishes its frame.
  ASSERT_TRUE(a.SendAll(first.substr(600000)));
  Reply put;
  ASSERT_TRUE(ReadReply(a, &put));
  EXPECT_EQ(put.code, static_cast<uint8_t>(Code::kPutResp));
  EXPECT_EQ(StatNow(http(), "closed_budget"), 1u);
  EXPECT_EQ(StatNow(http(), "buffered_bytes"), 0u);
}

TEST_F(NodeProcessTest, SigtermExitsZero) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  ASSERT_TRUE(Ping(pb()));
  Status s = daemon_->Stop();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(daemon_->running());
}

TEST_F(NodeProcessTest, DataSurvivesARestart) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  {
    Conn c;
    ASSERT_TRUE(c.Connect(pb()));
    ASSERT_TRUE(
        Call(c, PutFrame("durable", "k1", "before restart"), Code::kPutResp));
  }
  Status s = daemon_->Stop();
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = daemon_->Start();
  ASSERT_TRUE(s.ok()) << s.ToString();

  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  pbc::RpbGetResp get;
  ASSERT_TRUE(Call(c, GetFrame("durable", "k1"), Code::kGetResp, &get));
  ASSERT_EQ(get.content_size(), 1);
  EXPECT_EQ(get.content(0).value(), "before restart");

  // The restarted node keeps writing causally after what it had: a write
  // with the context read now replaces the value.
  ASSERT_TRUE(Call(c, PutFrame("durable", "k1", "after restart", get.vclock()),
                   Code::kPutResp));
  ASSERT_TRUE(Call(c, GetFrame("durable", "k1"), Code::kGetResp, &get));
  ASSERT_EQ(get.content_size(), 1);
  EXPECT_EQ(get.content(0).value(), "after restart");
}

// The node defers its storage log writes until something is about to
// leave it (storage::Engine::FlushLog): every acknowledged write must
// still be in the log when the process is killed right after the last
// acknowledgement, whichever connection it came through.
TEST_F(NodeProcessTest, AcknowledgedWriteSurvivesAProcessCrash) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  constexpr int kConnections = 3;
  constexpr int kWrites = 300;
  {
    std::vector<Conn> conns(kConnections);
    for (Conn& c : conns) ASSERT_TRUE(c.Connect(pb()));
    for (int i = 0; i < kWrites; ++i) {
      ASSERT_TRUE(Call(conns[i % kConnections],
                       PutFrame("durable", "crash" + std::to_string(i),
                                "acked " + std::to_string(i)),
                       Code::kPutResp));
    }
    daemon_->Kill();  // before the connections close
  }
  Status s = daemon_->Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  Conn c;
  ASSERT_TRUE(c.Connect(pb()));
  for (int i = 0; i < kWrites; ++i) {
    pbc::RpbGetResp get;
    ASSERT_TRUE(Call(c, GetFrame("durable", "crash" + std::to_string(i)),
                     Code::kGetResp, &get));
    ASSERT_EQ(get.content_size(), 1) << "write " << i << " lost";
    EXPECT_EQ(get.content(0).value(), "acked " + std::to_string(i));
  }
}

}  // namespace
}  // namespace causeway

namespace causeway {
namespace {

// causewayd with the client port's TLS settings: a client that sends
// RpbStartTls and verifies the node's certificate is served over TLS, and
// a certificate the node cannot use stops it at start with the setting
// named.
TEST(NodeTlsProcessTest, TheClientPortServesTlsWithTheConfiguredCertificate) {
  testing::TestCerts certs;
  Status s = certs.Make();
  ASSERT_TRUE(s.ok()) << s.ToString();
  testing::DaemonOptions options;
  options.extra_args = {"--tls-cert-file", certs.server_cert(),
                        "--tls-key-file",  certs.server_key(),
                        "--tls-ca-file",   certs.ca()};
  testing::Daemon d(options);
  s = d.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  client::ClientOptions co;
  co.port = d.pb_port();
  co.tls_ca_file = certs.ca();
  co.tls_cert_file = certs.client_cert();
  co.tls_key_file = certs.client_key();
  client::Client c(co);
  pbc::RpbPutReq put;
  put.set_bucket("fruit");
  put.set_key("apple");
  put.mutable_content()->set_value("red");
  pbc::RpbPutResp put_resp;
  s = c.Put(put, &put_resp);
  ASSERT_TRUE(s.ok()) << s.ToString();
  pbc::RpbGetReq get;
  get.set_bucket("fruit");
  get.set_key("apple");
  pbc::RpbGetResp got;
  s = c.Get(get, &got);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(got.content_size(), 1);
  EXPECT_EQ(got.content(0).value(), "red");
  // A client that does not trust the node's CA gets no further.
  co.tls_ca_file = certs.rogue_ca();
  client::Client distrustful(co);
  EXPECT_FALSE(distrustful.Ping().ok());
  EXPECT_EQ(distrustful.last_error().kind, client::ErrorKind::kSecurity);
  c.Close();
  EXPECT_TRUE(d.Stop().ok());
}

TEST(NodeTlsProcessTest, ACertificateTheNodeCannotUseStopsItAtStart) {
  testing::TestCerts certs;
  Status s = certs.Make();
  ASSERT_TRUE(s.ok()) << s.ToString();
  testing::DaemonOptions options;
  options.extra_args = {"--tls-cert-file", certs.server_cert(),
                        "--tls-key-file", certs.client_key()};
  testing::Daemon d(options);
  s = d.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(d.running());
  EXPECT_NE(s.message().find("tls_key_file"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace causeway
