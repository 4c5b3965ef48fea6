#include "node/admin_http.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "node/stats.h"

namespace causeway::node {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  std::string connection;
  std::string content_length;
};

// A blocking HTTP client connection to the server under test.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  void SendRaw(const std::string& bytes) {
    net::write(socket_, net::buffer(bytes));
  }

  void Send(const std::string& method, const std::string& target,
            bool keep_alive = true, const std::string& body = "") {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    req.body() = body;
    if (!body.empty() || method == "POST") req.prepare_payload();
    http::write(socket_, req);
  }

  // Reads one response; false if the connection ended first.
  bool Read(Reply* reply, bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 << 20);
    if (head) parser.skip(true);
    beast::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    if (ec) return false;
    const auto& res = parser.get();
    reply->status = res.result_int();
    reply->body = res.body();
    reply->content_type = std::string(res[http::field::content_type]);
    reply->allow = std::string(res[http::field::allow]);
    reply->connection = std::string(res[http::field::connection]);
    reply->content_length = std::string(res[http::field::content_length]);
    return true;
  }

  Reply Call(const std::string& method, const std::string& target,
             bool keep_alive = true) {
    Send(method, target, keep_alive);
    Reply reply;
    EXPECT_TRUE(Read(&reply, method == "HEAD")) << method << " " << target;
    return reply;
  }

  // True once the server has closed the connection (reads hit the end).
  bool ServerClosed() {
    char byte;
    beast::error_code ec;
    while (true) {
      socket_.read_some(net::buffer(&byte, 1), ec);
      if (ec)
        return ec == net::error::eof || ec == net::error::connection_reset;
    }
  }

 private:
  net::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

class AdminHttpTest : public ::testing::Test {
 protected:
  void StartServer(AdminHttpOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<AdminHttp>(io_, options);
    stats_.gets = 3;
    stats_.puts = 4;
    stats_.get_latency_us.Record(250);
    AddStatsRoutes(*server_, "node1@127.0.0.1", stats_, [this](Stats& s) {
      ++refreshes_;
      s.uptime_seconds = 42;
    });
    server_->Handle("GET", "/echo", [](const HttpRequest& r) {
      HttpResponse out;
      out.body = r.method + " " + r.path + " " + r.query;
      return out;
    });
    server_->Handle("POST", "/upload", [](const HttpRequest& r) {
      HttpResponse out;
      out.body = std::to_string(r.body.size());
      return out;
    });
    server_->Handle("GET", "/boom", [](const HttpRequest&) -> HttpResponse {
      throw std::runtime_error("handler bug");
    });
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
    ASSERT_NE(port_, 0);
    loop_ = std::thread([this] { io_.run(); });
  }

  void StopServer() {
    if (!loop_.joinable()) return;
    net::post(io_, [this] { server_->Stop(); });
    loop_.join();  // returns once every connection has unwound
  }

  void TearDown() override {
    StopServer();
    server_.reset();
  }

  net::io_context io_;
  Stats stats_;
  int refreshes_ = 0;  // touched only on the loop thread until it is joined
  std::unique_ptr<AdminHttp> server_;
  std::thread loop_;
  uint16_t port_ = 0;
};

TEST_F(AdminHttpTest, AnswersPing) {
  StartServer();
  Client c(port_);
  Reply r = c.Call("GET", "/ping");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "OK");
  EXPECT_EQ(r.content_type.rfind("text/plain", 0), 0u) << r.content_type;
}

TEST_F(AdminHttpTest, AnswersStatsAsJsonAfterRefreshing) {
  StartServer();
  Client c(port_);
  Reply r = c.Call("GET", "/stats");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "application/json");
  ASSERT_FALSE(r.body.empty());
  EXPECT_EQ(r.body.front(), '{');
  EXPECT_EQ(r.body.back(), '}');
  EXPECT_NE(r.body.find("\"node\":\"node1@127.0.0.1\""), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"gets\":3"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"puts\":4"), std::string::npos) << r.body;
  // Filled in by the refresh callback just before rendering.
  EXPECT_NE(r.body.find("\"uptime_seconds\":42"), std::string::npos) << r.body;
  StopServer();
  EXPECT_EQ(refreshes_, 1);
}

TEST_F(AdminHttpTest, AnswersMetricsAsPrometheusText) {
  StartServer();
  Client c(port_);
  Reply r = c.Call("GET", "/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(r.body.find("# TYPE causeway_gets_total counter\n"),
            std::string::npos);
  EXPECT_NE(r.body.find("causeway_gets_total{node=\"node1@127.0.0.1\"} 3\n"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("causeway_uptime_seconds{node=\"node1@127.0.0.1\"} "
                        "42\n"),
            std::string::npos);
}

TEST_F(AdminHttpTest, UnknownPathsAre404AndOtherMethods405) {
  StartServer();
  Client c(port_);
  EXPECT_EQ(c.Call("GET", "/nope").status, 404u);
  EXPECT_EQ(c.Call("GET", "/ping/extra").status, 404u);
  Reply r = c.Call("POST", "/ping");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.allow, "GET, HEAD");
  EXPECT_EQ(c.Call("PUT", "/stats").status, 405u);
  // An unknown path is 404 whatever the method, even one no route uses.
  EXPECT_EQ(c.Call("DELETE", "/nope").status, 404u);
  EXPECT_EQ(c.Call("POST", "/nope").status, 404u);
  // The connection survived all of that.
  EXPECT_EQ(c.Call("GET", "/ping").body, "OK");
}

TEST(MutationAllowedTest, OnlyThisServersHostAndOrigin) {
  auto allowed = [](std::string host, std::string origin) {
    HttpRequest r;
    r.method = "POST";
    r.host = std::move(host);
    r.origin = std::move(origin);
    return MutationAllowed(r, "node1.internal", 8187);
  };
  EXPECT_TRUE(allowed("127.0.0.1:8187", ""));
  EXPECT_TRUE(allowed("127.0.0.1", ""));
  EXPECT_TRUE(allowed("[::1]:8187", "http://[::1]:8187"));
  EXPECT_TRUE(allowed("localhost:8187", "http://localhost:8187"));
  EXPECT_TRUE(allowed("node1.internal:8187", "http://127.0.0.1:8187"));
  EXPECT_TRUE(allowed("10.0.0.5:8187", ""));
  // A rebound name, another port, a foreign or opaque origin, no Host.
  EXPECT_FALSE(allowed("evil.example:8187", ""));
  EXPECT_FALSE(allowed("127.0.0.1:9999", ""));
  EXPECT_FALSE(allowed("127.0.0.1:8187", "http://evil.example"));
  EXPECT_FALSE(allowed("127.0.0.1:8187", "null"));
  EXPECT_FALSE(allowed("127.0.0.1:8187", "https://127.0.0.1:8187"));
  EXPECT_FALSE(allowed("", ""));
}

TEST_F(AdminHttpTest, ChangesFromAnotherSiteAreForbidden) {
  StartServer();
  Client c(port_);
  c.SendRaw(
      "POST /ping HTTP/1.1\r\nHost: evil.example\r\n"
      "Content-Length: 0\r\n\r\n");
  Reply r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 403u);
  c.SendRaw(
      "POST /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Origin: http://evil.example\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 403u);
  // Reads are not affected, and the connection stays.
  EXPECT_EQ(c.Call("GET", "/ping").body, "OK");
}

TEST_F(AdminHttpTest, HeadGetsTheHeadersOnly) {
  StartServer();
  Client c(port_);
  Reply r = c.Call("HEAD", "/ping");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_length, "2");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(c.Call("GET", "/ping").body, "OK");  // framing still right
}

TEST_F(AdminHttpTest, PassesQueryAndBodyToHandlers) {
  StartServer();
  Client c(port_);
  EXPECT_EQ(c.Call("GET", "/echo?a=1&b=2").body, "GET /echo a=1&b=2");
  c.Send("POST", "/upload", true, std::string(1000, 'x'));
  Reply r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "1000");
}

TEST_F(AdminHttpTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  Client c(port_);
  for (int i = 0; i < 20; ++i) {
    Reply r = c.Call("GET", i % 2 ? "/ping" : "/stats");
    ASSERT_EQ(r.status, 200u) << i;
  }
  // Pipelined: two requests sent before either reply is read.
  c.Send("GET", "/ping");
  c.Send("GET", "/echo?x");
  Reply a, b;
  ASSERT_TRUE(c.Read(&a));
  ASSERT_TRUE(c.Read(&b));
  EXPECT_EQ(a.body, "OK");
  EXPECT_EQ(b.body, "GET /echo x");
  // Connection: close is honoured.
  Reply last = c.Call("GET", "/ping", /*keep_alive=*/false);
  EXPECT_EQ(last.body, "OK");
  EXPECT_TRUE(c.ServerClosed());
}

TEST_F(AdminHttpTest, OversizedHeaderIsRejectedAndOthersAreUnharmed) {
  AdminHttpOptions options;
  options.max_header_bytes = 4096;
  StartServer(options);
  Client bystander(port_);
  ASSERT_EQ(bystander.Call("GET", "/ping").status, 200u);

  Client bad(port_);
  bad.SendRaw("GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " +
              std::string(64 * 1024, 'a') + "\r\n\r\n");
  Reply r;
  ASSERT_TRUE(bad.Read(&r));
  EXPECT_EQ(r.status, 431u);
  EXPECT_TRUE(bad.ServerClosed());

  EXPECT_EQ(bystander.Call("GET", "/ping").status, 200u);
  Client after(port_);
  EXPECT_EQ(after.Call("GET", "/ping").status, 200u);
}

TEST_F(AdminHttpTest, OversizedBodyIsRejected) {
  AdminHttpOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  Client c(port_);
  c.Send("POST", "/upload", true, std::string(100 * 1024, 'x'));
  Reply r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 413u);
  EXPECT_TRUE(c.ServerClosed());
  Client after(port_);
  EXPECT_EQ(after.Call("GET", "/ping").status, 200u);
}

TEST_F(AdminHttpTest, GarbageGets400AndOthersAreUnharmed) {
  StartServer();
  Client bystander(port_);
  ASSERT_EQ(bystander.Call("GET", "/ping").status, 200u);
  for (const std::string& garbage :
       {std::string("NOT HTTP AT ALL\r\n\r\n"),
        std::string("GET /ping HTTP/9.9\r\n\r\n"),
        std::string("GET /ping HTTP/1.1\r\nContent-Length: -4\r\n\r\n"),
        std::string("\x00\x01\x02\r\n\r\n", 7)}) {
    Client bad(port_);
    bad.SendRaw(garbage);
    Reply r;
    ASSERT_TRUE(bad.Read(&r)) << garbage;
    EXPECT_EQ(r.status, 400u) << garbage;
    EXPECT_TRUE(bad.ServerClosed());
  }
  EXPECT_EQ(bystander.Call("GET", "/ping").status, 200u);
}

TEST_F(AdminHttpTest, AFailingHandlerIs500AndTheServerCarriesOn) {
  StartServer();
  Client c(port_);
  EXPECT_EQ(c.Call("GET", "/boom").status, 500u);
  EXPECT_EQ(c.Call("GET", "/ping").status, 200u);
}

TEST_F(AdminHttpTest, AtTheLimitTheIdlestConnectionMakesRoom) {
  AdminHttpOptions options;
  options.max_connections = 2;
  StartServer(options);
  Client a(port_), b(port_);
  // A reply proves the server has taken each connection on.
  ASSERT_EQ(a.Call("GET", "/ping").status, 200u);
  ASSERT_EQ(b.Call("GET", "/ping").status, 200u);
  // Both wait idle: a third client is served, and the one idle longest
  // (a) is closed to make room, so idle clients cannot lock out /ping.
  Client c(port_);
  EXPECT_EQ(c.Call("GET", "/ping").status, 200u);
  EXPECT_TRUE(a.ServerClosed());
  EXPECT_EQ(b.Call("GET", "/ping").status, 200u);
  // Clients that send half a request and stall are idle too.
  Client d(port_);
  d.SendRaw("GET /ping HTTP/1.1\r\nHo");
  Client e(port_);
  EXPECT_EQ(e.Call("GET", "/ping").status, 200u);
}

TEST_F(AdminHttpTest, StopClosesIdleConnections) {
  StartServer();
  Client c(port_);
  ASSERT_EQ(c.Call("GET", "/ping").status, 200u);
  StopServer();  // returns only once the loop has nothing left to do
  EXPECT_TRUE(c.ServerClosed());
  EXPECT_THROW(Client again(port_), boost::system::system_error);
}

TEST(AdminHttpStartTest, ABusyPortIsAnError) {
  net::io_context io;
  AdminHttpOptions options;
  options.port = 0;
  AdminHttp first(io, options);
  ASSERT_TRUE(first.Start().ok());
  options.port = first.port();
  AdminHttp second(io, options);
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(std::to_string(first.port())), std::string::npos)
      << s.ToString();
  first.Stop();
  io.run();
}

TEST(AdminHttpStartTest, AnUnresolvableHostIsAnError) {
  net::io_context io;
  AdminHttpOptions options;
  options.host = "no such host name";
  options.port = 0;
  AdminHttp server(io, options);
  EXPECT_FALSE(server.Start().ok());
}

}  // namespace
}  // namespace causeway::node
