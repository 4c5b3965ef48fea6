// PbcHandler with a security gate: Riak's order (STARTTLS, then a login,
// then requests), Riak's refusals, each request's permission on its type
// and bucket, administration by grant, and nothing changed when security
// is off. The connection is a Recorder whose Session the test controls.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "node/pbc_handler.h"
#include "node/stats.h"
#include "proto/admin.pb.h"
#include "proto/riak.pb.h"
#include "replication/core.h"
#include "storage/engine.h"
#include "tests/support/manual_env.h"
#include "tests/unit/node/fake_security_gate.h"
#include "tests/unit/node/pbc_recorder.h"

namespace causeway::node {
namespace {

using google::protobuf::MessageLite;

constexpr uint8_t Code(pbc::Code c) { return static_cast<uint8_t>(c); }

class SecureHandlerTest : public ::testing::Test {
 protected:
  SecureHandlerTest() : engine_(storage::NewMemoryEngine()) {
    replication::NodeConfig config;
    config.name = "causeway@test";
    core_ = std::make_unique<replication::NodeCore>(env_, *engine_, config);
    EXPECT_TRUE(core_->Open().ok());
    gate_.passwords = {{"alice", "secret"}, {"bob", "hunter2"}};
    PbcHandlerOptions options;
    options.security = &gate_;
    handler_ = std::make_unique<PbcHandler>(*core_, stats_, options);
  }

  // A connection that has switched to TLS and, given a user, logged in.
  static std::shared_ptr<Recorder> Connection(bool tls, const char* user) {
    auto r = std::make_shared<Recorder>();
    r->session_state.tls = tls;
    if (user != nullptr) r->session_state.user = user;
    return r;
  }

  // Sends one request on `r` and returns the frames it got for it.
  std::vector<Frame> Send(Recorder& r, uint8_t code, const std::string& body) {
    size_t before = r.frames.size();
    int done = r.done;
    // The handler holds the responder by shared_ptr; the test owns it.
    std::shared_ptr<Recorder> alias(std::shared_ptr<Recorder>{}, &r);
    handler_->Handle(Frame{code, body}, alias);
    for (int i = 0; i < 1000 && r.done == done; ++i) env_.Advance(0);
    EXPECT_EQ(r.done, done + 1) << "one ending per request";
    return {r.frames.begin() + static_cast<long>(before), r.frames.end()};
  }
  std::vector<Frame> Send(Recorder& r, pbc::Code code, const MessageLite& m) {
    return Send(r, Code(code), m.SerializeAsString());
  }

  // A request that must end with exactly one RpbErrorResp.
  pbc::RpbErrorResp Error(Recorder& r, uint8_t code, const std::string& body) {
    auto frames = Send(r, code, body);
    pbc::RpbErrorResp err;
    EXPECT_EQ(frames.size(), 1u);
    if (frames.empty()) return err;
    EXPECT_EQ(frames[0].code, 0) << "code " << int(code);
    EXPECT_TRUE(err.ParseFromString(frames[0].body));
    return err;
  }

  static std::string Auth(const std::string& user, const std::string& pw) {
    pbc::RpbAuthReq req;
    req.set_user(user);
    req.set_password(pw);
    return req.SerializeAsString();
  }

  static std::string PutBody(const std::string& bucket, const std::string& key,
                             const std::string& value) {
    pbc::RpbPutReq req;
    req.set_bucket(bucket);
    req.set_key(key);
    req.mutable_content()->set_value(value);
    return req.SerializeAsString();
  }
  static std::string GetBody(const std::string& bucket,
                             const std::string& key) {
    pbc::RpbGetReq req;
    req.set_bucket(bucket);
    req.set_key(key);
    return req.SerializeAsString();
  }

  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<replication::NodeCore> core_;
  Stats stats_;
  FakeSecurityGate gate_;
  std::unique_ptr<PbcHandler> handler_;
};

TEST_F(SecureHandlerTest, BeforeTlsOnlyStartTlsIsServed) {
  auto c = Connection(false, nullptr);
  for (auto [code, body] :
       {std::pair{Code(pbc::Code::kPingReq), std::string()},
        std::pair{Code(pbc::Code::kGetReq), GetBody("b", "k")},
        std::pair{Code(pbc::Code::kPutReq), PutBody("b", "k", "v")},
        std::pair{Code(pbc::Code::kClusterStatusReq), std::string()},
        std::pair{uint8_t{99}, std::string("?")},
        // A password is never taken in plain text.
        std::pair{Code(pbc::Code::kAuthReq), Auth("alice", "secret")}}) {
    auto err = Error(*c, code, body);
    EXPECT_EQ(err.errmsg(), "Security is enabled, please STARTTLS first");
    EXPECT_EQ(err.errcode(),
              static_cast<uint32_t>(pbc::ErrorCode::kUnauthenticated));
  }
  EXPECT_FALSE(c->closed);
  EXPECT_TRUE(gate_.seen.empty());
  EXPECT_EQ(stats_.client_security.unauthenticated, 6u);
  EXPECT_EQ(stats_.puts, 0u);

  c->tls_answer = PbcResponder::TlsStart::kStarted;
  auto frames = Send(*c, Code(pbc::Code::kStartTls), "");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kStartTls));
  EXPECT_TRUE(frames[0].body.empty());
  EXPECT_EQ(c->tls_requests, 1);
}

TEST_F(SecureHandlerTest, AfterTlsALoginComesFirst) {
  auto c = Connection(true, nullptr);
  for (uint8_t code : {Code(pbc::Code::kPingReq), uint8_t{99}}) {
    EXPECT_EQ(Error(*c, code, "").errmsg(),
              "Security is enabled, please authenticate first");
  }
  auto frames = Send(*c, Code(pbc::Code::kAuthReq), Auth("alice", "secret"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kAuthResp));
  EXPECT_TRUE(frames[0].body.empty());
  ASSERT_TRUE(c->session_state.user.has_value());
  EXPECT_EQ(*c->session_state.user, "alice");
  // The gate saw the session as the connection has it.
  ASSERT_EQ(gate_.seen.size(), 1u);
  EXPECT_TRUE(gate_.seen[0].tls);
  EXPECT_EQ(gate_.seen[0].address, "127.0.0.1");
  frames = Send(*c, Code(pbc::Code::kPingReq), "");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kPingResp));
  // One login per connection.
  auto err = Error(*c, Code(pbc::Code::kAuthReq), Auth("bob", "hunter2"));
  EXPECT_NE(err.errmsg().find("already authenticated as 'alice'"),
            std::string::npos)
      << err.errmsg();
  EXPECT_EQ(*c->session_state.user, "alice");
  EXPECT_EQ(stats_.client_security.auth_successes, 1u);
}

TEST_F(SecureHandlerTest, RefusedLoginsReadAlikeAndTheThirdCloses) {
  auto c = Connection(true, nullptr);
  auto wrong = Error(*c, Code(pbc::Code::kAuthReq), Auth("alice", "nope"));
  auto unknown = Error(*c, Code(pbc::Code::kAuthReq), Auth("mallory", "x"));
  EXPECT_EQ(wrong.errmsg(), "Authentication failed");
  EXPECT_EQ(unknown.errmsg(), wrong.errmsg());
  EXPECT_EQ(wrong.errcode(),
            static_cast<uint32_t>(pbc::ErrorCode::kUnauthenticated));
  EXPECT_FALSE(c->session_state.user.has_value());
  EXPECT_FALSE(c->closed);
  auto third = Error(*c, Code(pbc::Code::kAuthReq), Auth("alice", "secret1"));
  EXPECT_NE(third.errmsg().find("Authentication failed"), std::string::npos);
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(stats_.client_security.auth_failures, 3u);
  EXPECT_EQ(stats_.client_security.auth_successes, 0u);
  // A body that is not an RpbAuthReq is a bad request, not a login.
  auto d = Connection(true, nullptr);
  auto bad = Error(*d, Code(pbc::Code::kAuthReq), "\xff\xff");
  EXPECT_NE(bad.errmsg().find("RpbAuthReq"), std::string::npos);
  EXPECT_EQ(stats_.client_security.auth_failures, 3u);
}

// Every request asks for its own permission on its own type and bucket:
// refused without the grant, naming both; served with exactly that grant.
TEST_F(SecureHandlerTest, EachRequestNeedsItsPermissionOnItsTypeAndBucket) {
  ASSERT_TRUE(core_
                  ->CreateBucketType("maps",
                                     [] {
                                       replication::BucketPropsPatch p;
                                       p.datatype = "map";
                                       return p;
                                     }())
                  .ok());
  pbc::RpbListKeysReq list_keys;
  list_keys.set_bucket("fruit");
  pbc::RpbListBucketsReq list_buckets;
  list_buckets.set_type("maps");
  pbc::RpbGetBucketReq get_bucket;
  get_bucket.set_bucket("fruit");
  pbc::RpbSetBucketReq set_bucket;
  set_bucket.set_bucket("fruit");
  set_bucket.mutable_props()->set_allow_mult(true);
  pbc::RpbResetBucketReq reset_bucket;
  reset_bucket.set_bucket("fruit");
  pbc::RpbGetBucketTypeReq get_type;
  get_type.set_type("maps");
  pbc::RpbDelReq del;
  del.set_bucket("fruit");
  del.set_key("apple");
  pbc::RpbGetBucketKeyPreflistReq preflist;
  preflist.set_bucket("fruit");
  preflist.set_key("apple");
  pbc::DtFetchReq dt_fetch;
  dt_fetch.set_type("maps");
  dt_fetch.set_bucket("users");
  dt_fetch.set_key("ada");
  pbc::DtUpdateReq dt_update;
  dt_update.set_type("maps");
  dt_update.set_bucket("users");
  dt_update.set_key("ada");
  auto* field = dt_update.mutable_op()->mutable_map_op()->add_updates();
  field->mutable_field()->set_name("visits");
  field->mutable_field()->set_type(pbc::MapField::COUNTER);
  field->mutable_counter_op()->set_increment(1);

  struct Case {
    uint8_t code;
    std::string body;
    Permission permission;
    std::string type, bucket;  // the scope the refusal names
    std::string scope_text;
  };
  const std::vector<Case> cases = {
      {Code(pbc::Code::kGetReq), GetBody("fruit", "apple"), Permission::kGet,
       "default", "fruit", "'default/fruit'"},
      {Code(pbc::Code::kPutReq), PutBody("fruit", "apple", "red"),
       Permission::kPut, "default", "fruit", "'default/fruit'"},
      {Code(pbc::Code::kDelReq), del.SerializeAsString(), Permission::kDelete,
       "default", "fruit", "'default/fruit'"},
      {Code(pbc::Code::kListKeysReq), list_keys.SerializeAsString(),
       Permission::kListKeys, "default", "fruit", "'default/fruit'"},
      {Code(pbc::Code::kListBucketsReq), list_buckets.SerializeAsString(),
       Permission::kListBuckets, "maps", "", "type 'maps'"},
      {Code(pbc::Code::kGetBucketReq), get_bucket.SerializeAsString(),
       Permission::kGetBucket, "default", "fruit", "'default/fruit'"},
      {Code(pbc::Code::kSetBucketReq), set_bucket.SerializeAsString(),
       Permission::kSetBucket, "default", "fruit", "'default/fruit'"},
      {Code(pbc::Code::kResetBucketReq), reset_bucket.SerializeAsString(),
       Permission::kSetBucket, "default", "fruit", "'default/fruit'"},
      {Code(pbc::Code::kGetBucketTypeReq), get_type.SerializeAsString(),
       Permission::kGetBucketType, "maps", "", "type 'maps'"},
      {Code(pbc::Code::kGetBucketKeyPreflistReq), preflist.SerializeAsString(),
       Permission::kGet, "default", "fruit", "'default/fruit'"},
      {Code(pbc::Code::kDtFetchReq), dt_fetch.SerializeAsString(),
       Permission::kGet, "maps", "users", "'maps/users'"},
      {Code(pbc::Code::kDtUpdateReq), dt_update.SerializeAsString(),
       Permission::kPut, "maps", "users", "'maps/users'"},
      {Code(pbc::Code::kListBucketTypesReq), "", Permission::kGetBucketType, "",
       "", "ANY"},
  };
  auto c = Connection(true, "alice");
  for (const Case& k : cases) {
    SCOPED_TRACE(std::string(PermissionName(k.permission)) + " code " +
                 std::to_string(k.code));
    gate_.grants.clear();
    // Grants elsewhere do not help: another bucket, another type, another
    // user, another permission.
    gate_.grants.push_back({"alice", k.permission, "default", "veg"});
    gate_.grants.push_back({"alice", k.permission, "other", ""});
    gate_.grants.push_back({"bob", k.permission, "", ""});
    for (const auto& [perm, name] : kPermissionNames) {
      if (perm != k.permission) gate_.grants.push_back({"alice", perm, "", ""});
    }
    auto err = Error(*c, k.code, k.body);
    EXPECT_EQ(err.errmsg(), "Permission denied: User 'alice' does not have '" +
                                std::string(PermissionName(k.permission)) +
                                "' on " + k.scope_text);
    EXPECT_EQ(err.errcode(),
              static_cast<uint32_t>(pbc::ErrorCode::kPermissionDenied));
    gate_.grants.push_back({"alice", k.permission, k.type, k.bucket});
    auto frames = Send(*c, k.code, k.body);
    ASSERT_FALSE(frames.empty());
    EXPECT_NE(frames.back().code, 0) << [&] {
      pbc::RpbErrorResp e;
      e.ParseFromString(frames.back().body);
      return e.errmsg();
    }();
  }
  EXPECT_EQ(stats_.client_security.permission_denied, cases.size());
}

TEST_F(SecureHandlerTest, ARefusedWriteChangesNothing) {
  auto c = Connection(true, "alice");
  gate_.grants = {{"alice", Permission::kGet, "default", ""},
                  {"alice", Permission::kPut, "default", "fruit"}};
  EXPECT_EQ(
      Error(*c, Code(pbc::Code::kPutReq), PutBody("veg", "k", "v")).errmsg(),
      "Permission denied: User 'alice' does not have 'riak_kv.put' on "
      "'default/veg'");
  auto frames = Send(*c, Code(pbc::Code::kGetReq), GetBody("veg", "k"));
  ASSERT_EQ(frames.size(), 1u);
  pbc::RpbGetResp got;
  ASSERT_TRUE(got.ParseFromString(frames[0].body));
  EXPECT_EQ(got.content_size(), 0);
  frames = Send(*c, Code(pbc::Code::kPutReq), PutBody("fruit", "k", "v"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kPutResp));
}

TEST_F(SecureHandlerTest, AdministrationNeedsClusterAdminOnAnyFromAnywhere) {
  pbc::RpbSetBucketTypeReq create;
  create.set_type("sets");
  create.mutable_props()->set_datatype("set");
  auto remote = Connection(true, "alice");
  remote->loopback = false;
  // Cluster admin on a type is not cluster admin.
  gate_.grants = {{"alice", Permission::kClusterAdmin, "default", ""},
                  {"alice", Permission::kSetBucketType, "", ""}};
  for (auto [code, body] :
       {std::pair{Code(pbc::Code::kClusterStatusReq), std::string()},
        std::pair{Code(pbc::Code::kCreateBucketTypeReq),
                  create.SerializeAsString()}}) {
    EXPECT_EQ(Error(*remote, code, body).errmsg(),
              "Permission denied: User 'alice' does not have "
              "'causeway.cluster_admin' on ANY");
  }
  gate_.grants.push_back({"alice", Permission::kClusterAdmin, "", ""});
  // With security on a grant, not the address, decides.
  auto frames = Send(*remote, Code(pbc::Code::kClusterStatusReq), "");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kClusterStatusResp));
  frames = Send(*remote, Code(pbc::Code::kCreateBucketTypeReq),
                create.SerializeAsString());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kSetBucketResp));
  // Changing a type also takes riak_core.set_bucket_type on it.
  gate_.grants = {{"alice", Permission::kClusterAdmin, "", ""}};
  pbc::RpbSetBucketTypeReq change;
  change.set_type("sets");
  change.mutable_props()->set_n_val(2);
  EXPECT_EQ(Error(*remote, Code(pbc::Code::kSetBucketTypeReq),
                  change.SerializeAsString())
                .errmsg(),
            "Permission denied: User 'alice' does not have "
            "'riak_core.set_bucket_type' on type 'sets'");
  // Ping, server info and client ids need a login only.
  frames = Send(*remote, Code(pbc::Code::kGetServerInfoReq), "");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kGetServerInfoResp));
}

TEST_F(SecureHandlerTest, StartTlsRefusals) {
  auto c = Connection(false, nullptr);
  c->tls_answer = PbcResponder::TlsStart::kNotConfigured;
  EXPECT_NE(Error(*c, Code(pbc::Code::kStartTls), "")
                .errmsg()
                .find("no TLS certificate"),
            std::string::npos);
  EXPECT_FALSE(c->closed);
  c->tls_answer = PbcResponder::TlsStart::kAlreadyTls;
  EXPECT_NE(Error(*c, Code(pbc::Code::kStartTls), "")
                .errmsg()
                .find("over TLS already"),
            std::string::npos);
  EXPECT_FALSE(c->closed);
  c->tls_answer = PbcResponder::TlsStart::kPipelined;
  EXPECT_NE(Error(*c, Code(pbc::Code::kStartTls), "")
                .errmsg()
                .find("closing the connection"),
            std::string::npos);
  EXPECT_TRUE(c->closed);
}

TEST_F(SecureHandlerTest, SecurityOffChangesNothing) {
  gate_.enabled = false;
  auto c = Connection(false, nullptr);
  auto frames = Send(*c, Code(pbc::Code::kPutReq), PutBody("b", "k", "v"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kPutResp));
  EXPECT_EQ(
      Error(*c, Code(pbc::Code::kAuthReq), Auth("alice", "secret")).errmsg(),
      "Security not enabled; authentication not needed");
  EXPECT_TRUE(gate_.seen.empty());
  // The loopback rule guards administration again.
  auto remote = Connection(false, nullptr);
  remote->loopback = false;
  EXPECT_NE(Error(*remote, Code(pbc::Code::kClusterStatusReq), "")
                .errmsg()
                .find("loopback clients only"),
            std::string::npos);
  // TLS stays available when the node has a certificate.
  c->tls_answer = PbcResponder::TlsStart::kStarted;
  frames = Send(*c, Code(pbc::Code::kStartTls), "");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].code, Code(pbc::Code::kStartTls));
  EXPECT_EQ(stats_.client_security.unauthenticated, 0u);
  EXPECT_EQ(stats_.client_security.permission_denied, 0u);
}

TEST(PbcHandlerWithoutGate, AuthIsNotNeededAndRequestsAreServed) {
  testing::ManualEnv env;
  auto engine = storage::NewMemoryEngine();
  replication::NodeCore core(env, *engine, replication::NodeConfig{});
  ASSERT_TRUE(core.Open().ok());
  Stats stats;
  PbcHandler handler(core, stats, PbcHandlerOptions{});
  auto r = std::make_shared<Recorder>();
  pbc::RpbAuthReq auth;
  auth.set_user("alice");
  auth.set_password("secret");
  handler.Handle(Frame{Code(pbc::Code::kAuthReq), auth.SerializeAsString()}, r);
  handler.Handle(Frame{Code(pbc::Code::kPingReq), ""}, r);
  ASSERT_EQ(r->frames.size(), 2u);
  EXPECT_EQ(r->frames[0].code, 0);
  EXPECT_EQ(r->frames[1].code, Code(pbc::Code::kPingResp));
  EXPECT_EQ(r->done, 2);
}

}  // namespace
}  // namespace causeway::node
