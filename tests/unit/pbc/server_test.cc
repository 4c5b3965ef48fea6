// PbcServer over loopback TCP: framing on a real socket, error replies, the
// frame limit closing only the offending connection, the connection limit.
// The server runs on its own io_context thread; the test is a plain
// blocking client (with a receive timeout so a bug fails instead of hangs).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "node/pbc_codec.h"
#include "node/pbc_server.h"
#include "node/stats.h"
#include "proto/riak.pb.h"
#include "replication/core.h"
#include "storage/engine.h"
#include "tests/support/manual_env.h"

namespace causeway::node {
namespace {

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd_, 0);
    // A safety net against a hung test, not a timing assertion.
    timeval tv{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    EXPECT_TRUE(connected_);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool Write(const std::string& bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      ssize_t n =
          ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<size_t>(n);
    }
    return true;
  }

  // One whole frame, or nullopt if the connection ended first.
  std::optional<Frame> ReadFrame() {
    std::string header;
    if (!ReadExactly(4, &header)) return std::nullopt;
    uint32_t length = (uint32_t{static_cast<uint8_t>(header[0])} << 24) |
                      (uint32_t{static_cast<uint8_t>(header[1])} << 16) |
                      (uint32_t{static_cast<uint8_t>(header[2])} << 8) |
                      uint32_t{static_cast<uint8_t>(header[3])};
    if (length == 0 || length > (16u << 20)) return std::nullopt;
    std::string rest;
    if (!ReadExactly(length, &rest)) return std::nullopt;
    return Frame{static_cast<uint8_t>(rest[0]), rest.substr(1)};
  }

  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  // True if the server closed the connection (orderly or by reset) rather
  // than sending more bytes or leaving the read to time out.
  bool ReadsClosed() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool ReadExactly(size_t n, std::string* out) {
    out->resize(n);
    size_t at = 0;
    while (at < n) {
      ssize_t got = ::recv(fd_, out->data() + at, n - at, 0);
      if (got <= 0) return false;
      at += static_cast<size_t>(got);
    }
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
};

std::string Ping() { return EncodeFrame(pbc::Code::kPingReq); }

void ExpectPong(Client& c) {
  auto f = c.ReadFrame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->code, static_cast<uint8_t>(pbc::Code::kPingResp));
  EXPECT_TRUE(f->body.empty());
}

pbc::RpbErrorResp ExpectError(Client& c) {
  auto f = c.ReadFrame();
  pbc::RpbErrorResp err;
  EXPECT_TRUE(f.has_value());
  if (!f) return err;
  EXPECT_EQ(f->code, 0);
  EXPECT_TRUE(err.ParseFromString(f->body));
  return err;
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() : engine_(storage::NewMemoryEngine()) {
    core_ = std::make_unique<replication::NodeCore>(env_, *engine_,
                                                    replication::NodeConfig{});
    EXPECT_TRUE(core_->Open().ok());
  }

  ~ServerTest() override { StopServer(); }

  void StartServer(PbcServerOptions options) {
    options.port = 0;
    server_ = std::make_unique<PbcServer>(io_, *core_, stats_, options);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
    thread_ = std::thread([this] { io_.run(); });
  }

  // Stops the server on its own thread and joins it; stats are safe to read
  // afterwards.
  void StopServer() {
    if (!thread_.joinable()) return;
    std::promise<void> stopped;
    boost::asio::post(io_, [&] {
      server_->Stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  // Runs `fn` on the server thread and waits, to read stats while serving.
  template <typename Fn>
  auto OnServerThread(Fn fn) {
    std::promise<decltype(fn())> result;
    boost::asio::post(io_, [&] { result.set_value(fn()); });
    return result.get_future().get();
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_ = boost::asio::make_work_guard(io_);
  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<replication::NodeCore> core_;
  Stats stats_;
  std::unique_ptr<PbcServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(ServerTest, PingGarbageAndOversizedFrame) {
  PbcServerOptions options;
  options.max_frame_bytes = 1024;
  StartServer(options);

  Client bystander(port_);  // connected before the trouble starts
  ASSERT_TRUE(bystander.Write(Ping()));
  ExpectPong(bystander);

  Client c(port_);
  ASSERT_TRUE(c.Write(Ping()));
  ExpectPong(c);

  // A body that is not a valid RpbGetReq: an error, and the connection
  // stays usable.
  ASSERT_TRUE(c.Write(EncodeRawFrame(static_cast<uint8_t>(pbc::Code::kGetReq),
                                     std::string("\xff\xff\xff", 3))));
  auto err = ExpectError(c);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  ASSERT_TRUE(c.Write(Ping()));
  ExpectPong(c);

  // An unknown code: named in the error, connection stays.
  ASSERT_TRUE(c.Write(EncodeRawFrame(77, "")));
  err = ExpectError(c);
  EXPECT_EQ(err.errcode(),
            static_cast<uint32_t>(pbc::ErrorCode::kUnknownMessage));
  EXPECT_NE(err.errmsg().find("77"), std::string::npos);

  // A length over the limit: only the header is sent, the server must not
  // wait for the body. Error, then close.
  ASSERT_TRUE(c.Write(std::string("\x00\x10\x00\x00", 4)));
  err = ExpectError(c);
  EXPECT_EQ(err.errcode(),
            static_cast<uint32_t>(pbc::ErrorCode::kFrameTooLarge));
  EXPECT_TRUE(c.ReadsClosed());

  // Everyone else is still served, old connections and new.
  ASSERT_TRUE(bystander.Write(Ping()));
  ExpectPong(bystander);
  Client second(port_);
  ASSERT_TRUE(second.Write(Ping()));
  ExpectPong(second);

  StopServer();
  EXPECT_EQ(stats_.connections_total, 3u);
  EXPECT_EQ(stats_.connections_open, 0u);
  EXPECT_EQ(stats_.bad_requests, 3u);
}

TEST_F(ServerTest, ZeroLengthFrameClosesTheConnection) {
  StartServer({});
  Client c(port_);
  ASSERT_TRUE(c.Write(std::string(4, '\0')));
  auto err = ExpectError(c);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_TRUE(c.ReadsClosed());
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer({});
  Client c(port_);
  pbc::RpbPutReq put;
  put.set_bucket("b");
  put.set_key("k");
  put.mutable_content()->set_value("v");
  pbc::RpbGetReq get;
  get.set_bucket("b");
  get.set_key("k");
  // One write holding four requests, the last split over the boundary of a
  // second write.
  std::string stream = Ping() + EncodeFrame(pbc::Code::kPutReq, put) +
                       EncodeRawFrame(99, "") +
                       EncodeFrame(pbc::Code::kGetReq, get);
  ASSERT_TRUE(c.Write(stream.substr(0, stream.size() - 3)));
  ASSERT_TRUE(c.Write(stream.substr(stream.size() - 3)));

  ExpectPong(c);
  auto f = c.ReadFrame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->code, static_cast<uint8_t>(pbc::Code::kPutResp));
  ExpectError(c);
  f = c.ReadFrame();
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->code, static_cast<uint8_t>(pbc::Code::kGetResp));
  pbc::RpbGetResp resp;
  ASSERT_TRUE(resp.ParseFromString(f->body));
  ASSERT_EQ(resp.content_size(), 1);
  EXPECT_EQ(resp.content(0).value(), "v");
}

TEST_F(ServerTest, ClientThatStopsSendingStillGetsItsReplies) {
  StartServer({});
  Client c(port_);
  ASSERT_TRUE(c.Write(Ping() + Ping()));
  // Half-close: the server answers both, then closes.
  c.ShutdownWrite();
  ExpectPong(c);
  ExpectPong(c);
  EXPECT_TRUE(c.ReadsClosed());
}

TEST_F(ServerTest, ConnectionsOverTheLimitAreRejected) {
  PbcServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  Client a(port_);
  Client b(port_);
  ASSERT_TRUE(a.Write(Ping()));
  ExpectPong(a);
  ASSERT_TRUE(b.Write(Ping()));
  ExpectPong(b);

  Client over(port_);
  auto err = ExpectError(over);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kUnavailable));
  EXPECT_TRUE(over.ReadsClosed());
  EXPECT_EQ(OnServerThread([&] { return stats_.connections_rejected; }), 1u);

  // The accepted ones are unaffected.
  ASSERT_TRUE(a.Write(Ping()));
  ExpectPong(a);
}

TEST_F(ServerTest, StopClosesEveryConnection) {
  StartServer({});
  Client a(port_);
  ASSERT_TRUE(a.Write(Ping()));
  ExpectPong(a);
  EXPECT_EQ(OnServerThread([&] { return stats_.connections_open; }), 1u);
  StopServer();
  EXPECT_TRUE(a.ReadsClosed());
  EXPECT_EQ(stats_.connections_open, 0u);
}

TEST_F(ServerTest, StartFailsCleanlyWhenThePortIsTaken) {
  StartServer({});
  PbcServerOptions options;
  options.port = port_;
  PbcServer second(io_, *core_, stats_, options);
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(std::to_string(port_)), std::string::npos)
      << s.ToString();
}

}  // namespace
}  // namespace causeway::node
