#include "node/stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace causeway::node {
namespace {

// The exact nearest-rank percentile: the smallest value with at least
// q * n values at or below it.
uint64_t ExactPercentile(std::vector<uint64_t> sorted, double q) {
  size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void ExpectClose(const Histogram& h, const std::vector<uint64_t>& sorted,
                 double q) {
  const uint64_t exact = ExactPercentile(sorted, q);
  const uint64_t got = h.Percentile(q);
  // Never below the true value, and at most one bucket width (1/32 of the
  // value) above it.
  ASSERT_GE(got, exact) << "q=" << q;
  EXPECT_LE(got - exact, exact / 32) << "q=" << q << " exact=" << exact;
}

TEST(StatsHistogramTest, EmptyIsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.Percentile(1.0), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(StatsHistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 32; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 32u);
  EXPECT_EQ(h.Percentile(0.0), 0u);
  EXPECT_EQ(h.Percentile(0.5), 15u);
  EXPECT_EQ(h.Percentile(1.0), 31u);
  EXPECT_EQ(h.sum(), 31u * 32u / 2u);
}

TEST(StatsHistogramTest, ExtremesHaveBuckets) {
  Histogram h;
  const uint64_t big = UINT64_MAX;
  h.Record(big);
  h.Record(big - 1);
  h.Record(uint64_t{1} << 63);
  EXPECT_EQ(h.max(), big);
  EXPECT_EQ(h.Percentile(1.0), big);
  EXPECT_GE(h.Percentile(0.0), uint64_t{1} << 63);
  EXPECT_EQ(h.sum(), UINT64_MAX);  // saturated, not wrapped
}

TEST(StatsHistogramTest, OutOfRangeQuantilesClamp) {
  Histogram h;
  h.Record(10);
  h.Record(1000);
  EXPECT_EQ(h.Percentile(-1), 10u);
  EXPECT_EQ(h.Percentile(2), 1000u);
  EXPECT_EQ(h.Percentile(std::nan("")), 10u);
}

TEST(StatsHistogramTest, PercentilesMatchBruteForceOnRandomData) {
  std::mt19937_64 rng(20240611);
  // Several shapes: uniform small, uniform wide, log-uniform (latency-like).
  for (int shape = 0; shape < 3; ++shape) {
    for (int round = 0; round < 20; ++round) {
      Histogram h;
      std::vector<uint64_t> values;
      const size_t n = 1 + rng() % 5000;
      for (size_t i = 0; i < n; ++i) {
        uint64_t v;
        if (shape == 0) {
          v = rng() % 100;
        } else if (shape == 1) {
          v = rng() % 10'000'000;
        } else {
          v = rng() >> (rng() % 64);
        }
        values.push_back(v);
        h.Record(v);
      }
      std::sort(values.begin(), values.end());
      ASSERT_EQ(h.count(), values.size());
      EXPECT_EQ(h.max(), values.back());
      for (double q :
           {0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
        ExpectClose(h, values, q);
      }
      EXPECT_EQ(h.Percentile(1.0), values.back());
    }
  }
}

// A small strict JSON reader, enough to check that the renderer's output is
// well-formed and to read values back.
class JsonReader {
 public:
  struct Value {
    enum Kind { kNull, kBool, kNumber, kString, kObject, kArray } kind = kNull;
    double number = 0;
    std::string text;
    std::map<std::string, Value> object;
    std::vector<Value> array;
  };

  explicit JsonReader(std::string text) : s_(std::move(text)) {}

  bool Parse(Value* out) {
    if (!ParseValue(out, 0)) return false;
    SkipSpace();
    return i_ == s_.size();
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])))
      ++i_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool ParseValue(Value* v, int depth) {
    if (depth > 32) return false;
    SkipSpace();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      v->kind = Value::kObject;
      if (Eat('}')) return true;
      do {
        Value key;
        SkipSpace();
        if (!ParseString(&key.text)) return false;
        if (!Eat(':')) return false;
        Value item;
        if (!ParseValue(&item, depth + 1)) return false;
        if (!v->object.emplace(key.text, std::move(item)).second) {
          return false;  // duplicate key
        }
      } while (Eat(','));
      return Eat('}');
    }
    if (c == '[') {
      ++i_;
      v->kind = Value::kArray;
      if (Eat(']')) return true;
      do {
        Value item;
        if (!ParseValue(&item, depth + 1)) return false;
        v->array.push_back(std::move(item));
      } while (Eat(','));
      return Eat(']');
    }
    if (c == '"') {
      v->kind = Value::kString;
      return ParseString(&v->text);
    }
    if (s_.compare(i_, 4, "true") == 0 || s_.compare(i_, 4, "null") == 0) {
      v->kind = s_[i_] == 't' ? Value::kBool : Value::kNull;
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "false") == 0) {
      v->kind = Value::kBool;
      i_ += 5;
      return true;
    }
    const size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_])))
      return false;
    while (i_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
            s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    v->kind = Value::kNumber;
    v->number = std::stod(s_.substr(start, i_ - start));
    return true;
  }
  bool ParseString(std::string* out) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;  // raw control characters are not allowed
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return false;
          unsigned code = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = s_[i_++];
            if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
            code =
                code * 16 +
                (std::isdigit(static_cast<unsigned char>(h))
                     ? h - '0'
                     : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10);
          }
          if (code >= 0x80) return false;  // the renderer only escapes ASCII
          out->push_back(static_cast<char>(code));
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  std::string s_;
  size_t i_ = 0;
};

using JsonValue = JsonReader::Value;

JsonValue ParseJsonOrFail(const std::string& text) {
  JsonValue v;
  JsonReader reader(text);
  EXPECT_TRUE(reader.Parse(&v)) << text;
  return v;
}

Stats SampleStats() {
  Stats s;
  s.gets = 7;
  s.get_not_found = 2;
  s.get_errors = 1;
  s.puts = 5;
  s.put_errors = 3;
  s.deletes = 4;
  s.delete_errors = 6;
  s.list_requests = 8;
  s.other_requests = 9;
  s.bad_requests = 10;
  s.connections_open = 11;
  s.connections_total = 12;
  s.connections_rejected = 13;
  s.connections_closed_idle = 14;
  s.connections_closed_frame_deadline = 15;
  s.connections_closed_budget = 16;
  s.buffered_bytes = 17;
  s.requests_refused_too_long = 18;
  s.client_security = {19, 20, 21, 22, 23, 24};
  for (uint64_t v : {100, 200, 300, 400, 5000}) s.get_latency_us.Record(v);
  s.put_latency_us.Record(42);
  s.siblings.Record(1);
  s.siblings.Record(3);
  s.object_bytes.Record(1024);
  s.uptime_seconds = 77;
  s.disk_bytes = 123456;
  s.rss_bytes = 987654;
  s.object_cache = {1000, 10, 30, 40};
  s.storage = {2, 1};
  s.clock = {500, 14, 60000, 2, 2, true};
  return s;
}

TEST(StatsJsonTest, IsWellFormedAndCarriesTheValues) {
  const Stats s = SampleStats();
  const JsonValue v = ParseJsonOrFail(s.ToJson("node1@127.0.0.1"));
  ASSERT_EQ(v.kind, JsonValue::kObject);
  auto num = [&](const std::string& key) {
    auto it = v.object.find(key);
    EXPECT_NE(it, v.object.end()) << key;
    if (it == v.object.end()) return -1.0;
    EXPECT_EQ(it->second.kind, JsonValue::kNumber) << key;
    return it->second.number;
  };
  EXPECT_EQ(v.object.at("node").text, "node1@127.0.0.1");
  EXPECT_EQ(num("uptime_seconds"), 77);
  EXPECT_EQ(num("gets"), 7);
  EXPECT_EQ(num("get_not_found"), 2);
  EXPECT_EQ(num("get_errors"), 1);
  EXPECT_EQ(num("puts"), 5);
  EXPECT_EQ(num("put_errors"), 3);
  EXPECT_EQ(num("deletes"), 4);
  EXPECT_EQ(num("delete_errors"), 6);
  EXPECT_EQ(num("list_requests"), 8);
  EXPECT_EQ(num("other_requests"), 9);
  EXPECT_EQ(num("bad_requests"), 10);
  EXPECT_EQ(num("disk_bytes"), 123456);
  EXPECT_EQ(num("rss_bytes"), 987654);

  const JsonValue& cache = v.object.at("object_cache");
  EXPECT_EQ(cache.object.at("bytes").number, 1000);
  EXPECT_EQ(cache.object.at("entries").number, 10);
  EXPECT_EQ(cache.object.at("hits").number, 30);
  EXPECT_EQ(cache.object.at("misses").number, 40);

  const JsonValue& storage = v.object.at("storage");
  EXPECT_EQ(storage.object.count("background_pauses"), 0u);
  EXPECT_EQ(storage.object.at("writer_stalls").number, 2);
  EXPECT_EQ(storage.object.at("background_raises").number, 1);

  const JsonValue& clock = v.object.at("clock");
  EXPECT_EQ(clock.object.at("max_offset_ms").number, 500);
  EXPECT_EQ(clock.object.at("clock_offset_refusals_total").number, 14);
  EXPECT_EQ(clock.object.at("max_refused_lead_ms").number, 60000);
  EXPECT_EQ(clock.object.at("peers_beyond_offset").number, 2);
  EXPECT_EQ(clock.object.at("clock_suspect").kind, JsonValue::kBool);

  const JsonValue& conns = v.object.at("connections");
  EXPECT_EQ(conns.object.at("open").number, 11);
  EXPECT_EQ(conns.object.at("total").number, 12);
  EXPECT_EQ(conns.object.at("rejected").number, 13);
  EXPECT_EQ(conns.object.at("closed_idle").number, 14);
  EXPECT_EQ(conns.object.at("closed_frame_deadline").number, 15);
  EXPECT_EQ(conns.object.at("closed_budget").number, 16);
  EXPECT_EQ(conns.object.at("buffered_bytes").number, 17);
  EXPECT_EQ(num("requests_refused_too_long"), 18);
  const JsonValue& security = v.object.at("client_security");
  EXPECT_EQ(security.object.at("tls_handshakes").number, 19);
  EXPECT_EQ(security.object.at("tls_handshake_failures").number, 20);
  EXPECT_EQ(security.object.at("auth_successes").number, 21);
  EXPECT_EQ(security.object.at("auth_failures").number, 22);
  EXPECT_EQ(security.object.at("unauthenticated").number, 23);
  EXPECT_EQ(security.object.at("permission_denied").number, 24);

  for (const char* h : {"get_latency_us", "put_latency_us", "delete_latency_us",
                        "siblings", "object_bytes"}) {
    ASSERT_TRUE(v.object.count(h)) << h;
    const JsonValue& o = v.object.at(h);
    ASSERT_EQ(o.kind, JsonValue::kObject) << h;
    for (const char* k : {"count", "p50", "p95", "p99", "max", "mean"}) {
      ASSERT_TRUE(o.object.count(k)) << h << "." << k;
      EXPECT_EQ(o.object.at(k).kind, JsonValue::kNumber);
    }
  }
  const JsonValue& get = v.object.at("get_latency_us");
  EXPECT_EQ(get.object.at("count").number, 5);
  EXPECT_EQ(get.object.at("p50").number, s.get_latency_us.Percentile(0.5));
  EXPECT_EQ(get.object.at("p99").number, 5000);
  EXPECT_EQ(get.object.at("max").number, 5000);
  EXPECT_EQ(v.object.at("delete_latency_us").object.at("count").number, 0);
  EXPECT_EQ(v.object.at("siblings").object.at("max").number, 3);
}

TEST(StatsJsonTest, EscapesTheNodeName) {
  const std::string nasty =
      std::string("a\"b\\c\nd\te\x01f\x7fg") + "\xff" + "h\xc3\xa9";
  const Stats s;
  const std::string json = s.ToJson(nasty);
  const JsonValue v = ParseJsonOrFail(json);
  ASSERT_EQ(v.kind, JsonValue::kObject);
  // The invalid byte 0xff became U+FFFD; everything else round-trips.
  EXPECT_EQ(v.object.at("node").text, std::string("a\"b\\c\nd\te\x01f\x7fg") +
                                          "\xef\xbf\xbd" + "h\xc3\xa9");
}

// Checks the Prometheus text format: every sample's family has HELP and TYPE
// lines before it, sample lines are `name{labels} value`, counters end in
// _total, and every sample carries the node label.
void CheckPrometheus(const std::string& text, const std::string& node_label) {
  std::map<std::string, std::string> types;
  std::set<std::string> helps;
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(helps.insert(name).second) << "duplicate HELP " << name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "summary")
          << line;
      EXPECT_TRUE(helps.count(name)) << "TYPE before HELP: " << line;
      EXPECT_TRUE(types.emplace(name, type).second) << "duplicate " << name;
      if (type == "counter") {
        EXPECT_TRUE(name.size() > 6 &&
                    name.compare(name.size() - 6, 6, "_total") == 0)
            << name;
      }
      EXPECT_EQ(name.rfind("causeway_", 0), 0u) << name;
      continue;
    }
    ASSERT_NE(line[0], '#') << line;
    const size_t brace = line.find('{');
    const size_t close = line.rfind('}');
    ASSERT_NE(brace, std::string::npos) << line;
    ASSERT_NE(close, std::string::npos) << line;
    std::string name = line.substr(0, brace);
    const std::string labels = line.substr(brace + 1, close - brace - 1);
    const std::string value = line.substr(close + 1);
    ASSERT_EQ(value[0], ' ') << line;
    EXPECT_NO_THROW(std::stoull(value.substr(1))) << line;
    EXPECT_EQ(labels.rfind(node_label, 0), 0u) << line;
    std::string family = name;
    for (const char* suffix : {"_sum", "_count"}) {
      const std::string s(suffix);
      if (!types.count(family) && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    ASSERT_TRUE(types.count(family)) << "sample without TYPE: " << line;
    if (types[family] == "summary" && name == family) {
      EXPECT_NE(labels.find(",quantile=\""), std::string::npos) << line;
    }
    ++samples;
  }
  EXPECT_GT(samples, 20);
}

TEST(StatsPrometheusTest, IsWellFormed) {
  const Stats s = SampleStats();
  const std::string text = s.ToPrometheus("node1@127.0.0.1");
  CheckPrometheus(text, "node=\"node1@127.0.0.1\"");
  EXPECT_NE(text.find("causeway_gets_total{node=\"node1@127.0.0.1\"} 7\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("causeway_get_latency_microseconds{node=\"node1@127.0."
                      "0.1\",quantile=\"0.99\"} 5000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("causeway_get_latency_microseconds_count{node=\"node1@"
                      "127.0.0.1\"} 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("causeway_get_latency_microseconds_sum{node=\"node1@"
                      "127.0.0.1\"} 6000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("causeway_rss_bytes{node=\"node1@127.0.0.1\"} 987654\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("causeway_object_cache_hits_total{node=\"node1@127.0.0.1\"}"
                " 30\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE causeway_connections_open gauge\n"),
            std::string::npos);
  for (const auto& [metric, value] :
       {std::pair{"causeway_connections_closed_idle_total", 14},
        std::pair{"causeway_connections_closed_frame_deadline_total", 15},
        std::pair{"causeway_connections_closed_budget_total", 16},
        std::pair{"causeway_connections_buffered_bytes", 17},
        std::pair{"causeway_requests_refused_too_long_total", 18},
        std::pair{"causeway_client_tls_handshakes_total", 19},
        std::pair{"causeway_client_tls_handshake_failures_total", 20},
        std::pair{"causeway_client_auth_successes_total", 21},
        std::pair{"causeway_client_auth_failures_total", 22},
        std::pair{"causeway_client_unauthenticated_total", 23},
        std::pair{"causeway_client_permission_denied_total", 24}}) {
    EXPECT_NE(text.find(std::string(metric) + "{node=\"node1@127.0.0.1\"} " +
                        std::to_string(value) + "\n"),
              std::string::npos)
        << metric;
  }
  EXPECT_NE(text.find("causeway_storage_writer_stalls_total{node=\"node1@"
                      "127.0.0.1\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("causeway_clock_offset_refusals_total{node=\"node1@"
                      "127.0.0.1\"} 14\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("causeway_clock_suspect{node=\"node1@127.0.0.1\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(StatsPrometheusTest, EscapesTheNodeLabel) {
  const Stats s;
  const std::string text = s.ToPrometheus("we\"ird\\no\nde");
  CheckPrometheus(text, "node=\"we\\\"ird\\\\no\\nde\"");
}

}  // namespace
}  // namespace causeway::node
