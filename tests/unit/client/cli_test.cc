// The `causeway` tool run in-process (RunCli) against the fake server:
// argument parsing, the requests each command sends, what it prints, and its
// exit status.

#include "client/cli.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "proto/riak.pb.h"
#include "tests/unit/client/cli_harness.h"

namespace causeway::client::cli {
namespace {

using pbc::Code;
using testing::FakeNode;
using testing::FakeServer;
using testing::Reply;
using testing::Request;
using testing::RunOptions;
using testing::RunTool;
using Result = testing::CliResult;

constexpr uint8_t kGet = 9, kPut = 11, kDel = 13;

TEST(CliGetTest, PrintsTheLoneValueRaw) {
  FakeNode node;
  node.AnswerGet({"hello"}, "vc");
  Result r = RunTool({"--node", node.node(), "get", "b", "k"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "hello");
  auto sent = node.Sent<pbc::RpbGetReq>(0);
  EXPECT_EQ(sent.bucket(), "b");
  EXPECT_EQ(sent.key(), "k");
  EXPECT_EQ(sent.type(), "default");
  EXPECT_FALSE(sent.has_r());
}

TEST(CliGetTest, TerminalGetsANewline) {
  FakeNode node;
  node.AnswerGet({"hello"}, "vc");
  RunOptions tty;
  tty.terminal = true;
  EXPECT_EQ(RunTool({"--node", node.node(), "get", "b", "k"}, tty).out,
            "hello\n");
}

TEST(CliGetTest, SiblingsAreNumbered) {
  FakeNode node;
  node.AnswerGet({"a", "b", "c"}, "vc");
  Result r = RunTool({"get", "b", "k", "--node", node.node()});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            "sibling 1 of 3: text/plain\na\n"
            "sibling 2 of 3: text/plain\nb\n"
            "sibling 3 of 3: text/plain\nc\n");
}

TEST(CliGetTest, VclockFlagPrintsTheContext) {
  FakeNode node;
  node.AnswerGet({"v"}, "ctx");
  Result r = RunTool({"--node", node.node(), "get", "b", "k", "--vclock"});
  // stdout stays exactly the value, so `get --vclock > file` keeps it whole.
  EXPECT_EQ(r.out, "v");
  EXPECT_EQ(r.err, "vclock: Y3R4\n");
}

TEST(CliGetTest, JsonOutput) {
  FakeNode node;
  node.AnswerGet({"v1", "\xff"}, "ctx");
  Result r = RunTool({"--node", node.node(), "--json", "get", "b", "k"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            R"({"found":true,"vclock":"Y3R4","siblings":[)"
            R"({"value":"v1","base64":false,"content_type":"text/plain",)"
            R"("last_modified":null,"deleted":false},)"
            R"({"value":"/w==","base64":true,"content_type":"text/plain",)"
            R"("last_modified":null,"deleted":false}]})"
            "\n");
}

TEST(CliGetTest, NotFoundExitsOne) {
  FakeNode node;
  node.AnswerGet({}, "");
  Result r = RunTool({"--node", node.node(), "get", "b", "k"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "causeway: not found: b/k\n");
  r = RunTool({"--node", node.node(), "get", "b", "k", "--json"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.out, "{\"found\":false,\"vclock\":null,\"siblings\":[]}\n");
}

TEST(CliGetTest, OnlyTombstonesIsNotFound) {
  FakeNode node;
  pbc::RpbGetResp resp;
  resp.set_vclock("vc");
  resp.add_content()->set_deleted(true);
  resp.mutable_content(0)->set_value("");
  node.Answer(Code::kGetReq, FakeServer::Frame(Code::kGetResp, resp));
  EXPECT_EQ(RunTool({"--node", node.node(), "get", "b", "k"}).code,
            kExitNotFound);
}

TEST(CliGetTest, PassesQuorumFlagsAndType) {
  FakeNode node;
  node.AnswerGet({"v"}, "vc");
  Result r = RunTool({"--node", node.node(), "--type", "maps", "get", "b", "k",
                      "--r", "one", "--pr", "2", "--notfound-ok=false",
                      "--basic-quorum", "--timeout", "1.5"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto sent = node.Sent<pbc::RpbGetReq>(0);
  EXPECT_EQ(sent.type(), "maps");
  EXPECT_EQ(sent.r(), 0xFFFFFFFEu);
  EXPECT_EQ(sent.pr(), 2u);
  ASSERT_TRUE(sent.has_notfound_ok());
  EXPECT_FALSE(sent.notfound_ok());
  EXPECT_TRUE(sent.basic_quorum());
  EXPECT_EQ(sent.timeout(), 1500u);
}

TEST(CliGetTest, BadQuorumIsAUsageErrorAndSendsNothing) {
  FakeNode node;
  Result r = RunTool({"--node", node.node(), "get", "b", "k", "--r", "most"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("'most' is not a quorum"), std::string::npos) << r.err;
  EXPECT_TRUE(node.requests().empty());
}

TEST(CliPutTest, ReadsTheContextThenWritesWithIt) {
  FakeNode node;
  node.AnswerGet({"old1", "old2"}, "ctx");
  node.Answer(Code::kPutReq, FakeServer::Frame(Code::kPutResp));
  Result r = RunTool({"--node", node.node(), "put", "b", "k", "new"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(node.codes(), (std::vector<uint8_t>{kGet, kPut}));
  auto read = node.Sent<pbc::RpbGetReq>(0);
  EXPECT_TRUE(read.head());
  EXPECT_TRUE(read.deletedvclock());
  auto put = node.Sent<pbc::RpbPutReq>(1);
  EXPECT_EQ(put.bucket(), "b");
  EXPECT_EQ(put.key(), "k");
  EXPECT_EQ(put.vclock(), "ctx");
  EXPECT_EQ(put.content().value(), "new");
  EXPECT_EQ(put.content().content_type(), "text/plain");
  EXPECT_FALSE(put.return_body());
}

TEST(CliPutTest, NewKeyIsWrittenWithoutContext) {
  FakeNode node;
  node.AnswerGet({}, "");
  node.Answer(Code::kPutReq, FakeServer::Frame(Code::kPutResp));
  Result r = RunTool({"--node", node.node(), "put", "b", "k", "v", "--w", "all",
                      "--dw", "1", "--pw", "quorum", "--content-type",
                      "application/json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto put = node.Sent<pbc::RpbPutReq>(1);
  EXPECT_FALSE(put.has_vclock());
  EXPECT_EQ(put.w(), 0xFFFFFFFCu);
  EXPECT_EQ(put.dw(), 1u);
  EXPECT_EQ(put.pw(), 0xFFFFFFFDu);
  EXPECT_EQ(put.content().content_type(), "application/json");
}

TEST(CliPutTest, BlindSkipsTheRead) {
  FakeNode node;
  node.Answer(Code::kPutReq, FakeServer::Frame(Code::kPutResp));
  Result r = RunTool({"--node", node.node(), "put", "--blind", "b", "k", "v"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kPut});
  EXPECT_FALSE(node.Sent<pbc::RpbPutReq>(0).has_vclock());
}

TEST(CliPutTest, ExplicitVclockIsDecodedAndUsed) {
  FakeNode node;
  node.Answer(Code::kPutReq, FakeServer::Frame(Code::kPutResp));
  Result r = RunTool(
      {"--node", node.node(), "put", "b", "k", "v", "--vclock", "Y3R4"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kPut});
  EXPECT_EQ(node.Sent<pbc::RpbPutReq>(0).vclock(), "ctx");
}

TEST(CliPutTest, BadVclockOrBlindWithVclockIsUsage) {
  FakeNode node;
  Result r =
      RunTool({"--node", node.node(), "put", "b", "k", "v", "--vclock", "!!"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--vclock: not base64"), std::string::npos) << r.err;
  r = RunTool({"--node", node.node(), "put", "b", "k", "v", "--vclock", "Y3R4",
               "--blind"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(node.requests().empty());
}

TEST(CliPutTest, DashReadsTheValueFromStdin) {
  FakeNode node;
  node.Answer(Code::kPutReq, FakeServer::Frame(Code::kPutResp));
  RunOptions options;
  options.stdin_data = std::string("line1\nbin\0\xff", 11);
  Result r = RunTool({"--node", node.node(), "put", "--blind", "b", "k", "-"},
                     options);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(node.Sent<pbc::RpbPutReq>(0).content().value(), options.stdin_data);
}

TEST(CliPutTest, ReturnBodyPrintsTheStoredObject) {
  FakeNode node;
  pbc::RpbPutResp resp;
  resp.set_vclock("ctx2");
  resp.add_content()->set_value("mine");
  resp.add_content()->set_value("theirs");
  node.Answer(Code::kPutReq, FakeServer::Frame(Code::kPutResp, resp));
  Result r = RunTool({"--node", node.node(), "put", "--blind", "--return-body",
                      "b", "k", "mine"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(node.Sent<pbc::RpbPutReq>(0).return_body());
  EXPECT_EQ(r.out,
            "sibling 1 of 2: no content type\nmine\n"
            "sibling 2 of 2: no content type\ntheirs\n");
}

TEST(CliDeleteTest, FetchesTheContextFirst) {
  FakeNode node;
  node.AnswerGet({"v"}, "ctx");
  node.Answer(Code::kDelReq, FakeServer::Frame(Code::kDelResp));
  Result r = RunTool(
      {"--node", node.node(), "delete", "b", "k", "--rw", "all", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"ok\":true}\n");
  EXPECT_EQ(node.codes(), (std::vector<uint8_t>{kGet, kDel}));
  auto del = node.Sent<pbc::RpbDelReq>(1);
  EXPECT_EQ(del.vclock(), "ctx");
  EXPECT_EQ(del.rw(), 0xFFFFFFFCu);
}

TEST(CliDeleteTest, MissingKeyExitsOneWithoutDeleting) {
  FakeNode node;
  node.AnswerGet({}, "");
  Result r = RunTool({"--node", node.node(), "delete", "b", "k"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "causeway: not found: b/k\n");
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kGet});
}

TEST(CliDeleteTest, ExplicitVclockSkipsTheRead) {
  FakeNode node;
  node.Answer(Code::kDelReq, FakeServer::Frame(Code::kDelResp));
  Result r =
      RunTool({"--node", node.node(), "delete", "b", "k", "--vclock", "Y3R4"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kDel});
  EXPECT_EQ(node.Sent<pbc::RpbDelReq>(0).vclock(), "ctx");
}

std::string KeysFrame(std::vector<std::string> keys, bool done) {
  pbc::RpbListKeysResp resp;
  for (auto& k : keys) resp.add_keys(k);
  if (done) resp.set_done(true);
  return FakeServer::Frame(Code::kListKeysResp, resp);
}

TEST(CliListTest, ListKeysTextAndJson) {
  FakeNode node;
  node.Answer(Code::kListKeysReq, KeysFrame({"k1", "k2"}, false) +
                                      KeysFrame({"\xff"}, false) +
                                      KeysFrame({}, true));
  Result r = RunTool({"--node", node.node(), "list-keys", "b"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "k1\nk2\n\xff\n");
  r = RunTool({"--node", node.node(), "list-keys", "b", "--json"});
  EXPECT_EQ(r.out, R"({"keys":["k1","k2",{"base64":"/w=="}]})"
                   "\n");
}

TEST(CliListTest, ListBucketsAsksForAStream) {
  FakeNode node;
  pbc::RpbListBucketsResp resp;
  resp.add_buckets("b1");
  resp.set_done(true);
  node.Answer(Code::kListBucketsReq,
              FakeServer::Frame(Code::kListBucketsResp, resp));
  Result r = RunTool({"--node", node.node(), "list-buckets", "--type", "t"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "b1\n");
  auto sent = node.Sent<pbc::RpbListBucketsReq>(0);
  EXPECT_TRUE(sent.stream());
  EXPECT_EQ(sent.type(), "t");
}

TEST(CliBucketTest, SetParsesProperties) {
  FakeNode node;
  node.Answer(Code::kSetBucketReq, FakeServer::Frame(Code::kSetBucketResp));
  Result r = RunTool({"--node", node.node(), "bucket", "set", "b", "n_val=2",
                      "allow_mult=true", "r=one"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto sent = node.Sent<pbc::RpbSetBucketReq>(0);
  EXPECT_EQ(sent.bucket(), "b");
  EXPECT_EQ(sent.type(), "default");
  EXPECT_EQ(sent.props().n_val(), 2u);
  EXPECT_TRUE(sent.props().allow_mult());
  EXPECT_EQ(sent.props().r(), 0xFFFFFFFEu);
  EXPECT_FALSE(sent.props().has_w());
}

TEST(CliBucketTest, UnknownOrMissingPropertyIsUsage) {
  FakeNode node;
  Result r =
      RunTool({"--node", node.node(), "bucket", "set", "b", "replicas=3"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown bucket property 'replicas' (valid names: "
                       "n_val, allow_mult"),
            std::string::npos)
      << r.err;
  r = RunTool({"--node", node.node(), "bucket", "set", "b"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("NAME=VALUE"), std::string::npos) << r.err;
  r = RunTool({"--node", node.node(), "bucket", "set", "b", "n_val=three"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(node.requests().empty());
}

TEST(CliBucketTest, GetAndReset) {
  FakeNode node;
  pbc::RpbGetBucketResp resp;
  resp.mutable_props()->set_n_val(3);
  resp.mutable_props()->set_allow_mult(false);
  resp.mutable_props()->set_w(0xFFFFFFFDu);
  node.Answer(Code::kGetBucketReq,
              FakeServer::Frame(Code::kGetBucketResp, resp));
  node.Answer(Code::kResetBucketReq, FakeServer::Frame(Code::kResetBucketResp));
  Result r = RunTool({"--node", node.node(), "bucket", "get", "b"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "n_val: 3\nallow_mult: false\nw: quorum\n");
  r = RunTool({"--node", node.node(), "bucket", "get", "b", "--json"});
  EXPECT_EQ(r.out, "{\"n_val\":3,\"allow_mult\":false,\"w\":\"quorum\"}\n");
  r = RunTool({"--node", node.node(), "bucket", "reset", "b"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(node.Sent<pbc::RpbResetBucketReq>(2).bucket(), "b");
}

TEST(CliBucketTest, BucketWithoutActionIsUsage) {
  EXPECT_EQ(RunTool({"bucket"}).code, kExitUsage);
  EXPECT_EQ(RunTool({"bucket", "frobnicate", "b"}).code, kExitUsage);
}

TEST(CliBucketTypeTest, GetAndSet) {
  FakeNode node;
  pbc::RpbGetBucketResp resp;
  resp.mutable_props()->set_allow_mult(true);
  node.Answer(Code::kGetBucketTypeReq,
              FakeServer::Frame(Code::kGetBucketResp, resp));
  node.Answer(Code::kSetBucketTypeReq, FakeServer::Frame(Code::kSetBucketResp));
  Result r = RunTool({"--node", node.node(), "bucket-type", "get", "sets"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "allow_mult: true\n");
  r = RunTool({"--node", node.node(), "bucket-type", "set", "sets",
               "datatype=set", "last_write_wins=false"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto sent = node.Sent<pbc::RpbSetBucketTypeReq>(1);
  EXPECT_EQ(sent.type(), "sets");
  EXPECT_EQ(sent.props().datatype(), "set");
  EXPECT_FALSE(sent.props().last_write_wins());
}

TEST(CliNodeTest, PingInfoAndPreflist) {
  FakeNode node;
  node.Answer(Code::kPingReq, FakeServer::Frame(Code::kPingResp));
  pbc::RpbGetServerInfoResp info;
  info.set_node("node1@127.0.0.1");
  info.set_server_version("0.1.0");
  node.Answer(Code::kGetServerInfoReq,
              FakeServer::Frame(Code::kGetServerInfoResp, info));
  pbc::RpbGetBucketKeyPreflistResp pl;
  auto* item = pl.add_preflist();
  item->set_partition(12);
  item->set_node("node1@127.0.0.1");
  item->set_primary(true);
  node.Answer(Code::kGetBucketKeyPreflistReq,
              FakeServer::Frame(Code::kGetBucketKeyPreflistResp, pl));
  EXPECT_EQ(RunTool({"--node", node.node(), "ping"}).out, "pong\n");
  EXPECT_EQ(RunTool({"--node", node.node(), "ping", "--json"}).out,
            "{\"ok\":true}\n");
  EXPECT_EQ(RunTool({"--node", node.node(), "info"}).out,
            "node: node1@127.0.0.1\nserver_version: 0.1.0\n");
  EXPECT_EQ(RunTool({"--node", node.node(), "--json", "info"}).out,
            R"({"node":"node1@127.0.0.1","server_version":"0.1.0"})"
            "\n");
  EXPECT_EQ(RunTool({"--node", node.node(), "preflist", "b", "k"}).out,
            "12 node1@127.0.0.1 primary\n");
}

TEST(CliErrorTest, UnreachableNodeExitsThreeWithAHint) {
  const std::string node = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  Result r = RunTool({"--node", node, "get", "b", "k"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "causeway: cannot reach " + node +
                       ": connection refused (is the node running? see "
                       "cluster/up)\n");
  r = RunTool({"--node", node, "--json", "ping"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out,
            "{\"ok\":false,\"error\":{\"kind\":\"unreachable\","
            "\"message\":\"cannot reach " +
                node + ": connection refused\"}}\n");
}

TEST(CliErrorTest, ServerErrorExitsThreeWithItsMessage) {
  FakeNode node;
  node.Answer(Code::kGetReq, FakeServer::ErrorFrame("r=5 is above n_val=3", 1));
  Result r = RunTool({"--node", node.node(), "get", "b", "k", "--r", "5"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "causeway: server error: r=5 is above n_val=3\n");
}

TEST(CliErrorTest, ServerNotFoundErrorExitsOne) {
  FakeNode node;
  node.Answer(Code::kGetBucketTypeReq,
              FakeServer::ErrorFrame("no bucket type 'x'", 3));
  Result r = RunTool({"--node", node.node(), "bucket-type", "get", "x"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "causeway: not found: no bucket type 'x'\n");
}

TEST(CliOptionsTest, NodeComesFromTheEnvironmentUnlessGiven) {
  FakeNode node;
  node.Answer(Code::kPingReq, FakeServer::Frame(Code::kPingResp));
  RunOptions env;
  env.env["CAUSEWAY_NODE"] = node.node();
  EXPECT_EQ(RunTool({"ping"}, env).code, kExitOk);
  const std::string dead = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  EXPECT_EQ(RunTool({"--node", dead, "ping"}, env).code, kExitFailure);
  env.env["CAUSEWAY_NODE"] = "nonsense:port";
  Result r = RunTool({"ping"}, env);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("bad node address 'nonsense:port'"), std::string::npos);
}

TEST(CliOptionsTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunTool({}).code, kExitUsage);
  EXPECT_EQ(RunTool({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(RunTool({"get", "only-bucket"}).code, kExitUsage);
  EXPECT_EQ(RunTool({"get", "b", "k", "--no-such-flag"}).code, kExitUsage);
  EXPECT_EQ(RunTool({"--timeout", "-1", "ping"}).code, kExitUsage);
  Result help = RunTool({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_NE(help.out.find("list-keys"), std::string::npos);
}

TEST(CliOptionsTest, UnknownCommandSuggestsTheNearest) {
  Result r = RunTool({"gett", "b", "k"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown command 'gett'; did you mean 'get'?"),
            std::string::npos)
      << r.err;
  r = RunTool({"--node", "127.0.0.1:1", "lst-keys", "b"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("did you mean 'list-keys'?"), std::string::npos)
      << r.err;
  r = RunTool({"bucket", "gett", "b"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown command 'bucket gett'; did you mean 'bucket "
                       "get'?"),
            std::string::npos)
      << r.err;
  r = RunTool({"frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_EQ(r.err.find("did you mean"), std::string::npos) << r.err;
}

TEST(CliKeyTest, EmptyKeyIsAUsageErrorAndSendsNothing) {
  FakeNode node;
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"get", "b", ""},
           {"put", "b", "", "v"},
           {"put", "--blind", "b", "", "v"},
           {"delete", "b", ""},
           {"preflist", "b", ""},
           {"--type", "counters", "counter", "incr", "b", ""},
           {"--type", "sets", "set", "add", "b", "", "x"}}) {
    args.insert(args.begin(), {"--node", node.node()});
    Result r = RunTool(args);
    EXPECT_EQ(r.code, kExitUsage) << args[2];
    EXPECT_NE(r.err.find("the key is empty"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(node.requests().empty());
}

TEST(CliPutTest, ServerKeyIsAskedForExplicitlyAndPrinted) {
  FakeNode node;
  pbc::RpbPutResp resp;
  resp.set_key("made-up");
  node.Answer(Code::kPutReq, FakeServer::Frame(Code::kPutResp, resp));
  Result r = RunTool({"--node", node.node(), "put", "b", "--server-key", "v"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  // No read first: there is no key to read.
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kPut});
  auto put = node.Sent<pbc::RpbPutReq>(0);
  EXPECT_FALSE(put.has_key());
  EXPECT_EQ(put.content().value(), "v");
  EXPECT_EQ(r.out, "made-up\n");
  r = RunTool(
      {"--node", node.node(), "--json", "put", "b", "--server-key", "v"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"ok\":true,\"key\":\"made-up\"}\n");
  // A key next to --server-key, or a missing value, is a usage error.
  EXPECT_EQ(
      RunTool({"--node", node.node(), "put", "b", "k", "v", "--server-key"})
          .code,
      kExitUsage);
  EXPECT_EQ(RunTool({"--node", node.node(), "put", "b", "k"}).code, kExitUsage);
}

TEST(CliPutTest, ReadBeforeWriteFailureNamesThePut) {
  FakeNode node;
  node.Answer(Code::kGetReq,
              FakeServer::ErrorFrame(
                  "get of b/k failed: Unavailable: r=2 not met: 1 of 3 "
                  "replicas replied",
                  4));
  Result r = RunTool({"--node", node.node(), "put", "b", "k", "v"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kGet});
  EXPECT_EQ(r.err.rfind("causeway: server error: put of b/k failed while "
                        "reading the current value",
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("r=2 not met"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("may have been applied"), std::string::npos) << r.err;
}

TEST(CliPutTest, QuorumFailureSaysTheWriteMayHaveLanded) {
  FakeNode node;
  node.Answer(Code::kPutReq,
              FakeServer::ErrorFrame(
                  "put of b/k failed: Unavailable: pw=3 not met: 3 of 3 "
                  "reachable replicas acknowledged (2 primaries)",
                  4));
  Result r = RunTool(
      {"--node", node.node(), "put", "--blind", "b", "k", "v", "--pw", "all"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("pw=3 not met"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the put may have been applied"), std::string::npos)
      << r.err;

  // A refusal before anything was written does not say so.
  FakeNode refusing;
  refusing.Answer(Code::kPutReq,
                  FakeServer::ErrorFrame("w=5 is above n_val=3", 1));
  r = RunTool(
      {"--node", refusing.node(), "put", "--blind", "b", "k", "v", "--w", "5"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "causeway: server error: w=5 is above n_val=3\n");
}

TEST(CliDeleteTest, QuorumFailureSaysTheDeleteMayHaveLanded) {
  FakeNode node;
  node.Answer(Code::kDelReq,
              FakeServer::ErrorFrame("delete of b/k failed: Timeout: w=3", 5));
  Result r =
      RunTool({"--node", node.node(), "delete", "b", "k", "--vclock", "Y3R4"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("the delete may have been applied"), std::string::npos)
      << r.err;
}

// A file in the test's temporary directory, removed at the end.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents)
      : path_(::testing::TempDir() + "cli_test_" + std::to_string(::getpid()) +
              "_" + name) {
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CliPutTest, FileGivesTheValueAndItsContentType) {
  FakeNode node;
  node.Answer(Code::kPutReq, FakeServer::Frame(Code::kPutResp));
  const std::string bytes("{\"a\":1}\n\0\xff", 10);
  TempFile json("doc.json", bytes);
  Result r = RunTool({"--node", node.node(), "put", "--blind", "b", "k",
                      "--file", json.path()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto put = node.Sent<pbc::RpbPutReq>(0);
  EXPECT_EQ(put.content().value(), bytes);
  EXPECT_EQ(put.content().content_type(), "application/json");

  TempFile png("Pic.PNG", "\x89PNG");
  r = RunTool({"--node", node.node(), "put", "--blind", "b", "k", "--file",
               png.path()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(node.Sent<pbc::RpbPutReq>(1).content().content_type(), "image/png");

  // --content-type wins over the extension.
  r = RunTool({"--node", node.node(), "put", "--blind", "b", "k", "--file",
               json.path(), "--content-type", "text/plain"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(node.Sent<pbc::RpbPutReq>(2).content().content_type(),
            "text/plain");

  // A value next to --file, or a file that is not there, is usage.
  EXPECT_EQ(RunTool({"--node", node.node(), "put", "b", "k", "v", "--file",
                     json.path()})
                .code,
            kExitUsage);
  r = RunTool({"--node", node.node(), "put", "b", "k", "--file",
               json.path() + ".missing"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--file: cannot read"), std::string::npos) << r.err;
  EXPECT_EQ(node.requests().size(), 3u);
}

}  // namespace
}  // namespace causeway::client::cli
