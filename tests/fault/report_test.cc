// The run report: the verdict line follows the checkers, violations are
// listed, availability is split inside and outside the fault windows with a
// recovery time per fault, and the plot has one point per operation, one
// shaded and numbered interval per fault with a legend, and gaps where no
// operation completed.

#include "tests/fault/report.h"

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace causeway::fault {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

std::vector<Op> ThreeOps() {
  std::vector<Op> ops(3);
  for (int i = 0; i < 3; ++i) {
    ops[i].key = "k";
    ops[i].invoke_ms = i * 1000;
    ops[i].complete_ms = i * 1000 + 10 * (i + 1);
    ops[i].outcome = i == 2 ? Outcome::kUnknown : Outcome::kOk;
  }
  return ops;
}

TEST(Report, LatencyQuantiles) {
  const std::vector<Op> ops = ThreeOps();
  EXPECT_EQ(LatencyQuantile(ops, 0.0), 10);
  EXPECT_EQ(LatencyQuantile(ops, 0.5), 20);
  EXPECT_EQ(LatencyQuantile(ops, 1.0), 30);
  EXPECT_EQ(LatencyQuantile({}, 0.5), 0);
}

TEST(Report, SvgHasAPointPerOperationAndAShadePerFault) {
  std::vector<FaultEvent> events = {{100, 900, "partition <1> / 2"},
                                    {1500, 2500, "kill node3"}};
  const std::string svg = RenderSvg(ThreeOps(), events, 3000);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(Count(svg, "<circle"), 3u);
  EXPECT_EQ(Count(svg, "fill=\"#fab005\""), 2u);
  // Numbered, with the legend saying what each number is; escaped.
  EXPECT_EQ(Count(svg, "class=\"fault-number\""), 2u);
  EXPECT_NE(svg.find("<tspan font-weight=\"bold\">1</tspan> partition "
                     "&lt;1&gt; / 2 (0.1-0.9 s)"),
            std::string::npos);
  EXPECT_NE(svg.find("<tspan font-weight=\"bold\">2</tspan> kill node3"),
            std::string::npos);
  EXPECT_EQ(Count(svg, "#e67700"), 1u);  // the unknown operation
}

// `per_second` ok operations in each second of [from_s, to_s), each
// taking 5 ms; `outcome` for all of them.
void AddSeconds(std::vector<Op>* ops, int64_t from_s, int64_t to_s,
                int per_second, Outcome outcome = Outcome::kOk) {
  for (int64_t sec = from_s; sec < to_s; ++sec) {
    for (int i = 0; i < per_second; ++i) {
      Op op;
      op.key = "k";
      op.invoke_ms = sec * 1000 + i * (1000 / per_second);
      op.complete_ms = op.invoke_ms + 5;
      op.outcome = outcome;
      ops->push_back(op);
    }
  }
}

TEST(Report, AvailabilityInsideAndOutsideFaultWindows) {
  std::vector<Op> ops;
  AddSeconds(&ops, 0, 4, 10);                     // 40 ok outside
  AddSeconds(&ops, 4, 6, 5, Outcome::kFail);      // 10 failed inside
  AddSeconds(&ops, 4, 6, 5);                      // 10 ok inside
  AddSeconds(&ops, 6, 8, 10, Outcome::kUnknown);  // 20 unknown outside
  const std::vector<FaultEvent> events = {{4000, 5999, "partition"}};
  const Availability in = AvailabilityOf(ops, events, true);
  const Availability out = AvailabilityOf(ops, events, false);
  EXPECT_EQ(in.all, 20);
  EXPECT_EQ(in.ok, 10);
  EXPECT_DOUBLE_EQ(in.percent(), 50.0);
  EXPECT_EQ(out.all, 60);
  EXPECT_EQ(out.ok, 40);
  EXPECT_DOUBLE_EQ(Availability{}.percent(), 0.0);
}

TEST(Report, RecoveryIsTheFirstSecondBackAtTheNormalRateAfterADip) {
  std::vector<Op> ops;
  AddSeconds(&ops, 0, 10, 10);
  // Fault 1 at 10.5 s: nothing at all completes in seconds 10 to 12, 2 ok
  // in 13 (below half the normal 10 per second), back to 10 in 14.
  AddSeconds(&ops, 13, 14, 2);
  AddSeconds(&ops, 14, 30, 10);
  // Fault 2 at 20 s leaves the rate alone; fault 3 at 32 s stops everything
  // until fault 4 begins at 40 s, after which operations come back.
  AddSeconds(&ops, 41, 50, 10);
  const std::vector<FaultEvent> events = {{10500, 15000, "kill -9 node3"},
                                          {20000, 25000, "delay"},
                                          {32000, 36000, "partition"},
                                          {40000, 41000, "pause"}};
  const std::vector<int64_t> r = RecoveryTimes(ops, events);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], 14000 - 10500);
  EXPECT_EQ(r[1], 0);
  EXPECT_EQ(r[2], -1);  // not back before fault 4 began
  EXPECT_EQ(r[3], 1000);
}

TEST(Report, RecoveryCountsOnlyTheClientsThatRanDuringTheFault) {
  // Clients 0 and 1 run at 20 ok/s each until 12 s; client 2 then runs
  // alone at 6 ok/s, with no pause in between, and a fault at 15 s leaves
  // it alone.
  std::vector<Op> ops;
  for (int process : {0, 1}) {
    std::vector<Op> mine;
    AddSeconds(&mine, 0, 12, 20);
    for (Op& op : mine) op.process = process;
    ops.insert(ops.end(), mine.begin(), mine.end());
  }
  std::vector<Op> late;
  AddSeconds(&late, 12, 25, 6);
  for (Op& op : late) op.process = 2;
  ops.insert(ops.end(), late.begin(), late.end());
  EXPECT_EQ(RecoveryTimes(ops, {{15000, 18000, "kill -9 node2"}}),
            std::vector<int64_t>{0});
}

TEST(Report, RecoveryMeasuresAPhaseAgainstItsOwnRate) {
  // A busy phase (20 ok/s), a pause without operations, then a slower phase
  // (4 ok/s) with a fault that does not disturb it: its normal rate is
  // the slower phase's, not the busy one's.
  std::vector<Op> ops;
  AddSeconds(&ops, 0, 12, 20);
  AddSeconds(&ops, 14, 30, 4);
  const std::vector<FaultEvent> events = {{18000, 22000, "kill -9 node2"}};
  EXPECT_EQ(RecoveryTimes(ops, events), std::vector<int64_t>{0});
  // The same fault stopping everything for two seconds: back at 21 s.
  std::vector<Op> stalled;
  for (const Op& op : ops) {
    if (op.complete_ms < 19000 || op.complete_ms >= 21000) {
      stalled.push_back(op);
    }
  }
  EXPECT_EQ(RecoveryTimes(stalled, events), std::vector<int64_t>{3000});
}

TEST(Report, ASecondWithoutCompletionsIsAGapNotZero) {
  std::vector<Op> ops;
  AddSeconds(&ops, 0, 2, 4);  // seconds 0 and 1: a line
  AddSeconds(&ops, 3, 4, 4);  // second 2 empty; second 3 alone: a dot
  AddSeconds(&ops, 6, 8, 4, Outcome::kFail);  // 6 and 7: a line at 0%
  const std::string svg = RenderSvg(ops, {}, 8000);
  EXPECT_EQ(Count(svg, "<polyline class=\"availability\""), 2u);
  EXPECT_EQ(Count(svg, "<circle class=\"availability\""), 1u);
  // The points of the availability line: x at the middle of each second.
  std::regex points("class=\"availability\"[^>]*points=\"([^\"]*)\"");
  std::vector<std::string> lines;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), points);
       it != std::sregex_iterator(); ++it) {
    lines.push_back((*it)[1]);
  }
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Count(lines[0], ","), 2u);  // seconds 0 and 1
  EXPECT_EQ(Count(lines[1], ","), 2u);  // seconds 6 and 7
  // Plot width 920 from x=60 over 8 s: second 2's middle is at 347.5 and
  // seconds 4 and 5 at 577.5 and 692.5; none is drawn.
  for (const char* x : {"347.5,", "577.5,", "692.5,"}) {
    EXPECT_EQ(svg.find(x), std::string::npos) << x;
  }
}

TEST(Report, FaultNumbersNeverOverlapOnALongRun) {
  // An hour with a fault every 12 s: 300 windows, 3 px apart.
  std::vector<FaultEvent> events;
  for (int i = 0; i < 300; ++i) {
    events.push_back(
        {i * 12000, i * 12000 + 8000, "fault " + std::to_string(i)});
  }
  const std::string svg = RenderSvg({}, events, 3600000);
  std::regex number(
      "class=\"fault-number\" x=\"([0-9.]+)\" y=\"([0-9.]+)\"[^>]*>([0-9]+)<");
  std::map<std::string, std::vector<std::pair<double, std::string>>> rows;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), number);
       it != std::sregex_iterator(); ++it) {
    rows[(*it)[2]].emplace_back(std::stod((*it)[1]), (*it)[3]);
  }
  size_t numbers = 0;
  for (const auto& [y, row] : rows) {
    numbers += row.size();
    for (size_t i = 1; i < row.size(); ++i) {
      // About 7 px per digit: the previous number ends before this starts.
      const double prev_end =
          row[i - 1].first +
          6.5 * static_cast<double>(row[i - 1].second.size());
      EXPECT_GE(row[i].first, prev_end)
          << "row y=" << y << " number " << row[i].second;
    }
  }
  EXPECT_EQ(numbers, 300u);
  EXPECT_GT(rows.size(), 1u);
  // Every fault has its legend line.
  EXPECT_EQ(Count(svg, "class=\"legend\""), 300u);
  EXPECT_NE(svg.find("<tspan font-weight=\"bold\">300</tspan> fault 299"),
            std::string::npos);
}

TEST(Report, MarkdownStatesAvailabilityAndRecoveryPerFault) {
  std::vector<Op> ops;
  AddSeconds(&ops, 0, 10, 10);
  AddSeconds(&ops, 10, 12, 10, Outcome::kFail);
  AddSeconds(&ops, 12, 20, 10);
  RunSummary run;
  run.schedule = "short";
  run.events = {{10000, 13000, "partition 1 / 2,3"}};
  const std::string md = RenderMarkdown(run, ops, "t.svg");
  // 10 ok of 30 inside [10, 13] s (and the one at 13.005 s outside).
  EXPECT_NE(md.find("Inside fault windows: 33.3% of 30 operations ok. "
                    "Outside them: 100.0% of 170 operations ok."),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 1 | partition 1 / 2,3 | 10.0 | 13.0 | 10 / 30 | 33.3% "
                    "| 2.0 |"),
            std::string::npos)
      << md;
}

TEST(Report, MarkdownFailsWhenAVerdictDoes) {
  RunSummary run;
  run.schedule = "short";
  Verdict good;
  good.name = "registers";
  run.verdicts.push_back(good);
  EXPECT_NE(RenderMarkdown(run, ThreeOps(), "t.svg").find("— PASS"),
            std::string::npos);
  Verdict bad;
  bad.name = "sets";
  bad.Fail("lost: element e7");
  run.verdicts.push_back(bad);
  const std::string md = RenderMarkdown(run, ThreeOps(), "t.svg");
  EXPECT_NE(md.find("— FAIL"), std::string::npos);
  EXPECT_NE(md.find("**sets**: VIOLATED"), std::string::npos);
  EXPECT_NE(md.find("  - lost: element e7"), std::string::npos);
  EXPECT_NE(md.find("![latency and availability over time](t.svg)"),
            std::string::npos);
}

}  // namespace
}  // namespace causeway::fault
