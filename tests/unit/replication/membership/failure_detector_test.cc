// The failure detector's suspicion (membership/cluster.h), on a clock the
// test moves: a silent peer turns suspect once per silence, a peer heard
// from in time never does, and a stall of this node's own loop is not
// taken for its peers' silence.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proto/peer.pb.h"
#include "replication/bucket_registry.h"
#include "replication/membership/cluster.h"
#include "replication/messenger.h"
#include "replication/security/security_registry.h"
#include "storage/engine.h"
#include "tests/support/manual_env.h"

namespace causeway::replication::membership {
namespace {

class FailureDetectorTest : public ::testing::Test {
 protected:
  FailureDetectorTest()
      : engine_(storage::NewMemoryEngine()),
        messenger_(env_, "c"),
        registry_(*engine_, {}),
        security_(*engine_),
        cluster_(env_, messenger_, *engine_, registry_, security_,
                 Member{"a", "a", MemberStatus::kValid, 1}, 16, timing_) {
    EXPECT_TRUE(cluster_.Load().ok());
    cluster_.Start();
    cluster_.OnPeerSuspect([this](const NodeName& peer, uint64_t silent_ms) {
      suspects_.emplace_back(peer, silent_ms);
    });
    // Peer b asks to join: a member, heard from now.
    peer::Envelope join;
    join.mutable_join()->mutable_member()->set_name("b");
    join.mutable_join()->mutable_member()->set_address("b");
    join.mutable_join()->mutable_member()->set_version(1);
    cluster_.ServeJoin("b", join, nullptr);
  }

  // Time passes with b heard from every `every_ms`.
  void HearB(uint64_t ms, uint64_t every_ms) {
    for (uint64_t t = 0; t < ms; t += every_ms) {
      env_.Advance(every_ms);
      cluster_.NoteHeard("b");
    }
  }

  const ClusterTiming timing_;
  const uint64_t bound_ = timing_.suspect_after_ms;
  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  Messenger messenger_;
  BucketRegistry registry_;
  security::SecurityRegistry security_;
  Cluster cluster_;
  std::vector<std::pair<NodeName, uint64_t>> suspects_;
};

TEST_F(FailureDetectorTest, HeartbeatsComeFourTimesPerBound) {
  EXPECT_LE(cluster_.heartbeat_ms() * 4, bound_);
}

TEST_F(FailureDetectorTest, APeerHeardFromInTimeIsNeverSuspect) {
  HearB(20 * bound_, bound_ - 1);
  EXPECT_TRUE(suspects_.empty());
  EXPECT_TRUE(cluster_.IsLive("b"));
}

TEST_F(FailureDetectorTest, ASilentPeerTurnsSuspectOncePerSilence) {
  HearB(bound_, 100);
  env_.Advance(bound_);
  EXPECT_TRUE(cluster_.IsLive("b")) << "silent for the bound, not beyond";
  EXPECT_TRUE(suspects_.empty());
  env_.Advance(bound_ / 8);  // the detector's next look
  ASSERT_EQ(suspects_.size(), 1u);
  EXPECT_EQ(suspects_[0].first, "b");
  EXPECT_GT(suspects_[0].second, bound_);
  EXPECT_FALSE(cluster_.IsLive("b"));
  EXPECT_TRUE(cluster_.IsUp("b")) << "suspect long before the verdict";
  EXPECT_TRUE(cluster_.IsLive("a")) << "this node is always live";

  env_.Advance(timing_.down_after_ms);
  EXPECT_EQ(suspects_.size(), 1u) << "reported once per silence";
  EXPECT_FALSE(cluster_.IsUp("b"));

  cluster_.NoteHeard("b");
  EXPECT_TRUE(cluster_.IsLive("b"));
  env_.Advance(bound_ + bound_ / 8);
  ASSERT_EQ(suspects_.size(), 2u) << "a new silence is a new report";
}

TEST_F(FailureDetectorTest, ThisNodesOwnStallIsNotItsPeersSilence) {
  HearB(bound_, 100);
  // This node's loop stops for two bounds; b's messages wait unread.
  env_.Stall(2 * bound_);
  EXPECT_TRUE(cluster_.IsLive("b")) << "not judged before listening again";
  env_.Advance(0);  // the overdue timers run
  EXPECT_TRUE(suspects_.empty());
  EXPECT_TRUE(cluster_.IsLive("b"));
  // Listening again, b is judged on its silence since.
  env_.Advance(bound_);
  EXPECT_TRUE(suspects_.empty());
  env_.Advance(bound_ / 4);
  ASSERT_EQ(suspects_.size(), 1u);
  EXPECT_FALSE(cluster_.IsLive("b"));
}

}  // namespace
}  // namespace causeway::replication::membership
