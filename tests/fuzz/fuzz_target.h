#pragma once
// The fuzz targets' common surface. Each target file registers one entry
// function under a name; the same function runs under libFuzzer (one target
// per binary, libfuzzer_main.cc) and under the plain replay driver
// (replay_main.cc, all targets in one binary, built by any compiler), so
// every corpus and regression input is replayed by the ordinary test suite.
//
// An entry function returns normally for any input, accepted or refused.
// A broken promise (a round trip that differs, a callback missing) is
// reported with FUZZ_CHECK, which prints and aborts: libFuzzer saves the
// input as a crash, and the replay test fails.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace causeway::fuzz {

using EntryFn = void (*)(const uint8_t* data, size_t size);

// Registers `fn` as target `name` (at static initialization).
struct Registration {
  Registration(const char* name, EntryFn fn);
};

// Every target linked into this binary, by name.
const std::map<std::string, EntryFn>& Targets();

// Quiets logging the code under test would do on bad input; call once.
void QuietLogs();

[[noreturn]] inline void CheckFailed(const char* file, int line,
                                     const char* expr) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", file, line, expr);
  std::abort();
}

}  // namespace causeway::fuzz

#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) ::causeway::fuzz::CheckFailed(__FILE__, __LINE__, #cond); \
  } while (0)
