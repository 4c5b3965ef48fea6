// The run report: the verdict line follows the checkers, violations are
// listed, and the plot has one point per operation and one shaded interval
// per fault.

#include "tests/fault/report.h"

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
  // Labels are escaped.
  EXPECT_NE(svg.find("partition &lt;1&gt; / 2"), std::string::npos);
  EXPECT_EQ(Count(svg, "#e67700"), 1u);  // the unknown operation
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
