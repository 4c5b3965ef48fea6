// Password records (PBKDF2) and ClusterSecurityGate over a real registry:
// source precedence for IPv4 and IPv6, the three methods, remembered
// logins, grant scopes, and the guard on enabling security.

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "node/password_hash.h"
#include "node/security_gate_impl.h"
#include "replication/security/security_registry.h"
#include "storage/engine.h"

namespace causeway::node {
namespace {

using replication::security::Change;
using replication::security::PasswordRecord;
using replication::security::SecurityRegistry;
using replication::security::SourceMethod;
using Op = Change::Op;

constexpr uint32_t kFastIterations = 1000;  // tests need no real cost

Session From(const std::string& address, bool tls = false,
             const std::string& cn = "") {
  Session s;
  s.address = address;
  s.tls = tls;
  s.certificate_common_name = cn;
  return s;
}

TEST(PasswordHashTest, RoundTrip) {
  PasswordRecord r;
  ASSERT_TRUE(HashPassword("correct horse", kFastIterations, &r).ok());
  EXPECT_EQ(r.algorithm, kPasswordAlgorithm);
  EXPECT_EQ(r.iterations, kFastIterations);
  EXPECT_EQ(r.salt.size(), kPasswordSaltBytes);
  EXPECT_EQ(r.key.size(), kPasswordKeyBytes);
  EXPECT_TRUE(VerifyPassword("correct horse", r));
  EXPECT_FALSE(VerifyPassword("correct horsE", r));
  EXPECT_FALSE(VerifyPassword("", r));
  // Same password, new salt, new key.
  PasswordRecord again;
  ASSERT_TRUE(HashPassword("correct horse", kFastIterations, &again).ok());
  EXPECT_NE(again.salt, r.salt);
  EXPECT_NE(again.key, r.key);
  // Records of another shape never verify.
  PasswordRecord bad = r;
  bad.algorithm = "md5";
  EXPECT_FALSE(VerifyPassword("correct horse", bad));
  bad = r;
  bad.key.pop_back();
  EXPECT_FALSE(VerifyPassword("correct horse", bad));
  bad = r;
  bad.iterations = 0;
  EXPECT_FALSE(VerifyPassword("correct horse", bad));
  EXPECT_FALSE(VerifyPassword("x", PasswordRecord{}));
  // Refused inputs.
  EXPECT_FALSE(HashPassword("", kFastIterations, &r).ok());
  EXPECT_FALSE(
      HashPassword(std::string(kMaxPasswordBytes + 1, 'p'), 1000, &r).ok());
}

TEST(PasswordHashTest, DefaultCostIsMilliseconds) {
  PasswordRecord r;
  ASSERT_TRUE(HashPassword("pw", kDefaultPasswordIterations, &r).ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(VerifyPassword("pw", r));
  auto ms = std::chrono::duration<double, std::milli>(
                std::chrono::steady_clock::now() - start)
                .count();
  // Printed for the record; bounded loosely (shared, busy machines).
  std::cout << "one verification at " << kDefaultPasswordIterations
            << " iterations: " << ms << " ms\n";
  EXPECT_LT(ms, 2000);
}

class GateTest : public ::testing::Test {
 protected:
  GateTest()
      : engine_(storage::NewMemoryEngine()), reg_(*engine_), gate_(reg_) {}

  void Apply(Change c) { ASSERT_TRUE(reg_.Apply(c, ++now_).ok()); }
  void AddUser(const std::string& name, const std::string& password = "") {
    Change c{.op = Op::kAddUser, .users = {name}};
    if (!password.empty()) {
      ASSERT_TRUE(HashPassword(password, kFastIterations, &c.password).ok());
    }
    Apply(c);
  }
  void AddSource(const std::string& user, const std::string& cidr,
                 SourceMethod m) {
    Change c{.op = Op::kAddSource, .users = {user}};
    c.cidr = cidr;
    c.method = m;
    Apply(c);
  }
  void Grant(const std::string& user, std::vector<std::string> perms,
             const std::string& type = "", const std::string& bucket = "") {
    Change c{.op = Op::kGrant, .users = {user}};
    c.permissions = std::move(perms);
    c.type = type;
    c.bucket = bucket;
    Apply(c);
  }

  std::unique_ptr<storage::Engine> engine_;
  SecurityRegistry reg_;
  ClusterSecurityGate gate_;
  uint64_t now_ = 1;
};

TEST_F(GateTest, EnabledFollowsTheRegistry) {
  EXPECT_FALSE(gate_.Enabled());
  Apply(Change{.op = Op::kEnable});
  EXPECT_TRUE(gate_.Enabled());
}

TEST_F(GateTest, PasswordSource) {
  AddUser("alice", "s3cret");
  AddSource("alice", "127.0.0.0/8", SourceMethod::kPassword);
  EXPECT_TRUE(gate_.Authenticate("alice", "s3cret", From("127.0.0.1")).ok());
  Status wrong = gate_.Authenticate("alice", "guess", From("127.0.0.1"));
  Status unknown = gate_.Authenticate("mallory", "s3cret", From("127.0.0.1"));
  EXPECT_FALSE(wrong.ok());
  EXPECT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.message(), unknown.message());
  // No source for this address.
  Status far = gate_.Authenticate("alice", "s3cret", From("10.0.0.1"));
  EXPECT_FALSE(far.ok());
  EXPECT_NE(far.message().find("no source"), std::string::npos);
  EXPECT_FALSE(gate_.Authenticate("alice", "s3cret", From("garbage")).ok());
}

TEST_F(GateTest, AUserWithoutPasswordCannotUseAPasswordSource) {
  AddUser("nopw");
  AddSource("nopw", "0.0.0.0/0", SourceMethod::kPassword);
  EXPECT_FALSE(gate_.Authenticate("nopw", "", From("1.2.3.4")).ok());
  EXPECT_FALSE(gate_.Authenticate("nopw", "x", From("1.2.3.4")).ok());
}

TEST_F(GateTest, TrustNeedsNoPassword) {
  AddUser("svc");
  AddSource("svc", "::1/128", SourceMethod::kTrust);
  EXPECT_TRUE(gate_.Authenticate("svc", "", From("::1")).ok());
  EXPECT_TRUE(gate_.Authenticate("svc", "anything", From("::1")).ok());
  EXPECT_FALSE(gate_.Authenticate("svc", "", From("::2")).ok());
  EXPECT_FALSE(gate_.Authenticate("svc", "", From("127.0.0.1")).ok());
}

TEST_F(GateTest, CertificateNeedsTlsAndTheUsersCommonName) {
  AddUser("app");
  AddSource("app", "10.0.0.0/8", SourceMethod::kCertificate);
  EXPECT_TRUE(
      gate_.Authenticate("app", "", From("10.1.1.1", true, "app")).ok());
  EXPECT_FALSE(
      gate_.Authenticate("app", "", From("10.1.1.1", false, "app")).ok());
  EXPECT_FALSE(
      gate_.Authenticate("app", "", From("10.1.1.1", true, "other")).ok());
  Status none = gate_.Authenticate("app", "", From("10.1.1.1", true, ""));
  EXPECT_FALSE(none.ok());
  EXPECT_NE(none.message().find("certificate"), std::string::npos);
}

TEST_F(GateTest, OwnSourcesBeforeAllThenMostSpecific) {
  AddUser("u", "pw");
  AddUser("v", "pw");
  // "all" trusts the whole v4 and v6 Internet; u's own sources say otherwise.
  AddSource("all", "0.0.0.0/0", SourceMethod::kTrust);
  AddSource("all", "::/0", SourceMethod::kTrust);
  AddSource("u", "10.0.0.0/8", SourceMethod::kPassword);
  AddSource("u", "10.5.0.0/16", SourceMethod::kTrust);
  AddSource("u", "fd00::/8", SourceMethod::kPassword);
  AddSource("u", "fd00:1::/32", SourceMethod::kTrust);

  // u's own, most specific first.
  EXPECT_TRUE(gate_.Authenticate("u", "", From("10.5.1.1")).ok());
  EXPECT_FALSE(gate_.Authenticate("u", "", From("10.6.1.1")).ok());
  EXPECT_TRUE(gate_.Authenticate("u", "pw", From("10.6.1.1")).ok());
  EXPECT_TRUE(gate_.Authenticate("u", "", From("fd00:1::9")).ok());
  EXPECT_FALSE(gate_.Authenticate("u", "", From("fd00:2::9")).ok());
  // An IPv4-mapped address is its IPv4 one.
  EXPECT_TRUE(gate_.Authenticate("u", "", From("::ffff:10.5.0.7")).ok());
  // No own source matches: "all" decides.
  EXPECT_TRUE(gate_.Authenticate("u", "", From("192.0.2.1")).ok());
  EXPECT_TRUE(gate_.Authenticate("u", "", From("2001:db8::1")).ok());
  // v has none of its own.
  EXPECT_TRUE(gate_.Authenticate("v", "", From("10.6.1.1")).ok());
  // All of that only for users that exist.
  EXPECT_FALSE(gate_.Authenticate("w", "", From("10.6.1.1")).ok());
}

TEST_F(GateTest, RemembersLoginsUntilThePasswordChanges) {
  AddUser("alice", "one");
  AddSource("alice", "127.0.0.1/32", SourceMethod::kPassword);
  EXPECT_EQ(gate_.remembered(), 0u);
  EXPECT_TRUE(gate_.Authenticate("alice", "one", From("127.0.0.1")).ok());
  EXPECT_EQ(gate_.remembered(), 1u);
  EXPECT_TRUE(gate_.Authenticate("alice", "one", From("127.0.0.1")).ok());
  EXPECT_FALSE(gate_.Authenticate("alice", "two", From("127.0.0.1")).ok());

  Change alter{.op = Op::kAlterUser, .users = {"alice"}};
  ASSERT_TRUE(HashPassword("two", kFastIterations, &alter.password).ok());
  Apply(alter);
  EXPECT_FALSE(gate_.Authenticate("alice", "one", From("127.0.0.1")).ok());
  EXPECT_TRUE(gate_.Authenticate("alice", "two", From("127.0.0.1")).ok());

  // Deleted and added again with the old password: a new record.
  Apply(Change{.op = Op::kDelUser, .users = {"alice"}});
  EXPECT_FALSE(gate_.Authenticate("alice", "two", From("127.0.0.1")).ok());
  AddUser("alice", "one");
  AddSource("alice", "127.0.0.1/32", SourceMethod::kPassword);
  EXPECT_FALSE(gate_.Authenticate("alice", "two", From("127.0.0.1")).ok());
  EXPECT_TRUE(gate_.Authenticate("alice", "one", From("127.0.0.1")).ok());
}

TEST_F(GateTest, GrantScopes) {
  AddUser("u");
  AddUser("v");
  Grant("u", {"riak_kv.get"});                      // any
  Grant("u", {"riak_kv.put"}, "maps");              // a type
  Grant("u", {"riak_kv.delete"}, "maps", "users");  // a bucket
  Grant("all", {"riak_kv.list_keys"}, "default");   // everyone

  EXPECT_TRUE(gate_.Allowed("u", Permission::kGet, "anything", "b"));
  EXPECT_TRUE(gate_.Allowed("u", Permission::kGet, "", ""));
  EXPECT_TRUE(gate_.Allowed("u", Permission::kPut, "maps", "x"));
  EXPECT_TRUE(gate_.Allowed("u", Permission::kPut, "maps", ""));
  EXPECT_FALSE(gate_.Allowed("u", Permission::kPut, "sets", "x"));
  EXPECT_FALSE(gate_.Allowed("u", Permission::kPut, "", ""));
  EXPECT_TRUE(gate_.Allowed("u", Permission::kDelete, "maps", "users"));
  EXPECT_FALSE(gate_.Allowed("u", Permission::kDelete, "maps", "other"));
  EXPECT_FALSE(gate_.Allowed("u", Permission::kDelete, "maps", ""));
  EXPECT_TRUE(gate_.Allowed("v", Permission::kListKeys, "default", "b"));
  EXPECT_TRUE(gate_.Allowed("u", Permission::kListKeys, "default", "b"));
  EXPECT_FALSE(gate_.Allowed("v", Permission::kGet, "default", "b"));
  EXPECT_FALSE(gate_.Allowed("nobody", Permission::kListKeys, "default", "b"));
  EXPECT_FALSE(gate_.Allowed("u", Permission::kClusterAdmin, "", ""));

  Change revoke{.op = Op::kRevoke, .users = {"u"}};
  revoke.permissions = {"riak_kv.get"};
  Apply(revoke);
  EXPECT_FALSE(gate_.Allowed("u", Permission::kGet, "anything", "b"));
}

TEST_F(GateTest, EnablingNeedsAnAdministratorWhoCanLogIn) {
  Status s = CheckAdministratorCanLogIn(reg_);
  EXPECT_EQ(s.code(), Status::Code::kPreconditionFailed);
  EXPECT_NE(s.message().find("lock every operator out"), std::string::npos);
  AddUser("admin");  // no password
  Grant("admin", {"causeway.cluster_admin"});
  EXPECT_FALSE(CheckAdministratorCanLogIn(reg_).ok());  // no source
  AddSource("admin", "127.0.0.1/32", SourceMethod::kPassword);
  EXPECT_FALSE(CheckAdministratorCanLogIn(reg_).ok());  // no password
  AddSource("all", "::1/128", SourceMethod::kCertificate);
  EXPECT_TRUE(CheckAdministratorCanLogIn(reg_).ok());

  // Or: a grant on a type is not enough, a grant to all on any is.
  auto engine = storage::NewMemoryEngine();
  SecurityRegistry reg(*engine);
  uint64_t t = 1;
  ASSERT_TRUE(
      reg.Apply(Change{.op = Op::kAddUser, .users = {"ops"}}, ++t).ok());
  Change src{.op = Op::kAddSource, .users = {"ops"}};
  src.cidr = "127.0.0.1";
  ASSERT_TRUE(reg.Apply(src, ++t).ok());  // trust
  Change typed{.op = Op::kGrant, .users = {"ops"}};
  typed.permissions = {"causeway.cluster_admin"};
  typed.type = "maps";
  ASSERT_TRUE(reg.Apply(typed, ++t).ok());
  EXPECT_FALSE(CheckAdministratorCanLogIn(reg).ok());
  Change everyone{.op = Op::kGrant, .users = {"all"}};
  everyone.permissions = {"causeway.cluster_admin"};
  ASSERT_TRUE(reg.Apply(everyone, ++t).ok());
  EXPECT_TRUE(CheckAdministratorCanLogIn(reg).ok());
}

}  // namespace
}  // namespace causeway::node
