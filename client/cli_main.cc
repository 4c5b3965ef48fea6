// The `causeway` command-line tool: see client/cli.h.

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "client/cli.h"

int main(int argc, char** argv) {
  causeway::client::cli::CliIo io;
  io.in = &std::cin;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.out_is_terminal = ::isatty(STDOUT_FILENO) == 1;
  io.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  int code = causeway::client::cli::RunCli(argc, argv, io);
  std::cout.flush();
  return code;
}
