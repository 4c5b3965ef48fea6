// The Node wiring, in-process: a real LevelDB in a temporary directory, the
// client protocol, admin HTTP and peer transport on loopback ports picked by
// the kernel, and a graceful stop by RequestStop(), SIGTERM or leaving the
// cluster. Two nodes in one process form a real two-node cluster.

#include "node/node.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
// Boost.JSON's implementation, compiled into this one test file.
#include <algorithm>
#include <boost/json/src.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

struct Ports {
  uint16_t pb = 0;
  uint16_t http = 0;
  uint16_t peer = 0;  // 0: none in the file
};

// {"pb":N,"http":M} or {"pb":N,"http":M,"peer":P}, exactly as
// WritePortsFile writes them.
bool ParsePorts(const std::string& text, Ports* ports) {
  unsigned a = 0, b = 0, c = 0;
  char end[3] = {};
  const int n = std::sscanf(
      text.c_str(), "{\"pb\":%u,\"http\":%u,\"peer\":%u%2s", &a, &b, &c, end);
  if (n == 4 && std::string(end) == "}") {
    if (a == 0 || b == 0 || c == 0) return false;
  } else if (std::sscanf(text.c_str(), "{\"pb\":%u,\"http\":%u%2s", &a, &b,
                         end) == 3 &&
             std::string(end) == "}") {
    if (a == 0 || b == 0) return false;
    c = 0;
  } else {
    return false;
  }
  *ports = Ports{static_cast<uint16_t>(a), static_cast<uint16_t>(b),
                 static_cast<uint16_t>(c)};
  return true;
}

// The body of an HTTP reply (after the blank line), parsed as JSON; null
// (and a test failure) if it is not JSON.
boost::json::value JsonBody(const std::string& response) {
  const size_t start = response.find("\r\n\r\n");
  EXPECT_NE(start, std::string::npos) << response;
  if (start == std::string::npos) return nullptr;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(response.substr(start + 4), ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << response;
  return ec ? boost::json::value(nullptr) : v;
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

// Writes `secret` to `path`, readable by its owner only.
void WriteSecret(const std::string& path, const std::string& secret) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << secret << "\n";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

// A node on loopback ports picked by the kernel, with a peer port and a
// cluster secret (written into `dir`).
NodeOptions TestOptions(const TempDir& dir,
                        const std::string& name = "test@127.0.0.1") {
  NodeOptions o;
  o.name = name;
  o.data_dir = dir / "data";
  o.pb_port = 0;
  o.http_port = 0;
  o.peer_port = 0;
  o.cluster_secret_file = dir / "secret";
  if (!fs::exists(o.cluster_secret_file)) {
    WriteSecret(o.cluster_secret_file, "node-test-secret");
  }
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
      if (ParsePorts(ReadFile(ports_file_), &ports_)) return true;
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
  // What Run returned, if it returns within `limit`.
  std::optional<Status> WaitFor(std::chrono::seconds limit) {
    if (result_.wait_for(limit) != std::future_status::ready) {
      return std::nullopt;
    }
    return result_.get();
  }

  // Node::Join / Node::Leave, waiting (bounded) for their answer.
  Status Join(const std::string& seed_address) {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> answer = done->get_future();
    node_.Join(seed_address, [done](Status s) { done->set_value(s); });
    return Answer(answer);
  }
  Status Leave() {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> answer = done->get_future();
    node_.Leave("", [done](Status s) { done->set_value(s); });
    return Answer(answer);
  }

  uint16_t pb_port() const { return ports_.pb; }
  uint16_t http_port() const { return ports_.http; }
  uint16_t peer_port() const { return ports_.peer; }
  std::string peer_address() const {
    return "127.0.0.1:" + std::to_string(ports_.peer);
  }

 private:
  static Status Answer(std::future<Status>& answer) {
    if (answer.wait_for(std::chrono::seconds(60)) !=
        std::future_status::ready) {
      return Status::Timeout("no answer within 60 s");
    }
    return answer.get();
  }

  Node node_;
  std::string ports_file_;
  std::future<Status> result_;
  Ports ports_;
};

TEST(WritePortsFileTest, WritesOneLineOfJsonAndNoTemporaryFile) {
  TempDir dir;
  const std::string path = dir / "ports.json";
  ASSERT_TRUE(WritePortsFile(path, 8087, 8098).ok());
  EXPECT_EQ(ReadFile(path), "{\"pb\":8087,\"http\":8098}\n");
  ASSERT_TRUE(WritePortsFile(path, 1, 65535).ok());  // replaces
  EXPECT_EQ(ReadFile(path), "{\"pb\":1,\"http\":65535}\n");
  ASSERT_TRUE(WritePortsFile(path, 8087, 8098, 8097).ok());
  EXPECT_EQ(ReadFile(path), "{\"pb\":8087,\"http\":8098,\"peer\":8097}\n");
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

// GET /cluster, parsed; null (and a failure) if it is not a 200 with JSON.
boost::json::value ClusterOf(uint16_t http_port) {
  const std::string reply = HttpGet(http_port, "/cluster");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("application/json"), std::string::npos) << reply;
  return JsonBody(reply);
}

// The names of the members /cluster lists with `status`.
std::vector<std::string> MembersWithStatus(const boost::json::value& cluster,
                                           const std::string& status) {
  std::vector<std::string> names;
  if (!cluster.is_object()) return names;
  const boost::json::value* members =
      cluster.as_object().if_contains("members");
  if (members == nullptr || !members->is_array()) return names;
  for (const auto& m : members->as_array()) {
    if (m.is_object() && m.at("status") == status.c_str()) {
      names.push_back(std::string(m.at("name").as_string()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Polls `done` every 100 ms for at most `limit`.
template <typename Pred>
bool Eventually(Pred done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

TEST(NodeClusterTest, ClusterPageShowsAOneNodeCluster) {
  TempDir dir;
  NodeOptions options = TestOptions(dir, "solo@127.0.0.1");
  options.cluster_name = "unit";
  RunningNode node(options);
  ASSERT_TRUE(node.WaitUntilServing()) << node.Wait().ToString();
  ASSERT_NE(node.peer_port(), 0) << "the ports file names the peer port";

  const boost::json::value v = ClusterOf(node.http_port());
  ASSERT_TRUE(v.is_object()) << v;
  const boost::json::object& c = v.as_object();
  EXPECT_EQ(c.at("node"), "solo@127.0.0.1");
  EXPECT_EQ(c.at("cluster_name"), "unit");
  EXPECT_EQ(c.at("claimant"), "solo@127.0.0.1");
  EXPECT_EQ(c.at("ring_size"), 8);
  EXPECT_TRUE(c.at("ring_version").is_number());
  EXPECT_EQ(c.at("pending_transfers"), 0);
  EXPECT_TRUE(c.at("transfers_done").is_array());
  EXPECT_EQ(c.at("ready_to_exit"), false);

  const boost::json::array& members = c.at("members").as_array();
  ASSERT_EQ(members.size(), 1u) << v;
  const boost::json::object& me = members[0].as_object();
  EXPECT_EQ(me.at("name"), "solo@127.0.0.1");
  // The address peers reach it at: the port it actually bound.
  EXPECT_EQ(me.at("address"), node.peer_address().c_str());
  EXPECT_EQ(me.at("status"), "valid");
  EXPECT_EQ(me.at("up"), true);
  EXPECT_EQ(me.at("partitions"), 8);
  EXPECT_EQ(me.at("next_partitions"), 8);
  EXPECT_TRUE(me.at("last_heard_ms_ago").is_number());

  const boost::json::array& owners = c.at("owners").as_array();
  ASSERT_EQ(owners.size(), 8u);
  for (const auto& owner : owners) EXPECT_EQ(owner, "solo@127.0.0.1");
  EXPECT_TRUE(c.at("next_owners").as_array().empty());

  const boost::json::object& handoff = c.at("handoff").as_object();
  for (const char* key :
       {"hints_pending", "hints_delivered", "transfer_ring_version",
        "transfer_keys_scanned", "transfer_keys_done", "transfer_partition",
        "cleanup_keys_done"}) {
    ASSERT_TRUE(handoff.contains(key)) << key;
    EXPECT_TRUE(handoff.at(key).is_number()) << key;
  }
  EXPECT_TRUE(handoff.at("transfer_running").is_bool());
  EXPECT_TRUE(handoff.at("cleanup_running").is_bool());
  // Nobody to talk to yet.
  EXPECT_TRUE(c.at("peers").as_array().empty()) << v;
  // Anti-entropy: a tree for each of the 8 partitions it holds, built.
  const boost::json::object& aae = c.at("aae").as_object();
  EXPECT_EQ(aae.at("enabled"), true);
  ASSERT_EQ(aae.at("partitions").as_array().size(), 8u) << v;
  EXPECT_EQ(aae.at("partitions").as_array()[0].as_object().at("ready"), true);

  // The transport's counters sit in /stats and /metrics.
  const boost::json::value stats =
      JsonBody(HttpGet(node.http_port(), "/stats"));
  ASSERT_TRUE(stats.is_object()) << stats;
  const boost::json::object& peer = stats.at("peer").as_object();
  for (const char* key :
       {"messages_sent", "messages_received", "bytes_sent", "bytes_received",
        "dropped", "connects_attempted", "handshake_failures",
        "connected_peers", "inbound_connections", "queued_messages",
        "unauthenticated_rejected", "handshake_timeouts",
        "unauthenticated_connections"}) {
    ASSERT_TRUE(peer.contains(key)) << key << " in " << stats;
    EXPECT_TRUE(peer.at(key).is_number()) << key;
  }
  const boost::json::object& stats_aae = stats.at("aae").as_object();
  for (const char* key : {"exchanges", "keys_repaired", "bytes_sent",
                          "tombstones_reaped", "rebuilds_pending"}) {
    ASSERT_TRUE(stats_aae.contains(key)) << key << " in " << stats;
    EXPECT_TRUE(stats_aae.at(key).is_number()) << key;
  }
  EXPECT_EQ(stats.at("node"), "solo@127.0.0.1");  // Stats' own members stay
  const std::string metrics = HttpGet(node.http_port(), "/metrics");
  EXPECT_NE(metrics.find("# TYPE causeway_peer_messages_sent_total counter\n"
                         "causeway_peer_messages_sent_total{node=\"solo@"
                         "127.0.0.1\"} "),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("# TYPE causeway_peer_unauthenticated_rejected_total "
                         "counter\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("# TYPE causeway_peer_handshake_timeouts_total "
                         "counter\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("causeway_puts_total{node=\"solo@127.0.0.1\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics.find("# TYPE causeway_aae_keys_repaired_total counter\n"
                         "causeway_aae_keys_repaired_total{node=\"solo@"
                         "127.0.0.1\"} 0\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("causeway_aae_partitions_not_ready{node=\"solo@"
                         "127.0.0.1\"} 0\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("causeway_object_cache_bytes{node=\"solo@"),
            std::string::npos);
  EXPECT_TRUE(node.Stop().ok());
}

TEST(NodeClusterTest, ANodeWithoutAPeerPortRunsStandalone) {
  TempDir dir;
  NodeOptions options = TestOptions(dir);
  options.no_peer = true;
  options.cluster_secret_file = dir / "never-read";
  RunningNode node(options);
  ASSERT_TRUE(node.WaitUntilServing()) << node.Wait().ToString();
  EXPECT_EQ(node.peer_port(), 0);
  EXPECT_EQ(ReadFile(options.ports_file).find("peer"), std::string::npos);

  const boost::json::value v = ClusterOf(node.http_port());
  ASSERT_TRUE(v.is_object()) << v;
  EXPECT_TRUE(v.at("peers").is_null()) << v;
  EXPECT_EQ(MembersWithStatus(v, "valid"),
            std::vector<std::string>{"test@127.0.0.1"});
  EXPECT_EQ(v.at("members").at(0).at("address"), "");
  const boost::json::value stats =
      JsonBody(HttpGet(node.http_port(), "/stats"));
  ASSERT_TRUE(stats.is_object());
  EXPECT_FALSE(stats.as_object().contains("peer")) << stats;

  Status joined = node.Join("127.0.0.1:1");
  EXPECT_EQ(joined.code(), Status::Code::kUnavailable) << joined.ToString();
  EXPECT_TRUE(node.Stop().ok());
}

TEST(NodeClusterTest, AnUnusableSecretFileFailsStartupBeforeAnythingOpens) {
  TempDir dir;
  NodeOptions options = TestOptions(dir);
  options.cluster_secret_file = dir / "missing-secret";
  Status s = Node(options).Run(false);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(options.cluster_secret_file), std::string::npos)
      << s.ToString();
  EXPECT_FALSE(fs::exists(options.data_dir));
  EXPECT_FALSE(fs::exists(options.ports_file));

  std::ofstream(dir / "empty-secret").flush();
  options.cluster_secret_file = dir / "empty-secret";
  s = Node(options).Run(false);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s.ToString();
}

TEST(NodeClusterTest, ABusyPeerPortFailsStartupAndReleasesTheData) {
  TempDir dir;
  net::io_context io;
  tcp::acceptor busy(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  NodeOptions options = TestOptions(dir);
  options.peer_port = busy.local_endpoint().port();
  Status s = Node(options).Run(false);
  EXPECT_EQ(s.code(), Status::Code::kIoError) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(options.peer_port)),
            std::string::npos)
      << s.ToString();
  EXPECT_FALSE(fs::exists(options.ports_file));
  RunningNode again(TestOptions(dir));
  ASSERT_TRUE(again.WaitUntilServing()) << again.Wait().ToString();
  EXPECT_TRUE(again.Stop().ok());
}

// Two nodes in this process, on their own threads and loops, talking over
// loopback through their peer transports.
TEST(NodeClusterTest, TwoNodesJoinThenOneLeavesAndExitsByItself) {
  TempDir dir_a, dir_b;
  NodeOptions a_options = TestOptions(dir_a, "a@127.0.0.1");
  NodeOptions b_options = TestOptions(dir_b, "b@127.0.0.1");
  b_options.cluster_secret_file = a_options.cluster_secret_file;
  RunningNode a(a_options);
  ASSERT_TRUE(a.WaitUntilServing()) << a.Wait().ToString();
  std::optional<RunningNode> b;
  b.emplace(b_options);
  ASSERT_TRUE(b->WaitUntilServing()) << b->Wait().ToString();

  Status joined = b->Join(a.peer_address());
  ASSERT_TRUE(joined.ok()) << joined.ToString();
  const std::vector<std::string> both = {"a@127.0.0.1", "b@127.0.0.1"};
  boost::json::value view_a, view_b;
  ASSERT_TRUE(Eventually(
      [&] {
        view_a = ClusterOf(a.http_port());
        view_b = ClusterOf(b->http_port());
        return MembersWithStatus(view_a, "valid") == both &&
               MembersWithStatus(view_b, "valid") == both;
      },
      std::chrono::seconds(60)))
      << "a: " << view_a << "\nb: " << view_b;
  // Each sees the other up, at the address it bound.
  for (const auto& m : view_a.at("members").as_array()) {
    EXPECT_EQ(m.at("up"), true) << view_a;
    if (m.at("name") == "b@127.0.0.1") {
      EXPECT_EQ(m.at("address"), b->peer_address().c_str()) << view_a;
    }
  }
  // Both agree on the claimant, and the transports carried the traffic.
  EXPECT_EQ(view_a.at("claimant"), view_b.at("claimant"));
  const boost::json::value stats = JsonBody(HttpGet(a.http_port(), "/stats"));
  ASSERT_TRUE(stats.is_object());
  EXPECT_GT(stats.at("peer").at("messages_received").as_int64(), 0) << stats;

  // b leaves: it hands its share to a, is removed, and then its Run returns
  // by itself, cleanly.
  Status left = b->Leave();
  ASSERT_TRUE(left.ok()) << left.ToString();
  std::optional<Status> b_result = b->WaitFor(std::chrono::seconds(90));
  ASSERT_TRUE(b_result.has_value())
      << "b did not exit after leaving; b: " << ClusterOf(b->http_port());
  EXPECT_TRUE(b_result->ok()) << b_result->ToString();
  b.reset();

  ASSERT_TRUE(Eventually(
      [&] {
        view_a = ClusterOf(a.http_port());
        if (MembersWithStatus(view_a, "valid") !=
            std::vector<std::string>{"a@127.0.0.1"}) {
          return false;
        }
        for (const auto& owner : view_a.at("owners").as_array()) {
          if (owner != "a@127.0.0.1") return false;
        }
        return true;
      },
      std::chrono::seconds(60)))
      << view_a;
  EXPECT_TRUE(a.Stop().ok());
}

TEST(NodeClusterTest, ANodeWithTheWrongSecretCannotJoin) {
  TempDir dir_a, dir_b;
  RunningNode a(TestOptions(dir_a, "a@127.0.0.1"));
  ASSERT_TRUE(a.WaitUntilServing()) << a.Wait().ToString();
  NodeOptions b_options = TestOptions(dir_b, "b@127.0.0.1");
  WriteSecret(b_options.cluster_secret_file, "some-other-secret");
  RunningNode b(b_options);
  ASSERT_TRUE(b.WaitUntilServing()) << b.Wait().ToString();

  Status joined = b.Join(a.peer_address());
  EXPECT_FALSE(joined.ok());
  const boost::json::value view = ClusterOf(a.http_port());
  EXPECT_EQ(MembersWithStatus(view, "valid"),
            std::vector<std::string>{"a@127.0.0.1"})
      << view;
  EXPECT_EQ(MembersWithStatus(view, "joining"), std::vector<std::string>{});
  const boost::json::value stats = JsonBody(HttpGet(a.http_port(), "/stats"));
  ASSERT_TRUE(stats.is_object());
  EXPECT_GT(stats.at("peer").at("handshake_failures").as_int64(), 0) << stats;
  EXPECT_EQ(stats.at("peer").at("messages_received").as_int64(), 0) << stats;
  EXPECT_TRUE(b.Stop().ok());
  EXPECT_TRUE(a.Stop().ok());
}

// --- Fault injection (node/faults.h) ---

// POST `path` with `body`; the whole response.
std::string HttpPost(uint16_t port, const std::string& path,
                     const std::string& body = "") {
  net::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  const std::string request =
      "POST " + path +
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "Content-Type: text/plain\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
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

bool IsStatus(const std::string& response, int code) {
  return response.rfind("HTTP/1.1 " + std::to_string(code), 0) == 0;
}

TEST(NodeFaultsTest, WithoutTheFlagThereAreNoFaultEndpoints) {
  TempDir dir;
  RunningNode node(TestOptions(dir));
  ASSERT_TRUE(node.WaitUntilServing()) << node.Wait().ToString();
  std::string r = HttpGet(node.http_port(), "/faults");
  EXPECT_TRUE(IsStatus(r, 404)) << r;
  for (const char* path :
       {"/faults/partition", "/faults/heal", "/faults/drop?pct=100",
        "/faults/duplicate?pct=1", "/faults/reorder?pct=1",
        "/faults/delay?ms=1", "/faults/skew?ms=1", "/faults/clear",
        "/faults/seed?value=1"}) {
    r = HttpPost(node.http_port(), path, "a/b");
    EXPECT_TRUE(IsStatus(r, 404)) << path << "\n" << r;
  }
  EXPECT_TRUE(node.Stop().ok());
}

TEST(NodeFaultsTest, TheEndpointsChangeAndReportThePolicy) {
  TempDir dir;
  NodeOptions options = TestOptions(dir, "n1@127.0.0.1");
  options.enable_fault_injection = true;
  RunningNode node(options);
  ASSERT_TRUE(node.WaitUntilServing()) << node.Wait().ToString();
  const uint16_t port = node.http_port();

  std::string r = HttpGet(port, "/faults");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  boost::json::value v = JsonBody(r);
  EXPECT_EQ(v.at("node"), "n1@127.0.0.1");
  EXPECT_TRUE(v.at("partition").as_array().empty()) << v;

  r = HttpPost(port, "/faults/partition", "n1@127.0.0.1/n2@127.0.0.1,n3");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  v = JsonBody(r);
  EXPECT_EQ(v.at("partition").as_array().size(), 2u) << v;
  r = HttpPost(port, "/faults/drop?pct=40&node=n2%40127.0.0.1");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  r = HttpPost(port, "/faults/duplicate?pct=5");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  r = HttpPost(port, "/faults/reorder?pct=10&ms=200");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  r = HttpPost(port, "/faults/delay?ms=30&jitter=10");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  r = HttpPost(port, "/faults/skew?ms=-60000");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  v = JsonBody(HttpGet(port, "/faults"));
  EXPECT_EQ(v.at("nodes").at("n2@127.0.0.1").at("drop_pct"), 40) << v;
  EXPECT_EQ(v.at("all").at("duplicate_pct"), 5) << v;
  EXPECT_EQ(v.at("all").at("reorder_pct"), 10) << v;
  EXPECT_EQ(v.at("all").at("reorder_ms"), 200) << v;
  EXPECT_EQ(v.at("all").at("delay_ms"), 30) << v;
  EXPECT_EQ(v.at("all").at("jitter_ms"), 10) << v;
  EXPECT_EQ(v.at("skew_ms"), -60000) << v;

  // With the clock a minute behind, the HLC still orders writes: a put and
  // a get still work.
  PbcClient client(node.pb_port());
  pbc::RpbPutReq put;
  put.set_bucket("b");
  put.set_key("k");
  put.mutable_content()->set_value("skewed");
  std::string body;
  ASSERT_EQ(client.Call(pbc::Code::kPutReq, &put, &body),
            static_cast<uint8_t>(pbc::Code::kPutResp))
      << body;
  pbc::RpbGetReq get;
  get.set_bucket("b");
  get.set_key("k");
  ASSERT_EQ(client.Call(pbc::Code::kGetReq, &get, &body),
            static_cast<uint8_t>(pbc::Code::kGetResp));
  pbc::RpbGetResp got;
  ASSERT_TRUE(got.ParseFromString(body));
  ASSERT_EQ(got.content_size(), 1);
  EXPECT_EQ(got.content(0).value(), "skewed");

  // Bad input is a 400 with a reason and changes nothing.
  for (const char* bad :
       {"/faults/drop", "/faults/drop?pct=101", "/faults/drop?pct=x",
        "/faults/delay?ms=-1", "/faults/delay?ms=1&jitter=99999999",
        "/faults/reorder?pct=10&ms=0", "/faults/skew?ms=99999999999",
        "/faults/drop?pct=%zz"}) {
    r = HttpPost(port, bad);
    EXPECT_TRUE(IsStatus(r, 400)) << bad << "\n" << r;
  }
  r = HttpPost(port, "/faults/partition", "n1");
  EXPECT_TRUE(IsStatus(r, 400)) << r;
  // GET on a POST route, POST on the status page: 405.
  EXPECT_TRUE(IsStatus(HttpGet(port, "/faults/heal"), 405));
  EXPECT_TRUE(IsStatus(HttpPost(port, "/faults"), 405));

  r = HttpPost(port, "/faults/heal");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  v = JsonBody(r);
  EXPECT_TRUE(v.at("partition").as_array().empty()) << v;
  EXPECT_EQ(v.at("all").at("delay_ms"), 30) << v;  // heal is only the cut
  r = HttpPost(port, "/faults/clear");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  v = JsonBody(r);
  EXPECT_EQ(v.at("all").at("delay_ms"), 0) << v;
  EXPECT_EQ(v.at("skew_ms"), 0) << v;
  EXPECT_TRUE(v.at("nodes").as_object().empty()) << v;
  r = HttpPost(port, "/faults/seed?value=1234");
  ASSERT_TRUE(IsStatus(r, 200)) << r;
  EXPECT_EQ(JsonBody(r).at("seed"), 1234) << r;
  EXPECT_TRUE(node.Stop().ok());
}

// Whether `who`'s /cluster shows `other` up.
std::optional<bool> SeesUp(uint16_t http_port, const std::string& other) {
  const boost::json::value v = ClusterOf(http_port);
  if (!v.is_object()) return std::nullopt;
  for (const auto& m : v.at("members").as_array()) {
    if (m.at("name") == other.c_str()) return m.at("up").as_bool();
  }
  return std::nullopt;
}

// Two nodes in this process: a partition makes each see the other down
// within the failure detector's window, and healing brings them back.
TEST(NodeFaultsTest, APartitionTakesPeersDownAndHealBringsThemBack) {
  TempDir dir_a, dir_b;
  NodeOptions a_options = TestOptions(dir_a, "a@127.0.0.1");
  NodeOptions b_options = TestOptions(dir_b, "b@127.0.0.1");
  b_options.cluster_secret_file = a_options.cluster_secret_file;
  for (NodeOptions* o : {&a_options, &b_options}) {
    o->enable_fault_injection = true;
    o->down_after_ms = 1000;
  }
  RunningNode a(a_options);
  ASSERT_TRUE(a.WaitUntilServing()) << a.Wait().ToString();
  RunningNode b(b_options);
  ASSERT_TRUE(b.WaitUntilServing()) << b.Wait().ToString();
  Status joined = b.Join(a.peer_address());
  ASSERT_TRUE(joined.ok()) << joined.ToString();
  const auto both_see = [&](bool up) {
    return SeesUp(a.http_port(), "b@127.0.0.1") == up &&
           SeesUp(b.http_port(), "a@127.0.0.1") == up;
  };
  ASSERT_TRUE(
      Eventually([&] { return both_see(true); }, std::chrono::seconds(60)))
      << ClusterOf(a.http_port()) << "\n"
      << ClusterOf(b.http_port());

  // The nemesis tells every node the same groups.
  for (uint16_t port : {a.http_port(), b.http_port()}) {
    const std::string r =
        HttpPost(port, "/faults/partition", "a@127.0.0.1/b@127.0.0.1");
    ASSERT_TRUE(IsStatus(r, 200)) << r;
  }
  // down_after is 1 s; the bound is generous for a loaded machine.
  EXPECT_TRUE(
      Eventually([&] { return both_see(false); }, std::chrono::seconds(30)))
      << ClusterOf(a.http_port()) << "\n"
      << ClusterOf(b.http_port());
  // Clients still reach both nodes.
  EXPECT_TRUE(IsStatus(HttpGet(a.http_port(), "/ping"), 200));
  EXPECT_TRUE(IsStatus(HttpGet(b.http_port(), "/ping"), 200));
  const boost::json::value faults = JsonBody(HttpGet(a.http_port(), "/faults"));
  EXPECT_GT(faults.at("counters").at("dropped_partition_out").as_int64(), 0)
      << faults;

  for (uint16_t port : {a.http_port(), b.http_port()}) {
    const std::string r = HttpPost(port, "/faults/heal");
    ASSERT_TRUE(IsStatus(r, 200)) << r;
  }
  EXPECT_TRUE(
      Eventually([&] { return both_see(true); }, std::chrono::seconds(30)))
      << ClusterOf(a.http_port()) << "\n"
      << ClusterOf(b.http_port());
  EXPECT_TRUE(b.Stop().ok());
  EXPECT_TRUE(a.Stop().ok());
}

}  // namespace
}  // namespace causeway::node
