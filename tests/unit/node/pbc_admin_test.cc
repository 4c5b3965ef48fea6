// Cluster admin messages (codes 200-205) through PbcHandler against real
// NodeCores over the in-memory engine: one node alone, and two nodes joined
// through a test network that carries peer messages between them.

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "node/pbc_handler.h"
#include "node/stats.h"
#include "proto/admin.pb.h"
#include "proto/riak.pb.h"
#include "replication/core.h"
#include "replication/network.h"
#include "storage/engine.h"
#include "tests/support/manual_env.h"
#include "tests/unit/node/pbc_recorder.h"

namespace causeway::node {
namespace {

using replication::NodeCore;
using replication::NodeName;

// Peer messages between cores in one test, delivered when the test pumps.
class Wire {
 public:
  void Add(NodeCore* core) {
    by_name_[core->config().name] = core;
    by_address_[core->config().peer_address] = core;
  }
  void Post(const NodeName& from, const NodeName& to,
            const std::string& address, std::string payload) {
    queue_.push_back(Message{from, to, address, std::move(payload)});
  }
  void DeliverAll() {
    while (!queue_.empty()) {
      Message m = std::move(queue_.front());
      queue_.pop_front();
      NodeCore* core = nullptr;
      if (auto it = by_name_.find(m.to); it != by_name_.end()) {
        core = it->second;
      } else if (auto a = by_address_.find(m.address); a != by_address_.end()) {
        core = a->second;
      }
      if (core != nullptr) core->OnPeerMessage(m.from, m.payload);
    }
  }

 private:
  struct Message {
    NodeName from, to;
    std::string address, payload;
  };
  std::deque<Message> queue_;
  std::map<NodeName, NodeCore*> by_name_;
  std::map<std::string, NodeCore*> by_address_;
};

class WireNetwork : public replication::Network {
 public:
  WireNetwork(Wire& wire, NodeName self)
      : wire_(wire), self_(std::move(self)) {}
  void Send(const NodeName& to, const std::string& address,
            std::string payload) override {
    wire_.Post(self_, to, address, std::move(payload));
  }

 private:
  Wire& wire_;
  NodeName self_;
};

constexpr uint32_t kRingSize = 16;

// One node: a core, its stats and a handler in front of it.
struct TestNode {
  TestNode(testing::ManualEnv& env, const NodeName& name,
           const std::string& peer_address)
      : engine(storage::NewMemoryEngine()) {
    replication::NodeConfig config;
    config.name = name;
    config.peer_address = peer_address;
    config.ring_size = kRingSize;
    core = std::make_unique<NodeCore>(env, *engine, config);
    EXPECT_TRUE(core->Open().ok());
    handler = std::make_unique<PbcHandler>(*core, stats, PbcHandlerOptions{});
  }

  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<NodeCore> core;
  Stats stats;
  std::unique_ptr<PbcHandler> handler;
  std::unique_ptr<WireNetwork> network;
};

class AdminTest : public ::testing::Test {
 protected:
  AdminTest() : a_(env_, "causeway@a", "") {}

  // Sends one request and runs timers and peer messages until it ends;
  // checks it ended exactly once, with one frame, the connection open.
  Frame Call(TestNode& node, uint8_t code, const std::string& body) {
    auto r = std::make_shared<Recorder>();
    node.handler->Handle(Frame{code, body}, r);
    for (int i = 0; i < 2000 && r->done == 0; ++i) Step(10);
    EXPECT_EQ(r->done, 1);
    EXPECT_FALSE(r->closed);
    EXPECT_EQ(r->frames.size(), 1u);
    if (r->frames.empty()) return Frame{0, ""};
    return r->frames.back();
  }
  Frame Call(TestNode& node, pbc::Code code,
             const google::protobuf::MessageLite& m) {
    return Call(node, static_cast<uint8_t>(code), m.SerializeAsString());
  }

  pbc::RpbErrorResp ExpectError(const Frame& f) {
    EXPECT_EQ(f.code, 0);
    pbc::RpbErrorResp err;
    EXPECT_TRUE(err.ParseFromString(f.body));
    return err;
  }

  admin::CwClusterStatusResp Status(TestNode& node) {
    Frame f =
        Call(node, static_cast<uint8_t>(pbc::Code::kClusterStatusReq), "");
    EXPECT_EQ(f.code, static_cast<uint8_t>(pbc::Code::kClusterStatusResp))
        << ErrorText(f);
    admin::CwClusterStatusResp resp;
    EXPECT_TRUE(resp.ParseFromString(f.body));
    return resp;
  }

  static std::string ErrorText(const Frame& f) {
    if (f.code != 0) return "";
    pbc::RpbErrorResp e;
    e.ParseFromString(f.body);
    return e.errmsg();
  }

  void Step(uint64_t ms) {
    wire_.DeliverAll();
    env_.Advance(ms);
    wire_.DeliverAll();
  }

  // The status reply agrees with itself: owners and member counts match.
  static void ExpectConsistent(const admin::CwClusterStatusResp& s) {
    ASSERT_EQ(s.owners_size(), static_cast<int>(s.ring_size()));
    ASSERT_TRUE(s.next_owners().empty() ||
                s.next_owners_size() == static_cast<int>(s.ring_size()));
    uint32_t differing = 0;
    for (int i = 0; i < s.next_owners_size(); ++i) {
      differing += s.owners(i) != s.next_owners(i);
    }
    EXPECT_EQ(s.pending_transfers(), differing);
    const auto& next = s.next_owners().empty() ? s.owners() : s.next_owners();
    for (const auto& m : s.members()) {
      EXPECT_EQ(m.partitions(),
                static_cast<uint32_t>(
                    std::count(s.owners().begin(), s.owners().end(), m.name())))
          << m.name();
      EXPECT_EQ(m.next_partitions(), static_cast<uint32_t>(std::count(
                                         next.begin(), next.end(), m.name())))
          << m.name();
    }
  }

  testing::ManualEnv env_;
  Wire wire_;
  TestNode a_;
};

TEST_F(AdminTest, StatusOfALoneNode) {
  admin::CwClusterStatusResp s = Status(a_);
  EXPECT_EQ(s.node(), "causeway@a");
  EXPECT_EQ(s.claimant(), "causeway@a");
  EXPECT_EQ(s.ring_size(), kRingSize);
  EXPECT_GE(s.ring_version(), 1u);
  ASSERT_EQ(s.members_size(), 1);
  const admin::CwMember& m = s.members(0);
  EXPECT_EQ(m.name(), "causeway@a");
  EXPECT_EQ(m.status(), "valid");
  EXPECT_TRUE(m.up());
  EXPECT_EQ(m.partitions(), kRingSize);
  EXPECT_EQ(m.next_partitions(), kRingSize);
  EXPECT_EQ(m.last_heard_ms_ago(), 0u);
  ASSERT_EQ(s.owners_size(), static_cast<int>(kRingSize));
  for (const auto& owner : s.owners()) EXPECT_EQ(owner, "causeway@a");
  EXPECT_TRUE(s.next_owners().empty());
  EXPECT_EQ(s.pending_transfers(), 0u);
  EXPECT_TRUE(s.transfers_done().empty());
  ASSERT_TRUE(s.has_handoff());
  EXPECT_EQ(s.handoff().hints_pending(), 0u);
  EXPECT_FALSE(s.handoff().transfer_running());
  EXPECT_FALSE(s.handoff().cleanup_running());
  ExpectConsistent(s);
  EXPECT_EQ(a_.stats.other_requests, 1u);

  // Whatever a status request carries is ignored, as for ping.
  Frame f = Call(a_, static_cast<uint8_t>(pbc::Code::kClusterStatusReq),
                 std::string("\xff\x00junk", 6));
  EXPECT_EQ(f.code, static_cast<uint8_t>(pbc::Code::kClusterStatusResp));
}

TEST_F(AdminTest, TheLastMemberCannotLeave) {
  // Without a name: the answering node itself.
  auto err = ExpectError(
      Call(a_, pbc::Code::kClusterLeaveReq, admin::CwClusterLeaveReq()));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("last member"), std::string::npos)
      << err.errmsg();
  EXPECT_NE(err.errmsg().find("causeway@a"), std::string::npos) << err.errmsg();

  // By name, the same.
  admin::CwClusterLeaveReq named;
  named.set_node("causeway@a");
  err = ExpectError(Call(a_, pbc::Code::kClusterLeaveReq, named));
  EXPECT_NE(err.errmsg().find("last member"), std::string::npos)
      << err.errmsg();

  // A node that is not a member.
  named.set_node("causeway@nobody");
  err = ExpectError(Call(a_, pbc::Code::kClusterLeaveReq, named));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kNotFound));
  EXPECT_NE(err.errmsg().find("causeway@nobody"), std::string::npos)
      << err.errmsg();

  // Nothing changed.
  admin::CwClusterStatusResp s = Status(a_);
  ASSERT_EQ(s.members_size(), 1);
  EXPECT_EQ(s.members(0).status(), "valid");
  EXPECT_EQ(s.members(0).partitions(), kRingSize);
  EXPECT_FALSE(a_.core->ReadyToExit());
}

TEST_F(AdminTest, JoinWithoutANetworkIsRefused) {
  admin::CwClusterJoinReq req;
  req.set_seed("127.0.0.1:9000");
  auto err = ExpectError(Call(a_, pbc::Code::kClusterJoinReq, req));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kUnavailable));
  EXPECT_NE(err.errmsg().find("127.0.0.1:9000"), std::string::npos)
      << err.errmsg();
  EXPECT_NE(err.errmsg().find("no peer transport"), std::string::npos)
      << err.errmsg();
  EXPECT_EQ(Status(a_).members_size(), 1);
}

TEST_F(AdminTest, MalformedBodiesAreRefused) {
  const auto join = static_cast<uint8_t>(pbc::Code::kClusterJoinReq);
  const auto leave = static_cast<uint8_t>(pbc::Code::kClusterLeaveReq);

  // Not protobuf.
  auto err = ExpectError(Call(a_, join, std::string("\xff\xff\xff", 3)));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("CwClusterJoinReq"), std::string::npos);
  // Field 1 says five bytes follow; two do.
  err = ExpectError(Call(a_, leave, std::string("\x0a\x05", 2) + "ab"));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("CwClusterLeaveReq"), std::string::npos);

  // The seed is required.
  err = ExpectError(Call(a_, join, ""));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));

  // Seeds that are not HOST:PORT.
  for (const std::string& seed :
       {std::string(), std::string("localhost"), std::string(":9000"),
        std::string("host:"), std::string("host:0"), std::string("host:65536"),
        std::string("host:12ab"), std::string("host:+80"),
        std::string("ho st:80"), std::string("host\n:80"),
        std::string(300, 'h') + ":80"}) {
    admin::CwClusterJoinReq req;
    req.set_seed(seed);
    err = ExpectError(Call(a_, pbc::Code::kClusterJoinReq, req));
    EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest))
        << seed;
    EXPECT_NE(err.errmsg().find("cluster join"), std::string::npos)
        << err.errmsg();
    // Quoted bytes are made printable and cut short.
    EXPECT_EQ(err.errmsg().find('\n'), std::string::npos);
    EXPECT_LT(err.errmsg().size(), 200u) << err.errmsg();
  }

  // Names no member can have.
  for (const std::string& node :
       {std::string("a b"), std::string("a\x01"), std::string(256, 'n')}) {
    admin::CwClusterLeaveReq req;
    req.set_node(node);
    err = ExpectError(Call(a_, pbc::Code::kClusterLeaveReq, req));
    EXPECT_EQ(err.errcode(),
              static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
    EXPECT_NE(err.errmsg().find("not a node name"), std::string::npos)
        << err.errmsg();
  }
  EXPECT_EQ(a_.stats.bad_requests, 17u);
  EXPECT_EQ(a_.stats.other_requests, 0u);
  EXPECT_EQ(Status(a_).members_size(), 1);
}

TEST_F(AdminTest, RandomBodiesAlwaysGetExactlyOneEnding) {
  std::mt19937 rng(5);
  for (int round = 0; round < 100; ++round) {
    for (uint8_t code : {200, 202, 204}) {
      std::string body(rng() % 40, '\0');
      for (auto& c : body) c = static_cast<char>(rng());
      Call(a_, code, body);  // checks one ending, one frame, still open
    }
  }
  admin::CwClusterStatusResp s = Status(a_);
  ASSERT_EQ(s.members_size(), 1);
  EXPECT_EQ(s.members(0).partitions(), kRingSize);
}

// Two nodes on a test network: join, watch the ring move, then leave.
class TwoNodeAdminTest : public AdminTest {
 protected:
  TwoNodeAdminTest()
      : seed_(env_, "causeway@seed", "10.0.0.1:8088"),
        joiner_(env_, "causeway@joiner", "10.0.0.2:8088") {
    for (TestNode* n : {&seed_, &joiner_}) {
      wire_.Add(n->core.get());
      n->network = std::make_unique<WireNetwork>(wire_, n->core->config().name);
      n->core->AttachNetwork(n->network.get());
      n->core->Start();
    }
  }

  TestNode seed_;
  TestNode joiner_;
};

TEST_F(TwoNodeAdminTest, JoinMovesPartitionsAndLeaveGivesThemBack) {
  admin::CwClusterJoinReq join;
  join.set_seed("10.0.0.1:8088");
  Frame f = Call(joiner_, pbc::Code::kClusterJoinReq, join);
  ASSERT_EQ(f.code, static_cast<uint8_t>(pbc::Code::kClusterJoinResp))
      << ErrorText(f);
  EXPECT_TRUE(f.body.empty());

  // Until the ring settles, every view is consistent; at some point a
  // change is pending (next owners shown); in the end both own a share.
  bool saw_pending = false;
  admin::CwClusterStatusResp s;
  for (int i = 0; i < 600; ++i) {
    s = Status(joiner_);
    ExpectConsistent(s);
    if (!s.next_owners().empty()) {
      saw_pending = true;
      EXPECT_GT(s.pending_transfers(), 0u);
    }
    bool settled =
        s.members_size() == 2 && s.next_owners().empty() &&
        std::count(s.owners().begin(), s.owners().end(), "causeway@joiner") > 0;
    if (settled) break;
    Step(100);
  }
  EXPECT_TRUE(saw_pending);
  EXPECT_EQ(s.node(), "causeway@joiner");
  // Both nodes agree on the claimant, whichever the core picked.
  EXPECT_EQ(s.claimant(), Status(seed_).claimant());
  EXPECT_TRUE(s.claimant() == "causeway@seed" ||
              s.claimant() == "causeway@joiner")
      << s.claimant();
  ASSERT_EQ(s.members_size(), 2);
  for (const auto& m : s.members()) {
    EXPECT_EQ(m.status(), "valid") << m.name();
    EXPECT_TRUE(m.up()) << m.name();
    EXPECT_GT(m.partitions(), 0u) << m.name();
    EXPECT_EQ(m.address(),
              m.name() == "causeway@seed" ? "10.0.0.1:8088" : "10.0.0.2:8088");
  }
  EXPECT_TRUE(s.next_owners().empty());

  // A node already in a cluster cannot join another.
  f = Call(joiner_, pbc::Code::kClusterJoinReq, join);
  EXPECT_EQ(ExpectError(f).errcode(),
            static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));

  // The seed asks the joiner to leave; it goes leaving, hands its
  // partitions back, and ends up ready to exit.
  admin::CwClusterLeaveReq leave;
  leave.set_node("causeway@joiner");
  f = Call(seed_, pbc::Code::kClusterLeaveReq, leave);
  ASSERT_EQ(f.code, static_cast<uint8_t>(pbc::Code::kClusterLeaveResp))
      << ErrorText(f);
  EXPECT_TRUE(f.body.empty());
  s = Status(seed_);
  ExpectConsistent(s);
  bool saw_leaving = false;
  for (const auto& m : s.members()) {
    if (m.name() == "causeway@joiner") saw_leaving = m.status() == "leaving";
  }
  EXPECT_TRUE(saw_leaving);
  for (int i = 0; i < 600 && !joiner_.core->ReadyToExit(); ++i) Step(100);
  EXPECT_TRUE(joiner_.core->ReadyToExit());
  s = Status(seed_);
  ExpectConsistent(s);
  for (const auto& owner : s.owners()) EXPECT_EQ(owner, "causeway@seed");
}

}  // namespace
}  // namespace causeway::node
