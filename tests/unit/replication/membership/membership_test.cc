#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "proto/peer.pb.h"
#include "replication/membership/ring_state.h"

namespace causeway::replication::membership {
namespace {

std::vector<NodeName> Names(int n) {
  std::vector<NodeName> out;
  for (int i = 1; i <= n; ++i) out.push_back("n" + std::to_string(i));
  return out;
}

std::map<NodeName, size_t> Counts(const std::vector<NodeName>& owners) {
  std::map<NodeName, size_t> c;
  for (const auto& o : owners) ++c[o];
  return c;
}

size_t Moved(const std::vector<NodeName>& a, const std::vector<NodeName>& b) {
  size_t moved = 0;
  for (size_t i = 0; i < a.size(); ++i) moved += a[i] != b[i];
  return moved;
}

TEST(ClaimTest, BalancedDeterministicAndMovesFewOnJoinAndLeave) {
  for (uint32_t size : {8u, 64u, 256u}) {
    std::vector<NodeName> owners(size, "n1");
    for (int m = 2; m <= 7; ++m) {
      auto members = Names(m);
      auto next = Claim(owners, members);
      EXPECT_EQ(next, Claim(owners, members)) << "not deterministic";
      auto counts = Counts(next);
      ASSERT_EQ(counts.size(), static_cast<size_t>(m));
      for (auto& [n, c] : counts) {
        EXPECT_GE(c, size / m) << n;
        EXPECT_LE(c, size / m + 1) << n;
      }
      // A join moves about the newcomer's share, not the whole ring.
      EXPECT_LE(Moved(owners, next), size / m + 1) << "size " << size;
      owners = next;
    }
    // A leave moves only the leaver's partitions.
    auto members = Names(6);
    auto next = Claim(owners, members);
    EXPECT_LE(Moved(owners, next), Counts(owners)["n7"] + 6);
    EXPECT_EQ(Counts(next).count("n7"), 0u);
  }
}

TEST(ClaimTest, PreferenceListsHaveDistinctNodesWhenEnoughMembers) {
  std::vector<NodeName> owners(64, "n1");
  for (int m = 2; m <= 6; ++m) {
    owners = Claim(owners, Names(m));
    ring::Ring r(owners);
    for (uint32_t n_val = 1; n_val <= 5; ++n_val) {
      for (uint32_t p = 0; p < 64; ++p) {
        auto list = r.Preflist(p, n_val);
        std::set<NodeName> distinct;
        for (auto& e : list) distinct.insert(e.node);
        EXPECT_EQ(list.size(), std::min<size_t>(n_val, m));
        EXPECT_EQ(distinct.size(), list.size());
      }
    }
  }
}

TEST(ClaimTest, ConsecutivePartitionsMostlyDiffer) {
  std::vector<NodeName> owners(64, "n1");
  owners = Claim(owners, Names(2));
  owners = Claim(owners, Names(3));
  size_t same = 0;
  for (size_t i = 0; i < owners.size(); ++i) {
    same += owners[i] == owners[(i + 1) % owners.size()];
  }
  EXPECT_LE(same, 8u);
}

Member M(const std::string& name, MemberStatus st, uint64_t v) {
  return Member{name, name + ":1", st, v};
}

RingState RandomState(std::mt19937_64& rng) {
  RingState s = RingState::Founding(M("n1", MemberStatus::kValid, 1), 8);
  int steps = rng() % 6;
  for (int i = 0; i < steps; ++i) {
    switch (rng() % 4) {
      case 0:
        s.Upsert(M("n" + std::to_string(2 + rng() % 4), MemberStatus::kJoining,
                   1 + rng() % 3));
        break;
      case 1:
        s.StartClaim();
        break;
      case 2:
        for (auto& n : s.Active()) s.MarkTransfersDone(n);
        s.FinishClaimIfDone();
        break;
      case 3:
        s.Upsert(M("n" + std::to_string(2 + rng() % 4), MemberStatus::kLeaving,
                   4 + rng() % 3));
        break;
    }
  }
  return s;
}

TEST(RingStateTest, MergeIsCommutativeAssociativeIdempotent) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    RingState a = RandomState(rng), b = RandomState(rng), c = RandomState(rng);
    RingState ab = a;
    ab.Merge(b);
    RingState ba = b;
    ba.Merge(a);
    EXPECT_EQ(ab, ba) << "case " << i;
    RingState ab_c = ab;
    ab_c.Merge(c);
    RingState bc = b;
    bc.Merge(c);
    RingState a_bc = a;
    a_bc.Merge(bc);
    EXPECT_EQ(ab_c, a_bc) << "case " << i;
    RingState aa = a;
    EXPECT_FALSE(aa.Merge(a));
    EXPECT_EQ(aa, a);
  }
}

TEST(RingStateTest, ProtoRoundTripAndRejectsInconsistentInput) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100; ++i) {
    RingState s = RandomState(rng);
    peer::RingState p;
    s.ToProto(&p);
    RingState back;
    ASSERT_TRUE(RingState::FromProto(p, &back));
    EXPECT_EQ(back, s);
  }
  RingState s = RingState::Founding(M("n1", MemberStatus::kValid, 1), 8);
  peer::RingState p;
  s.ToProto(&p);
  p.mutable_partitions(3)->set_owner("stranger");
  RingState back;
  EXPECT_FALSE(RingState::FromProto(p, &back));
  s.ToProto(&p);
  p.add_partitions()->set_owner("n1");  // 9 partitions: not a power of two
  EXPECT_FALSE(RingState::FromProto(p, &back));
}

TEST(RingStateTest, JoinTransferAndLeaveLifecycle) {
  RingState s = RingState::Founding(M("n1", MemberStatus::kValid, 1), 16);
  s.Upsert(M("n2", MemberStatus::kJoining, 1));
  ASSERT_TRUE(s.StartClaim());
  EXPECT_TRUE(s.pending());
  EXPECT_EQ(s.Find("n2")->status, MemberStatus::kValid);
  // Ownership flips only once every member has moved its data.
  EXPECT_TRUE(s.MarkTransfersDone("n1"));
  EXPECT_FALSE(s.FinishClaimIfDone());
  EXPECT_TRUE(s.MarkTransfersDone("n2"));
  EXPECT_TRUE(s.FinishClaimIfDone());
  EXPECT_FALSE(s.pending());
  EXPECT_EQ(Counts(s.owners())["n2"], 8u);

  Member leaving = *s.Find("n2");
  leaving.status = MemberStatus::kLeaving;
  ++leaving.version;
  ASSERT_TRUE(s.Upsert(leaving));
  ASSERT_TRUE(s.StartClaim());
  s.MarkTransfersDone("n1");
  s.MarkTransfersDone("n2");
  ASSERT_TRUE(s.FinishClaimIfDone());
  EXPECT_EQ(Counts(s.owners())["n1"], 16u);
  EXPECT_EQ(s.Find("n2")->status, MemberStatus::kRemoved);
  EXPECT_EQ(s.claimant(), "n1");
}

// A joiner that looks down is left out of a claim: it stays joining, gets
// nothing, and the change among the others does not wait for it.
TEST(RingStateTest, AbsentJoinerNeitherGetsPartitionsNorHoldsUpTheFlip) {
  RingState s = RingState::Founding(M("n1", MemberStatus::kValid, 1), 16);
  s.Upsert(M("n2", MemberStatus::kJoining, 1));
  s.Upsert(M("n3", MemberStatus::kJoining, 1));
  ASSERT_TRUE(s.StartClaim({"n3"}));
  EXPECT_EQ(s.Find("n2")->status, MemberStatus::kValid);
  EXPECT_EQ(s.Find("n3")->status, MemberStatus::kJoining);
  EXPECT_EQ(Counts(s.next())["n3"], 0u);
  s.MarkTransfersDone("n1");
  s.MarkTransfersDone("n2");
  ASSERT_TRUE(s.FinishClaimIfDone());  // n3 owns nothing: not waited for
  EXPECT_EQ(Counts(s.owners())["n2"], 8u);
  // Once it is heard from, the next claim admits it.
  ASSERT_TRUE(s.StartClaim());
  EXPECT_EQ(s.Find("n3")->status, MemberStatus::kValid);
  EXPECT_GT(Counts(s.next())["n3"], 0u);
}

}  // namespace
}  // namespace causeway::replication::membership
