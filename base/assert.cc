#include "base/assert.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace causeway {
namespace {
std::atomic<AssertHook> hook{nullptr};
}  // namespace

AssertHook SetAssertHook(AssertHook h) { return hook.exchange(h); }

void AssertFailed(const char* expression, const char* file, int line,
                  const char* message) {
  std::fprintf(stderr, "assertion failed at %s:%d: %s%s%s\n", file, line,
               expression, message != nullptr ? ": " : "",
               message != nullptr ? message : "");
  std::fflush(stderr);
  if (AssertHook h = hook.load(); h != nullptr) h();
  std::abort();
}

}  // namespace causeway
