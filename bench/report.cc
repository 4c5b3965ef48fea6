#include "bench/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

namespace causeway::bench {
namespace {

std::string Format(const char* fmt, auto... args) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n < 0) return {};
  return std::string(buf,
                     std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

// JSON has no NaN or infinity.
std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "0";
  return Format("%.3f", v);
}

std::string QuorumName(uint32_t q) {
  switch (q) {
    case kQuorumOne:
      return "one";
    case kQuorumQuorum:
      return "quorum";
    case kQuorumAll:
      return "all";
    case kQuorumDefault:
      return "default";
  }
  return std::to_string(q);
}

std::string NodesText(const BenchConfig& c) {
  std::string out;
  for (const NodeAddress& n : c.nodes) {
    if (!out.empty()) out += ",";
    bool v6 = n.host.find(':') != std::string::npos;
    out += (v6 ? "[" + n.host + "]" : n.host) + ":" + std::to_string(n.port);
  }
  return out;
}

std::string TableRow(const char* name, const OpStats& s, double elapsed,
                     bool show_notfound) {
  double rate = elapsed > 0 ? s.ops / elapsed : 0;
  std::string notfound = show_notfound ? std::to_string(s.notfound) : "-";
  return Format("%-6s %10llu %8llu %9s %11.1f %8.2f %8.2f %8.2f %9.2f\n", name,
                static_cast<unsigned long long>(s.ops),
                static_cast<unsigned long long>(s.errors), notfound.c_str(),
                rate, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms);
}

// Each kind with its weight, its stats and whether it can find nothing.
struct KindRow {
  const char* name;
  uint32_t weight;
  const OpStats* stats;
  bool has_notfound;
};

std::vector<KindRow> Kinds(const OpMix& mix, const PhaseResult& p) {
  return {{"put", mix.put, &p.put, false},
          {"get", mix.get, &p.get, true},
          {"incr", mix.incr, &p.incr, false},
          {"dtget", mix.dtget, &p.dtget, true},
          {"sadd", mix.sadd, &p.sadd, false}};
}

// "put=1 get=1": the kinds of the mix with a weight.
std::string MixText(const OpMix& mix) {
  std::string out;
  for (const KindRow& k : Kinds(mix, PhaseResult())) {
    if (k.weight == 0) continue;
    if (!out.empty()) out += " ";
    out += std::string(k.name) + "=" + std::to_string(k.weight);
  }
  return out;
}

std::string PhaseTable(const PhaseResult& p, const OpMix& mix) {
  std::string out =
      Format("%-6s %10s %8s %9s %11s %8s %8s %8s %9s\n", "op", "ops", "errors",
             "notfound", "ops/s", "p50 ms", "p95 ms", "p99 ms", "max ms");
  for (const KindRow& k : Kinds(mix, p)) {
    if (k.weight > 0 || k.stats->ops + k.stats->errors > 0) {
      out += TableRow(k.name, *k.stats, p.elapsed_seconds, k.has_notfound);
    }
  }
  out +=
      Format("%-6s %10llu %8llu %9s %11.1f\n", "total",
             static_cast<unsigned long long>(p.ops()),
             static_cast<unsigned long long>(p.errors()), "", p.throughput());
  if (p.connect_errors > 0) {
    out += Format("(errors include %llu failed connection attempts)\n",
                  static_cast<unsigned long long>(p.connect_errors));
  }
  return out;
}

std::string OpJson(const OpStats& s, double elapsed, bool with_notfound) {
  std::string out = "{\"ops\":" + std::to_string(s.ops) +
                    ",\"errors\":" + std::to_string(s.errors);
  if (with_notfound) out += ",\"notfound\":" + std::to_string(s.notfound);
  out +=
      ",\"throughput_ops_s\":" + JsonNumber(elapsed > 0 ? s.ops / elapsed : 0) +
      ",\"latency_ms\":{\"p50\":" + JsonNumber(s.p50_ms) +
      ",\"p95\":" + JsonNumber(s.p95_ms) + ",\"p99\":" + JsonNumber(s.p99_ms) +
      ",\"max\":" + JsonNumber(s.max_ms) + "}}";
  return out;
}

std::string PhaseJson(const PhaseResult& p) {
  std::string out = "{\"elapsed_s\":" + JsonNumber(p.elapsed_seconds) +
                    ",\"ops\":" + std::to_string(p.ops()) +
                    ",\"errors\":" + std::to_string(p.errors()) +
                    ",\"connect_errors\":" + std::to_string(p.connect_errors) +
                    ",\"throughput_ops_s\":" + JsonNumber(p.throughput());
  for (const KindRow& k : Kinds(OpMix(), p)) {
    out += ",\"" + std::string(k.name) +
           "\":" + OpJson(*k.stats, p.elapsed_seconds, k.has_notfound);
  }
  return out + "}";
}

// The tally's lines, and its check against the run's updates.
std::string TallyText(const BenchConfig& c, const BenchResult& r) {
  const TallyResult& t = *r.tally;
  std::string out = Format(
      "\ntally: %llu keys read in %.2f s, %llu found, %llu unread (%llu "
      "failed fetches); counters total %lld, sets hold %llu elements\n",
      static_cast<unsigned long long>(t.keys_read), t.elapsed_seconds,
      static_cast<unsigned long long>(t.keys_found),
      static_cast<unsigned long long>(t.keys_failed),
      static_cast<unsigned long long>(t.errors),
      static_cast<long long>(t.counter_total),
      static_cast<unsigned long long>(t.set_elements));
  TallyCheck check = CheckTally(c, r);
  if (check.verdict != TallyCheck::Verdict::kNotApplicable) {
    out += Format(
        "tally check: %lld read against %llu acknowledged %s and %llu of "
        "unknown outcome (preload and run): %s\n",
        static_cast<long long>(check.observed),
        static_cast<unsigned long long>(check.acknowledged), check.what,
        static_cast<unsigned long long>(check.unknown),
        VerdictName(check.verdict));
  }
  return out;
}

std::string TallyJson(const BenchConfig& c, const BenchResult& r) {
  const TallyResult& t = *r.tally;
  TallyCheck check = CheckTally(c, r);
  return "{\"elapsed_s\":" + JsonNumber(t.elapsed_seconds) +
         ",\"keys_read\":" + std::to_string(t.keys_read) +
         ",\"keys_found\":" + std::to_string(t.keys_found) +
         ",\"keys_failed\":" + std::to_string(t.keys_failed) +
         ",\"errors\":" + std::to_string(t.errors) +
         ",\"counter_total\":" + std::to_string(t.counter_total) +
         ",\"set_elements\":" + std::to_string(t.set_elements) +
         ",\"check\":{\"verdict\":" + JsonString(VerdictName(check.verdict)) +
         ",\"acknowledged\":" + std::to_string(check.acknowledged) +
         ",\"unknown\":" + std::to_string(check.unknown) +
         ",\"observed\":" + std::to_string(check.observed) + "}}";
}

const char* ProtocolName(Protocol p) {
  return p == Protocol::kResp ? "resp" : "pbc";
}

}  // namespace

std::string JsonString(std::string_view bytes) {
  std::string out = "\"";
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += Format("\\u%04x", static_cast<unsigned>(c));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string FormatText(const BenchConfig& c, const BenchResult& r) {
  std::string out = Format(
      "causeway-bench: %u %s connections to %s, %.1f s, %llu keys (%s), "
      "value %u B, mix %s\n",
      c.connections, ProtocolName(c.protocol), NodesText(c).c_str(),
      c.duration_seconds, static_cast<unsigned long long>(c.keys),
      DistributionName(c.distribution), c.value_size, MixText(c.mix).c_str());
  if (r.preload) {
    const PhaseResult& p = *r.preload;
    const char* writes = p.incr.ops + p.incr.errors > 0   ? "incrs"
                         : p.sadd.ops + p.sadd.errors > 0 ? "sadds"
                                                          : "puts";
    out += Format("\npreload: %llu %s in %.2f s (%.1f ops/s), %llu errors\n",
                  static_cast<unsigned long long>(p.ops()), writes,
                  p.elapsed_seconds, p.throughput(),
                  static_cast<unsigned long long>(p.errors()));
  }
  out += Format("\nrun: %.2f s\n", r.run.elapsed_seconds);
  out += PhaseTable(r.run, c.mix);
  if (r.tally) out += TallyText(c, r);
  if (!r.error_samples.empty()) {
    out += "\nfirst errors:\n";
    for (const std::string& e : r.error_samples) out += "  " + e + "\n";
  }
  return out;
}

std::string FormatJson(const BenchConfig& c, const BenchResult& r) {
  std::string config =
      "{\"nodes\":" + JsonString(NodesText(c)) +
      ",\"protocol\":" + JsonString(ProtocolName(c.protocol)) +
      ",\"connections\":" + std::to_string(c.connections) +
      ",\"duration_s\":" + JsonNumber(c.duration_seconds) +
      ",\"keys\":" + std::to_string(c.keys) +
      ",\"distribution\":" + JsonString(DistributionName(c.distribution)) +
      ",\"value_size\":" + std::to_string(c.value_size) +
      ",\"mix\":{\"put\":" + std::to_string(c.mix.put) +
      ",\"get\":" + std::to_string(c.mix.get) +
      ",\"incr\":" + std::to_string(c.mix.incr) +
      ",\"dtget\":" + std::to_string(c.mix.dtget) +
      ",\"sadd\":" + std::to_string(c.mix.sadd) + "}" +
      ",\"bucket\":" + JsonString(c.bucket) +
      ",\"type\":" + JsonString(c.type) +
      ",\"preload\":" + (c.preload ? "true" : "false") +
      ",\"tally\":" + (c.tally ? "true" : "false") +
      ",\"threads\":" + std::to_string(c.threads);
  if (c.r) config += ",\"r\":" + JsonString(QuorumName(*c.r));
  if (c.w) config += ",\"w\":" + JsonString(QuorumName(*c.w));
  if (c.dw) config += ",\"dw\":" + JsonString(QuorumName(*c.dw));
  config += "}";

  const PhaseResult& run = r.run;
  std::string out = "{\"config\":" + config +
                    ",\"elapsed_s\":" + JsonNumber(run.elapsed_seconds) +
                    ",\"ops\":" + std::to_string(run.ops()) +
                    ",\"errors\":" + std::to_string(run.errors()) +
                    ",\"throughput_ops_s\":" + JsonNumber(run.throughput()) +
                    ",\"run\":" + PhaseJson(run);
  if (r.preload) out += ",\"preload\":" + PhaseJson(*r.preload);
  if (r.tally) out += ",\"tally\":" + TallyJson(c, r);
  out += ",\"error_samples\":[";
  for (size_t i = 0; i < r.error_samples.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(r.error_samples[i]);
  }
  out += "]}";
  return out;
}

}  // namespace causeway::bench
