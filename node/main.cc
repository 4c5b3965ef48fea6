// causewayd: one Causeway node. Exit status: 0 after a graceful shutdown
// (SIGTERM, SIGINT, or leaving the cluster once its data is handed off) or
// --help; 2 for bad flags or configuration (an unreadable cluster secret
// file included); 1 when the node cannot start or fails.

#include <google/protobuf/message_lite.h>  // SetLogHandler

#include <csignal>
#include <iostream>

#include "node/config.h"
#include "node/node.h"

int main(int argc, char** argv) {
  using causeway::node::ParsedCommandLine;
  const ParsedCommandLine parsed = causeway::node::ParseCommandLine(argc, argv);
  switch (parsed.action) {
    case ParsedCommandLine::Action::kHelp:
      std::cout << parsed.help;
      return 0;
    case ParsedCommandLine::Action::kError:
      std::cerr << "causewayd: " << parsed.status.message() << "\n"
                << "Run 'causewayd --help' for the settings.\n";
      return 2;
    case ParsedCommandLine::Action::kRun:
      break;
  }
  // A peer that vanishes mid-write must cost an error code, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Protobuf logs every message that fails to parse; malformed input from a
  // client is answered with an error (and counted in /stats), so these lines
  // would only let a client flood the log.
  google::protobuf::SetLogHandler(nullptr);

  causeway::node::Node node(parsed.options);
  const causeway::Status status = node.Run();
  if (status.ok()) return 0;
  std::cerr << "causewayd: " << status.ToString() << "\n";
  return status.code() == causeway::Status::Code::kInvalidArgument ? 2 : 1;
}
