// Security changes spread by gossip: a change made through one node
// reaches every member, also one that was cut off when it was made, and a
// node that joins later gets the state with its welcome.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "replication/security/security_registry.h"
#include "tests/sim/sim.h"

namespace causeway::sim {
namespace {

using replication::security::Change;
using replication::security::Record;
using replication::security::SourceMethod;

constexpr uint32_t kRing = 16;

std::string Dump(SimNode& n) {
  std::string out;
  for (const Record& r : n.core().SecurityView().Export()) {
    out += r.Encode() + "|";
  }
  return out;
}

TEST(SecuritySim, ChangesReachEveryMember) {
  World world(11);
  std::vector<NodeName> names = FormCluster(world, 4, kRing);
  ASSERT_EQ(names.size(), 4u);
  auto node = [&](int i) -> SimNode& { return world.node(names[i]); };

  // n4 is cut off while the changes are made through n1 and n2.
  world.Partition({{names[0], names[1], names[2]}, {names[3]}});
  Change add{.op = Change::Op::kAddUser, .users = {"ops"}};
  add.password = {"pbkdf2-sha256", 1, "salt", "key"};
  ASSERT_TRUE(node(0).core().ChangeSecurity(add).ok());
  Change source{.op = Change::Op::kAddSource, .users = {"ops"}};
  source.cidr = "127.0.0.1/32";
  source.method = SourceMethod::kPassword;
  ASSERT_TRUE(node(0).core().ChangeSecurity(source).ok());
  world.RunFor(200);
  // Changes through another node once it has the user.
  Change grant{.op = Change::Op::kGrant, .users = {"ops"}};
  grant.permissions = {"causeway.cluster_admin"};
  ASSERT_TRUE(node(1).core().ChangeSecurity(grant).ok());
  ASSERT_TRUE(
      node(2).core().ChangeSecurity(Change{.op = Change::Op::kEnable}).ok());
  world.RunFor(3000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(node(i).core().SecurityView().enabled()) << i;
    EXPECT_EQ(Dump(node(i)), Dump(node(0))) << i;
  }
  EXPECT_FALSE(node(3).core().SecurityView().enabled());
  EXPECT_EQ(node(3).core().SecurityView().FindUser("ops"), nullptr);

  world.Heal();
  world.RunFor(10000);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Dump(node(i)), Dump(node(0))) << i;
    const auto& view = node(i).core().SecurityView();
    EXPECT_TRUE(view.enabled()) << i;
    ASSERT_NE(view.FindUser("ops"), nullptr) << i;
    ASSERT_EQ(view.Grants().size(), 1u) << i;
    EXPECT_EQ(view.Grants()[0]->permissions,
              std::vector<std::string>{"causeway.cluster_admin"});
  }

  // A later delete wins everywhere.
  ASSERT_TRUE(
      node(3)
          .core()
          .ChangeSecurity(Change{.op = Change::Op::kDelUser, .users = {"ops"}})
          .ok());
  world.RunFor(3000);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(node(i).core().SecurityView().FindUser("ops"), nullptr) << i;
    EXPECT_TRUE(node(i).core().SecurityView().Grants().empty()) << i;
    EXPECT_EQ(Dump(node(i)), Dump(node(0))) << i;
  }
}

TEST(SecuritySim, AJoiningNodeGetsTheState) {
  World world(12);
  std::vector<NodeName> names = FormCluster(world, 2, kRing);
  ASSERT_EQ(names.size(), 2u);
  ASSERT_TRUE(
      world.node(names[0])
          .core()
          .ChangeSecurity(Change{.op = Change::Op::kAddUser, .users = {"late"}})
          .ok());
  world.RunFor(100);
  SimNode& joiner = world.AddNode("n3", kRing);
  ASSERT_TRUE(Join(world, joiner, names[0]).ok());
  // The welcome carries the state: no gossip round is needed.
  EXPECT_NE(joiner.core().SecurityView().FindUser("late"), nullptr);
}

}  // namespace
}  // namespace causeway::sim
