// The Node wiring, in-process: a real LevelDB in a temporary directory, the
// client protocol and admin HTTP on loopback ports picked by the kernel, and
// a graceful stop by RequestStop() or SIGTERM.

#include "node/node.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "proto/pbc_codes.h"
#include "proto/riak.pb.h"

namespace causeway::node {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("causeway-node-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const {
    return (path_ / name).string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// {"pb":N,"http":M} as WritePortsFile writes it.
bool ParsePorts(const std::string& text, uint16_t* pb, uint16_t* http) {
  unsigned a = 0, b = 0;
  if (std::sscanf(text.c_str(), "{\"pb\":%u,\"http\":%u}", &a, &b) != 2) {
    return false;
  }
  *pb = static_cast<uint16_t>(a);
  *http = static_cast<uint16_t>(b);
  return a > 0 && b > 0;
}

// Blocking loopback clients for the two protocols.
std::string HttpGet(uint16_t port, const std::string& path) {
  net::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                              "close\r\n\r\n";
  net::write(s, net::buffer(request));
  std::string response;
  boost::system::error_code ec;
  char buf[4096];
  while (true) {
    size_t n = s.read_some(net::buffer(buf), ec);
    response.append(buf, n);
    if (ec) break;
  }
  return response;
}

class PbcClient {
 public:
  explicit PbcClient(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  // Sends one frame and reads one back; returns the reply's code.
  uint8_t Call(pbc::Code code, const google::protobuf::Message* body,
               std::string* reply_body) {
    std::string payload = body ? body->SerializeAsString() : std::string();
    const uint32_t length = static_cast<uint32_t>(payload.size() + 1);
    std::string frame = {static_cast<char>(length >> 24),
                         static_cast<char>(length >> 16),
                         static_cast<char>(length >> 8),
                         static_cast<char>(length), static_cast<char>(code)};
    frame += payload;
    net::write(socket_, net::buffer(frame));
    unsigned char header[5];
    net::read(socket_, net::buffer(header));
    const uint32_t reply_length = (uint32_t{header[0]} << 24) |
                                  (uint32_t{header[1]} << 16) |
                                  (uint32_t{header[2]} << 8) | header[3];
    reply_body->assign(reply_length - 1, '\0');
    if (reply_length > 1) net::read(socket_, net::buffer(*reply_body));
    return header[4];
  }

 private:
  net::io_context io_;
  tcp::socket socket_;
};

NodeOptions TestOptions(const TempDir& dir) {
  NodeOptions o;
  o.name = "test@127.0.0.1";
  o.data_dir = dir / "data";
  o.pb_port = 0;
  o.http_port = 0;
  o.ports_file = dir / "ports.json";
  o.ring_size = 8;
  o.log_level = "warn";
  return o;
}

// Runs a Node on a thread of its own, as causewayd runs it on main().
class RunningNode {
 public:
  explicit RunningNode(NodeOptions options, bool handle_signals = false)
      : node_(options), ports_file_(options.ports_file) {
    std::error_code ignored;
    fs::remove(ports_file_, ignored);
    result_ = std::async(std::launch::async, [this, handle_signals] {
      return node_.Run(handle_signals);
    });
  }
  ~RunningNode() {
    if (result_.valid()) {
      node_.RequestStop();
      result_.wait();
    }
  }

  // Waits for the ports file (or for Run to return early).
  bool WaitUntilServing() {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ParsePorts(ReadFile(ports_file_), &pb_port_, &http_port_)) {
        return true;
      }
      if (result_.wait_for(std::chrono::milliseconds(10)) ==
          std::future_status::ready) {
        return false;
      }
    }
    return false;
  }

  Status Stop() {
    node_.RequestStop();
    return Wait();
  }
  Status Wait() { return result_.get(); }

  uint16_t pb_port() const { return pb_port_; }
  uint16_t http_port() const { return http_port_; }

 private:
  Node node_;
  std::string ports_file_;
  std::future<Status> result_;
  uint16_t pb_port_ = 0;
  uint16_t http_port_ = 0;
};

TEST(WritePortsFileTest, WritesOneLineOfJsonAndNoTemporaryFile) {
  TempDir dir;
  const std::string path = dir / "ports.json";
  ASSERT_TRUE(WritePortsFile(path, 8087, 8098).ok());
  EXPECT_EQ(ReadFile(path), "{\"pb\":8087,\"http\":8098}\n");
  ASSERT_TRUE(WritePortsFile(path, 1, 65535).ok());  // replaces
  EXPECT_EQ(ReadFile(path), "{\"pb\":1,\"http\":65535}\n");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(WritePortsFileTest, AnUnwritablePlaceIsAnError) {
  TempDir dir;
  Status s = WritePortsFile(dir / "no/such/dir/ports.json", 1, 2);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ports.json"), std::string::npos);
}

TEST(NodeProcessTest, RssIsKnown) { EXPECT_GT(ReadProcessRssBytes(), 0u); }

TEST(NodeRuntimeTest, ServesBothProtocolsAndKeepsDataAcrossARestart) {
  TempDir dir;
  {
    RunningNode node(TestOptions(dir));
    ASSERT_TRUE(node.WaitUntilServing()) << node.Wait().ToString();

    const std::string ping = HttpGet(node.http_port(), "/ping");
    EXPECT_EQ(ping.rfind("HTTP/1.1 200", 0), 0u) << ping;
    EXPECT_EQ(ping.substr(ping.size() - 2), "OK") << ping;

    PbcClient client(node.pb_port());
    std::string body;
    EXPECT_EQ(client.Call(pbc::Code::kPingReq, nullptr, &body),
              static_cast<uint8_t>(pbc::Code::kPingResp));
    pbc::RpbPutReq put;
    put.set_bucket("b");
    put.set_key("k");
    put.mutable_content()->set_value("persisted");
    ASSERT_EQ(client.Call(pbc::Code::kPutReq, &put, &body),
              static_cast<uint8_t>(pbc::Code::kPutResp))
        << body;

    const std::string stats = HttpGet(node.http_port(), "/stats");
    EXPECT_NE(stats.find("\"node\":\"test@127.0.0.1\""), std::string::npos)
        << stats;
    EXPECT_NE(stats.find("\"puts\":1"), std::string::npos) << stats;
    // Filled in from outside Stats just before rendering.
    EXPECT_EQ(stats.find("\"rss_bytes\":0,"), std::string::npos) << stats;
    const std::string metrics = HttpGet(node.http_port(), "/metrics");
    EXPECT_NE(metrics.find("causeway_puts_total{node=\"test@127.0.0.1\"} 1"),
              std::string::npos)
        << metrics;

    Status stopped = node.Stop();
    EXPECT_TRUE(stopped.ok()) << stopped.ToString();
  }
  // The same data directory opens again (LevelDB was closed and its lock
  // released) and still holds the write.
  RunningNode again(TestOptions(dir));
  ASSERT_TRUE(again.WaitUntilServing()) << again.Wait().ToString();
  PbcClient client(again.pb_port());
  pbc::RpbGetReq get;
  get.set_bucket("b");
  get.set_key("k");
  std::string body;
  ASSERT_EQ(client.Call(pbc::Code::kGetReq, &get, &body),
            static_cast<uint8_t>(pbc::Code::kGetResp));
  pbc::RpbGetResp got;
  ASSERT_TRUE(got.ParseFromString(body));
  ASSERT_EQ(got.content_size(), 1);
  EXPECT_EQ(got.content(0).value(), "persisted");
  EXPECT_TRUE(again.Stop().ok());
}

TEST(NodeRuntimeTest, SigtermStopsGracefully) {
  TempDir dir;
  RunningNode node(TestOptions(dir), /*handle_signals=*/true);
  ASSERT_TRUE(node.WaitUntilServing()) << node.Wait().ToString();
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  Status s = node.Wait();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(NodeRuntimeTest, AStopAskedForBeforeServingIsHonoured) {
  TempDir dir;
  Node node(TestOptions(dir));
  node.RequestStop();
  Status s = node.Run(/*handle_signals=*/false);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(NodeRuntimeTest, ABusyPortFailsStartupAndReleasesTheData) {
  TempDir dir;
  net::io_context io;
  tcp::acceptor busy(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  NodeOptions options = TestOptions(dir);
  options.http_port = busy.local_endpoint().port();
  Node node(options);
  Status s = node.Run(false);
  EXPECT_EQ(s.code(), Status::Code::kIoError) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(options.http_port)),
            std::string::npos)
      << s.ToString();
  EXPECT_FALSE(fs::exists(options.ports_file));
  // Everything was closed: a node on the same data starts.
  RunningNode again(TestOptions(dir));
  ASSERT_TRUE(again.WaitUntilServing()) << again.Wait().ToString();
  EXPECT_TRUE(again.Stop().ok());
}

TEST(NodeRuntimeTest, AnUnusableDataDirFailsStartup) {
  TempDir dir;
  std::ofstream(dir / "file") << "not a directory";
  NodeOptions options = TestOptions(dir);
  options.data_dir = dir / "file";
  Node node(options);
  Status s = node.Run(false);
  EXPECT_EQ(s.code(), Status::Code::kIoError) << s.ToString();
}

TEST(NodeRuntimeTest, AnUnopenableLogFileIsAConfigurationError) {
  TempDir dir;
  NodeOptions options = TestOptions(dir);
  std::ofstream(dir / "blocker") << "a file, so no directory can be made";
  options.log_file = dir / "blocker/node.log";
  Node node(options);
  Status s = node.Run(false);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  // Later tests log to stderr again.
  NodeOptions plain = TestOptions(dir);
  ASSERT_TRUE(SetUpLogging(plain).ok());
}

}  // namespace
}  // namespace causeway::node
