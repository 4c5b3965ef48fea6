#include "tests/fuzz/fuzz_target.h"

#include <spdlog/spdlog.h>

namespace causeway::fuzz {

namespace {
std::map<std::string, EntryFn>& Registry() {
  static auto* targets = new std::map<std::string, EntryFn>();
  return *targets;
}
}  // namespace

Registration::Registration(const char* name, EntryFn fn) {
  Registry()[name] = fn;
}

const std::map<std::string, EntryFn>& Targets() { return Registry(); }

void QuietLogs() { spdlog::set_level(spdlog::level::off); }

}  // namespace causeway::fuzz
