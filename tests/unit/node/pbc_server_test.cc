// PbcServer over loopback TCP: framing on a real socket, error replies, the
// frame limit closing only the offending connection, the connection limit.
// The server runs on its own io_context thread; the test is a plain
// blocking client (with a receive timeout so a bug fails instead of hangs).

#include "node/pbc_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "node/pbc_codec.h"
#include "node/stats.h"
#include "proto/admin.pb.h"
#include "proto/riak.pb.h"
#include "replication/core.h"
#include "replication/network.h"
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
  ~Client() { Close(); }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
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

// True if a TCP connection to the port is accepted by the kernel.
bool CanConnect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok =
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// Peer messages go nowhere: a join through it stays in flight until the
// core's request timeout, which fires only when the test advances env_.
class BlackHoleNetwork : public replication::Network {
 public:
  void Send(const replication::NodeName&, const std::string&,
            std::string) override {}
};

// A server whose core can hold a request in flight on demand: a cluster
// join whose seed never answers.
class DrainTest : public ServerTest {
 protected:
  DrainTest() {
    replication::NodeConfig config;
    config.peer_address = "127.0.0.1:1";
    core_ = std::make_unique<replication::NodeCore>(env_, *engine_, config);
    EXPECT_TRUE(core_->Open().ok());
    core_->AttachNetwork(&network_);
  }

  static std::string JoinFrame() {
    admin::CwClusterJoinReq join;
    join.set_seed("127.0.0.1:2");
    return EncodeFrame(pbc::Code::kClusterJoinReq, join);
  }

  // Waits until the server has handed `n` admin or other requests to the
  // core. A guard against hanging, not a timing assertion.
  void AwaitRequests(uint64_t n) {
    for (int i = 0; i < 30000; ++i) {
      if (OnServerThread([&] { return stats_.other_requests; }) >= n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL() << "the server never took request " << n;
  }

  // Starts a drain on the server thread; the future is ready once `done`
  // has run.
  std::future<void> StartDrain() {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> f = done->get_future();
    OnServerThread([&] {
      server_->Drain([done] { done->set_value(); });
      return 0;
    });
    return f;
  }

  static bool Ready(std::future<void>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }

  BlackHoleNetwork network_;
};

TEST_F(DrainTest, RequestsInFlightFinishAndIdleConnectionsClose) {
  StartServer({});
  auto busy = std::make_unique<Client>(port_);
  auto idle = std::make_unique<Client>(port_);
  ASSERT_TRUE(idle->Write(Ping()));
  ExpectPong(*idle);
  // A join that waits for its seed, and a ping pipelined behind it.
  ASSERT_TRUE(busy->Write(JoinFrame() + Ping()));
  AwaitRequests(2);  // the idle ping and the join

  std::future<void> drained = StartDrain();
  // No new connections; the idle one is closed without waiting.
  EXPECT_FALSE(CanConnect(port_));
  EXPECT_TRUE(idle->ReadsClosed());
  idle.reset();
  // The join is still waiting, so the drain is not over.
  OnServerThread([] { return 0; });
  EXPECT_FALSE(Ready(drained));

  // The seed's silence runs out: the join fails, and its reply is written
  // before the connection closes. The pipelined ping was never started.
  OnServerThread([&] {
    env_.Advance(60000);
    return 0;
  });
  auto err = ExpectError(*busy);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kUnavailable));
  EXPECT_NE(err.errmsg().find("127.0.0.1:2"), std::string::npos)
      << err.errmsg();
  EXPECT_TRUE(busy->ReadsClosed());
  // Closing our end ends the server's wait for it (it lingers until then,
  // so its FIN is not turned into a reset by unread input).
  busy.reset();

  ASSERT_EQ(drained.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  EXPECT_EQ(OnServerThread([&] { return stats_.connections_open; }), 0u);
  EXPECT_EQ(OnServerThread([&] { return stats_.other_requests; }), 2u);
}

TEST_F(DrainTest, TheTimeLimitClosesWhatIsStillBusy) {
  PbcServerOptions options;
  options.drain_timeout_ms = 20;
  StartServer(options);
  Client busy(port_);
  ASSERT_TRUE(busy.Write(JoinFrame()));
  AwaitRequests(1);

  std::future<void> drained = StartDrain();
  // env_ never advances, so only the time limit can end the drain.
  ASSERT_EQ(drained.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  EXPECT_TRUE(busy.ReadsClosed());
  EXPECT_EQ(OnServerThread([&] { return stats_.connections_open; }), 0u);

  // The core answers later, to a connection that is gone: no harm done.
  OnServerThread([&] {
    env_.Advance(60000);
    return 0;
  });
  // Another drain, once over, reports at once.
  std::future<void> again = StartDrain();
  EXPECT_EQ(again.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
}

// The idle timeout and the frame deadline count only time the server waits
// on the client: a connection whose request is in flight is neither idle
// nor late, even with a partial frame pipelined behind the request.
TEST_F(DrainTest, BoundsSpareAConnectionWhileItsRequestIsInFlight) {
  PbcServerOptions options;
  options.idle_timeout_ms = 100;
  options.frame_deadline_ms = 100;
  StartServer(options);
  Client busy(port_);
  ASSERT_TRUE(busy.Write(JoinFrame() + Ping().substr(0, 3)));
  AwaitRequests(1);
  Client idle(port_);
  EXPECT_TRUE(idle.ReadsClosed());
  // Well past both bounds; only a server that counted this time would
  // close the busy connection.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(OnServerThread([&] { return stats_.connections_closed_idle; }), 1u);
  EXPECT_EQ(
      OnServerThread([&] { return stats_.connections_closed_frame_deadline; }),
      0u);

  // The join fails and is answered; now the server waits on the rest of
  // the pipelined frame, which never comes.
  OnServerThread([&] {
    env_.Advance(60000);
    return 0;
  });
  ExpectError(busy);
  EXPECT_TRUE(busy.ReadsClosed());
  EXPECT_EQ(
      OnServerThread([&] { return stats_.connections_closed_frame_deadline; }),
      1u);
  EXPECT_EQ(OnServerThread([&] { return stats_.buffered_bytes; }), 0u);
}

TEST_F(DrainTest, StopAcceptingKeepsOpenConnectionsServing) {
  StartServer({});
  Client c(port_);
  ASSERT_TRUE(c.Write(Ping()));
  ExpectPong(c);
  uint16_t port = port_;
  EXPECT_EQ(OnServerThread([&] {
              server_->StopAccepting();
              server_->StopAccepting();  // idempotent
              return server_->port();
            }),
            0);
  EXPECT_FALSE(CanConnect(port));
  ASSERT_TRUE(c.Write(Ping()));
  ExpectPong(c);

  std::future<void> drained = StartDrain();
  EXPECT_TRUE(c.ReadsClosed());
  c.Close();
  EXPECT_EQ(drained.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
}

TEST_F(DrainTest, DrainWithNoConnectionsReportsAtOnce) {
  StartServer({});
  uint16_t port = port_;
  std::future<void> drained = StartDrain();
  EXPECT_EQ(drained.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  EXPECT_FALSE(CanConnect(port));
}

TEST_F(DrainTest, StopDuringADrainStillRunsDone) {
  StartServer({});
  Client busy(port_);
  ASSERT_TRUE(busy.Write(JoinFrame()));
  AwaitRequests(1);
  std::future<void> drained = StartDrain();
  OnServerThread([] { return 0; });
  EXPECT_FALSE(Ready(drained));
  OnServerThread([&] {
    server_->Stop();
    return 0;
  });
  EXPECT_EQ(drained.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  EXPECT_TRUE(busy.ReadsClosed());

  // After Stop, a drain reports at once.
  std::future<void> again = StartDrain();
  EXPECT_EQ(again.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
}

}  // namespace
}  // namespace causeway::node
