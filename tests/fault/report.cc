#include "tests/fault/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace causeway::fault {

namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

const char* Colour(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "#2b8a3e";
    case Outcome::kFail:
      return "#c92a2a";
    case Outcome::kUnknown:
      return "#e67700";
  }
  return "#000";
}

}  // namespace

int64_t LatencyQuantile(const std::vector<Op>& ops, double q) {
  std::vector<int64_t> lat;
  for (const Op& op : ops) lat.push_back(op.complete_ms - op.invoke_ms);
  if (lat.empty()) return 0;
  std::sort(lat.begin(), lat.end());
  const auto i = static_cast<size_t>(
      std::min<double>(lat.size() - 1, std::floor(q * (lat.size() - 1) + 0.5)));
  return lat[i];
}

std::string RenderSvg(const std::vector<Op>& ops,
                      const std::vector<FaultEvent>& events, int64_t run_ms) {
  const double width = 1000, left = 60, right = 20,
               plot_w = width - left - right;
  const double lat_top = 64, lat_h = 220, av_top = 344, av_h = 120;
  const double height = av_top + av_h + 50;
  const int64_t span = std::max<int64_t>(run_ms, 1000);
  int64_t max_lat = 100;
  for (const Op& op : ops) {
    max_lat = std::max(max_lat, op.complete_ms - op.invoke_ms);
  }
  // Latency on a log scale from 1 ms, so both 2 ms and 10 s are readable.
  const double log_max = std::log10(static_cast<double>(max_lat) + 1);
  auto x = [&](int64_t t) {
    return left + plot_w *
                      static_cast<double>(std::clamp<int64_t>(t, 0, span)) /
                      static_cast<double>(span);
  };
  auto y_lat = [&](int64_t ms) {
    const double l =
        std::log10(static_cast<double>(std::max<int64_t>(ms, 0)) + 1);
    return lat_top + lat_h - lat_h * l / log_max;
  };

  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
    << "\" height=\"" << height << "\" font-family=\"sans-serif\" "
    << "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" "
    << "fill=\"white\"/>\n";
  // Fault intervals, shaded across both panels, labelled on four rotating
  // rows above the plot so that neighbouring labels do not overlap.
  int row = 0;
  for (const FaultEvent& e : events) {
    const double x0 = x(e.start_ms);
    const double x1 = std::max(x(e.end_ms), x0 + 2);
    s << "<rect x=\"" << Num(x0) << "\" y=\"" << lat_top << "\" width=\""
      << Num(x1 - x0) << "\" height=\"" << (av_top + av_h - lat_top)
      << "\" fill=\"#fab005\" fill-opacity=\"0.18\"/>\n";
    s << "<text x=\"" << Num(x0 + 2) << "\" y=\"" << (12 + 11 * (row % 4))
      << "\">" << Escape(e.what) << "</text>\n";
    ++row;
  }
  // Axes and labels.
  s << "<rect x=\"" << left << "\" y=\"" << lat_top << "\" width=\"" << plot_w
    << "\" height=\"" << lat_h << "\" fill=\"none\" stroke=\"#555\"/>\n";
  s << "<rect x=\"" << left << "\" y=\"" << av_top << "\" width=\"" << plot_w
    << "\" height=\"" << av_h << "\" fill=\"none\" stroke=\"#555\"/>\n";
  for (int64_t tick :
       {int64_t{1}, int64_t{10}, int64_t{100}, int64_t{1000}, int64_t{10000}}) {
    if (tick > max_lat) break;
    s << "<text x=\"" << (left - 4) << "\" y=\"" << Num(y_lat(tick) + 4)
      << "\" text-anchor=\"end\">" << tick << "</text>\n";
    s << "<line x1=\"" << left << "\" x2=\"" << (left + plot_w) << "\" y1=\""
      << Num(y_lat(tick)) << "\" y2=\"" << Num(y_lat(tick))
      << "\" stroke=\"#ddd\"/>\n";
  }
  s << "<text x=\"" << left << "\" y=\"" << (lat_top - 4)
    << "\">latency, ms (log): ok green, unknown orange, fail red</text>\n";
  s << "<text x=\"" << left << "\" y=\"" << (av_top - 4)
    << "\">availability: share of operations completing ok, per "
       "second</text>\n";
  s << "<text x=\"" << (left - 4) << "\" y=\"" << (av_top + 4)
    << "\" text-anchor=\"end\">100%</text>\n";
  s << "<text x=\"" << (left - 4) << "\" y=\"" << (av_top + av_h)
    << "\" text-anchor=\"end\">0%</text>\n";
  const int64_t step = span > 120000 ? 30000 : 10000;
  for (int64_t t = 0; t <= span; t += step) {
    s << "<text x=\"" << Num(x(t)) << "\" y=\"" << (av_top + av_h + 16)
      << "\" text-anchor=\"middle\">" << t / 1000 << " s</text>\n";
  }
  // Latency points.
  for (const Op& op : ops) {
    s << "<circle cx=\"" << Num(x(op.complete_ms)) << "\" cy=\""
      << Num(y_lat(op.complete_ms - op.invoke_ms)) << "\" r=\"1.6\" fill=\""
      << Colour(op.outcome) << "\"/>\n";
  }
  // Availability per second of completion.
  std::map<int64_t, std::pair<int, int>> per_second;  // ok, all
  for (const Op& op : ops) {
    auto& b = per_second[op.complete_ms / 1000];
    b.first += op.outcome == Outcome::kOk;
    ++b.second;
  }
  s << "<polyline fill=\"none\" stroke=\"#1c7ed6\" stroke-width=\"1.5\" "
       "points=\"";
  for (int64_t sec = 0; sec * 1000 <= span; ++sec) {
    auto it = per_second.find(sec);
    const double share =
        it == per_second.end() || it->second.second == 0
            ? 0.0
            : static_cast<double>(it->second.first) / it->second.second;
    s << Num(x(sec * 1000 + 500)) << "," << Num(av_top + av_h - av_h * share)
      << " ";
  }
  s << "\"/>\n</svg>\n";
  return s.str();
}

std::string RenderMarkdown(const RunSummary& run, const std::vector<Op>& ops,
                           const std::string& plot_file) {
  std::ostringstream s;
  bool all_ok = true;
  for (const Verdict& v : run.verdicts) all_ok = all_ok && v.ok;
  s << "# Fault run: " << run.schedule << " — " << (all_ok ? "PASS" : "FAIL")
    << "\n\n";
  s << "Seed " << run.seed << ", " << run.nodes << " nodes, workload "
    << run.run_ms / 1000.0 << " s. " << run.workload << "\n\n";
  s << "## Faults\n\n| from (s) | to (s) | fault |\n| --- | --- | --- |\n";
  for (const FaultEvent& e : run.events) {
    s << "| " << e.start_ms / 1000.0 << " | " << e.end_ms / 1000.0 << " | "
      << e.what << " |\n";
  }
  s << "\n## Verdicts\n\n";
  for (const Verdict& v : run.verdicts) {
    s << "- **" << v.name << "**: " << (v.ok ? "ok" : "VIOLATED");
    for (const auto& [k, n] : v.stats) s << "; " << k << " " << n;
    s << "\n";
    const size_t shown = std::min<size_t>(v.problems.size(), 20);
    for (size_t i = 0; i < shown; ++i) s << "  - " << v.problems[i] << "\n";
    if (v.problems.size() > shown) {
      s << "  - ... and " << v.problems.size() - shown << " more\n";
    }
  }
  std::map<std::string, std::map<std::string, int>> counts;
  for (const Op& op : ops) {
    ++counts[OpKindName(op.kind)][OutcomeName(op.outcome)];
  }
  s << "\n## Operations\n\n| kind | ok | unknown | fail |\n| --- | --- | --- "
       "| --- |\n";
  for (auto& [kind, c] : counts) {
    s << "| " << kind << " | " << c["ok"] << " | " << c["unknown"] << " | "
      << c["fail"] << " |\n";
  }
  std::vector<Op> ok_ops;
  for (const Op& op : ops) {
    if (op.outcome == Outcome::kOk) ok_ops.push_back(op);
  }
  s << "\nLatency of successful operations: p50 "
    << LatencyQuantile(ok_ops, 0.5) << " ms, p99 "
    << LatencyQuantile(ok_ops, 0.99) << " ms, max "
    << LatencyQuantile(ok_ops, 1.0) << " ms. Availability (ok / all): "
    << (ops.empty() ? 0.0 : 100.0 * ok_ops.size() / ops.size()) << "%.\n\n";
  s << "![latency and availability over time](" << plot_file << ")\n";
  if (!run.notes.empty()) {
    s << "\n## Notes\n\n";
    for (const std::string& n : run.notes) s << "- " << n << "\n";
  }
  return s.str();
}

}  // namespace causeway::fault
