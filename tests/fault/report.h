#pragma once
// Report of one fault run: a Markdown summary (what was done, which faults
// when, the verdicts, latency percentiles and availability) and an SVG plot
// of latency and availability over time with the fault intervals shaded.
// The SVG is written by hand (no plotting package): plain rectangles,
// circles and a polyline, readable by any browser.

#include <cstdint>
#include <string>
#include <vector>

#include "tests/fault/checker.h"
#include "tests/fault/history.h"

namespace causeway::fault {

struct RunSummary {
  std::string schedule;
  uint64_t seed = 0;
  int nodes = 0;
  std::string workload;  // one paragraph: clients, keys, settings
  int64_t run_ms = 0;    // length of the workload part
  std::vector<FaultEvent> events;
  std::vector<Verdict> verdicts;
  std::vector<std::string> notes;
};

// Latency (completion - invoke) of `ops`
// at quantile q in [0, 1]; 0 when there are none.
int64_t LatencyQuantile(const std::vector<Op>& ops, double q);

// Latency scatter (top) and availability per second (bottom), with every
// fault interval shaded and labelled.
std::string RenderSvg(const std::vector<Op>& ops,
                      const std::vector<FaultEvent>& events, int64_t run_ms);

// The Markdown report; `plot_file` is the SVG's name next to it.
std::string RenderMarkdown(const RunSummary& run, const std::vector<Op>& ops,
                           const std::string& plot_file);

}  // namespace causeway::fault
