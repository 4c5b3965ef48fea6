// The replicated security state: changes and their validation, networks,
// the record codec against malformed bytes, merge in any order, tombstones,
// and persistence.

#include "replication/security/security_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/engine.h"
#include "storage/keys.h"

namespace causeway::replication::security {
namespace {

using Op = Change::Op;

PasswordRecord Password(const std::string& tag) {
  return PasswordRecord{"pbkdf2-sha256", 1000, "salt-" + tag, "key-" + tag};
}

Change AddUser(const std::string& name, PasswordRecord p = {}) {
  Change c;
  c.op = Op::kAddUser;
  c.users = {name};
  c.password = std::move(p);
  return c;
}

Change UserOp(Op op, const std::string& name) {
  Change c;
  c.op = op;
  c.users = {name};
  return c;
}

Change Source(Op op, std::vector<std::string> users, const std::string& cidr,
              SourceMethod m = SourceMethod::kPassword) {
  Change c;
  c.op = op;
  c.users = std::move(users);
  c.cidr = cidr;
  c.method = m;
  return c;
}

Change Grant(Op op, std::vector<std::string> users,
             std::vector<std::string> perms, const std::string& type = "",
             const std::string& bucket = "") {
  Change c;
  c.op = op;
  c.users = std::move(users);
  c.permissions = std::move(perms);
  c.type = type;
  c.bucket = bucket;
  return c;
}

std::string Dump(const SecurityRegistry& r) {
  std::string out;
  for (const auto& rec : r.Export()) out += rec.Encode() + "|";
  return out;
}

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() : engine_(storage::NewMemoryEngine()), reg_(*engine_) {
    EXPECT_TRUE(reg_.Load().ok());
  }
  Status Apply(const Change& c) { return reg_.Apply(c, ++now_); }

  std::unique_ptr<storage::Engine> engine_;
  SecurityRegistry reg_;
  uint64_t now_ = 100;
};

TEST_F(RegistryTest, StartsDisabledAndEmpty) {
  EXPECT_FALSE(reg_.enabled());
  EXPECT_TRUE(reg_.Users().empty());
  EXPECT_TRUE(reg_.Export().empty());
}

TEST_F(RegistryTest, EnableAndDisable) {
  ASSERT_TRUE(Apply(Change{.op = Op::kEnable}).ok());
  EXPECT_TRUE(reg_.enabled());
  ASSERT_TRUE(Apply(Change{.op = Op::kDisable}).ok());
  EXPECT_FALSE(reg_.enabled());
  EXPECT_EQ(reg_.Export().size(), 1u);  // one record, rewritten
}

TEST_F(RegistryTest, UsersSourcesAndGrants) {
  ASSERT_TRUE(Apply(AddUser("alice", Password("a"))).ok());
  ASSERT_TRUE(Apply(AddUser("bob")).ok());
  ASSERT_TRUE(Apply(Source(Op::kAddSource, {"alice"}, "10.1.2.3/8")).ok());
  ASSERT_TRUE(
      Apply(Source(Op::kAddSource, {"all"}, "::1/128", SourceMethod::kTrust))
          .ok());
  ASSERT_TRUE(Apply(Grant(Op::kGrant, {"alice", "bob"},
                          {"riak_kv.put", "riak_kv.get"}, "maps", "users"))
                  .ok());

  ASSERT_NE(reg_.FindUser("alice"), nullptr);
  EXPECT_EQ(reg_.FindUser("alice")->password, Password("a"));
  EXPECT_TRUE(reg_.FindUser("bob")->password.empty());
  EXPECT_EQ(reg_.FindUser("carol"), nullptr);

  auto sources = reg_.Sources();
  ASSERT_EQ(sources.size(), 2u);
  std::vector<std::string> cidrs;
  for (const Record* s : sources) cidrs.push_back(s->user + " " + s->cidr);
  std::sort(cidrs.begin(), cidrs.end());
  EXPECT_EQ(cidrs,
            (std::vector<std::string>{"alice 10.0.0.0/8", "all ::1/128"}));

  auto grants = reg_.Grants();
  ASSERT_EQ(grants.size(), 2u);
  for (const Record* g : grants) {
    EXPECT_EQ(g->type, "maps");
    EXPECT_EQ(g->bucket, "users");
    EXPECT_EQ(g->permissions,
              (std::vector<std::string>{"riak_kv.get", "riak_kv.put"}));
  }
}

TEST_F(RegistryTest, RefusesBadChanges) {
  EXPECT_EQ(Apply(AddUser("")).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Apply(AddUser("all")).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Apply(AddUser("a b")).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Apply(AddUser(std::string(65, 'x'))).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(Apply(AddUser(std::string(64, 'x'))).ok());
  ASSERT_TRUE(Apply(AddUser("ada.l@ex-1_2")).ok());
  EXPECT_EQ(Apply(AddUser("ada.l@ex-1_2")).code(),
            Status::Code::kPreconditionFailed);
  EXPECT_EQ(Apply(UserOp(Op::kAlterUser, "nobody")).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(Apply(UserOp(Op::kDelUser, "nobody")).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(Apply(Source(Op::kAddSource, {"nobody"}, "10.0.0.0/8")).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(
      Apply(Source(Op::kAddSource, {"ada.l@ex-1_2"}, "10.0.0.0/33")).code(),
      Status::Code::kInvalidArgument);
  EXPECT_EQ(
      Apply(Source(Op::kAddSource, {"all", "ada.l@ex-1_2"}, "::/0")).code(),
      Status::Code::kInvalidArgument);
  EXPECT_EQ(Apply(Source(Op::kDelSource, {"all"}, "10.0.0.0/8")).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(Apply(Grant(Op::kGrant, {"nobody"}, {"riak_kv.get"})).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(Apply(Grant(Op::kGrant, {"all"}, {"Riak KV"})).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Apply(Grant(Op::kGrant, {"all"}, {})).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Apply(Grant(Op::kGrant, {"all"}, {"riak_kv.get"}, "", "b")).code(),
            Status::Code::kInvalidArgument);
  // A refused change with several users stores nothing.
  EXPECT_FALSE(
      Apply(Grant(Op::kGrant, {"ada.l@ex-1_2", "nobody"}, {"riak_kv.get"}))
          .ok());
  EXPECT_TRUE(reg_.Grants().empty());
}

TEST_F(RegistryTest, RevokeWritesTheReducedSetThenATombstone) {
  ASSERT_TRUE(Apply(AddUser("u")).ok());
  ASSERT_TRUE(
      Apply(Grant(Op::kGrant, {"u"}, {"riak_kv.get", "riak_kv.put"}, "t"))
          .ok());
  ASSERT_TRUE(Apply(Grant(Op::kRevoke, {"u"}, {"riak_kv.put"}, "t")).ok());
  ASSERT_EQ(reg_.Grants().size(), 1u);
  EXPECT_EQ(reg_.Grants()[0]->permissions,
            std::vector<std::string>{"riak_kv.get"});
  ASSERT_TRUE(Apply(Grant(Op::kRevoke, {"u"}, {"riak_kv.get"}, "t")).ok());
  EXPECT_TRUE(reg_.Grants().empty());
  EXPECT_EQ(reg_.Export().size(), 2u);  // the user and the grant's tombstone
}

TEST_F(RegistryTest, DeletingAUserDeletesItsSourcesAndGrants) {
  ASSERT_TRUE(Apply(AddUser("u", Password("1"))).ok());
  ASSERT_TRUE(Apply(AddUser("v")).ok());
  ASSERT_TRUE(Apply(Source(Op::kAddSource, {"u", "v"}, "127.0.0.1")).ok());
  ASSERT_TRUE(Apply(Grant(Op::kGrant, {"u", "v"}, {"riak_kv.get"})).ok());
  ASSERT_TRUE(Apply(UserOp(Op::kDelUser, "u")).ok());
  EXPECT_EQ(reg_.FindUser("u"), nullptr);
  ASSERT_EQ(reg_.Sources().size(), 1u);
  EXPECT_EQ(reg_.Sources()[0]->user, "v");
  ASSERT_EQ(reg_.Grants().size(), 1u);
  EXPECT_EQ(reg_.Grants()[0]->user, "v");
  // The tombstone keeps no password.
  for (const auto& r : reg_.Export()) {
    if (r.kind == Record::Kind::kUser && r.user == "u") {
      EXPECT_TRUE(r.deleted);
      EXPECT_TRUE(r.password.empty());
    }
  }
  // The name can be used again.
  EXPECT_TRUE(Apply(AddUser("u")).ok());
  EXPECT_TRUE(reg_.Grants().size() == 1u);
}

TEST_F(RegistryTest, BoundsCountTombstones) {
  for (size_t i = 0; i < kMaxUsers; ++i) {
    ASSERT_TRUE(Apply(AddUser("u" + std::to_string(i))).ok()) << i;
  }
  Status s = Apply(AddUser("one-more"));
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("too many users"), std::string::npos);
  ASSERT_TRUE(Apply(UserOp(Op::kDelUser, "u0")).ok());
  EXPECT_FALSE(Apply(AddUser("one-more")).ok());
  EXPECT_TRUE(Apply(AddUser("u0")).ok());  // reuses its own record
}

TEST(CidrTest, ParsesAndNormalizesV4AndV6) {
  Cidr c;
  ASSERT_TRUE(Cidr::Parse("10.1.2.3/8", &c).ok());
  EXPECT_EQ(c.ToString(), "10.0.0.0/8");
  ASSERT_TRUE(Cidr::Parse("192.168.7.9", &c).ok());
  EXPECT_EQ(c.ToString(), "192.168.7.9/32");
  ASSERT_TRUE(Cidr::Parse("0.0.0.0/0", &c).ok());
  EXPECT_EQ(c.ToString(), "0.0.0.0/0");
  ASSERT_TRUE(Cidr::Parse("2001:db8::17/33", &c).ok());
  EXPECT_EQ(c.ToString(), "2001:db8::/33");
  ASSERT_TRUE(Cidr::Parse("::1", &c).ok());
  EXPECT_EQ(c.ToString(), "::1/128");
  ASSERT_TRUE(Cidr::Parse("::ffff:10.9.8.7/104", &c).ok());
  EXPECT_EQ(c.ToString(), "10.0.0.0/8");
  for (const char* bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0/8", "10.0.0.0/-1",
        "10.0.0.0/8/8", "::/129", "::ffff:1.2.3.4/95", "host/8", "1.2.3.4/0008",
        "1.2.3.4 /8"}) {
    EXPECT_FALSE(Cidr::Parse(bad, &c).ok()) << bad;
  }
}

TEST(CidrTest, Contains) {
  Cidr net, v6, all4, all6;
  ASSERT_TRUE(Cidr::Parse("10.20.0.0/14", &net).ok());
  ASSERT_TRUE(Cidr::Parse("fd00::/8", &v6).ok());
  ASSERT_TRUE(Cidr::Parse("0.0.0.0/0", &all4).ok());
  ASSERT_TRUE(Cidr::Parse("::/0", &all6).ok());
  Address a;
  ASSERT_TRUE(ParseAddress("10.23.255.1", &a));
  EXPECT_TRUE(net.Contains(a));
  EXPECT_TRUE(all4.Contains(a));
  EXPECT_FALSE(all6.Contains(a));
  ASSERT_TRUE(ParseAddress("10.24.0.1", &a));
  EXPECT_FALSE(net.Contains(a));
  ASSERT_TRUE(ParseAddress("::ffff:10.21.0.1", &a));  // mapped: IPv4
  EXPECT_TRUE(net.Contains(a));
  ASSERT_TRUE(ParseAddress("fdab::1", &a));
  EXPECT_TRUE(v6.Contains(a));
  EXPECT_TRUE(all6.Contains(a));
  EXPECT_FALSE(all4.Contains(a));
  ASSERT_TRUE(ParseAddress("fe00::1", &a));
  EXPECT_FALSE(v6.Contains(a));
  EXPECT_FALSE(ParseAddress("not an address", &a));
  EXPECT_FALSE(ParseAddress("", &a));
}

std::vector<Record> SampleRecords() {
  std::vector<Record> out;
  Record e;
  e.enabled = true;
  e.timestamp = 7;
  out.push_back(e);
  Record u;
  u.kind = Record::Kind::kUser;
  u.user = "alice";
  u.password = Password("x");
  u.timestamp = 8;
  out.push_back(u);
  Record s;
  s.kind = Record::Kind::kSource;
  s.user = "all";
  s.cidr = "10.0.0.0/8";
  s.method = SourceMethod::kCertificate;
  s.timestamp = 9;
  out.push_back(s);
  Record g;
  g.kind = Record::Kind::kGrant;
  g.user = "alice";
  g.type = "t";
  g.bucket = "b";
  g.permissions = {"riak_kv.get", "riak_kv.put"};
  g.timestamp = 10;
  out.push_back(g);
  return out;
}

TEST(RecordCodecTest, RoundTrips) {
  for (const Record& r : SampleRecords()) {
    Record back;
    ASSERT_TRUE(Record::Decode(r.Encode(), &back).ok());
    EXPECT_EQ(back.Encode(), r.Encode());
    EXPECT_EQ(back.Key(), r.Key());
  }
}

TEST(RecordCodecTest, RefusesTruncatedTrailingAndMangledBytes) {
  std::mt19937_64 rng(1);
  for (const Record& r : SampleRecords()) {
    const std::string bytes = r.Encode();
    Record out;
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(Record::Decode(bytes.substr(0, n), &out).ok()) << n;
    }
    EXPECT_FALSE(Record::Decode(bytes + "x", &out).ok());
    // Random corruption never crashes, and whatever decodes re-encodes to
    // the same bytes (one encoding per record).
    for (int i = 0; i < 2000; ++i) {
      std::string m = bytes;
      m[rng() % m.size()] = static_cast<char>(rng());
      if (Record::Decode(m, &out).ok()) EXPECT_EQ(out.Encode(), m);
    }
  }
  Record bad = SampleRecords()[2];
  bad.cidr = "10.1.0.0/8";  // not canonical
  Record out;
  EXPECT_FALSE(Record::Decode(bad.Encode(), &out).ok());
  bad = SampleRecords()[3];
  bad.permissions = {"riak_kv.put", "riak_kv.get"};  // not sorted
  EXPECT_FALSE(Record::Decode(bad.Encode(), &out).ok());
  bad = SampleRecords()[1];
  bad.user = "no spaces";
  EXPECT_FALSE(Record::Decode(bad.Encode(), &out).ok());
}

TEST(RegistryMergeTest, RefusesMalformedPeerRecords) {
  auto engine = storage::NewMemoryEngine();
  SecurityRegistry reg(*engine);
  Record r = SampleRecords()[1];
  r.user = "all";
  EXPECT_FALSE(reg.Merge(r));
  r.user = std::string(100, 'a');
  EXPECT_FALSE(reg.Merge(r));
  EXPECT_TRUE(reg.Export().empty());
}

// Three nodes make changes of their own; every order of merging every
// record yields the same state.
TEST(RegistryMergeTest, AnyOrderConverges) {
  std::vector<std::unique_ptr<storage::Engine>> engines;
  std::vector<std::unique_ptr<SecurityRegistry>> nodes;
  for (int i = 0; i < 3; ++i) {
    engines.push_back(storage::NewMemoryEngine());
    nodes.push_back(std::make_unique<SecurityRegistry>(*engines.back()));
  }
  // Shared history first (as after gossip), then concurrent changes.
  ASSERT_TRUE(nodes[0]->Apply(AddUser("u", Password("0")), 10).ok());
  ASSERT_TRUE(
      nodes[0]->Apply(Grant(Op::kGrant, {"u"}, {"riak_kv.get"}), 11).ok());
  for (int i = 1; i < 3; ++i) {
    for (const auto& r : nodes[0]->Export()) nodes[i]->Merge(r);
  }
  ASSERT_TRUE(nodes[0]->Apply(UserOp(Op::kDelUser, "u"), 20).ok());
  ASSERT_TRUE(
      nodes[1]->Apply(Grant(Op::kGrant, {"u"}, {"riak_kv.put"}), 21).ok());
  ASSERT_TRUE(nodes[1]->Apply(Change{.op = Op::kEnable}, 22).ok());
  ASSERT_TRUE(nodes[2]->Apply(Change{.op = Op::kDisable}, 22).ok());
  ASSERT_TRUE(nodes[2]->Apply(AddUser("w", Password("2")), 20).ok());
  ASSERT_TRUE(
      nodes[2]->Apply(Source(Op::kAddSource, {"all"}, "::/0"), 23).ok());

  std::vector<Record> all;
  for (const auto& n : nodes) {
    for (const auto& r : n->Export()) all.push_back(r);
  }
  std::mt19937_64 rng(7);
  std::string first;
  for (int trial = 0; trial < 50; ++trial) {
    auto engine = storage::NewMemoryEngine();
    SecurityRegistry reg(*engine);
    std::shuffle(all.begin(), all.end(), rng);
    for (const auto& r : all) reg.Merge(r);
    for (const auto& r : all) reg.Merge(r);  // duplicates change nothing
    if (trial == 0) {
      first = Dump(reg);
      // The delete (20) lost to nothing older; the later grant (21) on the
      // deleted user's name survives as a record but the user is gone.
      EXPECT_EQ(reg.FindUser("u"), nullptr);
      ASSERT_NE(reg.FindUser("w"), nullptr);
      // Equal times: the content decides, the same way everywhere.
      EXPECT_TRUE(reg.enabled());
    }
    EXPECT_EQ(Dump(reg), first) << trial;
  }
  // And merging into each node gives the same state too.
  for (auto& n : nodes) {
    for (const auto& r : all) n->Merge(r);
    EXPECT_EQ(Dump(*n), first);
  }
}

TEST(RegistryMergeTest, AnOldCopyDoesNotUndoADelete) {
  auto e1 = storage::NewMemoryEngine(), e2 = storage::NewMemoryEngine();
  SecurityRegistry a(*e1), b(*e2);
  ASSERT_TRUE(a.Apply(AddUser("u"), 5).ok());
  std::vector<Record> old = a.Export();
  ASSERT_TRUE(a.Apply(UserOp(Op::kDelUser, "u"), 6).ok());
  for (const auto& r : old) EXPECT_FALSE(a.Merge(r));
  EXPECT_EQ(a.FindUser("u"), nullptr);
  // Newer news in the other order.
  for (const auto& r : old) b.Merge(r);
  ASSERT_NE(b.FindUser("u"), nullptr);
  for (const auto& r : a.Export()) b.Merge(r);
  EXPECT_EQ(b.FindUser("u"), nullptr);
}

TEST(RegistryMergeTest, LocalChangesAfterAMergeAreNewer) {
  // A node whose clock lags still writes a version newer than what it holds.
  auto e = storage::NewMemoryEngine();
  SecurityRegistry reg(*e);
  Record u = SampleRecords()[1];
  u.timestamp = 1000;
  ASSERT_TRUE(reg.Merge(u));
  ASSERT_TRUE(reg.Apply(UserOp(Op::kDelUser, "alice"), 3).ok());
  EXPECT_EQ(reg.FindUser("alice"), nullptr);
  for (const auto& r : reg.Export()) EXPECT_GT(r.timestamp, 1000u);
}

TEST(RegistryPersistenceTest, LoadsWhatWasStored) {
  auto engine = storage::NewMemoryEngine();
  std::string before;
  {
    SecurityRegistry reg(*engine);
    ASSERT_TRUE(reg.Load().ok());
    ASSERT_TRUE(reg.Apply(Change{.op = Op::kEnable}, 1).ok());
    ASSERT_TRUE(reg.Apply(AddUser("u", Password("p")), 2).ok());
    ASSERT_TRUE(reg.Apply(AddUser("gone"), 3).ok());
    ASSERT_TRUE(reg.Apply(UserOp(Op::kDelUser, "gone"), 4).ok());
    ASSERT_TRUE(
        reg.Apply(Source(Op::kAddSource, {"u"}, "127.0.0.1/32"), 5).ok());
    ASSERT_TRUE(
        reg.Apply(Grant(Op::kGrant, {"u"}, {"riak_kv.get"}, "t"), 6).ok());
    before = Dump(reg);
  }
  SecurityRegistry again(*engine);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(Dump(again), before);
  EXPECT_TRUE(again.enabled());
  EXPECT_EQ(again.FindUser("gone"), nullptr);
  ASSERT_NE(again.FindUser("u"), nullptr);
}

TEST(RegistryPersistenceTest, ACorruptRecordFailsTheLoad) {
  auto engine = storage::NewMemoryEngine();
  {
    SecurityRegistry reg(*engine);
    ASSERT_TRUE(reg.Apply(AddUser("u"), 2).ok());
  }
  // Overwrite the stored value with garbage under the same key.
  std::string key;
  engine->Scan(storage::MetaKey("security/"),
               storage::PrefixEnd(storage::MetaKey("security/")),
               [&key](std::string_view k, std::string_view) {
                 key = std::string(k);
                 return false;
               });
  ASSERT_FALSE(key.empty());
  ASSERT_TRUE(engine->Put(key, "\x01\x02garbage", {}).ok());
  SecurityRegistry reg(*engine);
  EXPECT_EQ(reg.Load().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace causeway::replication::security
