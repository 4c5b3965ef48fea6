// PbcHandler against a real NodeCore over the in-memory engine: the client
// protocol's semantics, frame in, frames out, no sockets.

#include "node/pbc_handler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "node/stats.h"
#include "proto/riak.pb.h"
#include "replication/causal/version_vector.h"
#include "replication/core.h"
#include "storage/engine.h"
#include "tests/support/manual_env.h"
#include "tests/unit/node/pbc_recorder.h"

namespace causeway::node {
namespace {

using google::protobuf::MessageLite;

constexpr uint32_t kQuorumOne = 0xFFFFFFFE;
constexpr uint32_t kQuorumAll = 0xFFFFFFFC;
constexpr uint32_t kQuorumQuorum = 0xFFFFFFFD;

template <typename M>
M ParseAs(const Frame& f) {
  M m;
  EXPECT_TRUE(m.ParseFromString(f.body)) << "body of code " << int(f.code);
  return m;
}

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() : engine_(storage::NewMemoryEngine()) {
    replication::NodeConfig config;
    config.name = "causeway@test";
    core_ = std::make_unique<replication::NodeCore>(env_, *engine_, config);
    EXPECT_TRUE(core_->Open().ok());
    PbcHandlerOptions options;
    options.server_version = "causeway-test";
    options.clock_us = [this] { return clock_us_ += 7; };
    handler_ = std::make_unique<PbcHandler>(*core_, stats_, options);
  }

  // Sends one request, lets the core finish (timers included), and checks
  // the request ended exactly once with the connection left open.
  std::vector<Frame> Call(uint8_t code, const std::string& body) {
    auto r = std::make_shared<Recorder>();
    handler_->Handle(Frame{code, body}, r);
    for (int i = 0; i < 1000 && r->done == 0; ++i) env_.Advance(0);
    EXPECT_EQ(r->done, 1);
    EXPECT_FALSE(r->closed);
    EXPECT_FALSE(r->frames.empty());
    return r->frames;
  }
  std::vector<Frame> Call(pbc::Code code, const MessageLite& m) {
    return Call(static_cast<uint8_t>(code), m.SerializeAsString());
  }
  std::vector<Frame> Call(pbc::Code code) {
    return Call(static_cast<uint8_t>(code), "");
  }

  // A request with exactly one reply frame of the given code.
  template <typename Resp>
  Resp CallOne(pbc::Code code, const MessageLite& req, pbc::Code want) {
    auto frames = Call(code, req);
    EXPECT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].code, static_cast<uint8_t>(want))
        << ErrorText(frames[0]);
    return ParseAs<Resp>(frames[0]);
  }

  static std::string ErrorText(const Frame& f) {
    if (f.code != 0) return "";
    pbc::RpbErrorResp e;
    e.ParseFromString(f.body);
    return e.errmsg();
  }

  // A request that must fail with one RpbErrorResp.
  pbc::RpbErrorResp CallError(uint8_t code, const std::string& body) {
    auto frames = Call(code, body);
    EXPECT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].code, 0);
    return ParseAs<pbc::RpbErrorResp>(frames[0]);
  }
  pbc::RpbErrorResp CallError(pbc::Code code, const MessageLite& m) {
    return CallError(static_cast<uint8_t>(code), m.SerializeAsString());
  }

  static pbc::RpbPutReq PutReq(const std::string& bucket,
                               const std::string& key,
                               const std::string& value) {
    pbc::RpbPutReq req;
    req.set_bucket(bucket);
    if (!key.empty()) req.set_key(key);
    req.mutable_content()->set_value(value);
    req.mutable_content()->set_content_type("text/plain");
    return req;
  }

  pbc::RpbPutResp Put(const pbc::RpbPutReq& req) {
    return CallOne<pbc::RpbPutResp>(pbc::Code::kPutReq, req,
                                    pbc::Code::kPutResp);
  }
  pbc::RpbPutResp Put(const std::string& bucket, const std::string& key,
                      const std::string& value) {
    return Put(PutReq(bucket, key, value));
  }

  static pbc::RpbGetReq GetReq(const std::string& bucket,
                               const std::string& key) {
    pbc::RpbGetReq req;
    req.set_bucket(bucket);
    req.set_key(key);
    return req;
  }
  pbc::RpbGetResp Get(const pbc::RpbGetReq& req) {
    return CallOne<pbc::RpbGetResp>(pbc::Code::kGetReq, req,
                                    pbc::Code::kGetResp);
  }
  pbc::RpbGetResp Get(const std::string& bucket, const std::string& key) {
    return Get(GetReq(bucket, key));
  }

  void Delete(const std::string& bucket, const std::string& key,
              const std::string& vclock = "") {
    pbc::RpbDelReq req;
    req.set_bucket(bucket);
    req.set_key(key);
    if (!vclock.empty()) req.set_vclock(vclock);
    auto frames = Call(pbc::Code::kDelReq, req);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kDelResp))
        << ErrorText(frames[0]);
    EXPECT_TRUE(frames[0].body.empty());
  }

  void SetBucket(const std::string& bucket, const pbc::RpbBucketProps& props) {
    pbc::RpbSetBucketReq req;
    req.set_bucket(bucket);
    *req.mutable_props() = props;
    auto frames = Call(pbc::Code::kSetBucketReq, req);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kSetBucketResp))
        << ErrorText(frames[0]);
  }

  void AllowMult(const std::string& bucket) {
    pbc::RpbBucketProps props;
    props.set_allow_mult(true);
    SetBucket(bucket, props);
  }

  pbc::RpbBucketProps GetBucket(const std::string& bucket) {
    pbc::RpbGetBucketReq req;
    req.set_bucket(bucket);
    return CallOne<pbc::RpbGetBucketResp>(pbc::Code::kGetBucketReq, req,
                                          pbc::Code::kGetBucketResp)
        .props();
  }

  static std::vector<std::string> Values(const pbc::RpbGetResp& resp) {
    std::vector<std::string> out;
    for (const auto& c : resp.content()) out.push_back(c.value());
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<replication::NodeCore> core_;
  Stats stats_;
  uint64_t clock_us_ = 0;
  std::unique_ptr<PbcHandler> handler_;
};

TEST_F(HandlerTest, Ping) {
  auto frames = Call(pbc::Code::kPingReq);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kPingResp));
  EXPECT_TRUE(frames[0].body.empty());
}

TEST_F(HandlerTest, ServerInfoNamesTheNodeAndVersion) {
  auto frames = Call(pbc::Code::kGetServerInfoReq);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(frames[0].code,
            static_cast<uint8_t>(pbc::Code::kGetServerInfoResp));
  auto info = ParseAs<pbc::RpbGetServerInfoResp>(frames[0]);
  EXPECT_EQ(info.node(), "causeway@test");
  EXPECT_EQ(info.server_version(), "causeway-test");
}

TEST_F(HandlerTest, ClientIdsAreAcceptedAndStable) {
  auto first =
      ParseAs<pbc::RpbGetClientIdResp>(Call(pbc::Code::kGetClientIdReq)[0]);
  EXPECT_FALSE(first.client_id().empty());

  pbc::RpbSetClientIdReq set;
  set.set_client_id("anything");
  auto frames = Call(pbc::Code::kSetClientIdReq, set);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kSetClientIdResp));

  auto second =
      ParseAs<pbc::RpbGetClientIdResp>(Call(pbc::Code::kGetClientIdReq)[0]);
  EXPECT_EQ(first.client_id(), second.client_id());

  // client_id is required.
  auto err = CallError(static_cast<uint8_t>(pbc::Code::kSetClientIdReq), "");
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
}

TEST_F(HandlerTest, PutThenGetRoundTripsValueAndMetadata) {
  pbc::RpbPutReq req = PutReq("b", "k", std::string("v\0al", 4));
  pbc::RpbContent* c = req.mutable_content();
  c->set_content_type("application/json");
  c->set_charset("utf-8");
  c->set_content_encoding("gzip");
  auto* meta = c->add_usermeta();
  meta->set_key("owner");
  meta->set_value("ann");
  auto* index = c->add_indexes();
  index->set_key("field_bin");
  index->set_value("x");
  auto* link = c->add_links();
  link->set_bucket("other");
  link->set_key("k2");
  link->set_tag("friend");
  pbc::RpbPutResp put = Put(req);
  EXPECT_EQ(put.content_size(), 0);
  EXPECT_FALSE(put.has_key());  // the client named the key

  pbc::RpbGetResp got = Get("b", "k");
  ASSERT_EQ(got.content_size(), 1);
  const pbc::RpbContent& g = got.content(0);
  EXPECT_EQ(g.value(), std::string("v\0al", 4));
  EXPECT_EQ(g.content_type(), "application/json");
  EXPECT_EQ(g.charset(), "utf-8");
  EXPECT_EQ(g.content_encoding(), "gzip");
  ASSERT_EQ(g.usermeta_size(), 1);
  EXPECT_EQ(g.usermeta(0).key(), "owner");
  EXPECT_EQ(g.usermeta(0).value(), "ann");
  ASSERT_EQ(g.indexes_size(), 1);
  EXPECT_EQ(g.indexes(0).key(), "field_bin");
  EXPECT_EQ(g.indexes(0).value(), "x");
  ASSERT_EQ(g.links_size(), 1);
  EXPECT_EQ(g.links(0).bucket(), "other");
  EXPECT_EQ(g.links(0).key(), "k2");
  EXPECT_EQ(g.links(0).tag(), "friend");
  EXPECT_FALSE(g.vtag().empty());
  // ManualEnv's wall clock starts at 1700000000000 ms.
  EXPECT_EQ(g.last_mod(), 1700000000u);
  EXPECT_LT(g.last_mod_usecs(), 1000000u);
  EXPECT_FALSE(got.vclock().empty());

  // The vtag names the write: the same on every read.
  EXPECT_EQ(Get("b", "k").content(0).vtag(), g.vtag());

  EXPECT_EQ(stats_.puts, 1u);
  EXPECT_EQ(stats_.gets, 2u);
  EXPECT_EQ(stats_.get_not_found, 0u);
  EXPECT_EQ(stats_.put_latency_us.count(), 1u);
  EXPECT_EQ(stats_.get_latency_us.count(), 2u);
  EXPECT_EQ(stats_.siblings.count(), 2u);
  EXPECT_EQ(stats_.siblings.max(), 1u);
  EXPECT_GE(stats_.object_bytes.max(), 4u);
}

TEST_F(HandlerTest, MissingKeyIsAnEmptyGetResp) {
  auto frames = Call(pbc::Code::kGetReq, GetReq("b", "nope"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kGetResp));
  EXPECT_TRUE(frames[0].body.empty());
  EXPECT_EQ(stats_.get_not_found, 1u);
  EXPECT_EQ(stats_.get_errors, 0u);
}

TEST_F(HandlerTest, HeadLeavesValuesOut) {
  Put("b", "k", "payload");
  pbc::RpbGetReq req = GetReq("b", "k");
  req.set_head(true);
  pbc::RpbGetResp got = Get(req);
  ASSERT_EQ(got.content_size(), 1);
  EXPECT_EQ(got.content(0).value(), "");
  EXPECT_EQ(got.content(0).content_type(), "text/plain");
  EXPECT_FALSE(got.vclock().empty());
}

TEST_F(HandlerTest, ReturnBodyAndReturnHead) {
  pbc::RpbPutReq req = PutReq("b", "k", "body");
  req.set_return_body(true);
  pbc::RpbPutResp body = Put(req);
  ASSERT_EQ(body.content_size(), 1);
  EXPECT_EQ(body.content(0).value(), "body");
  EXPECT_FALSE(body.vclock().empty());

  req = PutReq("b", "k", "head");
  req.set_vclock(body.vclock());
  req.set_return_head(true);
  pbc::RpbPutResp head = Put(req);
  ASSERT_EQ(head.content_size(), 1);
  EXPECT_EQ(head.content(0).value(), "");
  EXPECT_EQ(head.content(0).content_type(), "text/plain");
  EXPECT_NE(head.vclock(), body.vclock());
}

TEST_F(HandlerTest, MissingKeyOnPutIsGeneratedAndReturned) {
  pbc::RpbPutResp put = Put("b", "", "generated");
  ASSERT_TRUE(put.has_key());
  ASSERT_FALSE(put.key().empty());
  EXPECT_EQ(Values(Get("b", put.key())), std::vector<std::string>{"generated"});
  // An explicitly empty key means the same.
  pbc::RpbPutReq req = PutReq("b", "", "again");
  req.set_key("");
  pbc::RpbPutResp second = Put(req);
  EXPECT_FALSE(second.key().empty());
  EXPECT_NE(second.key(), put.key());
}

TEST_F(HandlerTest, SiblingsWithAllowMultAndVclockResolvesThem) {
  AllowMult("b");
  Put("b", "k", "one");
  Put("b", "k", "two");  // blind: concurrent with "one"
  pbc::RpbGetResp got = Get("b", "k");
  ASSERT_EQ(got.content_size(), 2);
  EXPECT_EQ(Values(got), (std::vector<std::string>{"one", "two"}));
  EXPECT_NE(got.content(0).vtag(), got.content(1).vtag());
  EXPECT_EQ(stats_.siblings.max(), 2u);

  // Writing with the clock read replaces exactly what was seen.
  pbc::RpbPutReq req = PutReq("b", "k", "merged");
  req.set_vclock(got.vclock());
  Put(req);
  EXPECT_EQ(Values(Get("b", "k")), std::vector<std::string>{"merged"});
}

TEST_F(HandlerTest, VclockRoundTripsThroughTheClient) {
  pbc::RpbPutReq req = PutReq("b", "k", "v1");
  req.set_return_body(true);
  std::string from_put = Put(req).vclock();
  std::string from_get = Get("b", "k").vclock();
  EXPECT_EQ(from_put, from_get);
  // The bytes are the core's own encoding of the object's clock.
  replication::causal::VersionVector clock;
  ASSERT_TRUE(
      replication::causal::VersionVector::Decode(from_get, &clock).ok());
  EXPECT_EQ(clock.Encode(), from_get);
  EXPECT_FALSE(clock.empty());

  // if_modified with the current clock: unchanged.
  pbc::RpbGetReq get = GetReq("b", "k");
  get.set_if_modified(from_get);
  pbc::RpbGetResp same = Get(get);
  EXPECT_TRUE(same.unchanged());
  EXPECT_EQ(same.content_size(), 0);

  // After another write it has changed.
  req = PutReq("b", "k", "v2");
  req.set_vclock(from_get);
  Put(req);
  pbc::RpbGetResp changed = Get(get);
  EXPECT_FALSE(changed.unchanged());
  EXPECT_EQ(Values(changed), std::vector<std::string>{"v2"});
}

TEST_F(HandlerTest, DeletedKeyAndDeletedVclock) {
  Put("b", "k", "v");
  Delete("b", "k");
  EXPECT_EQ(stats_.deletes, 1u);
  EXPECT_EQ(stats_.delete_latency_us.count(), 1u);

  auto plain = Call(pbc::Code::kGetReq, GetReq("b", "k"));
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_TRUE(plain[0].body.empty()) << "not found is an empty RpbGetResp";

  pbc::RpbGetReq req = GetReq("b", "k");
  req.set_deletedvclock(true);
  pbc::RpbGetResp tomb = Get(req);
  EXPECT_EQ(tomb.content_size(), 0);
  ASSERT_FALSE(tomb.vclock().empty());

  // A never-written key has no clock to give, asked or not.
  pbc::RpbGetReq none = GetReq("b", "never");
  none.set_deletedvclock(true);
  EXPECT_FALSE(Get(none).has_vclock());

  // Writing over the tombstone with its clock leaves one live value.
  pbc::RpbPutReq put = PutReq("b", "k", "back");
  put.set_vclock(tomb.vclock());
  Put(put);
  EXPECT_EQ(Values(Get("b", "k")), std::vector<std::string>{"back"});

  // Deleting what is not there succeeds.
  Delete("b", "never");
}

TEST_F(HandlerTest, DeleteWithVclock) {
  AllowMult("b");
  pbc::RpbPutReq req = PutReq("b", "k", "seen");
  req.set_return_body(true);
  std::string seen = Put(req).vclock();
  Put("b", "k", "concurrent");
  Delete("b", "k", seen);
  // Only what the delete's context covered is gone.
  EXPECT_EQ(Values(Get("b", "k")), std::vector<std::string>{"concurrent"});
}

TEST_F(HandlerTest, MalformedBodiesAreRefusedAndNothingIsApplied) {
  uint64_t bad_before = stats_.bad_requests;
  // Not protobuf at all.
  auto err = CallError(static_cast<uint8_t>(pbc::Code::kPutReq),
                       std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("RpbPutReq"), std::string::npos);

  // Valid protobuf, but the required content is missing.
  pbc::RpbPutReq no_content;
  no_content.set_bucket("b");
  no_content.set_key("k");
  err = CallError(static_cast<uint8_t>(pbc::Code::kPutReq),
                  no_content.SerializePartialAsString());
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));

  // A get without its key.
  pbc::RpbGetReq no_key;
  no_key.set_bucket("b");
  err = CallError(static_cast<uint8_t>(pbc::Code::kGetReq),
                  no_key.SerializePartialAsString());
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));

  // Truncated in the middle of a field.
  std::string good = PutReq("b", "k", "value").SerializeAsString();
  err = CallError(static_cast<uint8_t>(pbc::Code::kPutReq),
                  good.substr(0, good.size() - 2));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));

  EXPECT_EQ(stats_.bad_requests, bad_before + 4);
  EXPECT_EQ(stats_.puts, 0u);
  EXPECT_TRUE(Call(pbc::Code::kGetReq, GetReq("b", "k"))[0].body.empty());
  // The connection keeps working.
  EXPECT_EQ(Call(pbc::Code::kPingReq)[0].code,
            static_cast<uint8_t>(pbc::Code::kPingResp));
}

TEST_F(HandlerTest, EmptyBucketOrKeyIsRefused) {
  auto err = CallError(pbc::Code::kGetReq, GetReq("", "k"));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  err = CallError(pbc::Code::kGetReq, GetReq("b", ""));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  err = CallError(pbc::Code::kPutReq, PutReq("", "k", "v"));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
}

TEST_F(HandlerTest, AdministrationIsForLoopbackClientsOnly) {
  pbc::RpbSetBucketTypeReq create;
  create.set_type("remote");
  create.mutable_props();
  for (auto [code, body] :
       {std::pair{pbc::Code::kCreateBucketTypeReq, create.SerializeAsString()},
        std::pair{pbc::Code::kSetBucketTypeReq, create.SerializeAsString()},
        std::pair{pbc::Code::kClusterLeaveReq, std::string()},
        std::pair{pbc::Code::kClusterStatusReq, std::string()}}) {
    auto remote = std::make_shared<Recorder>();
    remote->loopback = false;
    handler_->Handle(Frame{static_cast<uint8_t>(code), body}, remote);
    ASSERT_EQ(remote->frames.size(), 1u);
    EXPECT_EQ(remote->done, 1);
    const auto err = ParseAs<pbc::RpbErrorResp>(remote->frames[0]);
    EXPECT_NE(err.errmsg().find("loopback clients only"), std::string::npos)
        << err.errmsg();
  }
  replication::BucketProps props;
  EXPECT_FALSE(core_->GetBucketTypeProps("remote", &props).ok());
  // Data requests from anywhere are served; a loopback client administers.
  auto remote = std::make_shared<Recorder>();
  remote->loopback = false;
  handler_->Handle(Frame{static_cast<uint8_t>(pbc::Code::kPingReq), ""},
                   remote);
  ASSERT_EQ(remote->frames.size(), 1u);
  EXPECT_EQ(remote->frames[0].code, static_cast<uint8_t>(pbc::Code::kPingResp));
  auto frames = Call(pbc::Code::kCreateBucketTypeReq, create);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kSetBucketResp))
      << ErrorText(frames[0]);
}

TEST_F(HandlerTest, OverLongNamesAreRefusedAndNothingIsApplied) {
  const std::string at_limit(kMaxNameBytes, 'n');
  const std::string over(kMaxNameBytes + 1, 'n');
  Put("b", at_limit, "v");  // the limit itself is allowed
  Put(at_limit, "k", "v");
  auto err = CallError(pbc::Code::kPutReq, PutReq("b", over, "v"));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("key"), std::string::npos) << err.errmsg();
  EXPECT_NE(err.errmsg().find("1024"), std::string::npos) << err.errmsg();
  err = CallError(pbc::Code::kGetReq, GetReq(over, "k"));
  EXPECT_NE(err.errmsg().find("bucket name"), std::string::npos)
      << err.errmsg();
  pbc::RpbGetReq typed = GetReq("b", "k");
  typed.set_type(over);
  err = CallError(pbc::Code::kGetReq, typed);
  EXPECT_NE(err.errmsg().find("bucket type name"), std::string::npos)
      << err.errmsg();
  pbc::RpbListKeysReq list;
  list.set_bucket(over);
  CallError(pbc::Code::kListKeysReq, list);
  EXPECT_EQ(stats_.requests_refused_too_long, 4u);
  EXPECT_EQ(stats_.puts, 2u);
}

TEST_F(HandlerTest, UnknownCodesAreNamedAndTheConnectionStays) {
  for (uint8_t code : {uint8_t{23}, uint8_t{84}, uint8_t{99}, uint8_t{254},
                       static_cast<uint8_t>(pbc::Code::kPingResp),
                       static_cast<uint8_t>(pbc::Code::kErrorResp)}) {
    auto err = CallError(code, "whatever");
    EXPECT_EQ(err.errcode(),
              static_cast<uint32_t>(pbc::ErrorCode::kUnknownMessage));
    EXPECT_NE(err.errmsg().find(std::to_string(code)), std::string::npos)
        << err.errmsg();
  }
  EXPECT_EQ(stats_.bad_requests, 6u);
}

TEST_F(HandlerTest, BadVclockIsRefusedAndNothingIsApplied) {
  pbc::RpbPutReq req = PutReq("b", "k", "v");
  req.set_vclock("not a vclock at all");
  auto err = CallError(pbc::Code::kPutReq, req);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("vclock"), std::string::npos);
  EXPECT_TRUE(Call(pbc::Code::kGetReq, GetReq("b", "k"))[0].body.empty());

  Put("b", "k", "kept");
  pbc::RpbDelReq del;
  del.set_bucket("b");
  del.set_key("k");
  del.set_vclock(std::string("\x01\xff\xff", 3));
  err = CallError(pbc::Code::kDelReq, del);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_EQ(Values(Get("b", "k")), std::vector<std::string>{"kept"});

  pbc::RpbGetReq get = GetReq("b", "k");
  get.set_if_modified("junk");
  err = CallError(pbc::Code::kGetReq, get);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
}

TEST_F(HandlerTest, PreconditionFailuresUseRiakMessages) {
  pbc::RpbPutReq first = PutReq("b", "k", "v1");
  first.set_return_body(true);
  std::string clock = Put(first).vclock();

  pbc::RpbPutReq none_match = PutReq("b", "k", "v2");
  none_match.set_if_none_match(true);
  auto err = CallError(pbc::Code::kPutReq, none_match);
  EXPECT_EQ(err.errmsg(), "match_found");
  EXPECT_EQ(err.errcode(),
            static_cast<uint32_t>(pbc::ErrorCode::kPreconditionFailed));

  pbc::RpbPutReq second = PutReq("b", "k", "v2");
  second.set_vclock(clock);
  Put(second);  // the stored clock moves on

  pbc::RpbPutReq stale = PutReq("b", "k", "v3");
  stale.set_vclock(clock);
  stale.set_if_not_modified(true);
  err = CallError(pbc::Code::kPutReq, stale);
  EXPECT_EQ(err.errmsg(), "modified");
  EXPECT_EQ(Values(Get("b", "k")), std::vector<std::string>{"v2"});
  EXPECT_EQ(stats_.put_errors, 2u);

  // if_none_match on a new key succeeds.
  pbc::RpbPutReq fresh = PutReq("b", "fresh", "v");
  fresh.set_if_none_match(true);
  Put(fresh);
}

TEST_F(HandlerTest, CoreErrorsCarryTheCoresMessage) {
  pbc::RpbGetReq req = GetReq("b", "k");
  req.set_r(7);  // above n_val 3
  auto err = CallError(pbc::Code::kGetReq, req);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("get of 'default/b/k' failed"), std::string::npos)
      << err.errmsg();
  EXPECT_NE(err.errmsg().find("r"), std::string::npos);
  EXPECT_EQ(stats_.get_errors, 1u);

  pbc::RpbGetReq typed = GetReq("b", "k");
  typed.set_type("no_such_type");
  err = CallError(pbc::Code::kGetReq, typed);
  EXPECT_NE(err.errmsg().find("no_such_type"), std::string::npos)
      << err.errmsg();
}

TEST_F(HandlerTest, SymbolicQuorumsAreAccepted) {
  pbc::RpbPutReq req = PutReq("b", "k", "v");
  req.set_w(kQuorumAll);
  req.set_dw(kQuorumOne);
  req.set_pw(kQuorumQuorum);
  Put(req);
  pbc::RpbGetReq get = GetReq("b", "k");
  get.set_r(kQuorumOne);
  get.set_pr(kQuorumAll);
  get.set_notfound_ok(false);
  get.set_basic_quorum(true);
  EXPECT_EQ(Values(Get(get)), std::vector<std::string>{"v"});
}

TEST_F(HandlerTest, BucketPropsRoundTrip) {
  pbc::RpbBucketProps defaults = GetBucket("b");
  EXPECT_EQ(defaults.n_val(), 3u);
  EXPECT_FALSE(defaults.allow_mult());
  EXPECT_EQ(defaults.r(), kQuorumQuorum);
  EXPECT_TRUE(defaults.notfound_ok());

  pbc::RpbBucketProps props;
  props.set_n_val(2);
  props.set_allow_mult(true);
  props.set_last_write_wins(false);
  props.set_r(kQuorumOne);
  props.set_w(kQuorumAll);
  props.set_pr(1);
  props.set_pw(0);
  props.set_dw(kQuorumOne);
  props.set_rw(2);
  props.set_basic_quorum(true);
  props.set_notfound_ok(false);
  // Harmless fields Causeway has no use for are accepted.
  props.set_backend("bitcask");
  props.set_search(false);
  props.set_old_vclock(86400);
  props.set_big_vclock(50);
  props.add_precommit()->set_name("validate");
  props.set_repl(pbc::RpbBucketProps::REALTIME);
  SetBucket("b", props);

  pbc::RpbBucketProps got = GetBucket("b");
  EXPECT_EQ(got.n_val(), 2u);
  EXPECT_TRUE(got.allow_mult());
  EXPECT_FALSE(got.last_write_wins());
  EXPECT_EQ(got.r(), kQuorumOne);
  EXPECT_EQ(got.w(), kQuorumAll);
  EXPECT_EQ(got.pr(), 1u);
  EXPECT_EQ(got.pw(), 0u);
  EXPECT_EQ(got.dw(), kQuorumOne);
  EXPECT_EQ(got.rw(), 2u);
  EXPECT_TRUE(got.basic_quorum());
  EXPECT_FALSE(got.notfound_ok());
  EXPECT_FALSE(got.consistent());

  // Other buckets keep the defaults; reset restores them.
  EXPECT_EQ(GetBucket("other").n_val(), 3u);
  pbc::RpbResetBucketReq reset;
  reset.set_bucket("b");
  auto frames = Call(pbc::Code::kResetBucketReq, reset);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kResetBucketResp));
  pbc::RpbBucketProps after = GetBucket("b");
  EXPECT_EQ(after.n_val(), 3u);
  EXPECT_FALSE(after.allow_mult());
}

TEST_F(HandlerTest, UnsupportedOrInvalidPropsAreRefused) {
  auto refuse = [&](const pbc::RpbBucketProps& props, const char* needle) {
    pbc::RpbSetBucketReq req;
    req.set_bucket("b");
    *req.mutable_props() = props;
    auto err = CallError(pbc::Code::kSetBucketReq, req);
    EXPECT_EQ(err.errcode(),
              static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
    EXPECT_NE(err.errmsg().find(needle), std::string::npos) << err.errmsg();
  };
  pbc::RpbBucketProps consistent;
  consistent.set_consistent(true);
  consistent.set_allow_mult(true);
  refuse(consistent, "consistent");
  pbc::RpbBucketProps write_once;
  write_once.set_write_once(true);
  refuse(write_once, "write_once");
  pbc::RpbBucketProps zero_n;
  zero_n.set_n_val(0);
  refuse(zero_n, "n_val");
  pbc::RpbBucketProps big_r;
  big_r.set_n_val(2);
  big_r.set_r(5);
  refuse(big_r, "r");
  pbc::RpbBucketProps datatype;
  datatype.set_datatype("bogus");
  refuse(datatype, "bogus");
  // Nothing of the refused requests was applied.
  EXPECT_FALSE(GetBucket("b").allow_mult());
  EXPECT_EQ(GetBucket("b").n_val(), 3u);
  // consistent=false is simply accepted.
  pbc::RpbBucketProps not_consistent;
  not_consistent.set_consistent(false);
  SetBucket("b", not_consistent);
}

TEST_F(HandlerTest, BucketTypes) {
  pbc::RpbGetBucketTypeReq get;
  get.set_type("maps");
  auto err = CallError(pbc::Code::kGetBucketTypeReq, get);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kNotFound));
  EXPECT_NE(err.errmsg().find("maps"), std::string::npos);

  pbc::RpbSetBucketTypeReq set;
  set.set_type("maps");
  set.mutable_props()->set_n_val(2);
  // Set changes existing types only; create makes one, once.
  err = CallError(pbc::Code::kSetBucketTypeReq, set);
  EXPECT_NE(err.errmsg().find("does not exist"), std::string::npos);
  auto frames = Call(pbc::Code::kCreateBucketTypeReq, set);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kSetBucketResp))
      << ErrorText(frames[0]);
  err = CallError(pbc::Code::kCreateBucketTypeReq, set);
  EXPECT_NE(err.errmsg().find("already exists"), std::string::npos);
  frames = Call(pbc::Code::kSetBucketTypeReq, set);
  EXPECT_EQ(frames[0].code, static_cast<uint8_t>(pbc::Code::kSetBucketResp))
      << ErrorText(frames[0]);
  // Riak stores no properties for the type `default`.
  set.set_type("default");
  err = CallError(pbc::Code::kSetBucketTypeReq, set);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));
  EXPECT_NE(err.errmsg().find("'default' cannot be changed"), std::string::npos)
      << err.errmsg();
  set.set_type("maps");
  pbc::RpbSetBucketTypeReq typo;
  typo.set_type("datatype=set");
  typo.mutable_props();
  err = CallError(pbc::Code::kCreateBucketTypeReq, typo);
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kBadRequest));

  auto props = CallOne<pbc::RpbGetBucketResp>(pbc::Code::kGetBucketTypeReq, get,
                                              pbc::Code::kGetBucketResp)
                   .props();
  EXPECT_EQ(props.n_val(), 2u);
  EXPECT_TRUE(props.allow_mult());  // new types default to siblings

  // A bucket in the type inherits it; the type field is honoured on get.
  pbc::RpbGetBucketReq bucket;
  bucket.set_bucket("b");
  bucket.set_type("maps");
  EXPECT_EQ(CallOne<pbc::RpbGetBucketResp>(pbc::Code::kGetBucketReq, bucket,
                                           pbc::Code::kGetBucketResp)
                .props()
                .n_val(),
            2u);

  // Objects in a typed bucket are apart from the default type's.
  pbc::RpbPutReq put = PutReq("b", "k", "typed");
  put.set_type("maps");
  Put(put);
  pbc::RpbGetReq typed = GetReq("b", "k");
  typed.set_type("maps");
  EXPECT_EQ(Values(Get(typed)), std::vector<std::string>{"typed"});
  EXPECT_TRUE(Call(pbc::Code::kGetReq, GetReq("b", "k"))[0].body.empty());
}

TEST_F(HandlerTest, ListKeysStreamsAndEndsWithDone) {
  std::set<std::string> want;
  for (int i = 0; i < 150; ++i) {
    std::string key = "key" + std::to_string(i);
    Put("b", key, "v");
    want.insert(key);
  }
  Put("other", "x", "v");

  pbc::RpbListKeysReq req;
  req.set_bucket("b");
  auto r = std::make_shared<Recorder>();
  handler_->Handle(Frame{static_cast<uint8_t>(pbc::Code::kListKeysReq),
                         req.SerializeAsString()},
                   r);
  // The core lists one partition per turn of the loop: the request is still
  // open until time moves.
  EXPECT_EQ(r->done, 0);
  for (int i = 0; i < 1000 && r->done == 0; ++i) env_.Advance(0);
  ASSERT_EQ(r->done, 1);

  std::set<std::string> got;
  ASSERT_GE(r->frames.size(), 2u);
  for (size_t i = 0; i < r->frames.size(); ++i) {
    ASSERT_EQ(r->frames[i].code,
              static_cast<uint8_t>(pbc::Code::kListKeysResp));
    auto resp = ParseAs<pbc::RpbListKeysResp>(r->frames[i]);
    EXPECT_EQ(resp.done(), i + 1 == r->frames.size()) << "frame " << i;
    for (const auto& k : resp.keys()) {
      EXPECT_TRUE(got.insert(k).second) << "key twice: " << k;
    }
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(stats_.list_requests, 1u);
}

TEST_F(HandlerTest, ListKeysOfAnEmptyBucketIsJustDone) {
  pbc::RpbListKeysReq req;
  req.set_bucket("empty");
  auto frames = Call(pbc::Code::kListKeysReq, req);
  ASSERT_EQ(frames.size(), 1u);
  auto resp = ParseAs<pbc::RpbListKeysResp>(frames[0]);
  EXPECT_TRUE(resp.done());
  EXPECT_EQ(resp.keys_size(), 0);
}

TEST_F(HandlerTest, LargeListingsAreSplitIntoBoundedFrames) {
  // 600 keys of 1000 bytes: more than one frame's worth.
  for (int i = 0; i < 600; ++i) {
    std::string key = std::to_string(i) + std::string(1000, 'k');
    Put("big", key, "v");
  }
  pbc::RpbListKeysReq req;
  req.set_bucket("big");
  auto frames = Call(pbc::Code::kListKeysReq, req);
  size_t keys = 0;
  for (const auto& f : frames) {
    EXPECT_LT(f.body.size(), 300u << 10);
    keys += ParseAs<pbc::RpbListKeysResp>(f).keys_size();
  }
  EXPECT_EQ(keys, 600u);
}

TEST_F(HandlerTest, ListKeysOfAnUnknownTypeIsAnError) {
  pbc::RpbListKeysReq req;
  req.set_bucket("b");
  req.set_type("nope");
  auto err = CallError(pbc::Code::kListKeysReq, req);
  EXPECT_NE(err.errmsg().find("nope"), std::string::npos);
}

TEST_F(HandlerTest, ListBucketsWithAndWithoutStreaming) {
  Put("b1", "k", "v");
  Put("b2", "k", "v");
  Put("b3", "k", "v");

  // Without stream: one reply holding all.
  auto frames = Call(pbc::Code::kListBucketsReq, pbc::RpbListBucketsReq());
  ASSERT_EQ(frames.size(), 1u);
  auto all = ParseAs<pbc::RpbListBucketsResp>(frames[0]);
  std::set<std::string> got(all.buckets().begin(), all.buckets().end());
  EXPECT_EQ(got, (std::set<std::string>{"b1", "b2", "b3"}));

  // With stream: batches, then done.
  pbc::RpbListBucketsReq req;
  req.set_stream(true);
  frames = Call(pbc::Code::kListBucketsReq, req);
  ASSERT_GE(frames.size(), 2u);
  got.clear();
  for (size_t i = 0; i < frames.size(); ++i) {
    auto resp = ParseAs<pbc::RpbListBucketsResp>(frames[i]);
    EXPECT_EQ(resp.done(), i + 1 == frames.size());
    got.insert(resp.buckets().begin(), resp.buckets().end());
  }
  EXPECT_EQ(got, (std::set<std::string>{"b1", "b2", "b3"}));
}

TEST_F(HandlerTest, NonStreamedBucketListIsBoundedByTheFrameLimit) {
  PbcHandlerOptions options;
  options.max_frame_bytes = 100;
  PbcHandler small(*core_, stats_, options);
  for (int i = 0; i < 20; ++i) Put("bucket-" + std::to_string(i), "k", "v");
  auto r = std::make_shared<Recorder>();
  small.Handle(Frame{static_cast<uint8_t>(pbc::Code::kListBucketsReq), ""}, r);
  env_.Advance(0);
  ASSERT_EQ(r->done, 1);
  ASSERT_EQ(r->frames.size(), 1u);
  EXPECT_EQ(r->frames[0].code, 0);
  EXPECT_NE(ErrorText(r->frames[0]).find("stream"), std::string::npos);
}

TEST_F(HandlerTest, Preflist) {
  pbc::RpbGetBucketKeyPreflistReq req;
  req.set_bucket("b");
  req.set_key("k");
  auto resp = CallOne<pbc::RpbGetBucketKeyPreflistResp>(
      pbc::Code::kGetBucketKeyPreflistReq, req,
      pbc::Code::kGetBucketKeyPreflistResp);
  // As in Riak, n_val (3) partitions, all on the one node (which keeps
  // one copy of the key).
  ASSERT_EQ(resp.preflist_size(), 3);
  for (const auto& item : resp.preflist()) {
    EXPECT_EQ(item.node(), "causeway@test");
    EXPECT_TRUE(item.primary());
    EXPECT_GE(item.partition(), 0);
    EXPECT_LT(item.partition(), 64);
  }

  // The type must exist.
  req.set_type("nope");
  auto err = CallError(pbc::Code::kGetBucketKeyPreflistReq, req);
  EXPECT_NE(err.errmsg().find("nope"), std::string::npos) << err.errmsg();
}

TEST_F(HandlerTest, RandomBodiesAlwaysGetExactlyOneEnding) {
  // Whatever the bytes, every request code ends its request exactly once,
  // with at least one reply and the connection open (Call checks all three).
  std::mt19937 rng(3);
  const uint8_t codes[] = {1,  3,  5,  7,  9,  11, 13, 15,
                           17, 19, 21, 29, 31, 32, 33};
  for (int round = 0; round < 40; ++round) {
    for (uint8_t code : codes) {
      std::string body(rng() % 40, '\0');
      for (auto& c : body) c = static_cast<char>(rng());
      Call(code, body);
    }
  }
  // A well-formed request still works afterwards.
  Put("b", "k", "v");
  EXPECT_EQ(Values(Get("b", "k")), std::vector<std::string>{"v"});
}

TEST_F(HandlerTest, RejectStreamSendsAnErrorAndCloses) {
  FrameDecoder decoder(16);
  EXPECT_FALSE(decoder.Feed(std::string("\x00\x01\x00\x00", 4)));
  Recorder r;
  handler_->RejectStream(decoder, r);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.done, 0);
  ASSERT_EQ(r.frames.size(), 1u);
  auto err = ParseAs<pbc::RpbErrorResp>(r.frames[0]);
  EXPECT_EQ(err.errcode(),
            static_cast<uint32_t>(pbc::ErrorCode::kFrameTooLarge));
  EXPECT_NE(err.errmsg().find("65536"), std::string::npos) << err.errmsg();
}

TEST_F(HandlerTest, RequestsOutliveTheHandler) {
  Put("b", "k", "v");
  pbc::RpbListKeysReq req;
  req.set_bucket("b");
  auto r = std::make_shared<Recorder>();
  handler_->Handle(Frame{static_cast<uint8_t>(pbc::Code::kListKeysReq),
                         req.SerializeAsString()},
                   r);
  ASSERT_EQ(r->done, 0);
  handler_.reset();  // the connection's server went away mid-listing
  for (int i = 0; i < 1000 && r->done == 0; ++i) env_.Advance(0);
  EXPECT_EQ(r->done, 1);
  ASSERT_FALSE(r->frames.empty());
  EXPECT_TRUE(ParseAs<pbc::RpbListKeysResp>(r->frames.back()).done());
}

}  // namespace
}  // namespace causeway::node
