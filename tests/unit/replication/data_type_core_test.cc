// NodeCore's data types on one node over the in-memory engine: fetch and
// update as a client sees them, independent of any protocol.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "replication/core.h"
#include "tests/support/manual_env.h"

namespace causeway::replication {
namespace {

using crdt::CounterOp;
using crdt::SetOp;

class DataTypeCoreTest : public ::testing::Test {
 protected:
  DataTypeCoreTest() : engine_(storage::NewMemoryEngine()) {
    core_ = std::make_unique<NodeCore>(env_, *engine_, NodeConfig{});
    EXPECT_TRUE(core_->Open().ok());
    CreateType("counters", "counter");
    CreateType("sets", "set");
  }

  void CreateType(const std::string& name, const std::string& datatype) {
    BucketPropsPatch patch;
    patch.datatype = datatype;
    ASSERT_TRUE(core_->CreateBucketType(name, patch).ok());
  }

  UpdateResult Update(UpdateRequest req) {
    std::optional<UpdateResult> out;
    core_->Update(std::move(req), [&](UpdateResult r) { out = std::move(r); });
    env_.Advance(0);
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }

  UpdateResult Update(const std::string& type, const std::string& key,
                      crdt::Operation op,
                      std::optional<std::string> context = std::nullopt) {
    UpdateRequest req;
    req.id = ObjectId{type, "b", key};
    req.op = std::move(op);
    req.context = std::move(context);
    req.return_body = true;
    return Update(std::move(req));
  }

  FetchResult Fetch(const std::string& type, const std::string& key) {
    FetchRequest req;
    req.id = ObjectId{type, "b", key};
    std::optional<FetchResult> out;
    core_->Fetch(std::move(req), [&](FetchResult r) { out = std::move(r); });
    env_.Advance(0);
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }

  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<NodeCore> core_;
};

TEST_F(DataTypeCoreTest, CountersCountAndAbsentOnesAreNotFound) {
  FetchResult none = Fetch("counters", "c");
  EXPECT_TRUE(none.status.IsNotFound()) << none.status.ToString();
  EXPECT_EQ(none.type, crdt::TypeTag::kCounter);

  UpdateResult u = Update("counters", "c", CounterOp{10});
  ASSERT_TRUE(u.status.ok()) << u.status.ToString();
  EXPECT_EQ(u.value.counter, 10);
  EXPECT_TRUE(u.context.empty());  // counters need none
  ASSERT_TRUE(Update("counters", "c", CounterOp{-3}).status.ok());

  FetchResult f = Fetch("counters", "c");
  ASSERT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.type, crdt::TypeTag::kCounter);
  EXPECT_EQ(f.value.counter, 7);
}

TEST_F(DataTypeCoreTest, ARemoveNeedsToHaveSeenTheElement) {
  UpdateResult added = Update("sets", "s", SetOp{{"this", "that"}, {}});
  ASSERT_TRUE(added.status.ok()) << added.status.ToString();
  EXPECT_EQ(added.value.elements, (std::vector<std::string>{"that", "this"}));
  ASSERT_FALSE(added.context.empty());

  UpdateResult removed =
      Update("sets", "s", SetOp{{}, {"this"}}, added.context);
  ASSERT_TRUE(removed.status.ok()) << removed.status.ToString();
  EXPECT_EQ(removed.value.elements, std::vector<std::string>{"that"});

  UpdateResult absent = Update("sets", "s", SetOp{{}, {"never"}});
  EXPECT_EQ(absent.status.code(), Status::Code::kPreconditionFailed);
  EXPECT_EQ(Fetch("sets", "s").value.elements,
            std::vector<std::string>{"that"});
}

TEST_F(DataTypeCoreTest, BadRequestsAreRefusedAndChangeNothing) {
  // An operation of another type than the bucket type holds.
  UpdateResult wrong = Update("counters", "c", SetOp{{"x"}, {}});
  EXPECT_EQ(wrong.status.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Fetch("counters", "c").status.IsNotFound());

  // A data-type operation on a key/value bucket type.
  UpdateResult kv = Update(kDefaultType, "c", CounterOp{1});
  EXPECT_EQ(kv.status.code(), Status::Code::kInvalidArgument);
  FetchResult kv_fetch = Fetch(kDefaultType, "c");
  EXPECT_EQ(kv_fetch.status.code(), Status::Code::kInvalidArgument);

  // A key/value put to a data-type bucket type.
  PutRequest put;
  put.id = ObjectId{"counters", "b", "c"};
  put.content.value = "5";
  std::optional<PutResult> out;
  core_->Put(std::move(put), [&](PutResult r) { out = std::move(r); });
  env_.Advance(0);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Fetch("counters", "c").status.IsNotFound());
}

TEST_F(DataTypeCoreTest, AnUpdateWithoutAKeyGetsOne) {
  UpdateRequest req;
  req.id = ObjectId{"counters", "b", ""};
  req.op = CounterOp{10};
  req.return_body = true;
  UpdateResult u = Update(std::move(req));
  ASSERT_TRUE(u.status.ok()) << u.status.ToString();
  EXPECT_FALSE(u.key.empty());
  EXPECT_EQ(Fetch("counters", u.key).value.counter, 10);
}

TEST_F(DataTypeCoreTest, DeletedKeysAreNotFoundAndStartOverOnUpdate) {
  ASSERT_TRUE(Update("counters", "c", CounterOp{5}).status.ok());
  DeleteRequest del;
  del.id = ObjectId{"counters", "b", "c"};
  std::optional<Status> deleted;
  core_->Delete(std::move(del), [&](DeleteResult r) { deleted = r.status; });
  env_.Advance(0);
  ASSERT_TRUE(deleted.has_value());
  ASSERT_TRUE(deleted->ok()) << deleted->ToString();
  EXPECT_TRUE(Fetch("counters", "c").status.IsNotFound());
  ASSERT_TRUE(Update("counters", "c", CounterOp{2}).status.ok());
  EXPECT_EQ(Fetch("counters", "c").value.counter, 2);
}

TEST_F(DataTypeCoreTest, ListingShowsDataTypeKeys) {
  ASSERT_TRUE(Update("counters", "c1", CounterOp{1}).status.ok());
  ASSERT_TRUE(Update("counters", "c2", CounterOp{1}).status.ok());
  std::vector<std::string> keys;
  bool done = false;
  core_->ListKeys(
      "counters", "b",
      [&](const Status& s, std::vector<std::string> batch, bool last) {
        EXPECT_TRUE(s.ok());
        keys.insert(keys.end(), batch.begin(), batch.end());
        done = last;
      });
  for (int i = 0; i < 1000 && !done; ++i) env_.Advance(0);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"c1", "c2"}));
}

}  // namespace
}  // namespace causeway::replication
