#include "tests/fault/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
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

namespace {

bool InWindow(const FaultEvent& e, int64_t t) {
  return t >= e.start_ms && t <= e.end_ms;
}

bool InAnyWindow(const std::vector<FaultEvent>& events, int64_t t) {
  return std::any_of(events.begin(), events.end(),
                     [t](const FaultEvent& e) { return InWindow(e, t); });
}

// True when the second [sec * 1000, sec * 1000 + 999] meets a fault window.
bool SecondMeetsAWindow(const std::vector<FaultEvent>& events, int64_t sec) {
  return std::any_of(events.begin(), events.end(), [sec](const FaultEvent& e) {
    return e.start_ms <= sec * 1000 + 999 && e.end_ms >= sec * 1000;
  });
}

struct Second {
  int64_t ok = 0;
  int64_t all = 0;
};

// Completions per second of the run (by completion time).
std::map<int64_t, Second> PerSecond(const std::vector<Op>& ops) {
  std::map<int64_t, Second> out;
  for (const Op& op : ops) {
    Second& s = out[op.complete_ms / 1000];
    s.ok += op.outcome == Outcome::kOk;
    ++s.all;
  }
  return out;
}

int64_t Median(std::vector<int64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A tick step for the time axis giving at most about ten ticks.
int64_t TickStep(int64_t span_ms) {
  for (int64_t s : {5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}) {
    if (span_ms / (s * 1000) <= 10) return s * 1000;
  }
  return 14400 * 1000;
}

}  // namespace

Availability AvailabilityOf(const std::vector<Op>& ops,
                            const std::vector<FaultEvent>& events,
                            bool inside) {
  Availability a;
  for (const Op& op : ops) {
    if (InAnyWindow(events, op.complete_ms) != inside) continue;
    ++a.all;
    a.ok += op.outcome == Outcome::kOk;
  }
  return a;
}

namespace {

// RecoveryTimes for events[i], from the completions per second of the
// clients that ran during it.
int64_t RecoveryOf(const std::map<int64_t, Second>& per_second,
                   const std::vector<FaultEvent>& events, size_t i) {
  auto ok_in = [&](int64_t sec) {
    auto it = per_second.find(sec);
    return it == per_second.end() ? int64_t{0} : it->second.ok;
  };
  const FaultEvent& e = events[i];
  const int64_t onset = e.start_ms / 1000;
  // Back from the onset, over seconds outside every window, until a second
  // without completions (the clients were not running: another phase lies
  // beyond it) or 10 seconds back; failing that, every quiet second.
  std::vector<int64_t> before;
  for (int64_t sec = onset - 1; sec >= 0 && sec >= onset - 10; --sec) {
    if (SecondMeetsAWindow(events, sec)) continue;
    if (per_second.count(sec) == 0) break;
    before.push_back(ok_in(sec));
  }
  if (before.empty()) {
    for (const auto& [sec, b] : per_second) {
      if (!SecondMeetsAWindow(events, sec)) before.push_back(b.ok);
    }
  }
  // Half the normal rate, and at least one operation.
  const int64_t threshold = std::max<int64_t>(1, Median(before) / 2);
  // Watched until the next fault begins or the operations end.
  int64_t until = per_second.empty() ? 0 : per_second.rbegin()->first;
  for (const FaultEvent& next : events) {
    if (next.start_ms > e.start_ms) {
      until = std::min(until, next.start_ms / 1000 - 1);
    }
  }
  int64_t dip = -1;
  for (int64_t sec = onset; sec <= std::min(e.end_ms / 1000, until); ++sec) {
    if (ok_in(sec) < threshold) {
      dip = sec;
      break;
    }
  }
  if (dip < 0) return 0;
  for (int64_t sec = dip + 1; sec <= until; ++sec) {
    if (ok_in(sec) >= threshold) {
      return std::max<int64_t>(sec * 1000 - e.start_ms, 0);
    }
  }
  return -1;
}

}  // namespace

std::vector<int64_t> RecoveryTimes(const std::vector<Op>& ops,
                                   const std::vector<FaultEvent>& events) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < events.size(); ++i) {
    // The clients with an operation in progress during the fault: a phase
    // with other clients (fewer, or another workload) runs at another rate.
    const FaultEvent& e = events[i];
    std::set<int> during;
    for (const Op& op : ops) {
      if (op.invoke_ms <= e.end_ms && op.complete_ms >= e.start_ms) {
        during.insert(op.process);
      }
    }
    // None at all: judge by every client.
    std::vector<Op> theirs;
    for (const Op& op : ops) {
      if (during.empty() || during.count(op.process) != 0) {
        theirs.push_back(op);
      }
    }
    out.push_back(RecoveryOf(PerSecond(theirs), events, i));
  }
  return out;
}

std::string RenderSvg(const std::vector<Op>& ops,
                      const std::vector<FaultEvent>& events, int64_t run_ms) {
  const double width = 1000, left = 60, right = 20,
               plot_w = width - left - right;
  const int64_t span = std::max<int64_t>(run_ms, 1000);
  auto x = [&](int64_t t) {
    return left + plot_w *
                      static_cast<double>(std::clamp<int64_t>(t, 0, span)) /
                      static_cast<double>(span);
  };
  // Each fault's number goes above the plot, at its window's start, on the
  // first row where it does not run into the number before it; as many
  // rows as that takes, so that numbers never overlap at any run length.
  const double row_h = 13;
  std::vector<int> row_of(events.size());
  std::vector<double> row_end;  // right edge of the last number on each row
  for (size_t i = 0; i < events.size(); ++i) {
    const double x0 = x(events[i].start_ms);
    const double w = 7.0 * std::to_string(i + 1).size() + 4;
    size_t r = 0;
    while (r < row_end.size() && row_end[r] > x0) ++r;
    if (r == row_end.size()) row_end.push_back(0);
    row_end[r] = x0 + w;
    row_of[i] = static_cast<int>(r);
  }
  const double band_top = 22;
  const double band_h = row_h * static_cast<double>(row_end.size());
  const double lat_top = band_top + band_h + 22, lat_h = 220;
  const double av_top = lat_top + lat_h + 40, av_h = 120;
  // The legend: one line per fault, in two columns, below the time axis.
  const double legend_top = av_top + av_h + 44;
  const size_t legend_rows = (events.size() + 1) / 2;
  const double height =
      legend_top + 14.0 * static_cast<double>(legend_rows) + 16;

  int64_t max_lat = 100;
  for (const Op& op : ops) {
    max_lat = std::max(max_lat, op.complete_ms - op.invoke_ms);
  }
  // Latency on a log scale from 1 ms, so both 2 ms and 10 s are readable.
  const double log_max = std::log10(static_cast<double>(max_lat) + 1);
  auto y_lat = [&](int64_t ms) {
    const double l =
        std::log10(static_cast<double>(std::max<int64_t>(ms, 0)) + 1);
    return lat_top + lat_h - lat_h * l / log_max;
  };

  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
    << "\" height=\"" << Num(height) << "\" font-family=\"sans-serif\" "
    << "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" "
    << "fill=\"white\"/>\n";
  s << "<text x=\"" << left << "\" y=\"14\">fault windows (shaded), "
    << "numbered as in the legend below</text>\n";
  for (size_t i = 0; i < events.size(); ++i) {
    const FaultEvent& e = events[i];
    const double x0 = x(e.start_ms);
    const double x1 = std::max(x(e.end_ms), x0 + 2);
    const double label_y = band_top + row_h * (row_of[i] + 1) - 2;
    s << "<rect x=\"" << Num(x0) << "\" y=\"" << Num(lat_top) << "\" width=\""
      << Num(x1 - x0) << "\" height=\"" << Num(av_top + av_h - lat_top)
      << "\" fill=\"#fab005\" fill-opacity=\"0.18\"/>\n";
    s << "<line x1=\"" << Num(x0) << "\" x2=\"" << Num(x0) << "\" y1=\""
      << Num(label_y + 2) << "\" y2=\"" << Num(lat_top)
      << "\" stroke=\"#e8a500\" stroke-width=\"0.6\"/>\n";
    s << "<text class=\"fault-number\" x=\"" << Num(x0 + 1) << "\" y=\""
      << Num(label_y) << "\" font-weight=\"bold\">" << i + 1 << "</text>\n";
  }
  // Axes and labels.
  s << "<rect x=\"" << left << "\" y=\"" << Num(lat_top) << "\" width=\""
    << plot_w << "\" height=\"" << lat_h
    << "\" fill=\"none\" stroke=\"#555\"/>\n";
  s << "<rect x=\"" << left << "\" y=\"" << Num(av_top) << "\" width=\""
    << plot_w << "\" height=\"" << av_h
    << "\" fill=\"none\" stroke=\"#555\"/>\n";
  for (int64_t tick :
       {int64_t{1}, int64_t{10}, int64_t{100}, int64_t{1000}, int64_t{10000}}) {
    if (tick > max_lat) break;
    s << "<text x=\"" << (left - 4) << "\" y=\"" << Num(y_lat(tick) + 4)
      << "\" text-anchor=\"end\">" << tick << "</text>\n";
    s << "<line x1=\"" << left << "\" x2=\"" << (left + plot_w) << "\" y1=\""
      << Num(y_lat(tick)) << "\" y2=\"" << Num(y_lat(tick))
      << "\" stroke=\"#ddd\"/>\n";
  }
  s << "<text x=\"" << left << "\" y=\"" << Num(lat_top - 4)
    << "\">latency, ms (log): ok green, unknown orange, fail red</text>\n";
  s << "<text x=\"" << left << "\" y=\"" << Num(av_top - 4)
    << "\">availability: share of operations completing ok, per second "
       "(no line: no operation completed in that second)</text>\n";
  s << "<text x=\"" << (left - 4) << "\" y=\"" << Num(av_top + 4)
    << "\" text-anchor=\"end\">100%</text>\n";
  s << "<text x=\"" << (left - 4) << "\" y=\"" << Num(av_top + av_h)
    << "\" text-anchor=\"end\">0%</text>\n";
  const int64_t step = TickStep(span);
  for (int64_t t = 0; t <= span; t += step) {
    s << "<text x=\"" << Num(x(t)) << "\" y=\"" << Num(av_top + av_h + 16)
      << "\" text-anchor=\"middle\">" << t / 1000 << " s</text>\n";
  }
  // Latency points.
  for (const Op& op : ops) {
    s << "<circle cx=\"" << Num(x(op.complete_ms)) << "\" cy=\""
      << Num(y_lat(op.complete_ms - op.invoke_ms)) << "\" r=\"1.6\" fill=\""
      << Colour(op.outcome) << "\"/>\n";
  }
  // Availability per second of completion: one line through each run of
  // consecutive seconds with completions; a lone second is a dot.
  const std::map<int64_t, Second> per_second = PerSecond(ops);
  std::vector<std::pair<double, double>> segment;
  auto flush = [&] {
    if (segment.size() == 1) {
      s << "<circle class=\"availability\" cx=\"" << Num(segment[0].first)
        << "\" cy=\"" << Num(segment[0].second)
        << "\" r=\"2\" fill=\"#1c7ed6\"/>\n";
    } else if (segment.size() > 1) {
      s << "<polyline class=\"availability\" fill=\"none\" "
           "stroke=\"#1c7ed6\" stroke-width=\"1.5\" points=\"";
      for (const auto& [px, py] : segment)
        s << Num(px) << "," << Num(py) << " ";
      s << "\"/>\n";
    }
    segment.clear();
  };
  int64_t previous = -2;
  for (const auto& [sec, b] : per_second) {
    if (sec * 1000 > span) break;
    if (sec != previous + 1) flush();
    const double share = static_cast<double>(b.ok) / static_cast<double>(b.all);
    segment.emplace_back(x(sec * 1000 + 500), av_top + av_h - av_h * share);
    previous = sec;
  }
  flush();
  // The legend.
  for (size_t i = 0; i < events.size(); ++i) {
    const FaultEvent& e = events[i];
    const double lx = left + (i < legend_rows ? 0 : plot_w / 2);
    const double ly = legend_top + 14.0 * static_cast<double>(i % legend_rows);
    std::string what = e.what;
    if (what.size() > 60) what = what.substr(0, 57) + "...";
    s << "<text class=\"legend\" x=\"" << Num(lx) << "\" y=\"" << Num(ly)
      << "\"><tspan font-weight=\"bold\">" << i + 1 << "</tspan> "
      << Escape(what) << " (" << Num(e.start_ms / 1000.0) << "-"
      << Num(e.end_ms / 1000.0) << " s)</text>\n";
  }
  s << "</svg>\n";
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
  const Availability in = AvailabilityOf(ops, run.events, true);
  const Availability out = AvailabilityOf(ops, run.events, false);
  s << "## Faults and availability\n\nInside fault windows: "
    << Num(in.percent()) << "% of " << in.all
    << " operations ok. Outside them: " << Num(out.percent()) << "% of "
    << out.all << " operations ok.\n\n";
  s << "Recovery: from a fault's onset to the first second in which "
       "operations succeed again at least at half the rate of the quiet "
       "seconds before it (0: the rate never fell that low; not seen: it "
       "was not back before the next fault began or the operations "
       "ended).\n\n";
  s << "| # | fault | from (s) | to (s) | ok / all in window | availability "
       "| recovery (s) |\n| --- | --- | --- | --- | --- | --- | --- |\n";
  const std::vector<int64_t> recovery = RecoveryTimes(ops, run.events);
  for (size_t i = 0; i < run.events.size(); ++i) {
    const FaultEvent& e = run.events[i];
    const Availability a = AvailabilityOf(ops, {e}, true);
    s << "| " << i + 1 << " | " << e.what << " | " << Num(e.start_ms / 1000.0)
      << " | " << Num(e.end_ms / 1000.0) << " | " << a.ok << " / " << a.all
      << " | " << Num(a.percent()) << "% | "
      << (recovery[i] < 0 ? std::string("not seen") : Num(recovery[i] / 1000.0))
      << " |\n";
  }
  s << "\nFaults are numbered as in the plot.\n";
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
    << Num(ops.empty() ? 0.0 : 100.0 * ok_ops.size() / ops.size()) << "%.\n\n";

  s << "![latency and availability over time](" << plot_file << ")\n";
  if (!run.notes.empty()) {
    s << "\n## Notes\n\n";
    for (const std::string& n : run.notes) s << "- " << n << "\n";
  }
  return s.str();
}

}  // namespace causeway::fault
