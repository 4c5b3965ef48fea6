#pragma once
// LogLimiter: lets a log line of one kind through at most once per interval
// and counts what it held back, so that a flood of refused or closed
// connections (client port or peer port) cannot flood the log.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace causeway::node {

class LogLimiter {
 public:
  explicit LogLimiter(std::chrono::milliseconds interval)
      : interval_(interval) {}
  // True if a line may be logged now; `*suppressed` then receives how many
  // were held back since the last line that was let through.
  bool Allow(std::chrono::steady_clock::time_point now, uint64_t* suppressed);
  // The line to log now (`message`, with the count of lines held back
  // since the last one), or nothing if one went out within the interval.
  std::optional<std::string> Line(std::chrono::steady_clock::time_point now,
                                  const std::string& message);

 private:
  std::chrono::milliseconds interval_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  uint64_t suppressed_ = 0;
};

}  // namespace causeway::node
