// RunBench against in-process fake servers: real sockets, short runs. The
// assertions are about counts and messages, never about speed.

#include "bench/load_generator.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <set>
#include <string>

#include "fake_pbc_server.h"

namespace causeway::bench {
namespace {

using testing::FakePbcServer;

BenchConfig ShortRun(const FakePbcServer& server) {
  BenchConfig c;
  c.nodes = {{"127.0.0.1", server.port()}};
  c.connections = 4;
  c.duration_seconds = 0.3;
  c.keys = 50;
  c.value_size = 64;
  c.request_timeout_ms = 2000;
  return c;
}

bool AnySampleContains(const BenchResult& r, const std::string& needle) {
  for (const std::string& s : r.error_samples) {
    if (s.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string Samples(const BenchResult& r) {
  std::string out;
  for (const std::string& s : r.error_samples) out += s + "\n";
  return out;
}

TEST(LoadGeneratorTest, MixedRunCountsEveryReply) {
  FakePbcServer server;
  BenchConfig config = ShortRun(server);
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_FALSE(result.preload.has_value());
  const PhaseResult& run = result.run;
  EXPECT_GT(run.put.ops, 0u);
  EXPECT_GT(run.get.ops, 0u);
  EXPECT_EQ(run.errors(), 0u) << Samples(result);
  EXPECT_TRUE(result.error_samples.empty());
  // Every request the server handled was answered and counted, and nothing
  // else was.
  EXPECT_EQ(server.puts(), run.put.ops);
  EXPECT_EQ(server.gets(), run.get.ops);
  EXPECT_EQ(server.connections(), config.connections);
  EXPECT_LE(run.get.notfound, run.get.ops);
  EXPECT_GT(run.elapsed_seconds, 0);
  EXPECT_GT(run.throughput(), 0);
  EXPECT_GE(run.put.max_ms, run.put.p99_ms);
  EXPECT_GE(run.put.p99_ms, run.put.p95_ms);
  EXPECT_GE(run.put.p95_ms, run.put.p50_ms);
  // Keys stay inside the key space and values have the configured size.
  for (const auto& [name, value] : server.Objects()) {
    EXPECT_EQ(name.rfind("/bench/k", 0), 0u) << name;
    EXPECT_EQ(value.size(), config.value_size);
  }
  EXPECT_LE(server.Objects().size(), config.keys);
}

// Paced, each connection sends only when its next request is due: with
// 4 connections at 40 ops/s in all: each connection has a request due every
// 100 ms from a random point of the first 100 ms, so 4 or 5 fall due within
// the 0.5 s run, however fast the server answers.
BenchConfig PacedRun(const FakePbcServer& server) {
  BenchConfig config = ShortRun(server);
  config.duration_seconds = 0.5;
  config.rate = 40;
  return config;
}

// Sent at their due times, the last of them waits until at least 0.4 s into
// the run.
TEST(LoadGeneratorTest, RateCapsTheRequestsSent) {
  FakePbcServer server;
  BenchConfig config = PacedRun(server);
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
  EXPECT_GE(result.run.ops(), 16u);
  EXPECT_LE(result.run.ops(), 20u);
  EXPECT_EQ(server.puts() + server.gets(), result.run.ops());
  EXPECT_GE(result.run.elapsed_seconds, 0.39);

  config.rate = -1;
  EXPECT_FALSE(RunBench(config, &result).ok());
}

// Released in ticks, a request may go out up to one tick before it is due,
// and the schedule of due times still decides how many are sent: in one
// tick of 1 s the whole run's requests are released at its start, yet no
// more of them than at their own due times. When a request is released is
// pinned by PacedRelease's exact values; how long the run then takes is a
// matter of the machine's load and is not asserted.
TEST(LoadGeneratorTest, PacedRequestsGoOutAtTheStartOfTheirTick) {
  using std::chrono::microseconds;
  using Time = std::chrono::steady_clock::time_point;
  const Time origin(microseconds(1'000'250));
  const Time due(microseconds(7'654'321));
  EXPECT_EQ(PacedRelease(due, origin, microseconds(1000)),
            Time(microseconds(7'654'250)));
  EXPECT_EQ(PacedRelease(due, origin, microseconds(0)), due);
  const Time on_tick(microseconds(9'000'250));
  EXPECT_EQ(PacedRelease(on_tick, origin, microseconds(1000)), on_tick);
  const Time before(microseconds(250));
  EXPECT_EQ(PacedRelease(before, origin, microseconds(1000)), before);

  FakePbcServer server;
  BenchConfig config = PacedRun(server);
  config.pace_tick_us = 1'000'000;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
  EXPECT_GE(result.run.ops(), 16u);
  EXPECT_LE(result.run.ops(), 20u);
  EXPECT_EQ(server.puts() + server.gets(), result.run.ops());

  config.pace_tick_us = 1'000'001;
  EXPECT_FALSE(RunBench(config, &result).ok());
}

TEST(LoadGeneratorTest, PreloadWritesEveryKeySoGetsFindThem) {
  FakePbcServer server;
  BenchConfig config = ShortRun(server);
  config.keys = 300;
  config.preload = true;
  config.mix = {0, 1};
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  ASSERT_TRUE(result.preload.has_value());
  EXPECT_EQ(result.preload->put.ops, 300u);
  EXPECT_EQ(result.preload->errors(), 0u) << Samples(result);
  EXPECT_EQ(server.Objects().size(), 300u);
  EXPECT_EQ(server.puts(), 300u);  // the timed run was gets only
  EXPECT_EQ(result.run.put.ops, 0u);
  EXPECT_GT(result.run.get.ops, 0u);
  EXPECT_EQ(result.run.get.notfound, 0u);
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
}

// One value repeated in every put would be folded by the engine's block
// compression, so bytes-on-disk figures would flatter it.
TEST(LoadGeneratorTest, EveryPutCarriesItsOwnRandomValue) {
  FakePbcServer server;
  BenchConfig config = ShortRun(server);
  config.keys = 200;
  config.value_size = 100;
  config.preload = true;
  config.mix = {0, 1};
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  ASSERT_EQ(server.Objects().size(), 200u);
  std::set<std::string> values;
  for (const auto& [name, value] : server.Objects()) {
    ASSERT_EQ(value.size(), config.value_size);
    values.insert(value);
  }
  EXPECT_EQ(values.size(), 200u);
}

TEST(LoadGeneratorTest, GetsOfUnwrittenKeysAreNotFoundNotErrors) {
  FakePbcServer server;
  BenchConfig config = ShortRun(server);
  config.mix = {0, 1};
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_GT(result.run.get.ops, 0u);
  EXPECT_EQ(result.run.get.notfound, result.run.get.ops);
  EXPECT_EQ(result.run.errors(), 0u);
}

TEST(LoadGeneratorTest, SendsBucketTypeQuorumsAndBlindPuts) {
  FakePbcServer server;
  BenchConfig config = ShortRun(server);
  config.bucket = "b1";
  config.type = "t1";
  config.r = kQuorumOne;
  config.w = 2;
  config.dw = kQuorumAll;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  ASSERT_GT(result.run.put.ops, 0u);
  ASSERT_GT(result.run.get.ops, 0u);
  pbc::RpbPutReq put = server.LastPut();
  EXPECT_EQ(put.bucket(), "b1");
  EXPECT_EQ(put.type(), "t1");
  EXPECT_EQ(put.w(), 2u);
  EXPECT_EQ(put.dw(), kQuorumAll);
  EXPECT_FALSE(put.has_vclock());
  EXPECT_FALSE(put.has_pw());
  EXPECT_EQ(put.content().value().size(), config.value_size);
  pbc::RpbGetReq get = server.LastGet();
  EXPECT_EQ(get.bucket(), "b1");
  EXPECT_EQ(get.type(), "t1");
  EXPECT_EQ(get.r(), kQuorumOne);
}

TEST(LoadGeneratorTest, UnsetOptionsAreNotSent) {
  FakePbcServer server;
  BenchConfig config = ShortRun(server);
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  ASSERT_GT(server.puts(), 0u);
  ASSERT_GT(server.gets(), 0u);
  EXPECT_FALSE(server.LastPut().has_type());
  EXPECT_FALSE(server.LastPut().has_w());
  EXPECT_FALSE(server.LastPut().has_dw());
  EXPECT_FALSE(server.LastGet().has_r());
}

TEST(LoadGeneratorTest, ConnectionsAreSpreadRoundRobinOverNodes) {
  FakePbcServer a;
  FakePbcServer b;
  BenchConfig config = ShortRun(a);
  config.nodes = {{"127.0.0.1", a.port()}, {"localhost", b.port()}};
  config.connections = 5;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(a.connections(), 3u);
  EXPECT_EQ(b.connections(), 2u);
  EXPECT_GT(a.puts() + a.gets(), 0u);
  EXPECT_GT(b.puts() + b.gets(), 0u);
  EXPECT_EQ(a.puts() + b.puts(), result.run.put.ops);
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
}

TEST(LoadGeneratorTest, TwoThreadsShareOneLoop) {
  FakePbcServer server;
  BenchConfig config = ShortRun(server);
  config.threads = 2;
  config.connections = 16;
  config.distribution = Distribution::kPareto;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_GT(result.run.ops(), 0u);
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
  EXPECT_EQ(server.puts(), result.run.put.ops);
  EXPECT_EQ(server.gets(), result.run.get.ops);
}

TEST(LoadGeneratorTest, ErrorRepliesAreErrorsWithTheirMessages) {
  FakePbcServer server(FakePbcServer::Mode::kErrorAll);
  BenchConfig config = ShortRun(server);
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(result.run.ops(), 0u);
  EXPECT_GT(result.run.put.errors, 0u);
  EXPECT_GT(result.run.get.errors, 0u);
  // An error reply does not break the connection.
  EXPECT_EQ(server.connections(), config.connections);
  EXPECT_EQ(result.run.connect_errors, 0u);
  EXPECT_TRUE(AnySampleContains(result, "put: RpbErrorResp 1: fake refuses"))
      << Samples(result);
  EXPECT_TRUE(AnySampleContains(result, "get: RpbErrorResp 1: fake refuses"))
      << Samples(result);
  EXPECT_LE(result.error_samples.size(), config.max_error_samples);
}

TEST(LoadGeneratorTest, ErrorSamplesAreBoundedAndDistinct) {
  FakePbcServer server(FakePbcServer::Mode::kErrorAll);
  BenchConfig config = ShortRun(server);
  config.max_error_samples = 1;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_GT(result.run.errors(), 1u);
  EXPECT_EQ(result.error_samples.size(), 1u);
}

TEST(LoadGeneratorTest, SilentServerTimesOut) {
  FakePbcServer server(FakePbcServer::Mode::kSilent);
  BenchConfig config = ShortRun(server);
  config.request_timeout_ms = 50;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(result.run.ops(), 0u);
  EXPECT_GT(result.run.errors(), 0u);
  EXPECT_TRUE(AnySampleContains(result, "no reply within 50 ms"))
      << Samples(result);
  // Each timeout closes the connection and the next request reconnects.
  EXPECT_GT(server.connections(), config.connections);
}

TEST(LoadGeneratorTest, MalformedReplyFrameClosesAndReconnects) {
  FakePbcServer server(FakePbcServer::Mode::kBadFrame);
  BenchConfig config = ShortRun(server);
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(result.run.ops(), 0u);
  EXPECT_GT(result.run.errors(), 0u);
  EXPECT_TRUE(AnySampleContains(result, "malformed reply")) << Samples(result);
  EXPECT_GT(server.connections(), config.connections);
}

// A reply frame that arrives in pieces is put together, and a large one
// is read whole.
TEST(LoadGeneratorTest, RepliesSplitIntoPiecesAreReassembled) {
  FakePbcServer server(FakePbcServer::Mode::kTrickle);
  BenchConfig config = ShortRun(server);
  config.keys = 4;
  config.preload = true;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(result.preload->errors(), 0u) << Samples(result);
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
  EXPECT_GT(result.run.get.ops, 0u);
  EXPECT_EQ(result.run.get.notfound, 0u);
  EXPECT_EQ(server.gets(), result.run.get.ops);
}

TEST(LoadGeneratorTest, LargeRepliesArriveWhole) {
  FakePbcServer server;
  BenchConfig config = ShortRun(server);
  config.keys = 20;
  config.value_size = 100'000;
  config.preload = true;
  config.mix = {0, 1};
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
  EXPECT_GT(result.run.get.ops, 0u);
  EXPECT_EQ(result.run.get.notfound, 0u);
}

TEST(LoadGeneratorTest, ReplyWithWrongCodeIsAnError) {
  FakePbcServer server(FakePbcServer::Mode::kWrongCode);
  BenchConfig config = ShortRun(server);
  config.mix = {1, 0};
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_EQ(result.run.ops(), 0u);
  EXPECT_GT(result.run.put.errors, 0u);
  EXPECT_TRUE(AnySampleContains(result, "reply code 2 to request code 11"))
      << Samples(result);
}

TEST(LoadGeneratorTest, UnreachableNodeCountsConnectErrors) {
  // A port that was free a moment ago and has no listener now.
  uint16_t port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(
        io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  BenchConfig config;
  config.nodes = {{"127.0.0.1", port}};
  config.connections = 2;
  config.duration_seconds = 0.3;
  config.preload = true;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  ASSERT_TRUE(result.preload.has_value());
  // The preload gives up instead of hanging.
  EXPECT_EQ(result.preload->ops(), 0u);
  EXPECT_GT(result.preload->connect_errors, 0u);
  EXPECT_EQ(result.run.ops(), 0u);
  EXPECT_GT(result.run.connect_errors, 0u);
  EXPECT_TRUE(
      AnySampleContains(result, "connect 127.0.0.1:" + std::to_string(port)))
      << Samples(result);
}

TEST(LoadGeneratorTest, PreloadGivesUpOnAServerThatRefusesEverything) {
  FakePbcServer server(FakePbcServer::Mode::kErrorAll);
  BenchConfig config = ShortRun(server);
  config.keys = 1000000;
  config.preload = true;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  ASSERT_TRUE(result.preload.has_value());
  EXPECT_EQ(result.preload->put.ops, 0u);
  // Each connection stops after a run of failures, far short of every key.
  EXPECT_LT(result.preload->put.errors, 1000u);
  EXPECT_GT(result.preload->put.errors, 0u);
}

TEST(LoadGeneratorTest, BadConfigIsRejectedBeforeConnecting) {
  FakePbcServer server;
  auto rejected = [&](auto mutate) {
    BenchConfig config = ShortRun(server);
    mutate(config);
    BenchResult result;
    Status s = RunBench(config, &result);
    return s.code() == Status::Code::kInvalidArgument;
  };
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.nodes.clear(); }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.connections = 0; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.duration_seconds = 0; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.duration_seconds = -1; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.keys = 0; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.mix = {0, 0}; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.threads = 0; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.request_timeout_ms = 0; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.bucket.clear(); }));
  EXPECT_TRUE(
      rejected([](BenchConfig& c) { c.value_size = c.max_frame_bytes; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) {
    c.nodes = {{"no-such-host.invalid", 8087}};
  }));
  // Data-type operations name their bucket type.
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.mix = {0, 0, 1, 0, 0}; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) {
    c.type = "t";
    c.mix = {1, 0, 1, 0, 0};
  }));
  EXPECT_TRUE(rejected([](BenchConfig& c) {
    c.type = "t";
    c.mix = {0, 0, 1, 0, 1};
  }));
  // A preload needs a write to preload with; a tally needs data types.
  EXPECT_TRUE(rejected([](BenchConfig& c) {
    c.type = "t";
    c.mix = {0, 0, 0, 1, 0};
    c.preload = true;
  }));
  EXPECT_TRUE(rejected([](BenchConfig& c) { c.tally = true; }));
  EXPECT_TRUE(rejected([](BenchConfig& c) {
    c.type = "t";
    c.mix = {0, 0, 0, 0, 1};
    c.value_size = 0;
  }));
  EXPECT_EQ(server.connections(), 0u);
}

BenchConfig DataTypeRun(const FakePbcServer& server, OpMix mix) {
  BenchConfig c = ShortRun(server);
  c.type = "dt";
  c.bucket = "b";
  c.mix = mix;
  return c;
}

// Every acknowledged increment is one on the server, and the tally reads
// back their sum.
TEST(LoadGeneratorTest, IncrementsAddOneEachAndTheTallyCountsThem) {
  FakePbcServer server;
  BenchConfig config = DataTypeRun(server, {0, 0, 3, 1, 0});
  config.w = 2;
  config.dw = kQuorumOne;
  config.r = kQuorumAll;
  config.tally = true;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  const PhaseResult& run = result.run;
  EXPECT_EQ(run.errors(), 0u) << Samples(result);
  EXPECT_GT(run.incr.ops, 0u);
  EXPECT_GT(run.dtget.ops, 0u);
  EXPECT_EQ(run.put.ops + run.get.ops, 0u);
  EXPECT_EQ(server.dt_updates(), run.incr.ops);
  int64_t sum = 0;
  for (const auto& [name, value] : server.Counters()) {
    EXPECT_EQ(name.rfind("dt/b/k", 0), 0u) << name;
    sum += value;
  }
  EXPECT_EQ(sum, static_cast<int64_t>(run.incr.ops));
  // Gets of keys not incremented yet find nothing.
  EXPECT_LE(run.dtget.notfound, run.dtget.ops);

  pbc::DtUpdateReq update = server.LastDtUpdate();
  EXPECT_EQ(update.type(), "dt");
  EXPECT_EQ(update.bucket(), "b");
  EXPECT_EQ(update.op().counter_op().increment(), 1);
  EXPECT_FALSE(update.op().has_set_op());
  EXPECT_FALSE(update.has_context());
  EXPECT_EQ(update.w(), 2u);
  EXPECT_EQ(update.dw(), kQuorumOne);

  ASSERT_TRUE(result.tally.has_value());
  const TallyResult& tally = *result.tally;
  EXPECT_EQ(tally.keys_read, config.keys);
  EXPECT_EQ(tally.keys_failed, 0u);
  EXPECT_EQ(tally.keys_found, server.Counters().size());
  EXPECT_EQ(tally.counter_total, sum);
  EXPECT_EQ(tally.errors, 0u);
  EXPECT_EQ(server.dt_fetches(), run.dtget.ops + config.keys);
  pbc::DtFetchReq fetch = server.LastDtFetch();
  EXPECT_EQ(fetch.type(), "dt");
  EXPECT_EQ(fetch.r(), kQuorumAll);
  EXPECT_FALSE(fetch.include_context());  // the tally's

  TallyCheck check = CheckTally(config, result);
  EXPECT_EQ(check.verdict, TallyCheck::Verdict::kConsistent);
  EXPECT_EQ(check.acknowledged, run.incr.ops);
  EXPECT_EQ(check.unknown, 0u);
}

// The preload adds one element to every key, so dtgets find them all; each
// add carries fresh random bytes, so every acknowledged add is one more
// element.
TEST(LoadGeneratorTest, SaddAddsAFreshElementEachTime) {
  FakePbcServer server;
  BenchConfig config = DataTypeRun(server, {0, 0, 0, 1, 2});
  config.keys = 100;
  config.value_size = 24;
  config.preload = true;
  config.tally = true;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  ASSERT_TRUE(result.preload.has_value());
  EXPECT_EQ(result.preload->sadd.ops, 100u);
  EXPECT_EQ(result.preload->errors(), 0u) << Samples(result);
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
  EXPECT_GT(result.run.sadd.ops, 0u);
  EXPECT_GT(result.run.dtget.ops, 0u);
  EXPECT_EQ(result.run.dtget.notfound, 0u);
  uint64_t elements = 0;
  for (const auto& [name, set] : server.Sets()) {
    for (const std::string& e : set) EXPECT_EQ(e.size(), 24u);
    elements += set.size();
  }
  EXPECT_EQ(server.Sets().size(), 100u);
  EXPECT_EQ(elements, 100u + result.run.sadd.ops);
  ASSERT_TRUE(result.tally.has_value());
  EXPECT_EQ(result.tally->set_elements, elements);
  EXPECT_EQ(result.tally->keys_found, 100u);
  TallyCheck check = CheckTally(config, result);
  EXPECT_EQ(check.verdict, TallyCheck::Verdict::kConsistent);
  EXPECT_EQ(check.acknowledged, elements);
}

TEST(LoadGeneratorTest, DtGetsOfUnwrittenKeysAreNotFound) {
  FakePbcServer server;
  BenchConfig config = DataTypeRun(server, {0, 0, 0, 1, 0});
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  EXPECT_GT(result.run.dtget.ops, 0u);
  EXPECT_EQ(result.run.dtget.notfound, result.run.dtget.ops);
  EXPECT_EQ(result.run.errors(), 0u) << Samples(result);
  EXPECT_TRUE(server.LastDtFetch().include_context());
  EXPECT_FALSE(result.tally.has_value());
}

// Failed updates may have been applied, so they widen what the tally may
// read; keys the tally could not read make it incomplete.
TEST(LoadGeneratorTest, TallyCheckAllowsForUpdatesOfUnknownOutcome) {
  BenchConfig config;
  config.type = "dt";
  config.mix = {0, 0, 1, 0, 0};
  BenchResult result;
  result.run.incr.ops = 100;
  result.run.incr.errors = 3;
  PhaseResult preload;
  preload.incr.ops = 10;
  result.preload = preload;
  EXPECT_EQ(CheckTally(config, result).verdict,
            TallyCheck::Verdict::kNotApplicable);
  result.tally = TallyResult();
  auto verdict = [&](int64_t total) {
    result.tally->counter_total = total;
    return CheckTally(config, result).verdict;
  };
  EXPECT_EQ(verdict(109), TallyCheck::Verdict::kInconsistent);
  EXPECT_EQ(verdict(110), TallyCheck::Verdict::kConsistent);
  EXPECT_EQ(verdict(113), TallyCheck::Verdict::kConsistent);
  EXPECT_EQ(verdict(114), TallyCheck::Verdict::kInconsistent);
  EXPECT_EQ(verdict(-5), TallyCheck::Verdict::kInconsistent);
  result.tally->keys_failed = 1;
  EXPECT_EQ(verdict(110), TallyCheck::Verdict::kIncomplete);
  config.mix = {0, 0, 0, 1, 0};
  EXPECT_EQ(CheckTally(config, result).verdict,
            TallyCheck::Verdict::kNotApplicable);
}

// Against a server that refuses every fetch, the tally gives up rather than
// retrying every key of a large key space, and says it read nothing.
TEST(LoadGeneratorTest, TallyGivesUpOnAServerThatRefusesEverything) {
  FakePbcServer server(FakePbcServer::Mode::kErrorAll);
  BenchConfig config = DataTypeRun(server, {0, 0, 1, 0, 0});
  config.keys = 1000000;
  config.duration_seconds = 0.1;
  config.tally = true;
  BenchResult result;
  ASSERT_TRUE(RunBench(config, &result).ok());
  ASSERT_TRUE(result.tally.has_value());
  EXPECT_EQ(result.tally->keys_read, 0u);
  EXPECT_EQ(result.tally->keys_failed, config.keys);
  EXPECT_GT(result.tally->errors, 0u);
  EXPECT_LT(result.tally->errors, 1000u);
  EXPECT_TRUE(AnySampleContains(result, "tally: RpbErrorResp"))
      << Samples(result);
  EXPECT_EQ(CheckTally(config, result).verdict,
            TallyCheck::Verdict::kIncomplete);
}

}  // namespace
}  // namespace causeway::bench
