// VnodeStore: how a replica mints dots. The property that matters is that no
// dot is ever minted twice for one key, even by a replica that dropped its
// copy or was handed back an older one; each case below is a way an actor's
// counter could otherwise restart below dots already in use elsewhere.

#include "replication/vnode/vnode_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "replication/crdt/operation.h"

namespace causeway::replication::vnode {
namespace {

using causal::ActorId;
using causal::Dot;
using causal::VersionVector;
using object::Object;
using object::Resolution;
using object::Sibling;

class VnodeStoreTest : public ::testing::Test {
 protected:
  VnodeStoreTest()
      : engine_(storage::NewMemoryEngine()),
        store_(*engine_, [this] { return ++next_actor_; }) {}

  Object Coordinate(const Key& key, const std::string& value,
                    const VersionVector& context = {}) {
    Sibling s;
    s.value = value;
    Object result;
    EXPECT_TRUE(store_
                    .Coordinate(key, context, std::move(s),
                                Resolution::kKeepSiblings, false, &result)
                    .ok());
    return result;
  }

  static Dot NewestDot(const Object& o) {
    Dot newest;
    for (const Sibling& s : o.siblings()) newest = std::max(newest, s.dot);
    return newest;
  }

  std::unique_ptr<storage::Engine> engine_;
  ActorId next_actor_ = 100;
  VnodeStore store_;
  const Key k1_{7, "default", "b", "k1"};
  const Key k2_{7, "default", "b", "k2"};
};

TEST_F(VnodeStoreTest, ACopyKeepsMintingUnderItsOwnActor) {
  Object first = Coordinate(k1_, "a");
  Object second = Coordinate(k1_, "b");
  EXPECT_EQ(NewestDot(second).actor, NewestDot(first).actor);
  EXPECT_EQ(NewestDot(second).counter, NewestDot(first).counter + 1);
  EXPECT_EQ(next_actor_, 101u);  // one actor for both writes
}

TEST_F(VnodeStoreTest, EachNewKeyGetsAFreshActor) {
  Object a = Coordinate(k1_, "a");
  Object b = Coordinate(k2_, "b");
  EXPECT_NE(NewestDot(a).actor, NewestDot(b).actor);
}

TEST_F(VnodeStoreTest, ADroppedCopyNeverMintsItsOldDotsAgain) {
  Object before = Coordinate(k1_, "a");
  ASSERT_TRUE(store_.Remove(k1_).ok());
  Object after = Coordinate(k1_, "b");
  EXPECT_NE(NewestDot(after).actor, NewestDot(before).actor);
  // A replica holding the old write keeps both: neither covers the other.
  Object merged = before;
  merged.Merge(after, Resolution::kKeepSiblings);
  EXPECT_EQ(merged.siblings().size(), 2u);
}

TEST_F(VnodeStoreTest, ACopyFromAnotherReplicaGetsAFreshActor) {
  // This replica minted (A,1) and (A,2), dropped its copy, and is handed
  // back an older copy holding only (A,1): continuing A from there would
  // mint (A,2) again.
  Object one = Coordinate(k1_, "a");
  Object two = Coordinate(k1_, "b", one.clock());
  ASSERT_TRUE(store_.Remove(k1_).ok());
  Object merged;
  ASSERT_TRUE(
      store_.Merge(k1_, one, Resolution::kKeepSiblings, false, &merged).ok());
  Object next = Coordinate(k1_, "c", one.clock());
  const Dot dot = NewestDot(next);
  std::set<Dot> used;
  for (const Object* o : {&one, &two}) {
    for (const Sibling& s : o->siblings()) used.insert(s.dot);
  }
  EXPECT_EQ(used.count(dot), 0u) << dot.ToString() << " minted twice";
  EXPECT_NE(dot.actor, NewestDot(two).actor);
}

TEST_F(VnodeStoreTest, TheMintingActorStaysOutOfTheReplicatedObject) {
  Object stored = Coordinate(k1_, "a");
  Object read;
  ASSERT_TRUE(store_.Read(k1_, &read).ok());
  EXPECT_EQ(read, stored);
  // What a replica sends is the object alone; the same object with a
  // minting actor encodes differently only in that field.
  ActorId actor = 0;
  Object decoded;
  ASSERT_TRUE(Object::Decode(read.Encode(), &decoded, &actor).ok());
  EXPECT_EQ(actor, 0u);
  ASSERT_TRUE(Object::Decode(read.Encode(42), &decoded, &actor).ok());
  EXPECT_EQ(actor, 42u);
  EXPECT_EQ(decoded, read);
}

}  // namespace
}  // namespace causeway::replication::vnode

namespace causeway::replication::vnode {
namespace {

// A key that holds a data type takes no key/value write: refused, the
// counter left as it was (a sibling beside a data type cannot be stored).
TEST_F(VnodeStoreTest, AKeyValueWriteOnADataTypeIsRefused) {
  object::Delta delta;
  Object counter;
  ASSERT_TRUE(store_
                  .CoordinateUpdate(k1_, crdt::TypeTag::kCounter, {},
                                    crdt::CounterOp{5}, nullptr, {1, 0}, false,
                                    &delta, &counter)
                  .ok());
  Sibling s;
  s.value = "v";
  Object result;
  Status st = store_.Coordinate(k1_, {}, std::move(s),
                                Resolution::kKeepSiblings, false, &result);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("data type"), std::string::npos);
  Object held;
  ASSERT_TRUE(store_.Read(k1_, &held).ok());
  ASSERT_NE(held.data(), nullptr);
  EXPECT_TRUE(held.siblings().empty());
}

}  // namespace
}  // namespace causeway::replication::vnode
