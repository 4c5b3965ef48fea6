// Hint markers: the exact bytes a fallback node keeps under a hint key
// (storage key space 'h'), which survive restarts and so upgrades.
#include "replication/handoff/handoff.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "replication/messenger.h"
#include "storage/keys.h"
#include "tests/support/manual_env.h"

namespace causeway::replication::handoff {
namespace {

class NoReplicas : public coord::Replicas {
 public:
  void Read(const coord::Target&, const vnode::Key&,
            std::function<void(Status, object::Object)>) override {}
  void Write(const coord::Target&, const vnode::Key&, const object::Object&,
             object::Resolution, std::function<void(Status)>) override {}
  void WriteDelta(const coord::Target&, const vnode::Key&, const object::Delta&,
                  std::function<void(Status)>) override {}
};

class HintMarkerTest : public ::testing::Test {
 protected:
  HintMarkerTest()
      : engine_(storage::NewMemoryEngine()),
        messenger_(env_, "test"),
        registry_(*engine_, {}),
        security_(*engine_),
        cluster_(env_, messenger_, *engine_, registry_, security_,
                 membership::Member{"n1", "127.0.0.1:1",
                                    membership::MemberStatus::kValid, 1},
                 8, {}),
        store_(*engine_,
               [next = causal::ActorId{0}]() mutable { return ++next; }),
        handoff_(env_, cluster_, store_, *engine_, registry_, replicas_, {}) {
    EXPECT_TRUE(registry_.Load().ok());
    EXPECT_TRUE(cluster_.Load().ok());
  }

  // The marker of `key_`: 'h', then the key's object-key encoding.
  std::string MarkerKey() const {
    return "h" + storage::EncodeObjectKey(key_.partition, key_.type,
                                          key_.bucket, key_.key);
  }
  std::string Marker() {
    std::string v;
    EXPECT_TRUE(engine_->Get(MarkerKey(), &v).ok());
    return v;
  }

  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  Messenger messenger_;
  BucketRegistry registry_;
  security::SecurityRegistry security_;
  membership::Cluster cluster_;
  vnode::VnodeStore store_;
  NoReplicas replicas_;
  Handoff handoff_;
  const vnode::Key key_{3, "default", "b", "k"};
};

// Each primary owed: a 2-byte big-endian length, then the name.
TEST_F(HintMarkerTest, PrimariesAreLengthPrefixedInTwoBytes) {
  ASSERT_TRUE(handoff_.RecordHint("n2", key_).ok());
  EXPECT_EQ(Marker(), std::string("\x00\x02n2", 4));
  ASSERT_TRUE(handoff_.RecordHint("node-3", key_).ok());
  EXPECT_EQ(Marker(), std::string("\x00\x02n2\x00\x06node-3", 12));
  ASSERT_TRUE(handoff_.RecordHint("n2", key_).ok());  // already owed
  EXPECT_EQ(Marker(), std::string("\x00\x02n2\x00\x06node-3", 12));
  EXPECT_EQ(handoff_.progress().hints_pending, 1u);
}

TEST_F(HintMarkerTest, MarkersAreReadFromTheirBytes) {
  // A marker as an earlier run left it; a cut-off last entry is dropped.
  const std::string stored("\x00\x02n2\x01\x00", 6);
  ASSERT_TRUE(engine_->Put(MarkerKey(), stored).ok());
  ASSERT_TRUE(handoff_.RecordHint("n2", key_).ok());
  EXPECT_EQ(Marker(), stored);  // n2 was read back: nothing to add
  ASSERT_TRUE(handoff_.RecordHint("n4", key_).ok());
  EXPECT_EQ(Marker(), std::string("\x00\x02n2\x00\x02n4", 8));
}

TEST_F(HintMarkerTest, OverlongNamesAreCutToTheLengthLimit) {
  const std::string name(0x10000, 'x');
  ASSERT_TRUE(handoff_.RecordHint(name, key_).ok());
  EXPECT_EQ(Marker(), "\xff\xff" + std::string(0xffff, 'x'));
}

}  // namespace
}  // namespace causeway::replication::handoff
