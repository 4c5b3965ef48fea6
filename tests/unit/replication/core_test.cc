// NodeCore on one node over the in-memory engine: the request semantics a
// client sees, independent of any protocol.
#include "replication/core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "storage/keys.h"
#include "tests/support/manual_env.h"

namespace causeway::replication {
namespace {

using object::Sibling;

class CoreTest : public ::testing::Test {
 protected:
  CoreTest() : engine_(storage::NewMemoryEngine()) { Restart(); }

  void Restart(NodeConfig config = {}) {
    if (core_) core_->Close();
    core_ = std::make_unique<NodeCore>(env_, *engine_, config);
    ASSERT_TRUE(core_->Open().ok());
  }

  static Sibling Value(const std::string& v) {
    Sibling s;
    s.value = v;
    s.meta.content_type = "text/plain";
    return s;
  }

  PutResult Put(const std::string& bucket, const std::string& key,
                const std::string& value, causal::VersionVector context = {},
                const std::string& type = kDefaultType) {
    PutRequest req;
    req.id = ObjectId{type, bucket, key};
    req.context = std::move(context);
    req.content = Value(value);
    req.return_body = true;
    return Put(std::move(req));
  }

  PutResult Put(PutRequest req) {
    std::optional<PutResult> out;
    core_->Put(std::move(req), [&](PutResult r) { out = std::move(r); });
    env_.Advance(0);
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }

  GetResult Get(const std::string& bucket, const std::string& key,
                const std::string& type = kDefaultType) {
    GetRequest req;
    req.id = ObjectId{type, bucket, key};
    return Get(std::move(req));
  }

  GetResult Get(GetRequest req) {
    std::optional<GetResult> out;
    core_->Get(std::move(req), [&](GetResult r) { out = std::move(r); });
    env_.Advance(0);
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }

  Status Delete(const std::string& bucket, const std::string& key,
                causal::VersionVector context = {}) {
    DeleteRequest req;
    req.id = ObjectId{kDefaultType, bucket, key};
    req.context = std::move(context);
    std::optional<Status> out;
    core_->Delete(std::move(req), [&](DeleteResult r) { out = r.status; });
    env_.Advance(0);
    EXPECT_TRUE(out.has_value());
    return *out;
  }

  std::vector<std::string> ListKeys(const std::string& bucket) {
    std::vector<std::string> keys;
    bool done = false;
    core_->ListKeys(
        kDefaultType, bucket,
        [&](const Status& s, std::vector<std::string> batch, bool last) {
          EXPECT_TRUE(s.ok()) << s.ToString();
          EXPECT_FALSE(done) << "callback after done";
          keys.insert(keys.end(), batch.begin(), batch.end());
          done = last;
        });
    for (int i = 0; i < 1000 && !done; ++i) env_.Advance(0);
    EXPECT_TRUE(done);
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  static std::vector<std::string> Values(const object::Object& o) {
    std::vector<std::string> out;
    for (const Sibling* s : o.LiveSiblings()) out.push_back(s->value);
    std::sort(out.begin(), out.end());
    return out;
  }

  void AllowMult(const std::string& bucket) {
    BucketPropsPatch patch;
    patch.allow_mult = true;
    ASSERT_TRUE(core_->SetBucketProps(kDefaultType, bucket, patch).ok());
  }

  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<NodeCore> core_;
};

TEST_F(CoreTest, PutThenGet) {
  PutResult p = Put("b", "k", "v1");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.key, "k");
  GetResult g = Get("b", "k");
  ASSERT_TRUE(g.status.ok()) << g.status.ToString();
  EXPECT_EQ(Values(g.object), std::vector<std::string>{"v1"});
  EXPECT_EQ(g.object.LiveSiblings()[0]->meta.content_type, "text/plain");
  EXPECT_FALSE(g.object.clock().empty());
}

TEST_F(CoreTest, MissingKeyIsNotFound) {
  EXPECT_TRUE(Get("b", "nope").status.IsNotFound());
}

TEST_F(CoreTest, EmptyBucketIsRejected) {
  EXPECT_EQ(Put("", "k", "v").status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Get("", "k").status.code(), Status::Code::kInvalidArgument);
}

TEST_F(CoreTest, GeneratedKeyWhenNoneGiven) {
  PutResult p = Put("b", "", "v");
  ASSERT_TRUE(p.status.ok());
  EXPECT_FALSE(p.key.empty());
  PutResult q = Put("b", "", "w");
  EXPECT_NE(p.key, q.key);
  EXPECT_EQ(Values(Get("b", p.key).object), std::vector<std::string>{"v"});
}

TEST_F(CoreTest, WriteWithContextReplacesAndBlindWritesMakeSiblings) {
  AllowMult("m");
  Put("m", "k", "a");
  Put("m", "k", "b");  // blind: concurrent with "a"
  GetResult g = Get("m", "k");
  EXPECT_EQ(Values(g.object), (std::vector<std::string>{"a", "b"}));
  // Resolve by writing with the context that saw both.
  Put("m", "k", "c", g.object.clock());
  EXPECT_EQ(Values(Get("m", "k").object), std::vector<std::string>{"c"});
}

TEST_F(CoreTest, AllowMultFalseKeepsNewest) {
  Put("b", "k", "a");
  env_.Advance(5);
  Put("b", "k", "b");  // blind, but default bucket resolves to newest
  EXPECT_EQ(Values(Get("b", "k").object), std::vector<std::string>{"b"});
}

TEST_F(CoreTest, LastWriteWinsReplacesOutright) {
  BucketPropsPatch patch;
  patch.last_write_wins = true;
  patch.allow_mult = true;  // ignored once last_write_wins is set
  ASSERT_TRUE(core_->SetBucketProps(kDefaultType, "lww", patch).ok());
  Put("lww", "k", "a");
  Put("lww", "k", "b");
  EXPECT_EQ(Values(Get("lww", "k").object), std::vector<std::string>{"b"});
}

TEST_F(CoreTest, DeleteMakesNotFoundAndKeepsTombstoneClock) {
  Put("b", "k", "v");
  ASSERT_TRUE(Delete("b", "k").ok());
  GetResult g = Get("b", "k");
  EXPECT_TRUE(g.status.IsNotFound());
  EXPECT_TRUE(g.object.IsTombstone());
  EXPECT_FALSE(g.object.clock().empty());  // the deletedvclock
  EXPECT_TRUE(ListKeys("b").empty());
  // Writing again with the tombstone's context brings the key back.
  Put("b", "k", "again", g.object.clock());
  EXPECT_EQ(Values(Get("b", "k").object), std::vector<std::string>{"again"});
}

TEST_F(CoreTest, DeleteOfMissingKeyIsOk) {
  EXPECT_TRUE(Delete("b", "never").ok());
  EXPECT_TRUE(Get("b", "never").status.IsNotFound());
}

TEST_F(CoreTest, DeleteWithOldContextKeepsConcurrentWrite) {
  AllowMult("m");
  PutResult first = Put("m", "k", "a");
  Put("m", "k", "b");  // concurrent, not seen by the deleter
  ASSERT_TRUE(Delete("m", "k", first.object.clock()).ok());
  GetResult g = Get("m", "k");
  ASSERT_TRUE(g.status.ok())
      << g.status.ToString() << " siblings " << g.object.siblings().size();
  EXPECT_EQ(Values(g.object), std::vector<std::string>{"b"});
}

TEST_F(CoreTest, IfNoneMatchAndIfNotModified) {
  PutRequest req;
  req.id = ObjectId{kDefaultType, "b", "k"};
  req.content = Value("v");
  req.if_none_match = true;
  ASSERT_TRUE(Put(req).status.ok());
  Status s = Put(req).status;
  EXPECT_EQ(s.code(), Status::Code::kPreconditionFailed);
  EXPECT_EQ(s.message(), "match_found");

  GetResult g = Get("b", "k");
  PutRequest cas;
  cas.id = req.id;
  cas.content = Value("v2");
  cas.if_not_modified = true;
  cas.context = g.object.clock();
  ASSERT_TRUE(Put(cas).status.ok());
  cas.content = Value("v3");  // same, now stale, context
  s = Put(cas).status;
  EXPECT_EQ(s.code(), Status::Code::kPreconditionFailed);
  EXPECT_EQ(s.message(), "modified");
  EXPECT_EQ(Values(Get("b", "k").object), std::vector<std::string>{"v2"});
}

TEST_F(CoreTest, IfModifiedReportsUnchanged) {
  Put("b", "k", "v");
  GetResult g = Get("b", "k");
  GetRequest req;
  req.id = ObjectId{kDefaultType, "b", "k"};
  req.if_modified = g.object.clock();
  EXPECT_TRUE(Get(req).unchanged);
  Put("b", "k", "v2", g.object.clock());
  EXPECT_FALSE(Get(req).unchanged);
}

TEST_F(CoreTest, QuorumAboveNValIsRefusedWithItsName) {
  PutRequest req;
  req.id = ObjectId{kDefaultType, "b", "k"};
  req.content = Value("v");
  req.w = Quorum::Number(4);
  Status s = Put(req).status;
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("w=4"), std::string::npos) << s.message();
  // Symbolic and in-range values work on one node.
  req.w = Quorum::All();
  req.pw = Quorum::All();
  EXPECT_TRUE(Put(req).status.ok());
  GetRequest get;
  get.id = req.id;
  get.r = Quorum::All();
  get.pr = Quorum::Number(3);
  EXPECT_TRUE(Get(get).status.ok());
}

TEST_F(CoreTest, ListKeysSkipsOtherBucketsAndTombstones) {
  for (int i = 0; i < 2500; ++i) Put("many", "k" + std::to_string(i), "v");
  Put("other", "x", "v");
  Delete("many", "k7");
  std::vector<std::string> keys = ListKeys("many");
  EXPECT_EQ(keys.size(), 2499u);
  EXPECT_FALSE(std::binary_search(keys.begin(), keys.end(), "k7"));
  EXPECT_EQ(ListKeys("other"), std::vector<std::string>{"x"});
  EXPECT_TRUE(ListKeys("empty").empty());
}

TEST_F(CoreTest, ListBuckets) {
  Put("alpha", "k", "v");
  Put("beta", "k1", "v");
  Put("beta", "k2", "v");
  Put("gone", "k", "v");
  Delete("gone", "k");
  std::vector<std::string> buckets;
  bool done = false;
  core_->ListBuckets(
      kDefaultType,
      [&](const Status& s, std::vector<std::string> batch, bool last) {
        ASSERT_TRUE(s.ok());
        buckets.insert(buckets.end(), batch.begin(), batch.end());
        done = last;
      });
  for (int i = 0; i < 1000 && !done; ++i) env_.Advance(0);
  EXPECT_TRUE(done);
  std::sort(buckets.begin(), buckets.end());
  EXPECT_EQ(buckets, (std::vector<std::string>{"alpha", "beta"}));
}

TEST_F(CoreTest, BucketTypesMustExistAndDefaultToAllowMult) {
  EXPECT_EQ(Put("b", "k", "v", {}, "maps").status.code(),
            Status::Code::kInvalidArgument);
  BucketProps props;
  EXPECT_TRUE(core_->GetBucketTypeProps("maps", &props).IsNotFound());
  EXPECT_FALSE(core_->SetBucketTypeProps("maps", {}).ok());
  ASSERT_TRUE(core_->CreateBucketType("maps", {}).ok());
  EXPECT_EQ(core_->CreateBucketType("maps", {}).code(),
            Status::Code::kPreconditionFailed);
  ASSERT_TRUE(core_->GetBucketTypeProps("maps", &props).ok());
  EXPECT_TRUE(props.allow_mult);
  EXPECT_EQ(core_->BucketTypeNames(),
            (std::vector<std::string>{"default", "maps"}));
  for (const char* bad : {"", "datatype=set", "a/b", "sp ace"}) {
    EXPECT_EQ(core_->CreateBucketType(bad, {}).code(),
              Status::Code::kInvalidArgument)
        << bad;
  }
  // A type's datatype is fixed once it exists.
  BucketPropsPatch counters;
  counters.datatype = "counter";
  ASSERT_TRUE(core_->CreateBucketType("counters", counters).ok());
  BucketPropsPatch sets;
  sets.datatype = "set";
  EXPECT_EQ(core_->SetBucketTypeProps("counters", sets).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(core_->SetBucketTypeProps("maps", sets).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(core_->SetBucketProps("counters", "b", sets).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(core_->SetBucketTypeProps("counters", counters).ok());
  Put("b", "k", "1", {}, "maps");
  Put("b", "k", "2", {}, "maps");
  EXPECT_EQ(Get("b", "k", "maps").object.LiveSiblings().size(), 2u);
  // Same bucket name in the default type is a different bucket.
  EXPECT_TRUE(Get("b", "k").status.IsNotFound());
}

TEST_F(CoreTest, BucketPropsOverlayAndReset) {
  BucketProps props;
  ASSERT_TRUE(core_->GetBucketProps(kDefaultType, "b", &props).ok());
  EXPECT_EQ(props.n_val, 3u);
  EXPECT_FALSE(props.allow_mult);
  BucketPropsPatch patch;
  patch.n_val = 2;
  patch.allow_mult = true;
  ASSERT_TRUE(core_->SetBucketProps(kDefaultType, "b", patch).ok());
  ASSERT_TRUE(core_->GetBucketProps(kDefaultType, "b", &props).ok());
  EXPECT_EQ(props.n_val, 2u);
  EXPECT_TRUE(props.allow_mult);
  // Survives a restart.
  Restart();
  ASSERT_TRUE(core_->GetBucketProps(kDefaultType, "b", &props).ok());
  EXPECT_EQ(props.n_val, 2u);
  ASSERT_TRUE(core_->ResetBucketProps(kDefaultType, "b").ok());
  ASSERT_TRUE(core_->GetBucketProps(kDefaultType, "b", &props).ok());
  EXPECT_EQ(props.n_val, 3u);
  EXPECT_FALSE(props.allow_mult);
}

TEST_F(CoreTest, ConfiguredDefaultsApply) {
  NodeConfig config;
  config.default_props.allow_mult = true;
  Restart(config);
  BucketProps props;
  ASSERT_TRUE(core_->GetBucketProps(kDefaultType, "b", &props).ok());
  EXPECT_TRUE(props.allow_mult);
}

TEST_F(CoreTest, RestartKeepsDataAndNeverReusesDots) {
  AllowMult("m");
  PutResult a = Put("m", "k", "a");
  Restart();
  PutResult b = Put("m", "k", "b");  // blind: must be a sibling, not a clash
  GetResult g = Get("m", "k");
  EXPECT_EQ(Values(g.object), (std::vector<std::string>{"a", "b"}));
  EXPECT_NE(a.object.siblings()[0].dot, b.object.siblings().back().dot);
}

TEST_F(CoreTest, TimestampsDoNotGoBackwardsAcrossRestartOnSteppedClock) {
  Put("b", "k", "a");
  GetResult before = Get("b", "k");
  auto ts_before = before.object.LiveSiblings()[0]->timestamp;
  Restart();
  env_.SkewWall(-60000);  // the wall clock stepped back a minute
  Put("b", "k2", "b");
  auto ts_after = Get("b", "k2").object.LiveSiblings()[0]->timestamp;
  EXPECT_GT(ts_after, ts_before);
}

TEST_F(CoreTest, PreflistOnOneNode) {
  std::vector<PreflistEntry> list;
  ASSERT_TRUE(core_->Preflist(ObjectId{kDefaultType, "b", "k"}, &list).ok());
  // As in Riak: n_val (3) partitions, here all on the one node, which
  // keeps one copy.
  ASSERT_EQ(list.size(), 3u);
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(list[i].node, core_->config().name);
    EXPECT_TRUE(list[i].primary);
    EXPECT_EQ(list[i].partition, (list[0].partition + i) % 64u);
  }
}

TEST_F(CoreTest, SiblingsBoundedByConcurrentClients) {
  // Three clients each read-modify-write in turn with their last context:
  // never more than three siblings.
  AllowMult("m");
  std::vector<causal::VersionVector> ctx(3);
  for (int round = 0; round < 20; ++round) {
    for (int c = 0; c < 3; ++c) {
      PutResult p = Put("m", "k", "c" + std::to_string(c), ctx[c]);
      ASSERT_TRUE(p.status.ok());
      ctx[c] = Get("m", "k").object.clock();
      EXPECT_LE(Get("m", "k").object.LiveSiblings().size(), 3u);
    }
  }
}

// A data directory written before anti-entropy trees existed: the node
// serves at once and builds its trees in the background, ending with the
// trees the writes themselves would have kept.
TEST_F(CoreTest, TreesMissingFromAStoreAreRebuiltInTheBackground) {
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(Put("b", "k" + std::to_string(i), "v").status.ok());
  }
  const uint32_t ring = core_->config().ring_size;
  std::vector<std::optional<uint64_t>> roots;
  const auto before = core_->AaeView();
  for (uint32_t p = 0; p < ring; ++p) {
    roots.push_back(before.RootOf(p));
    ASSERT_TRUE(roots.back().has_value());
  }
  core_->Close();
  core_.reset();
  std::vector<std::string> aae_keys;
  const std::string a(1, storage::kAaeSpace);
  engine_->Scan(a, storage::PrefixEnd(a),
                [&](std::string_view k, std::string_view) {
                  aae_keys.emplace_back(k);
                  return true;
                });
  ASSERT_FALSE(aae_keys.empty());
  for (const auto& k : aae_keys) ASSERT_TRUE(engine_->Delete(k).ok());

  Restart();
  core_->Start();
  auto view = core_->AaeView();
  EXPECT_GT(view.rebuilds_pending, 0u);
  size_t not_ready = 0;
  for (uint32_t p = 0; p < ring; ++p) not_ready += !view.RootOf(p);
  EXPECT_GT(not_ready, 0u);
  // Reads are served while the trees are rebuilt.
  EXPECT_TRUE(Get("b", "k7").status.ok());
  env_.Advance(10000);
  view = core_->AaeView();
  EXPECT_EQ(view.rebuilds_pending, 0u);
  EXPECT_GE(view.rebuilds_done, not_ready);
  for (uint32_t p = 0; p < ring; ++p) {
    EXPECT_EQ(view.RootOf(p), roots[p]) << "partition " << p;
  }
}

}  // namespace
}  // namespace causeway::replication
