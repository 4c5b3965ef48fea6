// PbcServer with TLS over loopback: RpbStartTls answered in plain text,
// then a real OpenSSL handshake (certificates made by the `openssl`
// command for each test suite), then frames over TLS; the Session the
// handler sees; refusals (no TLS configured, twice, pipelined bytes); and
// the connection bounds (handshake and frame deadlines, close after an
// error, drain) over TLS. The server runs on its own io_context thread; the
// test is a blocking client with a receive timeout as a safety net.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
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
#include "node/pbc_server.h"
#include "node/stats.h"
#include "proto/riak.pb.h"
#include "replication/core.h"
#include "storage/engine.h"
#include "tests/support/manual_env.h"
#include "tests/support/test_certs.h"
#include "tests/unit/node/fake_security_gate.h"

namespace causeway::node {
namespace {

constexpr uint8_t Code(pbc::Code c) { return static_cast<uint8_t>(c); }

// One client connection: plain TCP first, TLS after Handshake().
class Conn {
 public:
  explicit Conn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{30, 0};  // a safety net against a hung test
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0);
  }
  ~Conn() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  // The client side of the handshake, verifying the server's certificate
  // against `ca` for 127.0.0.1; with `cert`, presents that certificate.
  bool Handshake(const std::string& ca, const std::string& cert = "",
                 const std::string& key = "") {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr) != 1) {
      return false;
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!cert.empty() &&
        (SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) !=
             1)) {
      return false;
    }
    ssl_ = SSL_new(ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) {
      ERR_clear_error();
      return false;
    }
    return true;
  }

  bool Write(const std::string& bytes) {
    if (ssl_ != nullptr) {
      return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
             static_cast<int>(bytes.size());
    }
    size_t at = 0;
    while (at < bytes.size()) {
      ssize_t n =
          ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<size_t>(n);
    }
    return true;
  }

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

  // The error message of the next frame, which must be an RpbErrorResp.
  std::string ReadError() {
    auto f = ReadFrame();
    if (!f) return "<no frame>";
    EXPECT_EQ(f->code, 0);
    pbc::RpbErrorResp err;
    EXPECT_TRUE(err.ParseFromString(f->body));
    return err.errmsg();
  }

  // The code of the next frame, or -1 if the connection ended.
  int ReadCode() {
    auto f = ReadFrame();
    return f ? f->code : -1;
  }

  // True once the server has closed the connection (no more bytes).
  bool ReadsClosed() {
    char c;
    if (ssl_ != nullptr) {
      int n = SSL_read(ssl_, &c, 1);
      ERR_clear_error();
      return n <= 0 && errno != EAGAIN;
    }
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool ReadExactly(size_t n, std::string* out) {
    out->resize(n);
    size_t at = 0;
    while (at < n) {
      int got;
      if (ssl_ != nullptr) {
        got = SSL_read(ssl_, out->data() + at, static_cast<int>(n - at));
      } else {
        got = static_cast<int>(::recv(fd_, out->data() + at, n - at, 0));
      }
      if (got <= 0) {
        ERR_clear_error();
        return false;
      }
      at += static_cast<size_t>(got);
    }
    return true;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

std::string Frame0(pbc::Code code) { return EncodeFrame(code); }

std::string AuthFrame(const std::string& user, const std::string& password) {
  pbc::RpbAuthReq req;
  req.set_user(user);
  req.set_password(password);
  return EncodeFrame(pbc::Code::kAuthReq, req);
}

class TlsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new testing::TestCerts();
    Status s = certs_->Make();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  TlsServerTest() : engine_(storage::NewMemoryEngine()) {
    core_ = std::make_unique<replication::NodeCore>(env_, *engine_,
                                                    replication::NodeConfig{});
    EXPECT_TRUE(core_->Open().ok());
    gate_.passwords = {{"alice", "secret"}};
  }
  ~TlsServerTest() override { StopServer(); }

  PbcServerOptions TlsOptions() const {
    PbcServerOptions o;
    o.tls_cert_file = certs_->server_cert();
    o.tls_key_file = certs_->server_key();
    o.tls_ca_file = certs_->ca();
    return o;
  }

  void StartServer(PbcServerOptions options) {
    options.port = 0;
    server_ = std::make_unique<PbcServer>(io_, *core_, stats_, options);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }

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

  template <typename Fn>
  auto OnServerThread(Fn fn) {
    std::promise<decltype(fn())> result;
    boost::asio::post(io_, [&] { result.set_value(fn()); });
    return result.get_future().get();
  }

  // Waits (up to 10 s) until `fn`, run on the server thread, holds.
  template <typename Fn>
  bool Eventually(Fn fn) {
    for (int i = 0; i < 1000; ++i) {
      if (OnServerThread(fn)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // RpbStartTls and its plain-text answer.
  void StartTls(Conn& c) {
    ASSERT_TRUE(c.Write(Frame0(pbc::Code::kStartTls)));
    auto f = c.ReadFrame();
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->code, Code(pbc::Code::kStartTls));
    EXPECT_TRUE(f->body.empty());
  }

  static testing::TestCerts* certs_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_ = boost::asio::make_work_guard(io_);
  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<replication::NodeCore> core_;
  Stats stats_;
  FakeSecurityGate gate_;
  std::unique_ptr<PbcServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

testing::TestCerts* TlsServerTest::certs_ = nullptr;

TEST_F(TlsServerTest, StartTlsThenLoginThenRequestsAllOverTls) {
  PbcServerOptions o = TlsOptions();
  o.security = &gate_;
  gate_.grants = {{"alice", Permission::kPut, "default", "fruit"},
                  {"alice", Permission::kGet, "default", "fruit"}};
  StartServer(o);
  Conn c(port_);
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kPingReq)));
  EXPECT_EQ(c.ReadError(), "Security is enabled, please STARTTLS first");
  StartTls(c);
  ASSERT_TRUE(
      c.Handshake(certs_->ca(), certs_->client_cert(), certs_->client_key()));
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kPingReq)));
  EXPECT_EQ(c.ReadError(), "Security is enabled, please authenticate first");
  ASSERT_TRUE(c.Write(AuthFrame("alice", "secret")));
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kAuthResp));
  // What the gate was told: address, TLS, the verified certificate's name.
  auto seen = OnServerThread([&] { return gate_.seen; });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].address, "127.0.0.1");
  EXPECT_TRUE(seen[0].tls);
  EXPECT_EQ(seen[0].certificate_common_name, "alice");

  pbc::RpbPutReq put;
  put.set_bucket("fruit");
  put.set_key("apple");
  put.mutable_content()->set_value("red");
  pbc::RpbGetReq get;
  get.set_bucket("fruit");
  get.set_key("apple");
  // Pipelined over TLS, answered in order.
  ASSERT_TRUE(c.Write(EncodeFrame(pbc::Code::kPutReq, put) +
                      EncodeFrame(pbc::Code::kGetReq, get) +
                      Frame0(pbc::Code::kPingReq)));
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kPutResp));
  auto f = c.ReadFrame();
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->code, Code(pbc::Code::kGetResp));
  pbc::RpbGetResp resp;
  ASSERT_TRUE(resp.ParseFromString(f->body));
  ASSERT_EQ(resp.content_size(), 1);
  EXPECT_EQ(resp.content(0).value(), "red");
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kPingResp));
  EXPECT_EQ(
      OnServerThread([&] { return stats_.client_security; }).tls_handshakes,
      1u);
}

TEST_F(TlsServerTest, WithoutAClientCertificateTheCommonNameIsEmpty) {
  PbcServerOptions o = TlsOptions();
  o.security = &gate_;
  StartServer(o);
  Conn c(port_);
  StartTls(c);
  ASSERT_TRUE(c.Handshake(certs_->ca()));
  ASSERT_TRUE(c.Write(AuthFrame("alice", "secret")));
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kAuthResp));
  auto seen = OnServerThread([&] { return gate_.seen; });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].tls);
  EXPECT_EQ(seen[0].certificate_common_name, "");
}

TEST_F(TlsServerTest, AClientCertificateFromAnotherCaFailsTheHandshake) {
  StartServer(TlsOptions());
  Conn c(port_);
  StartTls(c);
  // Under TLS 1.3 the client may finish before the server has checked its
  // certificate; the server's refusal then ends the connection.
  if (c.Handshake(certs_->ca(), certs_->rogue_client_cert(),
                  certs_->rogue_client_key())) {
    c.Write(Frame0(pbc::Code::kPingReq));
    EXPECT_TRUE(c.ReadsClosed());
  }
  EXPECT_TRUE(Eventually([&] {
    return stats_.client_security.tls_handshake_failures == 1 &&
           stats_.connections_open == 0;
  }));
  EXPECT_EQ(
      OnServerThread([&] { return stats_.client_security; }).tls_handshakes,
      0u);
}

TEST_F(TlsServerTest, AClientThatDistrustsTheServerGetsNoFurther) {
  StartServer(TlsOptions());
  Conn c(port_);
  StartTls(c);
  EXPECT_FALSE(c.Handshake(certs_->rogue_ca()));
  EXPECT_TRUE(Eventually([&] {
    return stats_.client_security.tls_handshake_failures == 1 &&
           stats_.connections_open == 0;
  }));
}

TEST_F(TlsServerTest, PlainBytesInsteadOfAHandshakeCloseTheConnection) {
  StartServer(TlsOptions());
  Conn c(port_);
  StartTls(c);
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kPingReq)));
  EXPECT_TRUE(c.ReadsClosed());
  EXPECT_TRUE(Eventually(
      [&] { return stats_.client_security.tls_handshake_failures == 1; }));
}

TEST_F(TlsServerTest, StartTlsWithoutACertificateIsRefusedAndTheLinkStays) {
  StartServer(PbcServerOptions{});  // no TLS configured
  Conn c(port_);
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kStartTls)));
  EXPECT_NE(c.ReadError().find("no TLS certificate"), std::string::npos);
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kPingReq)));
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kPingResp));
}

TEST_F(TlsServerTest, StartTlsTwiceIsRefusedOverTheTlsConnection) {
  StartServer(TlsOptions());  // TLS without security: no login needed
  Conn c(port_);
  StartTls(c);
  ASSERT_TRUE(c.Handshake(certs_->ca()));
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kStartTls)));
  EXPECT_NE(c.ReadError().find("over TLS already"), std::string::npos);
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kPingReq)));
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kPingResp));
}

TEST_F(TlsServerTest, BytesPipelinedBehindStartTlsAreRefused) {
  StartServer(TlsOptions());
  Conn c(port_);
  ASSERT_TRUE(
      c.Write(Frame0(pbc::Code::kStartTls) + Frame0(pbc::Code::kPingReq)));
  EXPECT_NE(c.ReadError().find("STARTTLS refused"), std::string::npos);
  EXPECT_TRUE(c.ReadsClosed());
  EXPECT_EQ(
      OnServerThread([&] { return stats_.client_security; }).tls_handshakes,
      0u);
}

TEST_F(TlsServerTest, AHandshakeThatNeverComesRunsOutOfTime) {
  PbcServerOptions o = TlsOptions();
  o.frame_deadline_ms = 200;
  o.idle_timeout_ms = 0;
  StartServer(o);
  Conn c(port_);
  StartTls(c);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.ReadsClosed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(Eventually(
      [&] { return stats_.client_security.tls_handshake_failures == 1; }));
}

TEST_F(TlsServerTest, TheFrameDeadlineHoldsOverTls) {
  PbcServerOptions o = TlsOptions();
  o.frame_deadline_ms = 300;
  o.idle_timeout_ms = 0;
  StartServer(o);
  Conn c(port_);
  StartTls(c);
  ASSERT_TRUE(c.Handshake(certs_->ca()));
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kPingReq)));
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kPingResp));
  // Half a frame, then silence.
  ASSERT_TRUE(c.Write(std::string("\0\0\0\x05", 4)));
  EXPECT_TRUE(c.ReadsClosed());
  EXPECT_TRUE(Eventually(
      [&] { return stats_.connections_closed_frame_deadline == 1; }));
}

TEST_F(TlsServerTest, TheIdleTimeoutHoldsOverTls) {
  PbcServerOptions o = TlsOptions();
  o.idle_timeout_ms = 300;
  StartServer(o);
  Conn c(port_);
  StartTls(c);
  ASSERT_TRUE(c.Handshake(certs_->ca()));
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kPingReq)));
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kPingResp));
  EXPECT_TRUE(c.ReadsClosed());
  EXPECT_TRUE(Eventually([&] { return stats_.connections_closed_idle == 1; }));
}

TEST_F(TlsServerTest, AnOversizedFrameIsAnsweredOverTlsThenClosed) {
  PbcServerOptions o = TlsOptions();
  o.max_frame_bytes = 1024;
  StartServer(o);
  Conn c(port_);
  StartTls(c);
  ASSERT_TRUE(c.Handshake(certs_->ca()));
  ASSERT_TRUE(c.Write(std::string("\x00\x10\x00\x00", 4)));
  EXPECT_NE(c.ReadError().find("closing the connection"), std::string::npos);
  EXPECT_TRUE(c.ReadsClosed());
}

TEST_F(TlsServerTest, DrainClosesTlsConnections) {
  StartServer(TlsOptions());
  Conn c(port_);
  StartTls(c);
  ASSERT_TRUE(c.Handshake(certs_->ca()));
  ASSERT_TRUE(c.Write(Frame0(pbc::Code::kPingReq)));
  EXPECT_EQ(c.ReadCode(), Code(pbc::Code::kPingResp));
  std::promise<void> drained;
  boost::asio::post(io_, [&] { server_->Drain([&] { drained.set_value(); }); });
  EXPECT_EQ(drained.get_future().wait_for(std::chrono::seconds(10)),
            std::future_status::ready);
  EXPECT_TRUE(c.ReadsClosed());
}

TEST_F(TlsServerTest, StartNamesTheTlsFileItCannotUse) {
  PbcServerOptions o = TlsOptions();
  o.tls_cert_file = certs_->dir() + "/missing.pem";
  PbcServer missing(io_, *core_, stats_, o);
  Status s = missing.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tls_cert_file"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("missing.pem"), std::string::npos) << s.message();

  o = TlsOptions();
  o.tls_key_file = certs_->client_key();  // another certificate's key
  PbcServer mismatched(io_, *core_, stats_, o);
  s = mismatched.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not the private key"), std::string::npos)
      << s.message();

  o = TlsOptions();
  o.tls_ca_file = certs_->server_key();  // not a certificate
  PbcServer bad_ca(io_, *core_, stats_, o);
  s = bad_ca.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tls_ca_file"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace causeway::node
