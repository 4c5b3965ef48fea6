// libFuzzer's entry points for a binary that links exactly one target.

#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (causeway::fuzz::Targets().size() != 1) {
    std::fprintf(stderr, "a fuzz binary must link exactly one target\n");
    std::abort();
  }
  causeway::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  causeway::fuzz::Targets().begin()->second(data, size);
  return 0;
}
