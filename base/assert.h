#pragma once
// CAUSEWAY_ASSERT: invariants checked in every build, Release included, as
// TigerBeetle does. A failed assertion means the code is wrong, not the
// input: bad bytes from a socket or a file are returned as a Status, never
// asserted on. Keep the checked expressions cheap (no loops over large
// state on hot paths); the simulator runs with them as they are.
//
// On failure the expression and its place go to stderr, the failure hook
// runs (the simulator prints the seed's replay command there), and the
// process aborts.

namespace causeway {

using AssertHook = void (*)();

// Installs `hook` to run when an assertion fails, before the abort; returns
// the previous one. Null: none.
AssertHook SetAssertHook(AssertHook hook);

[[noreturn]] void AssertFailed(const char* expression, const char* file,
                               int line, const char* message);

}  // namespace causeway

#define CAUSEWAY_ASSERT(condition)                   \
  (__builtin_expect(static_cast<bool>(condition), 1) \
       ? static_cast<void>(0)                        \
       : ::causeway::AssertFailed(#condition, __FILE__, __LINE__, nullptr))

// As CAUSEWAY_ASSERT, with a message saying what the invariant is.
#define CAUSEWAY_ASSERT_MSG(condition, message)      \
  (__builtin_expect(static_cast<bool>(condition), 1) \
       ? static_cast<void>(0)                        \
       : ::causeway::AssertFailed(#condition, __FILE__, __LINE__, message))
