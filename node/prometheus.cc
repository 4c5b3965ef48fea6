#include "node/prometheus.h"

#include "node/json.h"

namespace causeway::node {

std::string PrometheusLabelValue(std::string_view text) {
  std::string out;
  for (char c : SanitizeUtf8(text)) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

PrometheusWriter::PrometheusWriter(std::string* out, std::string_view node_name)
    : out_(out),
      node_label_("node=\"" + PrometheusLabelValue(node_name) + "\"") {}

void PrometheusWriter::Counter(std::string_view name, std::string_view help,
                               uint64_t value) {
  Family(name, help, "counter");
  Sample(name, "", value);
}

void PrometheusWriter::Gauge(std::string_view name, std::string_view help,
                             uint64_t value) {
  Family(name, help, "gauge");
  Sample(name, "", value);
}

void PrometheusWriter::Family(std::string_view name, std::string_view help,
                              std::string_view type) {
  out_->append("# HELP ").append(name).push_back(' ');
  for (char c : help) {
    if (c == '\\') {
      out_->append("\\\\");
    } else if (c == '\n') {
      out_->append("\\n");
    } else {
      out_->push_back(c);
    }
  }
  out_->append("\n# TYPE ").append(name).push_back(' ');
  out_->append(type).push_back('\n');
}

void PrometheusWriter::Sample(std::string_view name,
                              std::string_view extra_labels, uint64_t value) {
  out_->append(name).push_back('{');
  out_->append(node_label_).append(extra_labels).append("} ");
  out_->append(std::to_string(value));
  out_->push_back('\n');
}

}  // namespace causeway::node
