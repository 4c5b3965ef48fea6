// Coordinators under lost, late and failed replica replies, driven by hand:
// the fake replicas hold every request until the test answers it.
#include "replication/coord/coordinators.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "tests/support/manual_env.h"

namespace causeway::replication::coord {
namespace {

using object::Object;
using object::Resolution;
using object::Sibling;

Object MakeObject(const std::string& value, causal::ActorId actor,
                  const causal::VersionVector& context = {}) {
  Object o;
  Sibling s;
  s.value = value;
  o.Update(context, s, actor, Resolution::kKeepSiblings);
  return o;
}

class FakeReplicas : public Replicas {
 public:
  struct PendingRead {
    Target target;
    std::function<void(Status, Object)> done;
  };
  struct PendingWrite {
    Target target;
    Object object;
    std::function<void(Status)> done;
    std::optional<object::Delta> delta;  // for WriteDelta
  };

  void Read(const Target& target, const vnode::Key&,
            std::function<void(Status, Object)> done) override {
    reads.push_back({target, std::move(done)});
  }
  void Write(const Target& target, const vnode::Key&, const Object& object,
             Resolution, std::function<void(Status)> done) override {
    writes.push_back({target, object, std::move(done), std::nullopt});
  }
  void WriteDelta(const Target& target, const vnode::Key&,
                  const object::Delta& delta,
                  std::function<void(Status)> done) override {
    writes.push_back({target, Object(), std::move(done), delta});
  }

  std::vector<PendingRead> reads;
  std::vector<PendingWrite> writes;
};

std::vector<Target> ThreeTargets() {
  return {Target{"a", true, "", true}, Target{"b", true, "", true},
          Target{"c", true, "", true}};
}

// A cluster of nodes a..e where the nodes in `silent` fell silent: a failed
// target on one of them is replaced by the first of d, e not yet taken, as
// the router would. Records every call.
struct FakeFallbacks {
  std::set<NodeName> silent;
  std::vector<std::pair<Target, std::vector<Target>>> calls;

  FallbackFn Fn() {
    return [this](const Target& failed, const std::vector<Target>& taken) {
      calls.emplace_back(failed, taken);
      std::optional<Target> out;
      if (!silent.count(failed.node)) return out;
      for (const char* node : {"d", "e"}) {
        bool used =
            std::any_of(taken.begin(), taken.end(),
                        [&](const Target& t) { return t.node == node; });
        if (used || silent.count(node)) continue;
        out = Target{node, false,
                     failed.primary ? failed.node : failed.hint_for, true};
        break;
      }
      return out;
    };
  }
};

class CoordinatorTest : public ::testing::Test {
 protected:
  void StartGetWith(uint32_t r, bool notfound_ok = true,
                    bool basic_quorum = false, uint32_t pr = 0) {
    GetPlan plan;
    plan.key = vnode::Key{1, "default", "b", "k"};
    plan.targets = ThreeTargets();
    plan.r = r;
    plan.pr = pr;
    plan.notfound_ok = notfound_ok;
    plan.basic_quorum = basic_quorum;
    plan.timeout_ms = 1000;
    StartGet(env_, replicas_, plan, [this](GetOutcome o) {
      ASSERT_FALSE(get_.has_value()) << "answered twice";
      get_ = std::move(o);
    });
  }

  testing::ManualEnv env_;
  FakeReplicas replicas_;
  std::optional<GetOutcome> get_;
};

TEST_F(CoordinatorTest, GetAnswersAtRAndMergesSiblings) {
  StartGetWith(2);
  ASSERT_EQ(replicas_.reads.size(), 3u);
  replicas_.reads[0].done(Status::Ok(), MakeObject("x", 1));
  EXPECT_FALSE(get_.has_value());
  replicas_.reads[1].done(Status::Ok(), MakeObject("y", 2));
  ASSERT_TRUE(get_.has_value());
  EXPECT_TRUE(get_->status.ok());
  EXPECT_EQ(get_->object.LiveSiblings().size(), 2u);
}

TEST_F(CoordinatorTest, GetRepairsStaleReplicasAfterAllReplies) {
  Object newer = MakeObject("v2", 1, MakeObject("v1", 1).clock());
  StartGetWith(2);
  replicas_.reads[0].done(Status::Ok(), newer);
  replicas_.reads[1].done(Status::Ok(), newer);
  ASSERT_TRUE(get_.has_value());
  EXPECT_TRUE(replicas_.writes.empty()) << "repair must wait for all replies";
  replicas_.reads[2].done(Status::NotFound(), {});
  ASSERT_EQ(replicas_.writes.size(), 1u);
  EXPECT_EQ(replicas_.writes[0].target.node, "c");
  EXPECT_EQ(replicas_.writes[0].object, newer);
}

TEST_F(CoordinatorTest, GetFailsWhenTooFewReplyAndSaysHowMany) {
  StartGetWith(2);
  replicas_.reads[0].done(Status::Ok(), MakeObject("x", 1));
  replicas_.reads[1].done(Status::IoError("disk"), {});
  replicas_.reads[2].done(Status::Unavailable("down"), {});
  ASSERT_TRUE(get_.has_value());
  EXPECT_EQ(get_->status.code(), Status::Code::kUnavailable);
  EXPECT_NE(get_->status.message().find("r=2"), std::string::npos)
      << get_->status.message();
  EXPECT_NE(get_->status.message().find("1 of 3"), std::string::npos)
      << get_->status.message();
}

TEST_F(CoordinatorTest, GetTimesOutWhenRepliesAreLost) {
  StartGetWith(2);
  replicas_.reads[0].done(Status::Ok(), MakeObject("x", 1));
  env_.Advance(999);
  EXPECT_FALSE(get_.has_value());
  env_.Advance(1);
  ASSERT_TRUE(get_.has_value());
  EXPECT_EQ(get_->status.code(), Status::Code::kTimeout);
  // A reply arriving after the timeout changes nothing.
  replicas_.reads[1].done(Status::Ok(), MakeObject("y", 2));
  EXPECT_EQ(env_.pending_timers(), 0u);
}

TEST_F(CoordinatorTest, GetTimeoutNamesPrWhenOnlyPrimariesAreMissing) {
  // r=2 is met by two replies; pr=3 waits for the third primary, which
  // never answers: the timeout names pr, the setting not met.
  StartGetWith(2, /*notfound_ok=*/true, /*basic_quorum=*/false, /*pr=*/3);
  replicas_.reads[0].done(Status::Ok(), MakeObject("x", 1));
  replicas_.reads[1].done(Status::Ok(), MakeObject("x", 1));
  EXPECT_FALSE(get_.has_value());
  env_.Advance(1000);
  ASSERT_TRUE(get_.has_value());
  EXPECT_EQ(get_->status.code(), Status::Code::kTimeout);
  EXPECT_EQ(get_->status.message().rfind("pr=3 not met", 0), 0u)
      << get_->status.message();
}

TEST_F(CoordinatorTest, GetTimeoutNamesRWhenTooFewReplied) {
  StartGetWith(2, /*notfound_ok=*/true, /*basic_quorum=*/false, /*pr=*/3);
  replicas_.reads[0].done(Status::Ok(), MakeObject("x", 1));
  env_.Advance(1000);
  ASSERT_TRUE(get_.has_value());
  EXPECT_EQ(get_->status.message().rfind("r=2 not met", 0), 0u)
      << get_->status.message();
}

TEST_F(CoordinatorTest, NotFoundOkCountsMissingReplicasTowardsR) {
  StartGetWith(2, /*notfound_ok=*/true);
  replicas_.reads[0].done(Status::NotFound(), {});
  replicas_.reads[1].done(Status::NotFound(), {});
  ASSERT_TRUE(get_.has_value());
  EXPECT_TRUE(get_->status.IsNotFound());
}

TEST_F(CoordinatorTest, WithoutNotFoundOkAValueIsWaitedFor) {
  StartGetWith(1, /*notfound_ok=*/false);
  replicas_.reads[0].done(Status::NotFound(), {});
  EXPECT_FALSE(get_.has_value());
  replicas_.reads[1].done(Status::Ok(), MakeObject("x", 1));
  ASSERT_TRUE(get_.has_value());
  EXPECT_TRUE(get_->status.ok());
}

TEST_F(CoordinatorTest, BasicQuorumGivesUpOnMajorityNotFound) {
  StartGetWith(1, /*notfound_ok=*/false, /*basic_quorum=*/true);
  replicas_.reads[0].done(Status::NotFound(), {});
  EXPECT_FALSE(get_.has_value());
  replicas_.reads[1].done(Status::NotFound(), {});
  ASSERT_TRUE(get_.has_value());
  EXPECT_TRUE(get_->status.IsNotFound());
}

TEST_F(CoordinatorTest, PrCountsOnlyPrimaries) {
  GetPlan plan;
  plan.key = vnode::Key{1, "default", "b", "k"};
  plan.targets = {Target{"a", true, "", true}, Target{"b", true, "", true},
                  Target{"fallback", false, "", true}};
  plan.r = 2;
  plan.pr = 3;
  StartGet(env_, replicas_, plan, [this](GetOutcome o) { get_ = o; });
  for (auto& r : replicas_.reads) r.done(Status::Ok(), MakeObject("x", 1));
  ASSERT_TRUE(get_.has_value());
  EXPECT_EQ(get_->status.code(), Status::Code::kUnavailable);
  EXPECT_NE(get_->status.message().find("pr=3"), std::string::npos);
}

TEST_F(CoordinatorTest, GetAsksAFallbackInPlaceOfASilentReplica) {
  FakeFallbacks fallbacks;
  fallbacks.silent = {"c"};
  GetPlan plan;
  plan.key = vnode::Key{1, "default", "b", "k"};
  plan.targets = ThreeTargets();
  plan.r = 3;
  plan.timeout_ms = 1000;
  plan.fallback = fallbacks.Fn();
  StartGet(env_, replicas_, plan, [this](GetOutcome o) {
    ASSERT_FALSE(get_.has_value()) << "answered twice";
    get_ = std::move(o);
  });
  replicas_.reads[0].done(Status::Ok(), MakeObject("x", 1));
  replicas_.reads[2].done(Status::Unavailable("c is unreachable"), {});
  ASSERT_EQ(replicas_.reads.size(), 4u);
  EXPECT_EQ(replicas_.reads[3].target.node, "d");
  EXPECT_EQ(replicas_.reads[3].target.hint_for, "c");
  EXPECT_FALSE(replicas_.reads[3].target.primary);
  ASSERT_EQ(fallbacks.calls.size(), 1u);
  EXPECT_EQ(fallbacks.calls[0].second.size(), 3u) << "every target is taken";
  EXPECT_FALSE(get_.has_value()) << "r=3 can still be met";
  replicas_.reads[1].done(Status::Ok(), MakeObject("x", 1));
  EXPECT_FALSE(get_.has_value());
  replicas_.reads[3].done(Status::NotFound(), {});
  ASSERT_TRUE(get_.has_value());
  EXPECT_TRUE(get_->status.ok()) << get_->status.ToString();
  // Every replica asked has answered: the fallback, which lacked the
  // object, is repaired (with its hint), the silent one is not.
  ASSERT_EQ(replicas_.writes.size(), 1u);
  EXPECT_EQ(replicas_.writes[0].target.node, "d");
  EXPECT_EQ(replicas_.writes[0].target.hint_for, "c");
  EXPECT_EQ(env_.pending_timers(), 0u);
}

TEST_F(CoordinatorTest, GetFailsAtOnceWhenNoFallbackCanMeetR) {
  FakeFallbacks fallbacks;
  fallbacks.silent = {"b", "c", "d", "e"};
  GetPlan plan;
  plan.key = vnode::Key{1, "default", "b", "k"};
  plan.targets = ThreeTargets();
  plan.r = 2;
  plan.timeout_ms = 1000;
  plan.fallback = fallbacks.Fn();
  StartGet(env_, replicas_, plan, [this](GetOutcome o) {
    ASSERT_FALSE(get_.has_value()) << "answered twice";
    get_ = std::move(o);
  });
  replicas_.reads[0].done(Status::Ok(), MakeObject("x", 1));
  replicas_.reads[1].done(Status::Unavailable("b is unreachable"), {});
  EXPECT_FALSE(get_.has_value()) << "c may still answer";
  replicas_.reads[2].done(Status::Unavailable("c is unreachable"), {});
  ASSERT_TRUE(get_.has_value());
  EXPECT_EQ(get_->status.code(), Status::Code::kUnavailable);
  EXPECT_NE(get_->status.message().find("c is unreachable"), std::string::npos)
      << get_->status.message();
  EXPECT_EQ(replicas_.reads.size(), 3u);
}

TEST_F(CoordinatorTest, GetDoesNotReplaceAReplicaThatAnsweredAnError) {
  FakeFallbacks fallbacks;  // nobody is silent
  GetPlan plan;
  plan.key = vnode::Key{1, "default", "b", "k"};
  plan.targets = ThreeTargets();
  plan.r = 2;
  plan.timeout_ms = 1000;
  plan.fallback = fallbacks.Fn();
  StartGet(env_, replicas_, plan, [this](GetOutcome o) { get_ = o; });
  replicas_.reads[1].done(Status::IoError("disk"), {});
  EXPECT_EQ(fallbacks.calls.size(), 1u);
  EXPECT_EQ(replicas_.reads.size(), 3u);
  replicas_.reads[0].done(Status::Ok(), MakeObject("x", 1));
  replicas_.reads[2].done(Status::Ok(), MakeObject("x", 1));
  ASSERT_TRUE(get_.has_value());
  EXPECT_TRUE(get_->status.ok());
}

class ReplicateTest : public ::testing::Test {
 protected:
  void Start(uint32_t w, uint32_t pw = 0,
             std::vector<Target> targets = ThreeTargets()) {
    PutPlan plan;
    plan.key = vnode::Key{1, "default", "b", "k"};
    plan.targets = std::move(targets);
    plan.coordinator_index = 0;
    plan.w = w;
    plan.dw = w;
    plan.pw = pw;
    plan.timeout_ms = 500;
    plan.fallback = fallbacks_.Fn();
    StartReplicate(env_, replicas_, plan, MakeObject("v", 1), [this](Status s) {
      ASSERT_FALSE(result_.has_value()) << "answered twice";
      result_ = s;
    });
  }
  testing::ManualEnv env_;
  FakeReplicas replicas_;
  FakeFallbacks fallbacks_;
  std::optional<Status> result_;
};

TEST_F(ReplicateTest, CoordinatorCountsAsOneAck) {
  Start(1);
  ASSERT_TRUE(result_.has_value());
  EXPECT_TRUE(result_->ok());
  EXPECT_EQ(replicas_.writes.size(), 2u);  // still sent to the others
}

TEST_F(ReplicateTest, WaitsForWAcks) {
  Start(3);
  EXPECT_FALSE(result_.has_value());
  replicas_.writes[0].done(Status::Ok());
  EXPECT_FALSE(result_.has_value());
  replicas_.writes[1].done(Status::Ok());
  ASSERT_TRUE(result_.has_value());
  EXPECT_TRUE(result_->ok());
}

TEST_F(ReplicateTest, FailsFastWhenWCannotBeMet) {
  Start(3);
  replicas_.writes[0].done(Status::Unavailable("peer down"));
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->code(), Status::Code::kUnavailable);
  EXPECT_NE(result_->message().find("w=3 not met"), std::string::npos)
      << result_->message();
  EXPECT_NE(result_->message().find("peer down"), std::string::npos);
}

TEST_F(ReplicateTest, PwNeedsPrimaries) {
  Start(2, 3,
        {Target{"a", true, "", true}, Target{"b", true, "", true},
         Target{"fallback", false, "", true}});
  replicas_.writes[0].done(Status::Ok());
  replicas_.writes[1].done(Status::Ok());
  ASSERT_TRUE(result_.has_value());
  EXPECT_NE(result_->message().find("pw=3 not met"), std::string::npos)
      << result_->message();
}

TEST_F(ReplicateTest, SendsToAFallbackInPlaceOfASilentReplica) {
  fallbacks_.silent = {"b"};
  Start(3);
  ASSERT_EQ(replicas_.writes.size(), 2u);
  replicas_.writes[0].done(Status::Unavailable("b is unreachable"));
  ASSERT_EQ(replicas_.writes.size(), 3u);
  EXPECT_EQ(replicas_.writes[2].target.node, "d");
  EXPECT_EQ(replicas_.writes[2].target.hint_for, "b");
  EXPECT_EQ(replicas_.writes[2].object, MakeObject("v", 1));
  EXPECT_FALSE(result_.has_value()) << "w=3 can still be met";
  replicas_.writes[1].done(Status::Ok());
  EXPECT_FALSE(result_.has_value());
  replicas_.writes[2].done(Status::Ok());
  ASSERT_TRUE(result_.has_value());
  EXPECT_TRUE(result_->ok()) << result_->ToString();
  EXPECT_EQ(env_.pending_timers(), 0u);
}

TEST_F(ReplicateTest, ASilentFallbackIsReplacedInTurn) {
  fallbacks_.silent = {"b", "d"};
  Start(3);
  replicas_.writes[0].done(Status::Unavailable("b is unreachable"));
  ASSERT_EQ(replicas_.writes.size(), 3u);
  EXPECT_EQ(replicas_.writes[2].target.node, "e");
  EXPECT_EQ(replicas_.writes[2].target.hint_for, "b");
  fallbacks_.silent = {"b", "e"};  // e falls silent too; d is back
  replicas_.writes[2].done(Status::Unavailable("e is unreachable"));
  ASSERT_EQ(replicas_.writes.size(), 4u);
  EXPECT_EQ(replicas_.writes[3].target.node, "d");
  EXPECT_EQ(replicas_.writes[3].target.hint_for, "b") << "still b's stand-in";
  replicas_.writes[1].done(Status::Ok());
  replicas_.writes[3].done(Status::Ok());
  ASSERT_TRUE(result_.has_value());
  EXPECT_TRUE(result_->ok()) << result_->ToString();
}

TEST_F(ReplicateTest, FailsAtOnceWhenNoFallbackIsLeft) {
  fallbacks_.silent = {"b", "c", "d", "e"};
  Start(2);
  replicas_.writes[1].done(Status::Unavailable("c is unreachable"));
  EXPECT_FALSE(result_.has_value()) << "b may still answer";
  replicas_.writes[0].done(Status::Unavailable("b is unreachable"));
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->code(), Status::Code::kUnavailable);
  EXPECT_NE(result_->message().find("w=2 not met"), std::string::npos)
      << result_->message();
  EXPECT_EQ(replicas_.writes.size(), 2u);
  EXPECT_EQ(env_.pending_timers(), 0u);
}

TEST_F(ReplicateTest, AFallbackCannotStandInTowardsPw) {
  fallbacks_.silent = {"c"};
  Start(2, 3);
  replicas_.writes[1].done(Status::Unavailable("c is unreachable"));
  // d takes c's copy, but pw=3 needs three primaries, and only a and b are
  // left: fail now, not when d and b have answered.
  ASSERT_EQ(replicas_.writes.size(), 3u);
  ASSERT_TRUE(result_.has_value());
  EXPECT_NE(result_->message().find("pw=3 not met"), std::string::npos)
      << result_->message();
}

TEST_F(ReplicateTest, KeepsFailingOverOnceAnswered) {
  fallbacks_.silent = {"c"};
  Start(1);
  ASSERT_TRUE(result_.has_value());
  replicas_.writes[1].done(Status::Unavailable("c is unreachable"));
  // The client has its answer; the object still goes to three nodes.
  ASSERT_EQ(replicas_.writes.size(), 3u);
  EXPECT_EQ(replicas_.writes[2].target.node, "d");
  replicas_.writes[0].done(Status::Ok());
  replicas_.writes[2].done(Status::Ok());
  EXPECT_TRUE(result_->ok());
  EXPECT_EQ(env_.pending_timers(), 0u);
}

TEST_F(ReplicateTest, TimesOutOnLostAcks) {
  Start(2);
  env_.Advance(500);
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(result_->code(), Status::Code::kTimeout);
  replicas_.writes[0].done(Status::Ok());  // late: ignored
}

}  // namespace
}  // namespace causeway::replication::coord
