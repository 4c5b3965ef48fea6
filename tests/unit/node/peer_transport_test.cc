// PeerTransport over loopback: two or more transports in one io_context,
// which each test runs only until what it waits for has happened, or a
// deadline passes (then the test fails instead of hanging). Nothing here
// asserts how fast anything is.

#include "node/peer_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "node/peer_wire.h"

namespace causeway::node {
namespace {

namespace asio = boost::asio;
using std::chrono::steady_clock;

// A safety net against a hung test, not a timing assertion.
constexpr auto kDeadline = std::chrono::seconds(20);

bool RunUntil(asio::io_context& io, const std::function<bool()>& done,
              std::chrono::steady_clock::duration limit = kDeadline) {
  const auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Runs the loop for a while so that anything that was going to happen has a
// chance to; used before asserting that something did NOT happen.
void RunFor(asio::io_context& io, std::chrono::milliseconds d) {
  const auto deadline = steady_clock::now() + d;
  while (steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
}

PeerTransportOptions Options(const std::string& name) {
  PeerTransportOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.node_name = name;
  o.cluster_name = "test-cluster";
  o.secret = std::string("s3cret\0bytes", 12);
  o.connect_timeout_ms = 5000;
  o.handshake_timeout_ms = 5000;
  o.reconnect_backoff_min_ms = 10;
  o.reconnect_backoff_max_ms = 100;
  return o;
}

struct Message {
  std::string from;
  std::string payload;
  bool operator==(const Message&) const = default;
};

// A transport and what it delivered.
class TestNode {
 public:
  TestNode(asio::io_context& io, PeerTransportOptions options)
      : name_(options.node_name),
        transport_(io, std::move(options),
                   [this](const std::string& from, std::string_view payload) {
                     received.push_back({from, std::string(payload)});
                     if (on_deliver) on_deliver(from, payload);
                   }) {}

  Status Start() { return transport_.Start(); }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(transport_.port());
  }
  const std::string& name() const { return name_; }
  PeerTransport& transport() { return transport_; }
  PeerTransportStats stats() const { return transport_.stats(); }
  void SendTo(const TestNode& other, std::string payload) {
    transport_.Send(other.name(), other.address(), std::move(payload));
  }
  bool Got(const std::string& payload) const {
    for (const Message& m : received) {
      if (m.payload == payload) return true;
    }
    return false;
  }

  std::vector<Message> received;
  std::function<void(const std::string&, std::string_view)> on_deliver;

 private:
  std::string name_;
  PeerTransport transport_;
};

// A loopback port with nothing listening on it (bound, then released).
uint16_t UnusedPort(asio::io_context& io) {
  asio::ip::tcp::acceptor probe(
      io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

// A blocking client socket, for speaking bad protocol at a transport.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool Write(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads what is buffered without blocking; true if the other side has
  // closed (end of stream or reset).
  bool DrainAndSeeClosed(std::string* got) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        got->append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) return true;
      return errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST(PeerTransport, ExchangesPayloadsBothWays) {
  asio::io_context io;
  TestNode a(io, Options("a@test"));
  TestNode b(io, Options("b@test"));
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  ASSERT_NE(a.transport().port(), 0);

  std::vector<std::string> to_b, to_a;
  for (int i = 0; i < 200; ++i) to_b.push_back("a->b #" + std::to_string(i));
  to_b.push_back("");                            // empty payloads are fine
  to_b.push_back(std::string(3 << 20, '\x01'));  // bigger than a batch
  to_b.push_back(std::string("\0\xff\n", 3));    // any bytes
  for (int i = 0; i < 50; ++i) to_a.push_back("b->a #" + std::to_string(i));
  for (const std::string& p : to_b) a.SendTo(b, p);
  for (const std::string& p : to_a) b.SendTo(a, p);

  ASSERT_TRUE(RunUntil(io, [&] {
    return b.received.size() == to_b.size() && a.received.size() == to_a.size();
  }));
  // In order, each labelled with the name its sender proved.
  for (size_t i = 0; i < to_b.size(); ++i) {
    EXPECT_EQ(b.received[i], (Message{"a@test", to_b[i]})) << i;
  }
  for (size_t i = 0; i < to_a.size(); ++i) {
    EXPECT_EQ(a.received[i], (Message{"b@test", to_a[i]})) << i;
  }
  const PeerTransportStats sa = a.stats(), sb = b.stats();
  EXPECT_EQ(sa.messages_sent, to_b.size());
  EXPECT_EQ(sb.messages_received, to_b.size());
  EXPECT_EQ(sb.messages_sent, to_a.size());
  EXPECT_EQ(sa.bytes_sent, sb.bytes_received);
  EXPECT_EQ(sa.connected_peers, 1u);
  EXPECT_EQ(sa.inbound_connections, 1u);
  EXPECT_EQ(sb.connected_peers, 1u);
  EXPECT_EQ(sb.inbound_connections, 1u);
  EXPECT_EQ(sa.handshake_failures + sb.handshake_failures, 0u);
  EXPECT_EQ(sa.dropped() + sb.dropped(), 0u);
  EXPECT_EQ(sa.queued_messages, 0u);
  EXPECT_EQ(sa.queued_bytes, 0u);
  // One connection each way, reused for everything.
  EXPECT_EQ(sa.connects_attempted, 1u);
  EXPECT_EQ(sb.connects_attempted, 1u);
  const std::vector<PeerView> peers = a.transport().Peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].name, "b@test");
  EXPECT_EQ(peers[0].state, "connected");
}

TEST(PeerTransport, RepliesFromTheDeliverCallbackGoOutThroughSend) {
  asio::io_context io;
  TestNode a(io, Options("a@test"));
  TestNode b(io, Options("b@test"));
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  // Each side answers n with n+1 until 100: a ping-pong driven entirely
  // from inside delivery.
  auto bounce = [](TestNode& self, TestNode& other) {
    return [&self, &other](const std::string& from, std::string_view p) {
      const int n = std::stoi(std::string(p));
      if (n < 100)
        self.transport().Send(from, other.address(), std::to_string(n + 1));
    };
  };
  a.on_deliver = bounce(a, b);
  b.on_deliver = bounce(b, a);
  a.SendTo(b, "0");
  ASSERT_TRUE(RunUntil(io, [&] { return a.Got("100") || b.Got("100"); }));
  EXPECT_EQ(b.received.size() + a.received.size(), 101u);
}

TEST(PeerTransport, SendWithoutNameReachesASeedByAddress) {
  asio::io_context io;
  TestNode joiner(io, Options("joiner@test"));
  TestNode seed(io, Options("seed@test"));
  ASSERT_TRUE(seed.Start().ok());
  // The joiner need not listen to send.
  joiner.transport().Send("", seed.address(), "join me");
  ASSERT_TRUE(RunUntil(io, [&] { return seed.Got("join me"); }));
  EXPECT_EQ(seed.received[0].from, "joiner@test");
  const std::vector<PeerView> peers = joiner.transport().Peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].name, "seed@test");  // learned in the handshake
  EXPECT_EQ(peers[0].address, seed.address());
}

TEST(PeerTransport, WrongSecretIsRefused) {
  asio::io_context io;
  PeerTransportOptions ob = Options("b@test");
  ob.secret = "another secret";
  TestNode a(io, Options("a@test"));
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  a.SendTo(b, "let me in");
  ASSERT_TRUE(RunUntil(io, [&] {
    return a.stats().handshake_failures >= 2 &&
           b.stats().handshake_failures >= 2;
  }));
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(b.stats().messages_received, 0u);
  EXPECT_EQ(b.stats().inbound_connections, 0u);
  EXPECT_EQ(a.stats().connected_peers, 0u);
  EXPECT_EQ(a.stats().messages_sent, 0u);
}

TEST(PeerTransport, WrongClusterIsRefused) {
  asio::io_context io;
  PeerTransportOptions ob = Options("b@test");
  ob.cluster_name = "other-cluster";
  TestNode a(io, Options("a@test"));
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  a.SendTo(b, "let me in");
  ASSERT_TRUE(RunUntil(io, [&] {
    return a.stats().handshake_failures >= 1 &&
           b.stats().handshake_failures >= 1;
  }));
  RunFor(io, std::chrono::milliseconds(100));
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(b.stats().inbound_connections, 0u);
  EXPECT_EQ(a.stats().messages_sent, 0u);
}

TEST(PeerTransport, PeerAnsweringWithAnotherNameIsRefused) {
  asio::io_context io;
  TestNode a(io, Options("a@test"));
  TestNode b(io, Options("b@test"));
  ASSERT_TRUE(b.Start().ok());
  // The ring says c lives at b's address; b is not c.
  a.transport().Send("c@test", b.address(), "for c only");
  ASSERT_TRUE(RunUntil(io, [&] { return a.stats().handshake_failures >= 1; }));
  RunFor(io, std::chrono::milliseconds(100));
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(a.stats().messages_sent, 0u);
}

TEST(PeerTransport, PeerClaimingOurOwnNameIsRefused) {
  asio::io_context io;
  TestNode a(io, Options("a@test"));
  TestNode impostor(io, Options("a@test"));
  ASSERT_TRUE(a.Start().ok());
  impostor.transport().Send("", a.address(), "i am you");
  ASSERT_TRUE(RunUntil(io, [&] { return a.stats().handshake_failures >= 1; }));
  RunFor(io, std::chrono::milliseconds(100));
  EXPECT_TRUE(a.received.empty());
}

TEST(PeerTransport, OversizedFrameClosesTheConnection) {
  asio::io_context io;
  PeerTransportOptions ob = Options("b@test");
  ob.max_frame_bytes = 1024;
  TestNode a(io, Options("a@test"));
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  a.SendTo(b, "small");
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("small"); }));

  a.SendTo(b, std::string(2000, 'x'));  // within a's limit, over b's
  ASSERT_TRUE(RunUntil(io, [&] {
    return b.stats().frames_rejected == 1 && a.stats().connected_peers == 0 &&
           b.stats().inbound_connections == 0;
  }));
  EXPECT_EQ(b.received.size(), 1u);  // the big one was never delivered

  // Only that connection suffered: the next message gets a new one.
  a.SendTo(b, "after");
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("after"); }));
  EXPECT_EQ(b.received.size(), 2u);
  EXPECT_EQ(a.stats().connects_attempted, 2u);
}

TEST(PeerTransport, OversizedFrameBeforeAuthenticationClosesTheConnection) {
  asio::io_context io;
  TestNode b(io, Options("b@test"));
  ASSERT_TRUE(b.Start().ok());
  RawClient raw(b.transport().port());
  ASSERT_TRUE(raw.connected());
  // A 1 MiB length from a stranger: refused before any of it is read.
  ASSERT_TRUE(raw.Write(std::string("\x00\x10\x00\x00", 4)));
  ASSERT_TRUE(RunUntil(io, [&] { return b.stats().handshake_failures == 1; }));
  std::string got;
  ASSERT_TRUE(RunUntil(io, [&] { return raw.DrainAndSeeClosed(&got); }));
  // It said nothing at all: a caller speaks first.
  EXPECT_EQ(got, "");
  EXPECT_EQ(b.stats().connections_accepted, 1u);
}

// What a stranger hears from `node` after sending it a hello claiming
// `cluster`, then a proof made with `secret`, until the node closes or
// takes it for a peer.
std::string StrangerHears(asio::io_context& io, TestNode& node,
                          const std::string& cluster,
                          const std::string& secret) {
  RawClient raw(node.transport().port());
  EXPECT_TRUE(raw.connected());
  peer_wire::Hello hello;
  hello.cluster = cluster;
  hello.node = "stranger@test";
  hello.nonce.fill(7);
  EXPECT_TRUE(raw.Write(peer_wire::Frame(peer_wire::EncodeHello(hello))));
  std::string got;
  EXPECT_TRUE(RunUntil(io, [&] {
    raw.DrainAndSeeClosed(&got);
    return got.size() >= 4 + 5 + peer_wire::kNonceBytes;
  }));
  peer_wire::Nonce challenge{};
  EXPECT_TRUE(peer_wire::DecodeChallenge(got.substr(4), &challenge).ok());
  const std::string mac =
      peer_wire::ComputeMac(secret, peer_wire::Role::kInitiator, cluster,
                            hello.node, "", hello.nonce, challenge);
  raw.Write(peer_wire::Frame(peer_wire::EncodeProof(mac)));
  EXPECT_TRUE(RunUntil(io, [&] {
    return raw.DrainAndSeeClosed(&got) || node.stats().inbound_connections > 0;
  }));
  RunFor(io, std::chrono::milliseconds(50));
  raw.DrainAndSeeClosed(&got);
  return got;
}

TEST(PeerTransport, StrangerLearnsNoNamesBeforeItsProof) {
  asio::io_context io;
  TestNode b(io, Options("b@test"));
  ASSERT_TRUE(b.Start().ok());
  // Right cluster or wrong, a caller without the secret hears one
  // challenge (a nonce) and then the close: no cluster, no node name.
  for (const std::string cluster : {"test-cluster", "guess"}) {
    const std::string got = StrangerHears(io, b, cluster, "wrong secret");
    EXPECT_EQ(got.size(), 4 + 5 + peer_wire::kNonceBytes) << cluster;
    EXPECT_EQ(got.find("b@test"), std::string::npos);
    EXPECT_EQ(got.find("test-cluster"), std::string::npos);
  }
  EXPECT_EQ(b.stats().handshake_failures, 2u);
  EXPECT_EQ(b.stats().inbound_connections, 0u);
}

TEST(PeerTransport, CallerWithTheSecretIsToldTheNamesAfterItsProof) {
  asio::io_context io;
  TestNode b(io, Options("b@test"));
  ASSERT_TRUE(b.Start().ok());
  const std::string got =
      StrangerHears(io, b, "test-cluster", std::string("s3cret\0bytes", 12));
  EXPECT_NE(got.find("b@test"), std::string::npos);
  EXPECT_NE(got.find("CWPP"), std::string::npos);
  EXPECT_EQ(b.stats().handshake_failures, 0u);
}

TEST(PeerTransport, SilentConnectionTimesOutInHandshake) {
  asio::io_context io;
  PeerTransportOptions ob = Options("b@test");
  ob.handshake_timeout_ms = 50;
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  RawClient raw(b.transport().port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(RunUntil(io, [&] { return b.stats().handshake_failures == 1; }));
  std::string got;
  ASSERT_TRUE(RunUntil(io, [&] { return raw.DrainAndSeeClosed(&got); }));
}

// Connections opened to `node` that say nothing, once it has accepted them.
std::vector<std::unique_ptr<RawClient>> OpenSilent(asio::io_context& io,
                                                   TestNode& node, size_t n) {
  std::vector<std::unique_ptr<RawClient>> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(std::make_unique<RawClient>(node.transport().port()));
    EXPECT_TRUE(out.back()->connected());
  }
  EXPECT_TRUE(RunUntil(io, [&] {
    const PeerTransportStats s = node.stats();
    return s.connections_accepted >= n;
  }));
  return out;
}

TEST(PeerTransport, UnauthenticatedOverTheirLimitMakeRoomForPeers) {
  asio::io_context io;
  PeerTransportOptions ob = Options("b@test");
  ob.max_unauthenticated = 3;
  ob.max_inbound_connections = 1;
  TestNode a(io, Options("a@test"));
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  // Five strangers against room for three: each newcomer closes the oldest.
  auto strangers = OpenSilent(io, b, 5);
  EXPECT_EQ(b.stats().unauthenticated_rejected, 2u);
  EXPECT_EQ(b.stats().unauthenticated_connections, 3u);
  std::string got;
  ASSERT_TRUE(RunUntil(io, [&] {
    return strangers[0]->DrainAndSeeClosed(&got) &&
           strangers[1]->DrainAndSeeClosed(&got);
  }));

  // A peer arriving while strangers fill every slot gets in (the oldest
  // stranger makes room), although the authenticated limit is one.
  a.SendTo(b, "still room for peers");
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("still room for peers"); }));
  EXPECT_EQ(b.stats().inbound_connections, 1u);
  EXPECT_EQ(b.stats().unauthenticated_rejected, 3u);
  EXPECT_EQ(b.stats().unauthenticated_connections, 2u);
  ASSERT_TRUE(
      RunUntil(io, [&] { return strangers[2]->DrainAndSeeClosed(&got); }));
}

TEST(PeerTransport, AuthenticatedPeersOverTheirLimitAreRefused) {
  asio::io_context io;
  PeerTransportOptions oc = Options("c@test");
  oc.max_inbound_connections = 1;
  TestNode a(io, Options("a@test"));
  TestNode b(io, Options("b@test"));
  TestNode c(io, oc);
  ASSERT_TRUE(c.Start().ok());
  a.SendTo(c, "first");
  ASSERT_TRUE(RunUntil(io, [&] { return c.Got("first"); }));
  b.SendTo(c, "second");
  ASSERT_TRUE(
      RunUntil(io, [&] { return c.stats().connections_rejected >= 1; }));
  EXPECT_FALSE(c.Got("second"));
  EXPECT_EQ(c.stats().inbound_connections, 1u);
  EXPECT_EQ(c.stats().unauthenticated_connections, 0u);
}

TEST(PeerTransport, HandshakeDeadlineFreesTheUnauthenticatedRoom) {
  asio::io_context io;
  PeerTransportOptions ob = Options("b@test");
  ob.max_unauthenticated = 1;
  ob.handshake_timeout_ms = 200;
  TestNode a(io, Options("a@test"));
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  auto strangers = OpenSilent(io, b, 1);
  ASSERT_TRUE(RunUntil(io, [&] { return b.stats().handshake_timeouts == 1; }));
  EXPECT_EQ(b.stats().unauthenticated_connections, 0u);
  std::string got;
  ASSERT_TRUE(
      RunUntil(io, [&] { return strangers[0]->DrainAndSeeClosed(&got); }));
  a.SendTo(b, "after the deadline");
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("after the deadline"); }));
  EXPECT_EQ(b.stats().handshake_timeouts, 1u);
}

TEST(PeerTransport, GarbageInsteadOfHelloIsRefused) {
  asio::io_context io;
  TestNode b(io, Options("b@test"));
  ASSERT_TRUE(b.Start().ok());
  RawClient raw(b.transport().port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Write(peer_wire::Frame("GET / HTTP/1.1")));
  ASSERT_TRUE(RunUntil(io, [&] { return b.stats().handshake_failures == 1; }));
  std::string got;
  ASSERT_TRUE(RunUntil(io, [&] { return raw.DrainAndSeeClosed(&got); }));
  EXPECT_TRUE(b.received.empty());
}

TEST(PeerTransport, PeerThatComesUpLaterReceivesWhatIsSentAfter) {
  asio::io_context io;
  const uint16_t port = UnusedPort(io);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  TestNode a(io, Options("a@test"));
  a.transport().Send("b@test", address, "while down");
  // Several failed attempts, with backoff between them.
  ASSERT_TRUE(RunUntil(io, [&] { return a.stats().connect_failures >= 3; }));
  EXPECT_EQ(a.stats().connected_peers, 0u);

  PeerTransportOptions ob = Options("b@test");
  ob.port = port;
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  a.transport().Send("b@test", address, "after up");
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("after up"); }));
  EXPECT_EQ(a.stats().connected_peers, 1u);
  ASSERT_EQ(a.transport().Peers().size(), 1u);
  EXPECT_EQ(a.transport().Peers()[0].consecutive_failures, 0u);
}

TEST(PeerTransport, PeerThatRestartsIsReconnected) {
  asio::io_context io;
  TestNode a(io, Options("a@test"));
  auto b = std::make_unique<TestNode>(io, Options("b@test"));
  ASSERT_TRUE(b->Start().ok());
  const uint16_t port = b->transport().port();
  a.SendTo(*b, "first life");
  ASSERT_TRUE(RunUntil(io, [&] { return b->Got("first life"); }));

  b.reset();  // stops: its connections close
  ASSERT_TRUE(RunUntil(io, [&] { return a.stats().connected_peers == 0; }));

  PeerTransportOptions ob = Options("b@test");
  ob.port = port;
  b = std::make_unique<TestNode>(io, ob);
  ASSERT_TRUE(b->Start().ok());
  a.SendTo(*b, "second life");
  ASSERT_TRUE(RunUntil(io, [&] { return b->Got("second life"); }));
  EXPECT_EQ(b->received.size(), 1u);
}

// A peer that comes back and reaches us is up: our link to it stops
// waiting out its backoff and delivers what was queued at once.
TEST(PeerTransport, PeerHeardFromCutsTheReconnectBackoff) {
  asio::io_context io;
  const uint16_t port = UnusedPort(io);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  PeerTransportOptions oa = Options("a@test");
  oa.reconnect_backoff_min_ms = 600000;  // far beyond the test's deadline
  oa.reconnect_backoff_max_ms = 600000;
  oa.queue_ttl_ms = 600000;
  TestNode a(io, oa);
  ASSERT_TRUE(a.Start().ok());
  a.transport().Send("b@test", address, "queued");
  ASSERT_TRUE(RunUntil(io, [&] { return a.stats().connect_failures == 1; }));

  PeerTransportOptions ob = Options("b@test");
  ob.port = port;
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  b.SendTo(a, "back");
  ASSERT_TRUE(RunUntil(io, [&] { return a.Got("back"); }));
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("queued"); }));
}

TEST(PeerTransport, QueuedMessagesExpireWhileThePeerIsUnreachable) {
  asio::io_context io;
  const uint16_t port = UnusedPort(io);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  PeerTransportOptions oa = Options("a@test");
  oa.queue_ttl_ms = 30;
  TestNode a(io, oa);
  a.transport().Send("b@test", address, "stale");
  ASSERT_TRUE(RunUntil(io, [&] { return a.stats().dropped_expired == 1; }));
  EXPECT_EQ(a.stats().queued_messages, 0u);

  PeerTransportOptions ob = Options("b@test");
  ob.port = port;
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  a.transport().Send("b@test", address, "fresh");
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("fresh"); }));
  EXPECT_EQ(b.received, (std::vector<Message>{{"a@test", "fresh"}}));
}

// Whoever waits on a peer that cannot be reached hears so when an attempt
// fails, with the peer's name, address and the reason; and again at the
// next failed attempt.
TEST(PeerTransport, UnreachablePeerIsReportedWithTheReason) {
  asio::io_context io;
  const uint16_t port = UnusedPort(io);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  PeerTransportOptions oa = Options("a@test");
  oa.reconnect_backoff_min_ms = 20;  // the next attempt comes soon
  oa.reconnect_backoff_max_ms = 20;
  TestNode a(io, oa);
  std::vector<std::string> reports;
  a.transport().OnUnreachable([&](const std::string& name,
                                  const std::string& addr,
                                  const std::string& reason) {
    reports.push_back(name + " " + addr + " " + reason);
  });
  a.transport().Send("b@test", address, "first");
  ASSERT_TRUE(RunUntil(io, [&] { return reports.size() == 1; }));
  EXPECT_EQ(reports[0].rfind("b@test " + address + " cannot connect: ", 0), 0u)
      << reports[0];
  a.transport().Send("b@test", address, "second");
  ASSERT_TRUE(RunUntil(io, [&] { return reports.size() == 2; }));
  EXPECT_EQ(reports[1], reports[0]);
}

TEST(PeerTransport, QueueLimitsDropInsteadOfGrowing) {
  asio::io_context io;
  const std::string nowhere = "127.0.0.1:" + std::to_string(UnusedPort(io));
  PeerTransportOptions oa = Options("a@test");
  oa.max_queue_messages = 3;
  oa.max_queue_bytes = 1000;
  oa.max_frame_bytes = 500;
  TestNode a(io, oa);

  // Message bound: 3 fit, 7 dropped.
  for (int i = 0; i < 10; ++i) {
    a.transport().Send("b@test", nowhere, std::string(100, 'm'));
  }
  EXPECT_EQ(a.stats().dropped_queue_full, 7u);
  EXPECT_EQ(a.stats().queued_messages, 3u);
  EXPECT_EQ(a.stats().queued_bytes, 300u);

  // Byte bound, per peer: 2 x 400 fit in 1000, the third does not.
  for (int i = 0; i < 3; ++i) {
    a.transport().Send("c@test", nowhere, std::string(400, 'b'));
  }
  EXPECT_EQ(a.stats().dropped_queue_full, 8u);
  EXPECT_EQ(a.stats().queued_messages, 5u);
  EXPECT_EQ(a.stats().queued_bytes, 1100u);

  // Over the frame limit: never queued.
  a.transport().Send("d@test", nowhere, std::string(501, 'x'));
  EXPECT_EQ(a.stats().dropped_too_large, 1u);

  // Nowhere to send.
  a.transport().Send("e@test", "", "x");
  a.transport().Send("", "", "x");
  a.transport().Send("f@test", "no-port", "x");
  EXPECT_EQ(a.stats().dropped_unroutable, 3u);
  EXPECT_EQ(a.stats().queued_messages, 5u);

  // Failed connects and retries do not grow anything either.
  ASSERT_TRUE(RunUntil(io, [&] { return a.stats().connect_failures >= 6; }));
  for (int i = 0; i < 10; ++i) {
    a.transport().Send("b@test", nowhere, std::string(100, 'm'));
  }
  EXPECT_LE(a.stats().queued_messages, 5u);
  EXPECT_LE(a.stats().queued_bytes, 1100u);
}

TEST(PeerTransport, QueueToAPeerThatStopsReadingIsBounded) {
  asio::io_context io;
  // Accepts and then says nothing: the handshake never completes, so
  // nothing leaves the queue.
  asio::ip::tcp::acceptor mute(
      io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ip::tcp::socket held(io);
  mute.async_accept(held, [](const boost::system::error_code&) {});
  const std::string address =
      "127.0.0.1:" + std::to_string(mute.local_endpoint().port());

  PeerTransportOptions oa = Options("a@test");
  oa.max_queue_bytes = 64 << 10;
  TestNode a(io, oa);
  for (int i = 0; i < 1000; ++i) {
    a.transport().Send("b@test", address, std::string(1024, 'q'));
    if (i % 100 == 0) RunFor(io, std::chrono::milliseconds(5));
  }
  EXPECT_EQ(a.stats().queued_bytes, 64u << 10);
  EXPECT_EQ(a.stats().dropped_queue_full, 1000u - 64u);
  EXPECT_EQ(a.stats().messages_sent, 0u);
}

TEST(PeerTransport, IdleInboundConnectionIsClosedAndRemadeOnDemand) {
  asio::io_context io;
  PeerTransportOptions ob = Options("b@test");
  ob.idle_timeout_ms = 50;
  TestNode a(io, Options("a@test"));
  TestNode b(io, ob);
  ASSERT_TRUE(b.Start().ok());
  a.SendTo(b, "one");
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("one"); }));
  ASSERT_TRUE(RunUntil(io, [&] {
    return b.stats().inbound_connections == 0 && a.stats().connected_peers == 0;
  }));
  // A clean close with nothing queued leaves no peer behind.
  EXPECT_TRUE(a.transport().Peers().empty());
  a.SendTo(b, "two");
  ASSERT_TRUE(RunUntil(io, [&] { return b.Got("two"); }));
  EXPECT_EQ(a.stats().connects_attempted, 2u);
}

TEST(PeerTransport, StopClosesEverythingAndDropsAfterwards) {
  asio::io_context io;
  TestNode a(io, Options("a@test"));
  TestNode b(io, Options("b@test"));
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  a.SendTo(b, "hi");
  b.SendTo(a, "hi");
  ASSERT_TRUE(RunUntil(io, [&] { return a.Got("hi") && b.Got("hi"); }));

  const std::string a_address = a.address();
  a.transport().Stop();
  EXPECT_EQ(a.stats().connected_peers, 0u);
  EXPECT_EQ(a.stats().inbound_connections, 0u);
  ASSERT_TRUE(RunUntil(io, [&] {
    return b.stats().connected_peers == 0 && b.stats().inbound_connections == 0;
  }));
  a.SendTo(b, "after stop");
  EXPECT_EQ(a.stats().dropped_unroutable, 1u);
  // Nobody listens any more: b cannot reach a.
  b.transport().Send(a.name(), a_address, "to a stopped node");
  ASSERT_TRUE(RunUntil(io, [&] { return b.stats().connect_failures >= 1; }));
  RunFor(io, std::chrono::milliseconds(50));
  EXPECT_EQ(a.received.size(), 1u);
  EXPECT_FALSE(b.Got("after stop"));
}

TEST(PeerTransport, StartFailsOnAPortInUse) {
  asio::io_context io;
  TestNode a(io, Options("a@test"));
  ASSERT_TRUE(a.Start().ok());
  PeerTransportOptions ob = Options("b@test");
  ob.port = a.transport().port();
  TestNode b(io, ob);
  EXPECT_FALSE(b.Start().ok());
  EXPECT_EQ(b.transport().port(), 0);
}

}  // namespace
}  // namespace causeway::node
