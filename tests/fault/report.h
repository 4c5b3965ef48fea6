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

// Operations that completed ok, of all that completed, inside some fault
// window (`inside`) or outside every one.
struct Availability {
  int64_t ok = 0;
  int64_t all = 0;
  double percent() const { return all == 0 ? 0.0 : 100.0 * ok / all; }
};
Availability AvailabilityOf(const std::vector<Op>& ops,
                            const std::vector<FaultEvent>& events, bool inside);

// For each fault, how long after its onset operations succeeded at the
// normal rate again, counting only the operations of the clients that had
// one in progress during the fault (another phase's clients run at another
// rate): the normal rate is the median number of their operations
// completing ok per second over the (up to 10) seconds before the onset
// that lie outside every fault window, going back no further than a second
// without completions; a second below half of it is disturbed. 0: no second
// from the onset to the fault's end was disturbed. Otherwise the start of the
// first undisturbed second after the first disturbed one, minus the onset; -1
// when there was none before the next fault began or the operations ended.
std::vector<int64_t> RecoveryTimes(const std::vector<Op>& ops,
                                   const std::vector<FaultEvent>& events);

// Latency scatter (top) and availability per second (bottom), with every
// fault interval shaded and numbered, and a legend of the numbers below. A
// second in which no operation completed is a gap in the availability
// line, not 0%.
std::string RenderSvg(const std::vector<Op>& ops,
                      const std::vector<FaultEvent>& events, int64_t run_ms);

// The Markdown report; `plot_file` is the SVG's name next to it.
std::string RenderMarkdown(const RunSummary& run, const std::vector<Op>& ops,
                           const std::string& plot_file);

}  // namespace causeway::fault
