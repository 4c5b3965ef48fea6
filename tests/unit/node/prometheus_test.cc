#include "node/prometheus.h"

#include <gtest/gtest.h>

#include <string>

namespace causeway::node {
namespace {

TEST(PrometheusTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(PrometheusLabelValue("node1@127.0.0.1"), "node1@127.0.0.1");
  EXPECT_EQ(PrometheusLabelValue("we\"ird\\no\nde"), "we\\\"ird\\\\no\\nde");
  EXPECT_EQ(PrometheusLabelValue("tab\tstays"), "tab\tstays");
  EXPECT_EQ(PrometheusLabelValue("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(PrometheusLabelValue("bad\xff"), "bad\xef\xbf\xbd");
}

TEST(PrometheusTest, FamiliesCarryHelpTypeAndTheNodeLabel) {
  std::string out;
  PrometheusWriter w(&out, "n\"1");
  w.Counter("causeway_x_total", "Things.", 3);
  w.Gauge("causeway_y", "Back\\slash\nnewline.", 4);
  w.Family("causeway_z", "Zs.", "summary");
  w.Sample("causeway_z", ",quantile=\"0.5\"", 5);
  EXPECT_EQ(out,
            "# HELP causeway_x_total Things.\n"
            "# TYPE causeway_x_total counter\n"
            "causeway_x_total{node=\"n\\\"1\"} 3\n"
            "# HELP causeway_y Back\\\\slash\\nnewline.\n"
            "# TYPE causeway_y gauge\n"
            "causeway_y{node=\"n\\\"1\"} 4\n"
            "# HELP causeway_z Zs.\n"
            "# TYPE causeway_z summary\n"
            "causeway_z{node=\"n\\\"1\",quantile=\"0.5\"} 5\n");
}

}  // namespace
}  // namespace causeway::node
