#include "tests/fuzz/fuzz_target.h"

#include <google/protobuf/message_lite.h>  // SetLogHandler
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

void QuietLogs() {
  spdlog::set_level(spdlog::level::off);
  // protobuf logs every body that lacks a required field or carries bad
  // UTF-8; at fuzzing rates that is most of the time spent.
  google::protobuf::SetLogHandler(nullptr);
}

}  // namespace causeway::fuzz
