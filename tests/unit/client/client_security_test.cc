// The client library and the `causeway` tool against a node with security
// enabled: the node's real client port (PbcServer over an in-memory core,
// in this process, on its own thread) with TLS and a fake security gate,
// and certificates the `openssl` command makes for the suite. Checks the
// whole exchange (STARTTLS, handshake, login, requests) and that every
// kind of refusal reaches the user as a clear error.

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "client/client.h"
#include "node/pbc_server.h"
#include "node/stats.h"
#include "replication/core.h"
#include "storage/engine.h"
#include "tests/support/manual_env.h"
#include "tests/support/test_certs.h"
#include "tests/unit/client/cli_harness.h"
#include "tests/unit/node/fake_security_gate.h"

namespace causeway::client {
namespace {

using node::Permission;

class SecureNodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new causeway::testing::TestCerts();
    Status s = certs_->Make();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  SecureNodeTest() : engine_(storage::NewMemoryEngine()) {
    core_ = std::make_unique<replication::NodeCore>(env_, *engine_,
                                                    replication::NodeConfig{});
    EXPECT_TRUE(core_->Open().ok());
    gate_.passwords = {{"alice", "secret"}};
    gate_.grants = {{"alice", Permission::kPut, "default", "fruit"},
                    {"alice", Permission::kGet, "default", "fruit"}};
  }
  ~SecureNodeTest() override {
    if (!thread_.joinable()) return;
    std::promise<void> stopped;
    boost::asio::post(io_, [&] {
      server_->Stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  void StartNode(bool tls = true) {
    node::PbcServerOptions o;
    o.port = 0;
    o.security = &gate_;
    if (tls) {
      o.tls_cert_file = certs_->server_cert();
      o.tls_key_file = certs_->server_key();
      o.tls_ca_file = certs_->ca();
    }
    server_ = std::make_unique<node::PbcServer>(io_, *core_, stats_, o);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }

  ClientOptions Options(const std::string& user = "alice",
                        const std::string& password = "secret") const {
    ClientOptions o;
    o.port = port_;
    o.io_timeout_ms = 10000;
    o.tls_ca_file = certs_->ca();
    o.user = user;
    o.password = password;
    return o;
  }

  std::vector<node::Session> SessionsSeen() {
    std::promise<std::vector<node::Session>> seen;
    boost::asio::post(io_, [&] { seen.set_value(gate_.seen); });
    return seen.get_future().get();
  }

  std::string node() const { return "127.0.0.1:" + std::to_string(port_); }

  std::string PasswordFile(const std::string& password) {
    std::string path = certs_->dir() + "/password";
    std::ofstream(path) << password << "\n";
    return path;
  }

  static pbc::RpbPutReq PutReq(const std::string& bucket,
                               const std::string& value) {
    pbc::RpbPutReq req;
    req.set_bucket(bucket);
    req.set_key("apple");
    req.mutable_content()->set_value(value);
    return req;
  }

  static causeway::testing::TestCerts* certs_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_ = boost::asio::make_work_guard(io_);
  causeway::testing::ManualEnv env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<replication::NodeCore> core_;
  node::Stats stats_;
  node::FakeSecurityGate gate_;
  std::unique_ptr<node::PbcServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

causeway::testing::TestCerts* SecureNodeTest::certs_ = nullptr;

TEST_F(SecureNodeTest, TheClientSwitchesToTlsLogsInAndIsServed) {
  StartNode();
  Client client(Options());
  pbc::RpbPutResp put;
  Status s = client.Put(PutReq("fruit", "red"), &put);
  ASSERT_TRUE(s.ok()) << s.ToString();
  pbc::RpbGetReq get;
  get.set_bucket("fruit");
  get.set_key("apple");
  pbc::RpbGetResp got;
  s = client.Get(get, &got);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(got.content_size(), 1);
  EXPECT_EQ(got.content(0).value(), "red");
  // One connection, one login.
  auto seen = SessionsSeen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].tls);
  EXPECT_EQ(seen[0].certificate_common_name, "");
  // A grant elsewhere does not cover another bucket.
  s = client.Put(PutReq("veg", "green"), &put);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(client.last_error().kind, ErrorKind::kServer);
  EXPECT_NE(s.message().find("Permission denied"), std::string::npos)
      << s.message();
  EXPECT_TRUE(client.connected());
}

TEST_F(SecureNodeTest, AClientCertificateReachesTheGateAsItsCommonName) {
  StartNode();
  ClientOptions o = Options();
  o.tls_cert_file = certs_->client_cert();
  o.tls_key_file = certs_->client_key();
  Client client(o);
  Status s = client.Ping();
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto seen = SessionsSeen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].certificate_common_name, "alice");
}

TEST_F(SecureNodeTest, ARefusedLoginIsASecurityError) {
  StartNode();
  for (auto [user, password] :
       {std::pair{"alice", "wrong"}, std::pair{"mallory", "secret"}}) {
    Client client(Options(user, password));
    Status s = client.Ping();
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(client.last_error().kind, ErrorKind::kSecurity);
    EXPECT_NE(s.message().find(std::string("refused the login of '") + user),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("Authentication failed"), std::string::npos)
        << s.message();
    EXPECT_FALSE(client.connected());
  }
}

TEST_F(SecureNodeTest, AServerCertificateFromAnotherCaIsRefused) {
  StartNode();
  ClientOptions o = Options();
  o.tls_ca_file = certs_->rogue_ca();
  Client client(o);
  Status s = client.Ping();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(client.last_error().kind, ErrorKind::kSecurity);
  EXPECT_NE(s.message().find("did not verify"), std::string::npos)
      << s.message();
  EXPECT_TRUE(SessionsSeen().empty());
}

TEST_F(SecureNodeTest, AClientCertificateTheNodeDistrustsIsRefused) {
  StartNode();
  ClientOptions o = Options();
  o.tls_cert_file = certs_->rogue_client_cert();
  o.tls_key_file = certs_->rogue_client_key();
  Client client(o);
  Status s = client.Ping();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(client.last_error().kind, ErrorKind::kSecurity) << s.ToString();
  EXPECT_TRUE(SessionsSeen().empty());
}

TEST_F(SecureNodeTest, WithoutTlsTheNodeAsksForStartTls) {
  StartNode();
  Client client(ClientOptions{"127.0.0.1", port_});
  Status s = client.Ping();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(client.last_error().kind, ErrorKind::kServer);
  EXPECT_EQ(s.message(), "Security is enabled, please STARTTLS first");
}

TEST_F(SecureNodeTest, ANodeWithoutTlsRefusesStartTls) {
  StartNode(/*tls=*/false);
  Client client(Options());
  Status s = client.Ping();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(client.last_error().kind, ErrorKind::kSecurity);
  EXPECT_NE(s.message().find("refused STARTTLS"), std::string::npos)
      << s.message();
}

TEST_F(SecureNodeTest, ALoginNeedsTls) {
  StartNode();
  ClientOptions o = Options();
  o.tls_ca_file.clear();
  Client client(o);
  Status s = client.Ping();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(client.last_error().kind, ErrorKind::kSecurity);
  EXPECT_NE(s.message().find("needs TLS"), std::string::npos) << s.message();
}

TEST_F(SecureNodeTest, TheToolLogsInWithAPasswordFile) {
  StartNode();
  using testing::RunTool;
  const std::string password = PasswordFile("secret");
  std::vector<std::string> login = {"--node",          node(),   "--cacert",
                                    certs_->ca(),      "--user", "alice",
                                    "--password-file", password};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> all = login;
    all.insert(all.end(), args.begin(), args.end());
    return all;
  };
  auto r = RunTool(with({"put", "fruit", "apple", "red"}));
  EXPECT_EQ(r.code, 0) << r.err;
  r = RunTool(with({"get", "fruit", "apple"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 3), "red");
  r = RunTool(with({"get", "veg", "apple"}));
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;

  // Refusals: a wrong password, a CA that does not vouch for the node.
  login[7] = PasswordFile("wrong");
  r = RunTool(with({"ping"}));
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("security: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Authentication failed"), std::string::npos) << r.err;
  login[7] = PasswordFile("secret");
  login[3] = certs_->rogue_ca();
  r = RunTool(with({"ping"}));
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("did not verify"), std::string::npos) << r.err;
}

TEST_F(SecureNodeTest, TheToolsSecurityOptionsMustFitTogether) {
  StartNode();
  using testing::RunTool;
  const std::string password = PasswordFile("secret");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--node", node(), "--user", "alice", "--password-file", password,
            "ping"},
           {"--node", node(), "--password-file", password, "ping"},
           {"--node", node(), "--cacert", certs_->ca(), "--cert",
            certs_->client_cert(), "ping"},
           {"--node", node(), "--cacert", certs_->ca(), "--user", "alice",
            "--password-file", certs_->dir() + "/no-such-file", "ping"}}) {
    auto r = RunTool(args);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  auto help = RunTool({"--help"});
  for (const char* flag :
       {"--user", "--password-file", "--cacert", "--cert", "--key"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace causeway::client
