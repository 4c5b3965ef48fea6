#pragma once
// NodeOptions: every setting of a causewayd process, with the documented
// defaults. Settings come from three layers, later ones winning: the
// defaults below, a TOML file named by --config, then command-line flags.
// Loading never exits or prints; it returns a Status whose message names the
// offending setting, so it can be tested without a process.
//
// TOML layout: top-level keys are the flag names with '_' for '-' (pb_port,
// data_dir, ...); default bucket properties sit in a [bucket_defaults] table
// (n_val, allow_mult, last_write_wins, r, w, dw, pr, pw, rw, notfound_ok,
// basic_quorum). Unknown keys are errors, so a typo never silently falls back
// to a default. Relative paths are relative to the working directory.

#include <cstdint>
#include <string>
#include <string_view>

#include "node/pbc_server.h"
#include "replication/buckets/bucket_props.h"
#include "replication/core.h"
#include "storage/status.h"

namespace causeway::node {

struct NodeOptions {
  std::string config_file;  // empty: none
  std::string name = "causeway@127.0.0.1";
  std::string data_dir = "./var/data";
  std::string pb_host = "127.0.0.1";
  uint16_t pb_port = 8087;  // 0 picks a free port
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 8098;  // 0 picks a free port
  std::string ports_file;     // empty: not written
  uint32_t ring_size = 64;
  std::string log_level = "info";  // trace|debug|info|warn|error
  std::string log_file;            // empty: stderr
  uint32_t max_frame_bytes = 64u << 20;
  uint32_t max_connections = 1024;
  // Over Riak's defaults; only the settings given are present.
  replication::BucketPropsPatch bucket_defaults;
  bool sync_writes = false;
};

// The outcome of reading a command line.
struct ParsedCommandLine {
  enum class Action {
    kRun,    // `options` is complete and valid
    kHelp,   // --help was given: print `help` to stdout, exit 0
    kError,  // `status` says what is wrong: print it to stderr, exit 2
  };
  Action action = Action::kError;
  NodeOptions options;
  Status status;
  std::string help;
};

// Parses flags (argv[0] is the program name), reads the --config file if one
// is given, applies the flags over it and validates the result.
ParsedCommandLine ParseCommandLine(int argc, const char* const* argv);

// Applies the settings in a TOML document over `options`. `source` names the
// document in error messages (a file name, or "<string>").
Status ApplyToml(std::string_view toml_text, std::string_view source,
                 NodeOptions* options);
// Reads and applies a TOML file.
Status ApplyTomlFile(const std::string& path, NodeOptions* options);

// Checks every setting and the settings together (ranges, power-of-two ring,
// quorum values within n_val, distinct ports).
Status ValidateOptions(const NodeOptions& options);

// The --help text (flags, defaults, the TOML layout).
std::string HelpText();

replication::NodeConfig ToNodeConfig(const NodeOptions& options);
PbcServerOptions ToPbcServerOptions(const NodeOptions& options);

}  // namespace causeway::node
