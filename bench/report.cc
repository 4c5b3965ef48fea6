#include "bench/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

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

std::string PhaseTable(const PhaseResult& p, const OpMix& mix) {
  std::string out =
      Format("%-6s %10s %8s %9s %11s %8s %8s %8s %9s\n", "op", "ops", "errors",
             "notfound", "ops/s", "p50 ms", "p95 ms", "p99 ms", "max ms");
  if (mix.put > 0 || p.put.ops + p.put.errors > 0) {
    out += TableRow("put", p.put, p.elapsed_seconds, false);
  }
  if (mix.get > 0 || p.get.ops + p.get.errors > 0) {
    out += TableRow("get", p.get, p.elapsed_seconds, true);
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
  return "{\"elapsed_s\":" + JsonNumber(p.elapsed_seconds) +
         ",\"ops\":" + std::to_string(p.ops()) +
         ",\"errors\":" + std::to_string(p.errors()) +
         ",\"connect_errors\":" + std::to_string(p.connect_errors) +
         ",\"throughput_ops_s\":" + JsonNumber(p.throughput()) +
         ",\"put\":" + OpJson(p.put, p.elapsed_seconds, false) +
         ",\"get\":" + OpJson(p.get, p.elapsed_seconds, true) + "}";
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
      "causeway-bench: %u connections to %s, %.1f s, %llu keys (%s), value "
      "%u B, mix put=%u get=%u\n",
      c.connections, NodesText(c).c_str(), c.duration_seconds,
      static_cast<unsigned long long>(c.keys), DistributionName(c.distribution),
      c.value_size, c.mix.put, c.mix.get);
  if (r.preload) {
    const PhaseResult& p = *r.preload;
    out += Format("\npreload: %llu puts in %.2f s (%.1f ops/s), %llu errors\n",
                  static_cast<unsigned long long>(p.put.ops), p.elapsed_seconds,
                  p.throughput(), static_cast<unsigned long long>(p.errors()));
  }
  out += Format("\nrun: %.2f s\n", r.run.elapsed_seconds);
  out += PhaseTable(r.run, c.mix);
  if (!r.error_samples.empty()) {
    out += "\nfirst errors:\n";
    for (const std::string& e : r.error_samples) out += "  " + e + "\n";
  }
  return out;
}

std::string FormatJson(const BenchConfig& c, const BenchResult& r) {
  std::string config =
      "{\"nodes\":" + JsonString(NodesText(c)) +
      ",\"connections\":" + std::to_string(c.connections) +
      ",\"duration_s\":" + JsonNumber(c.duration_seconds) +
      ",\"keys\":" + std::to_string(c.keys) +
      ",\"distribution\":" + JsonString(DistributionName(c.distribution)) +
      ",\"value_size\":" + std::to_string(c.value_size) +
      ",\"mix\":{\"put\":" + std::to_string(c.mix.put) +
      ",\"get\":" + std::to_string(c.mix.get) + "}" +
      ",\"bucket\":" + JsonString(c.bucket) +
      ",\"type\":" + JsonString(c.type) +
      ",\"preload\":" + (c.preload ? "true" : "false") +
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
  out += ",\"error_samples\":[";
  for (size_t i = 0; i < r.error_samples.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(r.error_samples[i]);
  }
  out += "]}";
  return out;
}

}  // namespace causeway::bench
