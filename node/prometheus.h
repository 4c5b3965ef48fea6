#pragma once
// Prometheus text exposition (format 0.0.4) for /metrics: one writer that
// every family on the page goes through, so that every sample carries the
// node label and every label value and HELP text is escaped the same way.

#include <cstdint>
#include <string>
#include <string_view>

namespace causeway::node {

// A label value as the format wants it: invalid UTF-8 replaced by U+FFFD,
// then backslash, double quote and newline escaped.
std::string PrometheusLabelValue(std::string_view text);

// Appends families to `out`, each sample labelled node="<node_name>".
// `out` must outlive the writer. Names are the caller's constants and are
// written as given.
class PrometheusWriter {
 public:
  PrometheusWriter(std::string* out, std::string_view node_name);

  // A family of one sample.
  void Counter(std::string_view name, std::string_view help, uint64_t value);
  void Gauge(std::string_view name, std::string_view help, uint64_t value);

  // The "# HELP" (backslash and newline escaped) and "# TYPE" lines that
  // open a family of `type` (counter, gauge, summary, ...).
  void Family(std::string_view name, std::string_view help,
              std::string_view type);
  // One sample: name{node="...",<extra_labels>} value. `extra_labels` is
  // empty or starts with a comma and is already escaped.
  void Sample(std::string_view name, std::string_view extra_labels,
              uint64_t value);

 private:
  std::string* out_;
  std::string node_label_;
};

}  // namespace causeway::node
