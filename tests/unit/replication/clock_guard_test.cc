#include "replication/clock_guard.h"

#include <gtest/gtest.h>

#include "proto/peer.pb.h"
#include "tests/support/manual_env.h"

namespace causeway::replication {
namespace {

using causal::HlcTimestamp;

class ClockGuardTest : public ::testing::Test {
 protected:
  // A message from a peer whose clocks read `ahead_ms` past ours.
  peer::Envelope From(int64_t ahead_ms, bool with_hlc = true) {
    peer::Envelope m;
    const uint64_t wall = env_.WallMillis() + ahead_ms;
    m.set_wall_ms(wall);
    if (with_hlc) m.set_hlc(HlcTimestamp{wall, 0}.Pack());
    return m;
  }

  testing::ManualEnv env_;
  causal::ClockLease lease_{[](uint64_t) { return Status::Ok(); }, 250};
  ClockGuard guard_{env_, lease_, 500};
};

TEST_F(ClockGuardTest, AdmitsWithinTheBoundAndAdvancesTheClock) {
  EXPECT_TRUE(guard_.Admit("a", From(400)).ok());
  EXPECT_EQ(guard_.stats().hlc_wall_ms, env_.WallMillis() + 400);
  EXPECT_EQ(guard_.stats().refusals_total, 0u);
}

TEST_F(ClockGuardTest, RefusesBeyondTheBoundNamingTheOffset) {
  const uint64_t before = lease_.last().wall_ms;
  Status s = guard_.Admit("a", From(60000));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("clock offset: the clock of a leads this "
                             "node's clock by 60000 ms"),
            std::string::npos)
      << s.ToString();
  EXPECT_EQ(lease_.last().wall_ms, before);
  EXPECT_EQ(guard_.stats().refusals_total, 1u);
  EXPECT_EQ(guard_.stats().max_refused_lead_ms, 60000u);
}

TEST_F(ClockGuardTest, OldStampsAreNeverRefused) {
  EXPECT_TRUE(guard_.Check(HlcTimestamp{1, 0}, "an old object").ok());
  EXPECT_TRUE(guard_.Admit("a", From(-60000)).ok());
}

TEST_F(ClockGuardTest, SuspectWhenMostPeersReadBeyondTheBound) {
  guard_.Admit("a", From(-60000, false));
  guard_.Admit("b", From(-60000, false));
  guard_.Admit("c", From(10, false));
  ClockStats s = guard_.stats();
  EXPECT_EQ(s.peers_heard, 3u);
  EXPECT_EQ(s.peers_beyond, 2u);
  EXPECT_TRUE(s.suspect);
  EXPECT_NE(guard_.CheckSelf().message().find("coordinates no writes"),
            std::string::npos);
  // Peers not heard from for long no longer count.
  env_.Advance(31000);
  guard_.Admit("c", From(10, false));
  EXPECT_FALSE(guard_.stats().suspect);
  EXPECT_TRUE(guard_.CheckSelf().ok());
}

TEST_F(ClockGuardTest, ADelayedReadingDoesNotMakeAPeerLookBeyond) {
  guard_.Admit("a", From(0, false));
  env_.Advance(1000);
  guard_.Admit("a", From(-2000, false));  // a reading 2 s in flight
  EXPECT_EQ(guard_.stats().peers_beyond, 0u);
  // Only when every reading of a window and the one before says so.
  for (int i = 0; i < 12; ++i) {
    env_.Advance(1000);
    guard_.Admit("a", From(-2000, false));
  }
  EXPECT_EQ(guard_.stats().peers_beyond, 1u);
}

}  // namespace
}  // namespace causeway::replication
