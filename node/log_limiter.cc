#include "node/log_limiter.h"

namespace causeway::node {

bool LogLimiter::Allow(std::chrono::steady_clock::time_point now,
                       uint64_t* suppressed) {
  if (last_ && now - *last_ < interval_) {
    ++suppressed_;
    return false;
  }
  last_ = now;
  *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

std::optional<std::string> LogLimiter::Line(
    std::chrono::steady_clock::time_point now, const std::string& message) {
  uint64_t suppressed = 0;
  if (!Allow(now, &suppressed)) return std::nullopt;
  if (suppressed == 0) return message;
  return message + " (and " + std::to_string(suppressed) +
         " more like it not logged)";
}

}  // namespace causeway::node
