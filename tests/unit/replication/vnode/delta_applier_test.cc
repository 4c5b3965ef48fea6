// DeltaApplier: other replicas' deltas applied in their origin's order,
// early ones held in a bounded buffer, the full state fetched when a gap
// does not fill.
#include "replication/vnode/delta_applier.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/engine.h"
#include "tests/support/manual_env.h"

namespace causeway::replication::vnode {
namespace {

using object::Delta;
using object::Object;

constexpr causal::ActorId kOrigin = 0x0A;

// The origin's copy: counter updates, each one's delta kept.
class Origin {
 public:
  Delta Incr(int64_t n) {
    Delta d;
    EXPECT_TRUE(object_
                    .UpdateData(crdt::TypeTag::kCounter, {}, crdt::CounterOp{n},
                                kOrigin, causal::HlcTimestamp{1000, 0}, nullptr,
                                &d)
                    .ok());
    return d;
  }
  const Object& object() const { return object_; }

 private:
  Object object_;
};

class DeltaApplierTest : public ::testing::Test {
 protected:
  DeltaApplierTest()
      : engine_(storage::NewMemoryEngine()),
        store_(*engine_, [] { return causal::ActorId{0xB}; }) {}

  void Make(DeltaBufferLimits limits) {
    applier_ = std::make_unique<DeltaApplier>(
        env_, store_,
        [this](const NodeName& node, const Key&,
               std::function<void(Status, Object)> done) {
          fetched_from_.push_back(node);
          fetches_.push_back(std::move(done));
        },
        limits, /*sync=*/false);
  }

  // Applies `d`; the outcome lands in the returned slot once known.
  std::shared_ptr<std::optional<Status>> Apply(const Delta& d) {
    auto out = std::make_shared<std::optional<Status>>();
    applier_->Apply("origin-node", key_, d, 100,
                    [out](Status s) { *out = std::move(s); });
    return out;
  }

  int64_t Value() {
    Object o;
    Status s = store_.Read(key_, &o);
    if (s.IsNotFound()) return 0;
    EXPECT_TRUE(s.ok()) << s.ToString();
    return o.data() == nullptr ? 0 : o.data()->Read().counter;
  }

  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  VnodeStore store_;
  std::unique_ptr<DeltaApplier> applier_;
  const Key key_{3, "counters", "b", "k"};
  std::vector<NodeName> fetched_from_;
  std::vector<std::function<void(Status, Object)>> fetches_;
};

TEST_F(DeltaApplierTest, EarlyDeltasWaitForTheGapAndNeverShowBeforeIt) {
  Make({});
  Origin origin;
  const Delta d1 = origin.Incr(1), d2 = origin.Incr(10), d3 = origin.Incr(100);
  auto r3 = Apply(d3);
  auto r2 = Apply(d2);
  EXPECT_FALSE(r3->has_value());
  EXPECT_FALSE(r2->has_value());
  EXPECT_EQ(Value(), 0);  // nothing of an origin without its first change
  EXPECT_EQ(applier_->stats().buffered, 2u);
  EXPECT_EQ(applier_->stats().buffered_bytes, 200u);

  auto r1 = Apply(d1);
  ASSERT_TRUE(r1->has_value() && r2->has_value() && r3->has_value());
  EXPECT_TRUE((*r1)->ok() && (*r2)->ok() && (*r3)->ok());
  EXPECT_EQ(Value(), 111);
  EXPECT_EQ(applier_->stats().applied, 3u);
  EXPECT_EQ(applier_->stats().buffered, 0u);
  EXPECT_EQ(applier_->stats().buffered_bytes, 0u);
  EXPECT_EQ(applier_->stats().buffered_high_water, 2u);
  EXPECT_TRUE(fetches_.empty());

  // Again: a no-op, answered at once.
  auto again = Apply(d2);
  ASSERT_TRUE(again->has_value());
  EXPECT_TRUE((*again)->ok());
  EXPECT_EQ(applier_->stats().duplicates, 1u);
  EXPECT_EQ(Value(), 111);
}

TEST_F(DeltaApplierTest, AGapThatDoesNotFillBringsTheFullState) {
  Make({.max_deltas = 100, .max_bytes = 1 << 20, .timeout_ms = 200});
  Origin origin;
  origin.Incr(1);  // lost on its way
  const Delta d2 = origin.Incr(10);
  auto r2 = Apply(d2);
  env_.Advance(150);
  EXPECT_TRUE(fetches_.empty());
  env_.Advance(200);
  ASSERT_EQ(fetches_.size(), 1u);
  EXPECT_EQ(fetched_from_[0], "origin-node");
  EXPECT_EQ(applier_->stats().timeouts, 1u);
  EXPECT_FALSE(r2->has_value());
  fetches_[0](Status::Ok(), origin.object());
  ASSERT_TRUE(r2->has_value());
  EXPECT_TRUE((*r2)->ok());
  EXPECT_EQ(Value(), 11);
  EXPECT_EQ(applier_->stats().full_state_fetches, 1u);
  EXPECT_EQ(applier_->stats().buffered, 0u);
  env_.Advance(1000);
  EXPECT_EQ(fetches_.size(), 1u);  // nothing left to wait for
}

TEST_F(DeltaApplierTest, AFailedFetchFailsTheWaitingDeltas) {
  Make({.max_deltas = 100, .max_bytes = 1 << 20, .timeout_ms = 100});
  Origin origin;
  origin.Incr(1);
  auto r2 = Apply(origin.Incr(10));
  env_.Advance(200);
  ASSERT_EQ(fetches_.size(), 1u);
  fetches_[0](Status::Unavailable("origin-node is unreachable"), Object());
  ASSERT_TRUE(r2->has_value());
  EXPECT_EQ((*r2)->code(), Status::Code::kUnavailable);
  EXPECT_EQ(Value(), 0);
  EXPECT_EQ(applier_->stats().buffered, 0u);
  EXPECT_EQ(applier_->stats().full_state_failures, 1u);
}

TEST_F(DeltaApplierTest, AFullBufferRefusesAndFetchesTheFullState) {
  Make({.max_deltas = 2, .max_bytes = 1 << 20, .timeout_ms = 10000});
  Origin origin;
  origin.Incr(1);
  auto r2 = Apply(origin.Incr(2));
  auto r3 = Apply(origin.Incr(4));
  auto r4 = Apply(origin.Incr(8));
  ASSERT_TRUE(r4->has_value());
  EXPECT_EQ((*r4)->code(), Status::Code::kUnavailable);
  EXPECT_EQ(applier_->stats().overflows, 1u);
  EXPECT_EQ(applier_->stats().buffered, 2u);
  EXPECT_LE(applier_->stats().buffered_high_water, 2u);
  ASSERT_EQ(fetches_.size(), 1u);
  fetches_[0](Status::Ok(), origin.object());
  // The full state holds every change, the refused one included.
  EXPECT_EQ(Value(), 15);
  EXPECT_TRUE(r2->has_value() && (*r2)->ok());
  EXPECT_TRUE(r3->has_value() && (*r3)->ok());
  EXPECT_EQ(applier_->stats().buffered, 0u);
}

TEST_F(DeltaApplierTest, TheByteBoundCountsToo) {
  Make({.max_deltas = 100, .max_bytes = 150, .timeout_ms = 10000});
  Origin origin;
  origin.Incr(1);
  auto r2 = Apply(origin.Incr(2));  // 100 bytes
  auto r3 = Apply(origin.Incr(4));  // 200 > 150: refused
  EXPECT_FALSE(r2->has_value());
  ASSERT_TRUE(r3->has_value());
  EXPECT_EQ((*r3)->code(), Status::Code::kUnavailable);
  EXPECT_EQ(applier_->stats().buffered_bytes, 100u);
}

}  // namespace
}  // namespace causeway::replication::vnode
