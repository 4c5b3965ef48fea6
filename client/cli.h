#pragma once
// The `causeway` command-line tool, as a function: RunCli parses argv, runs
// one command against a node and returns the process exit status. All input
// and output goes through CliIo, so tests run the whole tool in-process.
//
// Exit status: 0 ok, 1 not found, 2 usage error, 3 server error or node
// unreachable.

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

namespace causeway::client::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailure = 3;

struct CliIo {
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // Whether `out` is a terminal (decides the newline after a raw value).
  bool out_is_terminal = false;
  // Environment lookup (CAUSEWAY_NODE); null means an empty environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

int RunCli(int argc, const char* const* argv, const CliIo& io);

}  // namespace causeway::client::cli
