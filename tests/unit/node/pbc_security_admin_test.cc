// Security administration (codes 209-212) through PbcHandler against a real
// NodeCore over the in-memory engine: changes and status, refused input,
// passwords hashed before they reach the core, and the guard on enabling.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "node/password_hash.h"
#include "node/pbc_handler.h"
#include "node/stats.h"
#include "proto/admin.pb.h"
#include "proto/riak.pb.h"
#include "replication/core.h"
#include "replication/security/security_registry.h"
#include "storage/engine.h"
#include "tests/support/manual_env.h"
#include "tests/unit/node/pbc_recorder.h"

namespace causeway::node {
namespace {

using replication::NodeCore;

class SecurityAdminTest : public ::testing::Test {
 protected:
  SecurityAdminTest() : engine_(storage::NewMemoryEngine()) {
    replication::NodeConfig config;
    config.name = "causeway@a";
    config.ring_size = 16;
    core_ = std::make_unique<NodeCore>(env_, *engine_, config);
    EXPECT_TRUE(core_->Open().ok());
    handler_ =
        std::make_unique<PbcHandler>(*core_, stats_, PbcHandlerOptions{});
  }

  Frame Call(pbc::Code code, const std::string& body, bool loopback = true) {
    auto r = std::make_shared<Recorder>();
    r->loopback = loopback;
    handler_->Handle(Frame{static_cast<uint8_t>(code), body}, r);
    EXPECT_EQ(r->done, 1);
    EXPECT_FALSE(r->closed);
    EXPECT_EQ(r->frames.size(), 1u);
    return r->frames.empty() ? Frame{0, ""} : r->frames.back();
  }

  // Sends a change; "" when it was applied, else the error message.
  std::string Change(const admin::CwSecurityChangeReq& req) {
    Frame f = Call(pbc::Code::kSecurityChangeReq, req.SerializeAsString());
    if (f.code == static_cast<uint8_t>(pbc::Code::kSecurityChangeResp)) {
      EXPECT_TRUE(f.body.empty());
      return "";
    }
    EXPECT_EQ(f.code, 0);
    pbc::RpbErrorResp err;
    EXPECT_TRUE(err.ParseFromString(f.body));
    last_errcode_ = err.errcode();
    return err.errmsg().empty() ? "(empty error)" : err.errmsg();
  }

  static admin::CwSecurityChangeReq Req(const std::string& op,
                                        std::vector<std::string> users = {}) {
    admin::CwSecurityChangeReq r;
    r.set_op(op);
    for (auto& u : users) r.add_users(u);
    return r;
  }
  static admin::CwSecurityChangeReq Source(const std::string& op,
                                           const std::string& user,
                                           const std::string& cidr,
                                           const std::string& method) {
    admin::CwSecurityChangeReq r = Req(op, {user});
    r.set_cidr(cidr);
    if (!method.empty()) r.set_method(method);
    return r;
  }
  static admin::CwSecurityChangeReq Grant(const std::string& op,
                                          const std::string& user,
                                          std::vector<std::string> perms,
                                          const std::string& type = "",
                                          const std::string& bucket = "") {
    admin::CwSecurityChangeReq r = Req(op, {user});
    for (auto& p : perms) r.add_permissions(p);
    if (!type.empty()) r.set_type(type);
    if (!bucket.empty()) r.set_bucket(bucket);
    return r;
  }

  admin::CwSecurityStatusResp Status(std::string* raw = nullptr) {
    Frame f = Call(pbc::Code::kSecurityStatusReq, "");
    EXPECT_EQ(f.code, static_cast<uint8_t>(pbc::Code::kSecurityStatusResp));
    if (raw != nullptr) *raw = f.body;
    admin::CwSecurityStatusResp s;
    EXPECT_TRUE(s.ParseFromString(f.body));
    return s;
  }

  testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<NodeCore> core_;
  Stats stats_;
  std::unique_ptr<PbcHandler> handler_;
  uint32_t last_errcode_ = 0;
};

TEST_F(SecurityAdminTest, StatusOfAFreshNode) {
  admin::CwSecurityStatusResp s = Status();
  EXPECT_FALSE(s.enabled());
  EXPECT_EQ(s.users_size(), 0);
  EXPECT_EQ(s.sources_size(), 0);
  EXPECT_EQ(s.grants_size(), 0);
}

TEST_F(SecurityAdminTest, UsersSourcesGrantsRoundTrip) {
  admin::CwSecurityChangeReq add = Req("add-user", {"alice"});
  add.set_password("wonderland");
  ASSERT_EQ(Change(add), "");
  ASSERT_EQ(Change(Req("add-user", {"bob"})), "");
  ASSERT_EQ(Change(Source("add-source", "alice", "10.1.2.3/8", "password")),
            "");
  ASSERT_EQ(Change(Source("add-source", "all", "::1", "trust")), "");
  ASSERT_EQ(Change(Grant("grant", "alice", {"riak_kv.get", "riak_kv.put"},
                         "maps", "users")),
            "");
  admin::CwSecurityChangeReq both =
      Grant("grant", "alice", {"riak_kv.list_keys"});
  both.add_users("bob");
  ASSERT_EQ(Change(both), "");

  std::string raw;
  admin::CwSecurityStatusResp s = Status(&raw);
  ASSERT_EQ(s.users_size(), 2);
  EXPECT_EQ(s.users(0).name(), "alice");
  EXPECT_TRUE(s.users(0).has_password());
  EXPECT_EQ(s.users(1).name(), "bob");
  EXPECT_FALSE(s.users(1).has_password());
  ASSERT_EQ(s.sources_size(), 2);
  EXPECT_EQ(s.sources(0).user(), "alice");
  EXPECT_EQ(s.sources(0).cidr(), "10.0.0.0/8");
  EXPECT_EQ(s.sources(0).method(), "password");
  EXPECT_EQ(s.sources(1).user(), "all");
  EXPECT_EQ(s.sources(1).cidr(), "::1/128");
  EXPECT_EQ(s.sources(1).method(), "trust");
  ASSERT_EQ(s.grants_size(), 3);

  // The password reached the core hashed, and the reply holds neither it
  // nor its record.
  const auto* alice = core_->SecurityView().FindUser("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->password.algorithm, kPasswordAlgorithm);
  EXPECT_EQ(alice->password.iterations, kDefaultPasswordIterations);
  EXPECT_NE(alice->password.key, "wonderland");
  EXPECT_TRUE(VerifyPassword("wonderland", alice->password));
  EXPECT_EQ(raw.find("wonderland"), std::string::npos);
  EXPECT_EQ(raw.find(alice->password.key), std::string::npos);
  EXPECT_EQ(raw.find(alice->password.salt), std::string::npos);

  // alter-user replaces the password; revoke and del-user remove.
  admin::CwSecurityChangeReq alter = Req("alter-user", {"alice"});
  alter.set_password("looking-glass");
  ASSERT_EQ(Change(alter), "");
  EXPECT_TRUE(VerifyPassword(
      "looking-glass", core_->SecurityView().FindUser("alice")->password));
  ASSERT_EQ(Change(Grant("revoke", "bob", {"riak_kv.list_keys"})), "");
  ASSERT_EQ(Change(Source("del-source", "all", "::1/128", "")), "");
  ASSERT_EQ(Change(Req("del-user", {"alice"})), "");
  s = Status();
  ASSERT_EQ(s.users_size(), 1);
  EXPECT_EQ(s.users(0).name(), "bob");
  EXPECT_EQ(s.sources_size(), 0);
  EXPECT_EQ(s.grants_size(), 0);
}

TEST_F(SecurityAdminTest, RefusesMalformedChanges) {
  ASSERT_EQ(Change(Req("add-user", {"u"})), "");
  struct Case {
    admin::CwSecurityChangeReq req;
    std::string says;
  };
  admin::CwSecurityChangeReq pw_on_grant = Grant("grant", "u", {"riak_kv.get"});
  pw_on_grant.set_password("x");
  admin::CwSecurityChangeReq too_long = Req("add-user", {"v"});
  too_long.set_password(std::string(kMaxPasswordBytes + 1, 'p'));
  admin::CwSecurityChangeReq bucket_only = Grant("grant", "u", {"riak_kv.get"});
  bucket_only.set_bucket("b");
  admin::CwSecurityChangeReq many = Req("add-source");
  for (int i = 0; i < 65; ++i) many.add_users("u");
  many.set_cidr("::/0");
  many.set_method("trust");
  std::vector<Case> cases = {
      {Req("frobnicate"), "unknown security operation"},
      {Req("add-user", {"all"}), "exactly one user"},
      {Req("add-user", {"bad name"}), "user names are"},
      {Req("add-user", {"a", "b"}), "exactly one user"},
      {Req("add-user", {"u"}), "already exists"},
      {Req("del-user", {"ghost"}), "no user named"},
      {Source("add-source", "u", "10.0.0.0/40", "trust"), "not a network"},
      {Source("add-source", "u", "10.0.0.0/8", "magic"), "trust, password"},
      {Source("add-source", "ghost", "10.0.0.0/8", "trust"), "no user named"},
      {Source("del-source", "u", "10.0.0.0/8", ""), "no source"},
      {Grant("grant", "u", {"riak_kv.fly"}), "unknown permission"},
      {Grant("grant", "u", {}), "at least one permission"},
      {Req("grant"), "name a user"},
      {pw_on_grant, "only add-user and alter-user"},
      {too_long, "at most"},
      {bucket_only, "needs its bucket type"},
      {many, "at most 64 users"},
  };
  for (const Case& c : cases) {
    std::string err = Change(c.req);
    EXPECT_NE(err.find(c.says), std::string::npos) << c.req.op() << ": " << err;
  }
  // Bodies that do not parse, or lack the operation.
  Frame f = Call(pbc::Code::kSecurityChangeReq, "\xff\xff\xff");
  EXPECT_EQ(f.code, 0);
  f = Call(pbc::Code::kSecurityChangeReq, "");
  EXPECT_EQ(f.code, 0);
  // Nothing changed.
  admin::CwSecurityStatusResp s = Status();
  EXPECT_EQ(s.users_size(), 1);
  EXPECT_EQ(s.sources_size(), 0);
  EXPECT_EQ(s.grants_size(), 0);
}

TEST_F(SecurityAdminTest, EnableNeedsAnAdministratorWhoCanLogIn) {
  std::string err = Change(Req("enable"));
  EXPECT_NE(err.find("lock every operator out"), std::string::npos) << err;
  EXPECT_EQ(last_errcode_,
            static_cast<uint32_t>(pbc::ErrorCode::kPreconditionFailed));
  EXPECT_FALSE(Status().enabled());

  admin::CwSecurityChangeReq add = Req("add-user", {"admin"});
  add.set_password("pw");
  ASSERT_EQ(Change(add), "");
  ASSERT_EQ(Change(Source("add-source", "admin", "127.0.0.1/32", "password")),
            "");
  EXPECT_NE(Change(Req("enable")), "");  // no grant yet
  ASSERT_EQ(Change(Grant("grant", "admin", {"causeway.cluster_admin"}, "t")),
            "");
  EXPECT_NE(Change(Req("enable")), "");  // only on a type
  ASSERT_EQ(Change(Grant("grant", "admin", {"causeway.cluster_admin"})), "");
  EXPECT_EQ(Change(Req("enable")), "");
  EXPECT_TRUE(Status().enabled());
  EXPECT_EQ(Change(Req("disable")), "");
  EXPECT_FALSE(Status().enabled());
}

TEST_F(SecurityAdminTest, LoopbackOnlyByDefault) {
  Frame f = Call(pbc::Code::kSecurityStatusReq, "", /*loopback=*/false);
  EXPECT_EQ(f.code, 0);
  f = Call(pbc::Code::kSecurityChangeReq,
           Req("add-user", {"x"}).SerializeAsString(), /*loopback=*/false);
  EXPECT_EQ(f.code, 0);
  EXPECT_EQ(core_->SecurityView().FindUser("x"), nullptr);
}

}  // namespace
}  // namespace causeway::node
