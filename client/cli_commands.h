#pragma once
// Internals of the `causeway` tool shared by the files that define its
// commands. Each command (or group, like `bucket get|set|reset`) is one
// Add*Command function that adds a CLI11 subcommand and, through the
// subcommand's callback, sets CliContext::action; the table in cli.cc lists
// them, so a new command is one function and one table line.
//
// CliContext owns the Client (made on first use from the global options)
// and is owned by RunCli; the options structs of each command are owned by
// the callbacks that capture them, which live as long as the CLI::App.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "client/cli.h"
#include "client/client.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace causeway::client::cli {

struct GlobalOptions {
  std::string node;  // empty: CAUSEWAY_NODE, then 127.0.0.1:8087
  std::string type = "default";
  bool json = false;
  double timeout_seconds = 0;  // 0: client defaults
  // Security (Riak's): TLS verified against `cacert`, an optional client
  // certificate, and a login whose password is read from a file, never
  // taken from the command line.
  std::string user;
  std::string password_file;
  std::string cacert;
  std::string cert;
  std::string key;
};

class CliContext {
 public:
  explicit CliContext(const CliIo& io) : io_(io) {}
  CliContext(const CliContext&) = delete;
  CliContext& operator=(const CliContext&) = delete;

  const CliIo& io() const { return io_; }
  std::ostream& out() const { return *io_.out; }
  std::ostream& err() const { return *io_.err; }
  GlobalOptions& global() { return global_; }
  bool json() const { return global_.json; }
  // The bucket type for object, bucket and data-type requests.
  const std::string& type() const { return global_.type; }
  // The server-side timeout (ms) to put in requests, when the user set one.
  std::optional<uint32_t> request_timeout_ms() const;

  // The connection, created on first use. Fails (usage) when --node or
  // CAUSEWAY_NODE does not parse, or the security options do not fit
  // together or the password file cannot be read.
  Status GetClient(Client** client);

  // Reports `s` (not ok) in words a user understands, on stderr, and with
  // --json also as {"ok":false,"error":{...}} on stdout. Returns the exit
  // status: 1 for NotFound, 2 for usage problems, else 3.
  int Fail(const Status& s);
  // Fail(s) with `what` in place of s.message(): the same kind and exit
  // status, in words that say which step of the command failed.
  int Fail(const Status& s, const std::string& what);
  // Whether a failed write may still have been applied: the request went
  // out and the node answered that it timed out or could not reach w (pw,
  // dw) replicas, or no answer came in time. Some replicas may have
  // stored it (Dynamo's writes are not atomic).
  bool WriteMayHaveLanded(const Status& s) const;
  // s.message(), plus when WriteMayHaveLanded(s) a sentence saying that
  // the `what` ("put", "delete", "update") may have been applied.
  std::string WriteFailure(const Status& s, const std::string& what) const;
  // A usage error found after parsing (bad property, bad --vclock).
  int UsageError(const std::string& message);

  // Set by the chosen subcommand's callback; run after parsing.
  std::function<int()> action;

 private:
  const CliIo& io_;
  GlobalOptions global_;
  std::unique_ptr<Client> client_;
  // Whether the last GetClient failure was a usage error (bad address,
  // security options).
  bool usage_problem_ = false;
};

// Adds --r/--pr/... style quorum options: value one|quorum|all|default|N,
// stored as the wire value in `target`.
CLI::Option* AddQuorumOption(CLI::App* app, const std::string& name,
                             std::optional<uint32_t>* target,
                             const std::string& help);

// Command groups; each adds its subcommands to `app`.
void AddPingCommand(CLI::App& app, CliContext& ctx);
void AddInfoCommand(CLI::App& app, CliContext& ctx);
void AddGetCommand(CLI::App& app, CliContext& ctx);
void AddPutCommand(CLI::App& app, CliContext& ctx);
void AddDeleteCommand(CLI::App& app, CliContext& ctx);
void AddListKeysCommand(CLI::App& app, CliContext& ctx);
void AddListBucketsCommand(CLI::App& app, CliContext& ctx);
void AddPreflistCommand(CLI::App& app, CliContext& ctx);
void AddBucketCommand(CLI::App& app, CliContext& ctx);
void AddBucketTypeCommand(CLI::App& app, CliContext& ctx);
void AddClusterCommand(CLI::App& app, CliContext& ctx);
// Riak's security model (cli_security_commands.cc): users, sources, grants.
void AddSecurityCommand(CLI::App& app, CliContext& ctx);
// Riak's data types (cli_dt_commands.cc): counter, set, gset, hll, map.
void AddCounterCommand(CLI::App& app, CliContext& ctx);
void AddSetCommand(CLI::App& app, CliContext& ctx);
void AddGSetCommand(CLI::App& app, CliContext& ctx);
void AddHllCommand(CLI::App& app, CliContext& ctx);
void AddMapCommand(CLI::App& app, CliContext& ctx);

}  // namespace causeway::client::cli
