// The bench's RESP codec, and RunBench speaking RESP to an in-process
// redis-like server (SET and GET over real sockets). Assertions are about
// bytes and counts, never about speed.

#include "bench/resp.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_generator.h"

namespace causeway::bench {
namespace {

using resp::ParseReply;
using resp::ParseResult;
using resp::Reply;

TEST(RespTest, CommandsAreArraysOfBulkStrings) {
  using namespace std::string_literals;
  std::string out;
  resp::AppendCommand({"SET", "b:k", "v\r\n\0"s}, &out);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nb:k\r\n$4\r\nv\r\n\0\r\n"s);
  const size_t first = out.size();
  resp::AppendCommand({"GET", ""}, &out);
  EXPECT_EQ(out.substr(first), "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

ParseResult Parse(std::string_view in, Reply* reply, size_t* consumed,
                  uint32_t max_bulk = 1 << 20) {
  std::string error;
  return ParseReply(in, max_bulk, reply, consumed, &error);
}

TEST(RespTest, ParsesEveryReplyKindTheBenchCanGet) {
  Reply r;
  size_t n = 0;
  ASSERT_EQ(Parse("+OK\r\nextra", &r, &n), ParseResult::kComplete);
  EXPECT_EQ(r.kind, Reply::Kind::kSimple);
  EXPECT_EQ(r.text, "OK");
  EXPECT_EQ(n, 5u);
  ASSERT_EQ(Parse("-ERR wrong\r\n", &r, &n), ParseResult::kComplete);
  EXPECT_EQ(r.kind, Reply::Kind::kError);
  EXPECT_EQ(r.text, "ERR wrong");
  ASSERT_EQ(Parse(":-42\r\n", &r, &n), ParseResult::kComplete);
  EXPECT_EQ(r.kind, Reply::Kind::kInteger);
  EXPECT_EQ(r.integer, -42);
  ASSERT_EQ(Parse(std::string("$5\r\na\r\n\0b\r\n", 11), &r, &n),
            ParseResult::kComplete);
  EXPECT_EQ(r.kind, Reply::Kind::kBulk);
  EXPECT_EQ(r.text, std::string("a\r\n\0b", 5));
  EXPECT_EQ(n, 11u);
  ASSERT_EQ(Parse("$-1\r\n", &r, &n), ParseResult::kComplete);
  EXPECT_EQ(r.kind, Reply::Kind::kNil);
  ASSERT_EQ(Parse("$0\r\n\r\n", &r, &n), ParseResult::kComplete);
  EXPECT_EQ(r.kind, Reply::Kind::kBulk);
  EXPECT_EQ(r.text, "");
}

TEST(RespTest, EveryPrefixOfAReplyNeedsMore) {
  const std::string full = "$11\r\nhello world\r\n";
  for (size_t i = 0; i < full.size(); ++i) {
    Reply r;
    size_t n = 0;
    EXPECT_EQ(Parse(full.substr(0, i), &r, &n), ParseResult::kNeedMore) << i;
  }
}

TEST(RespTest, MalformedRepliesAreRefusedBeforeAllocating) {
  for (const std::string& bad : std::vector<std::string>{
           "*1\r\n$1\r\nx\r\n", "$-2\r\n", "$x\r\n", "$5\r\nhelloXY", ":\r\n",
           ":12a\r\n", "?\r\n", std::string(5000, '+')}) {
    Reply r;
    size_t n = 0;
    EXPECT_EQ(Parse(bad, &r, &n), ParseResult::kMalformed) << bad;
  }
  // Over the limit is refused from the header alone, the bytes not yet in.
  Reply r;
  size_t n = 0;
  EXPECT_EQ(Parse("$1000001\r\n", &r, &n, 1000000), ParseResult::kMalformed);
  EXPECT_EQ(Parse("$99999999999999999999\r\n", &r, &n),
            ParseResult::kMalformed);
}

// Answers SET with +OK and GET with the stored value or nil, one thread per
// connection; anything else gets an error reply.
class FakeRespServer {
 public:
  FakeRespServer()
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  // A blocked accept does not notice the acceptor closing from another
  // thread; one last connection wakes it to see the stop flag.
  ~FakeRespServer() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    accept_thread_.join();
    for (std::thread& t : sessions_) t.join();
  }
  uint16_t port() const { return port_; }
  std::map<std::string, std::string> Data() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }
  uint64_t sets() {
    std::lock_guard<std::mutex> lock(mu_);
    return sets_;
  }
  uint64_t gets() {
    std::lock_guard<std::mutex> lock(mu_);
    return gets_;
  }

 private:
  using tcp = boost::asio::ip::tcp;

  void AcceptLoop() {
    while (true) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      sessions_.emplace_back(
          [this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
    }
  }

  void Serve(tcp::socket socket) {
    boost::asio::streambuf buf;
    boost::system::error_code ec;
    auto line = [&]() -> std::string {
      size_t n = boost::asio::read_until(socket, buf, "\r\n", ec);
      if (ec) return {};
      std::string text(static_cast<const char*>(buf.data().data()), n - 2);
      buf.consume(n);
      return text;
    };
    while (true) {
      std::string header = line();
      if (ec || header.size() < 2 || header[0] != '*') return;
      std::vector<std::string> args;
      for (int i = std::stoi(header.substr(1)); i > 0; --i) {
        std::string len = line();
        if (ec || len.empty() || len[0] != '$') return;
        size_t size = std::stoul(len.substr(1)) + 2;
        if (buf.size() < size) {
          boost::asio::read(socket, buf,
                            boost::asio::transfer_exactly(size - buf.size()),
                            ec);
          if (ec) return;
        }
        args.emplace_back(static_cast<const char*>(buf.data().data()),
                          size - 2);
        buf.consume(size);
      }
      std::string reply;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (args.size() == 3 && args[0] == "SET") {
          data_[args[1]] = args[2];
          ++sets_;
          reply = "+OK\r\n";
        } else if (args.size() == 2 && args[0] == "GET") {
          ++gets_;
          auto it = data_.find(args[1]);
          reply = it == data_.end() ? "$-1\r\n"
                                    : "$" + std::to_string(it->second.size()) +
                                          "\r\n" + it->second + "\r\n";
        } else {
          reply = "-ERR unknown command\r\n";
        }
      }
      boost::asio::write(socket, boost::asio::buffer(reply), ec);
      if (ec) return;
    }
  }

  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::vector<std::thread> sessions_;
  std::mutex mu_;
  std::map<std::string, std::string> data_;
  uint64_t sets_ = 0;
  uint64_t gets_ = 0;
};

TEST(RespBenchTest, PreloadThenMixedRunCountsEveryReply) {
  FakeRespServer server;
  BenchConfig c;
  c.protocol = Protocol::kResp;
  c.nodes = {{"127.0.0.1", server.port()}};
  c.connections = 3;
  c.duration_seconds = 0.3;
  c.keys = 40;
  c.value_size = 32;
  c.preload = true;
  c.bucket = "bb";
  c.request_timeout_ms = 2000;
  BenchResult result;
  ASSERT_TRUE(RunBench(c, &result).ok());
  ASSERT_TRUE(result.preload.has_value());
  EXPECT_EQ(result.preload->put.ops, 40u);
  EXPECT_GT(result.run.put.ops, 0u);
  EXPECT_GT(result.run.get.ops, 0u);
  EXPECT_EQ(result.run.errors(), 0u);
  // Every key was written, so no get found nothing.
  EXPECT_EQ(result.run.get.notfound, 0u);
  EXPECT_EQ(server.sets(), 40u + result.run.put.ops);
  EXPECT_EQ(server.gets(), result.run.get.ops);
  std::map<std::string, std::string> data = server.Data();
  ASSERT_EQ(data.size(), 40u);
  for (const auto& [key, value] : data) {
    EXPECT_EQ(key.rfind("bb:", 0), 0u) << key;
    EXPECT_EQ(value.size(), 32u);
  }
}

TEST(RespBenchTest, GetsOfUnwrittenKeysAreNotFoundNotErrors) {
  FakeRespServer server;
  BenchConfig c;
  c.protocol = Protocol::kResp;
  c.nodes = {{"127.0.0.1", server.port()}};
  c.connections = 1;
  c.duration_seconds = 0.2;
  c.mix = {0, 1};
  BenchResult result;
  ASSERT_TRUE(RunBench(c, &result).ok());
  EXPECT_GT(result.run.get.ops, 0u);
  EXPECT_EQ(result.run.get.notfound, result.run.get.ops);
  EXPECT_EQ(result.run.errors(), 0u);
}

TEST(RespBenchTest, RiakOnlyOptionsAreRefused) {
  BenchConfig c;
  c.protocol = Protocol::kResp;
  c.nodes = {{"127.0.0.1", 1}};
  c.type = "counters";
  EXPECT_FALSE(CheckConfig(c).ok());
  c.type.clear();
  c.w = 2;
  EXPECT_FALSE(CheckConfig(c).ok());
  c.w.reset();
  EXPECT_TRUE(CheckConfig(c).ok());
  c.mix = {0, 0, 1};
  c.type = "counters";
  EXPECT_FALSE(CheckConfig(c).ok());
}

}  // namespace
}  // namespace causeway::bench
