// The bench's pure parts: flag parsing, framing, the latency histogram, key
// distributions and the report.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "bench/key_chooser.h"
#include "bench/latency_histogram.h"
#include "bench/options.h"
#include "bench/pbc_frame.h"
#include "bench/report.h"
#include "proto/riak.pb.h"

namespace causeway::bench {
namespace {

TEST(ParseNodesTest, AcceptsListsAndIpv6) {
  std::vector<NodeAddress> nodes;
  ASSERT_TRUE(ParseNodes("127.0.0.1:8087", &nodes).ok());
  EXPECT_EQ(nodes, (std::vector<NodeAddress>{{"127.0.0.1", 8087}}));
  ASSERT_TRUE(ParseNodes("a:1, b.example:65535,[::1]:8087", &nodes).ok());
  EXPECT_EQ(nodes, (std::vector<NodeAddress>{
                       {"a", 1}, {"b.example", 65535}, {"::1", 8087}}));
}

TEST(ParseNodesTest, RejectsMalformed) {
  std::vector<NodeAddress> nodes = {{"keep", 1}};
  for (const char* bad : {"", "host", "host:", ":80", "host:0", "host:65536",
                          "host:80x", "host:-1", "a:1,,b:2", "a:1,", "::1:80",
                          "[::1]80", "[::1]:", "[]:80", "[::1"}) {
    Status s = ParseNodes(bad, &nodes);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(nodes, (std::vector<NodeAddress>{{"keep", 1}}));
}

TEST(ParseMixTest, WeightsAndBareNames) {
  OpMix mix;
  ASSERT_TRUE(ParseMix("put=80,get=20", &mix).ok());
  EXPECT_EQ(mix, (OpMix{80, 20}));
  ASSERT_TRUE(ParseMix("get=3", &mix).ok());
  EXPECT_EQ(mix, (OpMix{0, 3}));
  ASSERT_TRUE(ParseMix("put", &mix).ok());
  EXPECT_EQ(mix, (OpMix{1, 0}));
  ASSERT_TRUE(ParseMix(" get , put ", &mix).ok());
  EXPECT_EQ(mix, (OpMix{1, 1}));
  ASSERT_TRUE(ParseMix("put=0,get=1", &mix).ok());
  EXPECT_EQ(mix, (OpMix{0, 1}));
  ASSERT_TRUE(ParseMix("incr", &mix).ok());
  EXPECT_EQ(mix, (OpMix{0, 0, 1, 0, 0}));
  ASSERT_TRUE(ParseMix("incr=9,dtget=1", &mix).ok());
  EXPECT_EQ(mix, (OpMix{0, 0, 9, 1, 0}));
  ASSERT_TRUE(ParseMix("sadd,dtget=3", &mix).ok());
  EXPECT_EQ(mix, (OpMix{0, 0, 0, 3, 1}));
  // A zero weight names no operation, so it mixes with anything.
  ASSERT_TRUE(ParseMix("put=0,dtget", &mix).ok());
  EXPECT_EQ(mix, (OpMix{0, 0, 0, 1, 0}));
}

TEST(ParseMixTest, RejectsMalformed) {
  OpMix mix{7, 7};
  for (const char* bad :
       {"", "put=0", "put=0,get=0", "del=1", "put=x", "put=-1", "put=", "=5",
        "put=1,put=2", "put=4294967295,get=1", "put=99999999999",
        "incr=4294967295,dtget=1", "dtget,dtget", "counter"}) {
    EXPECT_FALSE(ParseMix(bad, &mix).ok()) << bad;
  }
  EXPECT_EQ(mix, (OpMix{7, 7}));
}

// One bucket type serves plain objects or one datatype, never both.
TEST(ParseMixTest, RejectsOperationsNoOneTypeServes) {
  OpMix mix{7, 7};
  for (const char* bad : {"put,incr", "get,dtget", "put=1,sadd=1", "incr,sadd",
                          "incr,sadd,dtget"}) {
    Status s = ParseMix(bad, &mix);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(mix, (OpMix{7, 7}));
}

TEST(ParseQuorumTest, NumbersAndSymbols) {
  uint32_t q = 0;
  ASSERT_TRUE(ParseQuorum("2", &q).ok());
  EXPECT_EQ(q, 2u);
  ASSERT_TRUE(ParseQuorum("one", &q).ok());
  EXPECT_EQ(q, 0xFFFFFFFEu);
  ASSERT_TRUE(ParseQuorum("quorum", &q).ok());
  EXPECT_EQ(q, 0xFFFFFFFDu);
  ASSERT_TRUE(ParseQuorum("all", &q).ok());
  EXPECT_EQ(q, 0xFFFFFFFCu);
  ASSERT_TRUE(ParseQuorum("default", &q).ok());
  EXPECT_EQ(q, 0xFFFFFFFBu);
  for (const char* bad : {"", "two", "-1", "4294967291", "4294967296", "1.5"}) {
    EXPECT_FALSE(ParseQuorum(bad, &q).ok()) << bad;
  }
}

TEST(FrameTest, EncodesLengthCodeAndBody) {
  pbc::RpbGetReq req;
  req.set_bucket("b");
  req.set_key("k");
  std::string frame;
  EncodeFrame(pbc::Code::kGetReq, req, &frame);
  std::string body = req.SerializeAsString();
  ASSERT_EQ(frame.size(), 5 + body.size());
  uint32_t length = 0;
  ASSERT_TRUE(
      DecodeFrameLength(reinterpret_cast<const unsigned char*>(frame.data()),
                        1000, &length)
          .ok());
  EXPECT_EQ(length, body.size() + 1);
  EXPECT_EQ(frame[4], 9);
  EXPECT_EQ(frame.substr(5), body);

  // An empty body is a frame of length 1 (just the code).
  EncodeRawFrame(1, {}, &frame);
  EXPECT_EQ(frame, std::string("\x00\x00\x00\x01\x01", 5));
}

TEST(FrameTest, LengthIsBigEndianAndChecked) {
  const unsigned char big[4] = {0x01, 0x02, 0x03, 0x04};
  uint32_t length = 0;
  ASSERT_TRUE(DecodeFrameLength(big, 0x01020304, &length).ok());
  EXPECT_EQ(length, 0x01020304u);
  EXPECT_FALSE(DecodeFrameLength(big, 0x01020303, &length).ok());
  const unsigned char zero[4] = {0, 0, 0, 0};
  EXPECT_FALSE(DecodeFrameLength(zero, 100, &length).ok());
  const unsigned char huge[4] = {0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(
      DecodeFrameLength(huge, pbc::kDefaultMaxFrameBytes, &length).ok());
}

TEST(LatencyHistogramTest, BucketsAreContiguousAndTight) {
  // Every value falls in a bucket whose upper bound is >= it and within
  // 1/64 of it, and bucket indexes never go down as values go up.
  size_t last_bucket = 0;
  for (uint64_t v = 0; v < 1000000; v += 1 + v / 50) {
    size_t b = LatencyHistogram::BucketOf(v);
    ASSERT_LT(b, LatencyHistogram::kBucketCount);
    EXPECT_GE(b, last_bucket);
    last_bucket = b;
    uint64_t upper = LatencyHistogram::BucketUpperBound(b);
    EXPECT_GE(upper, v);
    EXPECT_LE(upper - v, v / 64 + 1) << v;
    EXPECT_EQ(LatencyHistogram::BucketOf(upper), b);
    EXPECT_EQ(LatencyHistogram::BucketOf(upper + 1), b + 1);
  }
  for (uint64_t v = 0; v < 128; ++v) {
    EXPECT_EQ(LatencyHistogram::BucketUpperBound(LatencyHistogram::BucketOf(v)),
              v);
  }
  EXPECT_EQ(LatencyHistogram::BucketOf(UINT64_MAX),
            LatencyHistogram::kBucketCount - 1);
  EXPECT_EQ(
      LatencyHistogram::BucketUpperBound(LatencyHistogram::kBucketCount - 1),
      UINT64_MAX);
}

TEST(LatencyHistogramTest, Percentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
  for (uint64_t v = 1; v <= 10000; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.max(), 10000u);
  auto near = [](uint64_t got, double want) {
    return std::abs(static_cast<double>(got) - want) <= want / 64 + 1;
  };
  EXPECT_TRUE(near(h.ValueAtPercentile(50), 5000)) << h.ValueAtPercentile(50);
  EXPECT_TRUE(near(h.ValueAtPercentile(95), 9500)) << h.ValueAtPercentile(95);
  EXPECT_TRUE(near(h.ValueAtPercentile(99), 9900)) << h.ValueAtPercentile(99);
  EXPECT_EQ(h.ValueAtPercentile(100), 10000u);
  EXPECT_EQ(h.ValueAtPercentile(0), 1u);

  // One slow outlier moves the max and p100, not the median.
  LatencyHistogram skewed;
  for (int i = 0; i < 999; ++i) skewed.Record(100);
  skewed.Record(5000000);
  EXPECT_EQ(skewed.ValueAtPercentile(50), 100u);
  EXPECT_EQ(skewed.ValueAtPercentile(99), 100u);
  EXPECT_EQ(skewed.max(), 5000000u);
  EXPECT_EQ(skewed.ValueAtPercentile(100), 5000000u);
}

double FractionBelow(Distribution d, uint64_t keys, uint64_t bound,
                     uint64_t seed) {
  KeyChooser chooser(d, keys, seed);
  const int draws = 200000;
  int below = 0;
  for (int i = 0; i < draws; ++i) {
    uint64_t k = chooser.Next();
    EXPECT_LT(k, keys);
    if (k < bound) ++below;
  }
  return static_cast<double>(below) / draws;
}

TEST(KeyChooserTest, UniformSpreadsEvenly) {
  EXPECT_NEAR(FractionBelow(Distribution::kUniform, 1000, 200, 1), 0.2, 0.01);
  EXPECT_NEAR(FractionBelow(Distribution::kUniform, 1000, 500, 2), 0.5, 0.01);
}

TEST(KeyChooserTest, ParetoIsEightyTwentyAtEveryScale) {
  EXPECT_NEAR(FractionBelow(Distribution::kPareto, 100000, 20000, 1), 0.8,
              0.01);
  EXPECT_NEAR(FractionBelow(Distribution::kPareto, 100000, 4000, 2), 0.64,
              0.01);
  EXPECT_NEAR(FractionBelow(Distribution::kPareto, 100000, 800, 3), 0.512,
              0.01);
}

TEST(KeyChooserTest, SameSeedSameKeysAndOneKeySpace) {
  KeyChooser a(Distribution::kPareto, 500, 42);
  KeyChooser b(Distribution::kPareto, 500, 42);
  KeyChooser c(Distribution::kPareto, 500, 43);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    if (x != c.Next()) ++differ;
  }
  EXPECT_GT(differ, 0);
  KeyChooser one(Distribution::kUniform, 1, 1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(one.Next(), 0u);
}

TEST(KeyChooserTest, KeyNamesSortLikeIndexes) {
  EXPECT_EQ(KeyName(0), "k000000000000");
  EXPECT_EQ(KeyName(123), "k000000000123");
  EXPECT_LT(KeyName(9), KeyName(10));
  EXPECT_LT(KeyName(99999), KeyName(100000));
}

TEST(DistributionTest, ParsesNames) {
  Distribution d = Distribution::kUniform;
  EXPECT_TRUE(ParseDistribution("pareto", &d));
  EXPECT_EQ(d, Distribution::kPareto);
  EXPECT_TRUE(ParseDistribution("uniform", &d));
  EXPECT_EQ(d, Distribution::kUniform);
  EXPECT_FALSE(ParseDistribution("zipf", &d));
}

TEST(ReportTest, JsonStringEscapesEverything) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c\nd\te"), "\"a\\\"b\\\\c\\nd\\te\"");
  EXPECT_EQ(JsonString(std::string("\x00\x1f\x7f\xff", 4)),
            "\"\\u0000\\u001f\\u007f\\u00ff\"");
}

BenchResult SampleResult() {
  BenchResult r;
  r.run.elapsed_seconds = 2;
  r.run.put = {100, 2, 0, 1.5, 2.5, 3.5, 9.25};
  r.run.get = {300, 1, 7, 0.5, 0.75, 1.0, 4.0};
  r.run.connect_errors = 1;
  r.error_samples = {"put: RpbErrorResp 1: \"no\"", "get: read: eof"};
  PhaseResult pre;
  pre.elapsed_seconds = 1;
  pre.put = {50, 0, 0, 1, 1, 1, 1};
  r.preload = pre;
  return r;
}

TEST(ReportTest, TextShowsEveryKindAndTheErrors) {
  BenchConfig c;
  c.nodes = {{"h", 1}, {"::1", 2}};
  std::string text = FormatText(c, SampleResult());
  EXPECT_NE(text.find("h:1,[::1]:2"), std::string::npos) << text;
  EXPECT_NE(text.find("preload: 50 puts"), std::string::npos) << text;
  // ops/s = ops / elapsed; throughput of the whole run includes both kinds.
  EXPECT_NE(text.find("50.0"), std::string::npos) << text;
  EXPECT_NE(text.find("150.0"), std::string::npos) << text;
  EXPECT_NE(text.find("200.0"), std::string::npos) << text;
  EXPECT_NE(text.find("9.25"), std::string::npos) << text;
  EXPECT_NE(text.find("total"), std::string::npos) << text;
  EXPECT_NE(text.find("get: read: eof"), std::string::npos) << text;
}

TEST(ReportTest, JsonIsOneObjectWithPerKindStats) {
  BenchConfig c;
  c.nodes = {{"h", 1}};
  c.w = 0xFFFFFFFDu;
  std::string json = FormatJson(c, SampleResult());
  ASSERT_FALSE(json.empty());
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
  EXPECT_EQ(json.find('\n'), std::string::npos);
  // Balanced braces and brackets outside strings: one well-nested object.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char ch = json[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') in_string = true;
    if (ch == '{' || ch == '[') ++depth;
    if (ch == '}' || ch == ']') --depth;
    ASSERT_GE(depth, 0);
    if (depth == 0) {
      EXPECT_EQ(i, json.size() - 1);
    }
  }
  EXPECT_EQ(depth, 0);
  EXPECT_NE(json.find("\"ops\":400,\"errors\":4"), std::string::npos) << json;
  EXPECT_NE(json.find("\"throughput_ops_s\":200.000"), std::string::npos);
  EXPECT_NE(json.find("\"put\":{\"ops\":100,\"errors\":2,\"throughput_ops_s\":"
                      "50.000,\"latency_ms\":{\"p50\":1.500,\"p95\":2.500,"
                      "\"p99\":3.500,\"max\":9.250}}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"notfound\":7"), std::string::npos);
  EXPECT_NE(json.find("\"w\":\"quorum\""), std::string::npos);
  EXPECT_NE(json.find("\"preload\":{"), std::string::npos);
  EXPECT_NE(json.find("RpbErrorResp 1: \\\"no\\\"\""), std::string::npos)
      << json;
}

// A data-type run shows its kinds, the tally and its check, in both forms.
TEST(ReportTest, DataTypeRunShowsItsKindsAndTheTally) {
  BenchConfig c;
  c.nodes = {{"h", 1}};
  c.type = "counters";
  c.mix = {0, 0, 9, 1, 0};
  c.tally = true;
  BenchResult r;
  r.run.elapsed_seconds = 2;
  r.run.incr = {900, 2, 0, 1.5, 2.5, 3.5, 9.25};
  r.run.dtget = {100, 0, 4, 0.5, 0.75, 1.0, 4.0};
  TallyResult t;
  t.keys_read = 50;
  t.keys_found = 46;
  t.counter_total = 901;
  r.tally = t;
  std::string text = FormatText(c, r);
  EXPECT_NE(text.find("mix incr=9 dtget=1"), std::string::npos) << text;
  EXPECT_NE(text.find("incr          900"), std::string::npos) << text;
  EXPECT_NE(text.find("dtget         100"), std::string::npos) << text;
  EXPECT_EQ(text.find("put "), std::string::npos) << text;
  EXPECT_NE(text.find("counters total 901"), std::string::npos) << text;
  EXPECT_NE(text.find("901 read against 900 acknowledged increments and 2 of "
                      "unknown outcome (preload and run): consistent"),
            std::string::npos)
      << text;
  std::string json = FormatJson(c, r);
  EXPECT_NE(json.find("\"mix\":{\"put\":0,\"get\":0,\"incr\":9,\"dtget\":1,"
                      "\"sadd\":0}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"incr\":{\"ops\":900,\"errors\":2,"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"dtget\":{\"ops\":100,\"errors\":0,\"notfound\":4,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"tally\":{\"elapsed_s\":0.000,\"keys_read\":50,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"check\":{\"verdict\":\"consistent\",\"acknowledged\":"
                      "900,\"unknown\":2,\"observed\":901}"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace causeway::bench
