// FaultPolicy's decisions under fixed seeds, FaultyNetwork's forwarding on
// a manual clock, and the query parser the /faults endpoints use.
#include "node/faults.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/manual_env.h"

namespace causeway::node {
namespace {

using causeway::testing::ManualEnv;

// Records what reaches the real network.
class RecordingNetwork : public replication::Network {
 public:
  struct Sent {
    std::string to, address, payload;
  };
  void Send(const replication::NodeName& to, const std::string& address,
            std::string payload) override {
    sent.push_back({to, address, std::move(payload)});
  }
  std::vector<Sent> sent;
};

std::vector<std::vector<uint64_t>> Plans(FaultPolicy& p, int n,
                                         const std::string& peer = "b") {
  std::vector<std::vector<uint64_t>> out;
  for (int i = 0; i < n; ++i) out.push_back(p.PlanSend(peer));
  return out;
}

TEST(FaultPolicyTest, NoFaultsDeliversEverythingOnceAtOnce) {
  FaultPolicy p("a", 1);
  for (const auto& plan : Plans(p, 100)) {
    EXPECT_EQ(plan, std::vector<uint64_t>{0});
  }
  EXPECT_TRUE(p.AllowDelivery("b"));
  EXPECT_EQ(p.counters().dropped_random, 0u);
}

TEST(FaultPolicyTest, TheSameSeedMakesTheSameDecisions) {
  FaultPolicy p1("a", 42), p2("a", 42), p3("a", 43);
  for (FaultPolicy* p : {&p1, &p2, &p3}) {
    ASSERT_TRUE(p->SetDrop(30, "").ok());
    ASSERT_TRUE(p->SetDuplicate(20, "").ok());
    ASSERT_TRUE(p->SetReorder(25, 50, "").ok());
    ASSERT_TRUE(p->SetDelay(10, 5, "").ok());
  }
  const auto a = Plans(p1, 500);
  EXPECT_EQ(a, Plans(p2, 500));
  EXPECT_NE(a, Plans(p3, 500));
  // Reseeding replays the run from the start.
  p1.Reseed(42);
  EXPECT_EQ(a, Plans(p1, 500));
}

TEST(FaultPolicyTest, PercentagesAreHonouredOverManyMessages) {
  FaultPolicy p("a", 7);
  ASSERT_TRUE(p.SetDrop(100, "").ok());
  for (const auto& plan : Plans(p, 50)) EXPECT_TRUE(plan.empty());
  EXPECT_EQ(p.counters().dropped_random, 50u);

  ASSERT_TRUE(p.SetDrop(25, "").ok());
  int dropped = 0;
  for (const auto& plan : Plans(p, 4000)) dropped += plan.empty() ? 1 : 0;
  // Seeded, so exact; the band only says "about a quarter".
  EXPECT_GT(dropped, 800);
  EXPECT_LT(dropped, 1200);

  ASSERT_TRUE(p.SetDrop(0, "").ok());
  ASSERT_TRUE(p.SetDuplicate(100, "").ok());
  for (const auto& plan : Plans(p, 20)) {
    EXPECT_EQ(plan, (std::vector<uint64_t>{0, 0}));
  }
  EXPECT_EQ(p.counters().duplicated, 20u);
}

TEST(FaultPolicyTest, DelayJitterAndReorderStayInTheirBounds) {
  FaultPolicy p("a", 3);
  ASSERT_TRUE(p.SetDelay(100, 20, "").ok());
  bool saw_jitter = false;
  for (const auto& plan : Plans(p, 200)) {
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_GE(plan[0], 100u);
    EXPECT_LE(plan[0], 120u);
    saw_jitter |= plan[0] != 100;
  }
  EXPECT_TRUE(saw_jitter);

  ASSERT_TRUE(p.SetDelay(0, 0, "").ok());
  ASSERT_TRUE(p.SetReorder(100, 30, "").ok());
  for (const auto& plan : Plans(p, 200)) {
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_GE(plan[0], 1u);  // always late, so it lands behind later ones
    EXPECT_LE(plan[0], 30u);
  }
  EXPECT_EQ(p.counters().reordered, 200u);
}

TEST(FaultPolicyTest, APerNodeSettingOverridesTheClusterWideOne) {
  FaultPolicy p("a", 5);
  ASSERT_TRUE(p.SetDrop(100, "").ok());
  ASSERT_TRUE(p.SetDrop(0, "c").ok());
  ASSERT_TRUE(p.SetDelay(50, 0, "c").ok());
  EXPECT_TRUE(p.PlanSend("b").empty());
  EXPECT_EQ(p.PlanSend("c"), std::vector<uint64_t>{50});
  // Only the fields set for a node show under it.
  const std::string json = p.StatusJson();
  EXPECT_NE(json.find("\"nodes\":{\"c\":{\"drop_pct\":0,\"delay_ms\":50,"
                      "\"jitter_ms\":0}}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"all\":{\"drop_pct\":100,"), std::string::npos) << json;
}

TEST(FaultPolicyTest, OutOfRangeSettingsAreRefusedAndChangeNothing) {
  FaultPolicy p("a", 5);
  EXPECT_FALSE(p.SetDrop(101, "").ok());
  EXPECT_FALSE(p.SetDuplicate(1000, "b").ok());
  EXPECT_FALSE(p.SetReorder(10, 0, "").ok());
  EXPECT_FALSE(p.SetDelay(FaultPolicy::kMaxDelayMs + 1, 0, "").ok());
  EXPECT_FALSE(p.SetSkew(FaultPolicy::kMaxSkewMs + 1).ok());
  EXPECT_FALSE(p.SetSkew(-FaultPolicy::kMaxSkewMs - 1).ok());
  EXPECT_EQ(p.PlanSend("b"), std::vector<uint64_t>{0});
  EXPECT_EQ(p.skew_ms(), 0);
}

TEST(FaultPolicyTest, APartitionCutsAcrossGroupsOnlyAndHealRestores) {
  FaultPolicy p("n1", 9);
  ASSERT_TRUE(p.SetPartition(" n1, n2 / n3 ").ok());
  EXPECT_FALSE(p.Partitioned("n2"));
  EXPECT_TRUE(p.Partitioned("n3"));
  // A node in no group is alone.
  EXPECT_TRUE(p.Partitioned("n4"));
  EXPECT_EQ(p.PlanSend("n2"), std::vector<uint64_t>{0});
  EXPECT_TRUE(p.PlanSend("n3").empty());
  EXPECT_TRUE(p.AllowDelivery("n2"));
  EXPECT_FALSE(p.AllowDelivery("n3"));
  EXPECT_EQ(p.counters().dropped_partition_out, 1u);
  EXPECT_EQ(p.counters().dropped_partition_in, 1u);
  EXPECT_NE(p.StatusJson().find("\"partition\":[[\"n1\",\"n2\"],[\"n3\"]]"),
            std::string::npos)
      << p.StatusJson();

  p.Heal();
  EXPECT_FALSE(p.Partitioned("n3"));
  EXPECT_TRUE(p.AllowDelivery("n3"));

  // This node in no group: cut off from everyone.
  ASSERT_TRUE(p.SetPartition("n2/n3").ok());
  EXPECT_TRUE(p.Partitioned("n2"));
  EXPECT_TRUE(p.Partitioned("n3"));
  EXPECT_FALSE(p.Partitioned("n1"));  // itself
}

TEST(FaultPolicyTest, BadPartitionsAreRefusedAndKeepTheOldOne) {
  FaultPolicy p("n1", 9);
  ASSERT_TRUE(p.SetPartition("n1/n2").ok());
  for (const char* bad :
       {"", "n1,n2", "n1//n2", "n1,/n2", "n1/n1", "n1,n2/n2", "/"}) {
    EXPECT_FALSE(p.SetPartition(bad).ok()) << bad;
  }
  EXPECT_TRUE(p.Partitioned("n2"));
}

TEST(FaultPolicyTest, ClearUndoesEverything) {
  FaultPolicy p("n1", 9);
  ASSERT_TRUE(p.SetPartition("n1/n2").ok());
  ASSERT_TRUE(p.SetDrop(100, "").ok());
  ASSERT_TRUE(p.SetDelay(10, 0, "n3").ok());
  ASSERT_TRUE(p.SetSkew(-5000).ok());
  p.Clear();
  EXPECT_EQ(p.PlanSend("n2"), std::vector<uint64_t>{0});
  EXPECT_EQ(p.PlanSend("n3"), std::vector<uint64_t>{0});
  EXPECT_EQ(p.skew_ms(), 0);
  const std::string json = p.StatusJson();
  EXPECT_NE(json.find("\"partition\":[]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"nodes\":{}"), std::string::npos) << json;
}

TEST(FaultyNetworkTest, ForwardsNowLaterTwiceOrNever) {
  ManualEnv env;
  RecordingNetwork inner;
  FaultPolicy p("a", 11);
  FaultyNetwork net(p, inner, env);

  net.Send("b", "127.0.0.1:1", "now");
  ASSERT_EQ(inner.sent.size(), 1u);
  EXPECT_EQ(inner.sent[0].payload, "now");
  EXPECT_EQ(inner.sent[0].to, "b");
  EXPECT_EQ(inner.sent[0].address, "127.0.0.1:1");

  ASSERT_TRUE(p.SetDelay(100, 0, "").ok());
  net.Send("b", "127.0.0.1:1", "late");
  EXPECT_EQ(inner.sent.size(), 1u);
  env.Advance(99);
  EXPECT_EQ(inner.sent.size(), 1u);
  env.Advance(1);
  ASSERT_EQ(inner.sent.size(), 2u);
  EXPECT_EQ(inner.sent[1].payload, "late");

  ASSERT_TRUE(p.SetDelay(0, 0, "").ok());
  ASSERT_TRUE(p.SetDuplicate(100, "").ok());
  net.Send("b", "", "twice");
  ASSERT_EQ(inner.sent.size(), 4u);
  EXPECT_EQ(inner.sent[2].payload, "twice");
  EXPECT_EQ(inner.sent[3].payload, "twice");

  ASSERT_TRUE(p.SetDuplicate(0, "").ok());
  ASSERT_TRUE(p.SetPartition("a/b").ok());
  net.Send("b", "", "never");
  env.Advance(1000);
  EXPECT_EQ(inner.sent.size(), 4u);
  // An address-only peer (joining through a seed) is named in no group,
  // so a partition cuts it off too.
  net.Send("", "127.0.0.1:9", "seed");
  EXPECT_EQ(inner.sent.size(), 4u);
  p.Heal();
  net.Send("", "127.0.0.1:9", "seed");
  ASSERT_EQ(inner.sent.size(), 5u);
  EXPECT_EQ(inner.sent[4].address, "127.0.0.1:9");
}

TEST(FaultyNetworkTest, HeldBackMessagesDieWithTheNetwork) {
  ManualEnv env;
  RecordingNetwork inner;
  FaultPolicy p("a", 11);
  ASSERT_TRUE(p.SetDelay(10, 0, "").ok());
  {
    FaultyNetwork net(p, inner, env);
    net.Send("b", "", "held");
    EXPECT_EQ(env.pending_timers(), 1u);
  }
  env.Advance(100);
  EXPECT_TRUE(inner.sent.empty());
}

TEST(FaultQueryTest, ParsesAndDecodes) {
  std::map<std::string, std::string> q;
  ASSERT_TRUE(
      ParseQuery("pct=25&node=n1%40127.0.0.1&x=a+b&flag&pct=30", &q).ok());
  EXPECT_EQ(q["pct"], "30");
  EXPECT_EQ(q["node"], "n1@127.0.0.1");
  EXPECT_EQ(q["x"], "a b");
  EXPECT_EQ(q.count("flag"), 1u);
  EXPECT_TRUE(ParseQuery("", &q).ok());
  EXPECT_TRUE(q.empty());
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%g1=2"}) {
    EXPECT_FALSE(ParseQuery(bad, &q).ok()) << bad;
  }
}

}  // namespace
}  // namespace causeway::node
