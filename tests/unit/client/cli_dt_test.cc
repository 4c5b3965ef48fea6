// The data-type commands of `causeway` (counter, set, gset, hll, map) run
// in-process against the fake server: the DtFetchReq/DtUpdateReq they send,
// the context they fetch before a remove, what they print (text and
// --json) and their exit status.

#include "client/cli.h"
#include "gtest/gtest.h"
#include "proto/pbc_codes.h"
#include "proto/riak.pb.h"
#include "tests/unit/client/cli_harness.h"

namespace causeway::client::cli {
namespace {

using pbc::Code;
using testing::FakeNode;
using testing::FakeServer;
using testing::RunTool;
using Result = testing::CliResult;

constexpr uint8_t kFetch = 80, kUpdate = 82;

void AnswerFetch(FakeNode& node, const pbc::DtFetchResp& resp) {
  node.Answer(Code::kDtFetchReq, FakeServer::Frame(Code::kDtFetchResp, resp));
}

void AnswerUpdate(FakeNode& node, const pbc::DtUpdateResp& resp) {
  node.Answer(Code::kDtUpdateReq, FakeServer::Frame(Code::kDtUpdateResp, resp));
}

pbc::DtFetchResp FetchedSet(const std::vector<std::string>& elements,
                            const std::string& context) {
  pbc::DtFetchResp resp;
  resp.set_type(pbc::DtFetchResp::SET);
  resp.set_context(context);
  for (const std::string& e : elements) {
    resp.mutable_value()->add_set_value(e);
  }
  return resp;
}

pbc::DtUpdateResp UpdatedSet(const std::vector<std::string>& elements) {
  pbc::DtUpdateResp resp;
  for (const std::string& e : elements) resp.add_set_value(e);
  return resp;
}

Result RunOn(const FakeNode& node, const std::string& type,
             std::vector<std::string> args) {
  args.insert(args.begin(), {"--node", node.node(), "--type", type});
  return RunTool(args);
}

TEST(CliCounterTest, IncrSendsTheStepAndPrintsTheNewValue) {
  FakeNode node;
  pbc::DtUpdateResp resp;
  resp.set_counter_value(5);
  AnswerUpdate(node, resp);
  Result r = RunOn(node, "counters", {"counter", "incr", "b", "k"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "5\n");
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kUpdate});
  auto sent = node.Sent<pbc::DtUpdateReq>(0);
  EXPECT_EQ(sent.type(), "counters");
  EXPECT_EQ(sent.bucket(), "b");
  EXPECT_EQ(sent.key(), "k");
  EXPECT_EQ(sent.op().counter_op().increment(), 1);
  EXPECT_FALSE(sent.op().has_set_op());
  EXPECT_TRUE(sent.return_body());
  EXPECT_FALSE(sent.has_context());
}

TEST(CliCounterTest, StepsMayBeGivenAndNegative) {
  FakeNode node;
  AnswerUpdate(node, pbc::DtUpdateResp());
  ASSERT_EQ(RunOn(node, "c", {"counter", "incr", "b", "k", "7"}).code, kExitOk);
  ASSERT_EQ(RunOn(node, "c", {"counter", "incr", "b", "k", "-3"}).code,
            kExitOk);
  ASSERT_EQ(RunOn(node, "c", {"counter", "decr", "b", "k"}).code, kExitOk);
  ASSERT_EQ(RunOn(node, "c", {"counter", "decr", "b", "k", "4"}).code, kExitOk);
  ASSERT_EQ(RunOn(node, "c", {"counter", "decr", "b", "k", "-2"}).code,
            kExitOk);
  std::vector<int64_t> steps;
  for (size_t i = 0; i < 5; ++i) {
    steps.push_back(
        node.Sent<pbc::DtUpdateReq>(i).op().counter_op().increment());
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{7, -3, -1, -4, 2}));
}

TEST(CliCounterTest, BadStepIsUsageAndSendsNothing) {
  FakeNode node;
  EXPECT_EQ(RunOn(node, "c", {"counter", "incr", "b", "k", "1.5"}).code,
            kExitUsage);
  EXPECT_EQ(RunOn(node, "c", {"counter", "incr", "b", "k", "ten"}).code,
            kExitUsage);
  EXPECT_EQ(
      RunOn(node, "c", {"counter", "decr", "b", "k", "-9223372036854775808"})
          .code,
      kExitUsage);
  EXPECT_EQ(RunOn(node, "c", {"counter", "incr", "b"}).code, kExitUsage);
  EXPECT_TRUE(node.requests().empty());
}

TEST(CliCounterTest, GetPrintsTheValueTextAndJson) {
  FakeNode node;
  pbc::DtFetchResp resp;
  resp.set_type(pbc::DtFetchResp::COUNTER);
  resp.mutable_value()->set_counter_value(-12);
  AnswerFetch(node, resp);
  Result r = RunOn(node, "counters", {"counter", "get", "b", "k"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "-12\n");
  auto sent = node.Sent<pbc::DtFetchReq>(0);
  EXPECT_EQ(sent.type(), "counters");
  EXPECT_EQ(sent.bucket(), "b");
  EXPECT_EQ(sent.key(), "k");
  r = RunOn(node, "counters", {"--json", "counter", "get", "b", "k"});
  EXPECT_EQ(r.out, "{\"value\":-12}\n");
}

TEST(CliCounterTest, NotFoundExitsOneLikeGet) {
  FakeNode node;
  pbc::DtFetchResp resp;
  resp.set_type(pbc::DtFetchResp::COUNTER);
  AnswerFetch(node, resp);
  Result r = RunOn(node, "counters", {"counter", "get", "b", "k"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "causeway: not found: b/k\n");
  r = RunOn(node, "counters", {"counter", "get", "b", "k", "--json"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.out, "{\"found\":false}\n");
}

TEST(CliCounterTest, ATypeHoldingAnotherDataTypeIsAnError) {
  FakeNode node;
  AnswerFetch(node, FetchedSet({"a"}, "ctx"));
  Result r = RunOn(node, "sets", {"counter", "get", "b", "k"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("bucket type 'sets' holds sets, not counters"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(CliCounterTest, ServerErrorsArePrintedLikeOtherCommands) {
  FakeNode node;
  node.Answer(Code::kDtUpdateReq,
              FakeServer::ErrorFrame(
                  "bucket type 'default' has no datatype property", 1));
  Result r = RunTool({"--node", node.node(), "counter", "incr", "b", "k"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err,
            "causeway: server error: bucket type 'default' has no datatype "
            "property\n");
  EXPECT_EQ(node.Sent<pbc::DtUpdateReq>(0).type(), "default");
}

TEST(CliSetTest, AddSendsEveryElementWithoutFetching) {
  FakeNode node;
  AnswerUpdate(node, UpdatedSet({"a", "b", "c"}));
  Result r = RunOn(node, "sets", {"set", "add", "b", "k", "a", "c"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "a\nb\nc\n");
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kUpdate});
  auto sent = node.Sent<pbc::DtUpdateReq>(0);
  ASSERT_EQ(sent.op().set_op().adds_size(), 2);
  EXPECT_EQ(sent.op().set_op().adds(0), "a");
  EXPECT_EQ(sent.op().set_op().adds(1), "c");
  EXPECT_EQ(sent.op().set_op().removes_size(), 0);
  EXPECT_FALSE(sent.has_context());
  EXPECT_TRUE(sent.return_body());
}

TEST(CliSetTest, RemoveFetchesTheContextAndSendsIt) {
  FakeNode node;
  AnswerFetch(node, FetchedSet({"a", "x", "y"}, "ctx1"));
  AnswerUpdate(node, UpdatedSet({"a"}));
  Result r =
      RunOn(node, "sets", {"--json", "set", "remove", "b", "k", "x", "y"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"elements\":[\"a\"]}\n");
  EXPECT_EQ(node.codes(), (std::vector<uint8_t>{kFetch, kUpdate}));
  auto fetch = node.Sent<pbc::DtFetchReq>(0);
  EXPECT_EQ(fetch.type(), "sets");
  EXPECT_EQ(fetch.key(), "k");
  auto sent = node.Sent<pbc::DtUpdateReq>(1);
  EXPECT_EQ(sent.context(), "ctx1");
  ASSERT_EQ(sent.op().set_op().removes_size(), 2);
  EXPECT_EQ(sent.op().set_op().removes(0), "x");
  EXPECT_EQ(sent.op().set_op().removes(1), "y");
  EXPECT_EQ(sent.op().set_op().adds_size(), 0);
}

TEST(CliSetTest, RemoveOfAMissingElementShowsTheServersRefusal) {
  FakeNode node;
  pbc::DtFetchResp missing;
  missing.set_type(pbc::DtFetchResp::SET);
  AnswerFetch(node, missing);
  node.Answer(Code::kDtUpdateReq, FakeServer::ErrorFrame("not_present: x", 6));
  Result r = RunOn(node, "sets", {"set", "remove", "b", "k", "x"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "causeway: server error: not_present: x\n");
  EXPECT_EQ(node.codes(), (std::vector<uint8_t>{kFetch, kUpdate}));
  EXPECT_FALSE(node.Sent<pbc::DtUpdateReq>(1).has_context());
}

TEST(CliCounterTest, QuorumFailureSaysTheUpdateMayHaveLanded) {
  FakeNode node;
  node.Answer(Code::kDtUpdateReq,
              FakeServer::ErrorFrame("w=2 not met: 1 of 3 acknowledged", 4));
  Result r = RunOn(node, "counters", {"counter", "incr", "b", "k"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("w=2 not met"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the update may have been applied"), std::string::npos)
      << r.err;
}

TEST(CliSetTest, ReadBeforeRemoveFailureNamesTheUpdate) {
  FakeNode node;
  node.Answer(Code::kDtFetchReq,
              FakeServer::ErrorFrame("r=2 not met: 1 of 3 replied", 4));
  Result r = RunOn(node, "sets", {"set", "remove", "b", "k", "x"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("set update of b/k failed while reading the current "
                       "value (nothing was written): r=2 not met"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kFetch});
}

TEST(CliSetTest, GetPrintsOneElementPerLine) {
  FakeNode node;
  AnswerFetch(node, FetchedSet({"a", "two\nlines"}, "ctx"));
  Result r = RunOn(node, "sets", {"set", "get", "b", "k"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "a\ntwo\\x0alines\n");
  r = RunOn(node, "sets", {"set", "get", "b", "k", "--json"});
  EXPECT_EQ(r.out, "{\"elements\":[\"a\",\"two\\nlines\"]}\n");
}

TEST(CliSetTest, AddAndRemoveNeedElements) {
  FakeNode node;
  EXPECT_EQ(RunOn(node, "sets", {"set", "add", "b", "k"}).code, kExitUsage);
  EXPECT_EQ(RunOn(node, "sets", {"set", "remove", "b", "k"}).code, kExitUsage);
  EXPECT_EQ(RunOn(node, "sets", {"set", "b", "k"}).code, kExitUsage);
  EXPECT_TRUE(node.requests().empty());
}

TEST(CliGSetTest, AddAndGet) {
  FakeNode node;
  pbc::DtUpdateResp updated;
  updated.add_gset_value("a");
  updated.add_gset_value("b");
  AnswerUpdate(node, updated);
  Result r = RunOn(node, "gsets", {"gset", "add", "b", "k", "b"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "a\nb\n");
  auto sent = node.Sent<pbc::DtUpdateReq>(0);
  ASSERT_EQ(sent.op().gset_op().adds_size(), 1);
  EXPECT_EQ(sent.op().gset_op().adds(0), "b");
  EXPECT_FALSE(sent.op().has_set_op());

  pbc::DtFetchResp fetched;
  fetched.set_type(pbc::DtFetchResp::GSET);
  fetched.mutable_value()->add_gset_value("a");
  AnswerFetch(node, fetched);
  r = RunOn(node, "gsets", {"gset", "get", "b", "k", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"elements\":[\"a\"]}\n");
}

TEST(CliHllTest, AddAndGetPrintTheCardinality) {
  FakeNode node;
  pbc::DtUpdateResp updated;
  updated.set_hll_value(4);
  AnswerUpdate(node, updated);
  Result r = RunOn(node, "hlls", {"hll", "add", "b", "k", "w", "x", "y", "z"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "4\n");
  EXPECT_EQ(node.Sent<pbc::DtUpdateReq>(0).op().hll_op().adds_size(), 4);

  pbc::DtFetchResp fetched;
  fetched.set_type(pbc::DtFetchResp::HLL);
  fetched.mutable_value()->set_hll_value(4);
  AnswerFetch(node, fetched);
  r = RunOn(node, "hlls", {"--json", "hll", "get", "b", "k"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"cardinality\":4}\n");
}

pbc::MapEntry* AddEntry(google::protobuf::RepeatedPtrField<pbc::MapEntry>* to,
                        const std::string& name,
                        pbc::MapField::MapFieldType type) {
  pbc::MapEntry* e = to->Add();
  e->mutable_field()->set_name(name);
  e->mutable_field()->set_type(type);
  return e;
}

pbc::DtUpdateResp UpdatedMap() {
  pbc::DtUpdateResp resp;
  pbc::MapEntry* profile =
      AddEntry(resp.mutable_map_value(), "profile", pbc::MapField::MAP);
  AddEntry(profile->mutable_map_value(), "visits", pbc::MapField::COUNTER)
      ->set_counter_value(3);
  pbc::MapEntry* tags =
      AddEntry(resp.mutable_map_value(), "tags", pbc::MapField::SET);
  for (const std::string& e : {"a", "b"}) tags->add_set_value(e);
  AddEntry(resp.mutable_map_value(), "name", pbc::MapField::REGISTER)
      ->set_register_value("x");
  AddEntry(resp.mutable_map_value(), "admin", pbc::MapField::FLAG)
      ->set_flag_value(true);
  return resp;
}

TEST(CliMapTest, UpdateMergesNestedOpsAndPrintsTheNewMap) {
  FakeNode node;
  AnswerUpdate(node, UpdatedMap());
  Result r = RunOn(node, "maps",
                   {"map", "update", "b", "k", "profile_map.visits_counter+=2",
                    "tags_set+=a", "profile_map.visits_counter+=1",
                    "tags_set+=b", "name_register=x", "admin_flag=on"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "profile.visits (counter) = 3\n"
            "tags (set) = a, b\n"
            "name (register) = \"x\"\n"
            "admin (flag) = true\n");
  EXPECT_EQ(node.codes(), std::vector<uint8_t>{kUpdate});
  auto sent = node.Sent<pbc::DtUpdateReq>(0);
  EXPECT_FALSE(sent.has_context());
  EXPECT_TRUE(sent.return_body());
  const pbc::MapOp& op = sent.op().map_op();
  ASSERT_EQ(op.updates_size(), 4);
  EXPECT_EQ(op.updates(0).field().name(), "profile");
  EXPECT_EQ(op.updates(0).field().type(), pbc::MapField::MAP);
  const pbc::MapOp& nested = op.updates(0).map_op();
  ASSERT_EQ(nested.updates_size(), 1);
  EXPECT_EQ(nested.updates(0).field().name(), "visits");
  EXPECT_EQ(nested.updates(0).counter_op().increment(), 3);
  EXPECT_EQ(op.updates(1).set_op().adds_size(), 2);
  EXPECT_EQ(op.updates(2).register_op(), "x");
  EXPECT_EQ(op.updates(3).flag_op(), pbc::MapUpdate::ENABLE);
}

TEST(CliMapTest, RemovesFetchTheContextFirst) {
  FakeNode node;
  pbc::DtFetchResp fetched;
  fetched.set_type(pbc::DtFetchResp::MAP);
  fetched.set_context("mapctx");
  fetched.mutable_value();
  AnswerFetch(node, fetched);
  AnswerUpdate(node, pbc::DtUpdateResp());
  Result r =
      RunOn(node, "maps",
            {"map", "update", "b", "k", "--remove", "profile_map.old_flag",
             "profile_map.visits_counter+=1", "--remove", "gone_set"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(node.codes(), (std::vector<uint8_t>{kFetch, kUpdate}));
  auto sent = node.Sent<pbc::DtUpdateReq>(1);
  EXPECT_EQ(sent.context(), "mapctx");
  ASSERT_EQ(sent.op().map_op().removes_size(), 1);
  EXPECT_EQ(sent.op().map_op().removes(0).name(), "gone");
  const pbc::MapOp& nested = sent.op().map_op().updates(0).map_op();
  ASSERT_EQ(nested.removes_size(), 1);
  EXPECT_EQ(nested.removes(0).name(), "old");
  EXPECT_EQ(nested.removes(0).type(), pbc::MapField::FLAG);
  EXPECT_EQ(nested.updates_size(), 1);
}

TEST(CliMapTest, BadOpIsUsageAndNothingIsSent) {
  FakeNode node;
  Result r = RunOn(node, "maps",
                   {"map", "update", "b", "k", "a_flag=on", "visits+=1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(
      r.err.find("causeway: bad map operation 'visits+=1': 'visits' is not "
                 "NAME_TYPE"),
      std::string::npos)
      << r.err;
  r = RunOn(node, "maps", {"map", "update", "b", "k", "a_set-=x", "a_set+=x"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(RunOn(node, "maps", {"map", "update", "b", "k"}).code, kExitUsage);
  EXPECT_TRUE(node.requests().empty());
}

TEST(CliMapTest, GetTextAndJson) {
  FakeNode node;
  pbc::DtUpdateResp sample = UpdatedMap();
  pbc::DtFetchResp fetched;
  fetched.set_type(pbc::DtFetchResp::MAP);
  *fetched.mutable_value()->mutable_map_value() = sample.map_value();
  AnswerFetch(node, fetched);
  Result r = RunOn(node, "maps", {"map", "get", "b", "k"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "profile.visits (counter) = 3\n"
            "tags (set) = a, b\n"
            "name (register) = \"x\"\n"
            "admin (flag) = true\n");
  r = RunOn(node, "maps", {"map", "get", "b", "k", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, R"j({"map":{"profile (map)":{"visits (counter)":3},)j"
                   R"j("tags (set)":["a","b"],"name (register)":"x",)j"
                   R"j("admin (flag)":true}})j"
                   "\n");
}

TEST(CliDtHelpTest, EveryCommandNamesTheDatatypeItsTypeNeeds) {
  for (const char* kind : {"counter", "set", "gset", "hll", "map"}) {
    Result r = RunTool({kind, "get", "--help"});
    EXPECT_EQ(r.code, kExitOk);
    EXPECT_NE(r.out.find(std::string("datatype=") + kind), std::string::npos)
        << r.out;
  }
  Result r = RunTool({"map", "update", "--help"});
  EXPECT_NE(r.out.find("NAME_counter+=N"), std::string::npos) << r.out;
  EXPECT_NE(RunTool({"--help"}).out.find("hll"), std::string::npos);
}

}  // namespace
}  // namespace causeway::client::cli
