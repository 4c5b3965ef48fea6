#include "client/cli.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <ostream>
#include <sstream>

#include "base/version.h"
#include "client/cli_commands.h"
#include "client/format.h"
#include "client/props.h"

namespace causeway::client::cli {
namespace {

constexpr const char* kNodeEnv = "CAUSEWAY_NODE";
constexpr const char* kDefaultNode = "127.0.0.1:8087";

// The command table: every top-level subcommand, in --help order.
using AddCommandFn = void (*)(CLI::App&, CliContext&);
constexpr AddCommandFn kCommands[] = {
    AddPingCommand,        AddInfoCommand,     AddGetCommand,
    AddPutCommand,         AddDeleteCommand,   AddListKeysCommand,
    AddListBucketsCommand, AddBucketCommand,   AddBucketTypeCommand,
    AddCounterCommand,     AddSetCommand,      AddGSetCommand,
    AddHllCommand,         AddMapCommand,      AddPreflistCommand,
    AddClusterCommand,     AddSecurityCommand,
};

const char* KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "error";
    case ErrorKind::kUnreachable:
      return "unreachable";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kServer:
      return "server";
    case ErrorKind::kProtocol:
      return "protocol";
    case ErrorKind::kSecurity:
      return "security";
  }
  return "error";
}

// The password is the file's first line, without its line ending.
Status ReadPasswordFile(const std::string& path, std::string* password) {
  std::ifstream in(path);
  if (!in) {
    return Status::InvalidArgument("cannot read the password file '" + path +
                                   "'");
  }
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  *password = std::move(line);
  return Status::Ok();
}

// Checks that the security options fit together and fills them in.
Status ApplySecurityOptions(const GlobalOptions& g, ClientOptions* options) {
  if (!g.password_file.empty() && g.user.empty()) {
    return Status::InvalidArgument("--password-file needs --user");
  }
  if (!g.user.empty() && g.cacert.empty()) {
    return Status::InvalidArgument(
        "--user needs --cacert: a login only goes over TLS, verified "
        "against the CA that signed the node's certificate");
  }
  if (g.cert.empty() != g.key.empty()) {
    return Status::InvalidArgument("--cert and --key go together");
  }
  if (!g.cert.empty() && g.cacert.empty()) {
    return Status::InvalidArgument("--cert needs --cacert (TLS)");
  }
  options->tls_ca_file = g.cacert;
  options->tls_cert_file = g.cert;
  options->tls_key_file = g.key;
  options->user = g.user;
  if (!g.password_file.empty()) {
    return ReadPasswordFile(g.password_file, &options->password);
  }
  return Status::Ok();
}

}  // namespace

std::optional<uint32_t> CliContext::request_timeout_ms() const {
  if (global_.timeout_seconds <= 0) return std::nullopt;
  double ms = std::ceil(global_.timeout_seconds * 1000.0);
  if (ms > static_cast<double>(UINT32_MAX)) ms = UINT32_MAX;
  return static_cast<uint32_t>(ms);
}

Status CliContext::GetClient(Client** client) {
  if (client_) {
    *client = client_.get();
    return Status::Ok();
  }
  std::string node = global_.node;
  if (node.empty() && io_.getenv) {
    if (auto env = io_.getenv(kNodeEnv); env && !env->empty()) node = *env;
  }
  if (node.empty()) node = kDefaultNode;
  ClientOptions options;
  Status s = ParseEndpoint(node, &options.host, &options.port);
  if (s.ok()) s = ApplySecurityOptions(global_, &options);
  if (!s.ok()) {
    usage_problem_ = true;
    return s;
  }
  if (auto ms = request_timeout_ms()) {
    const int capped =
        *ms > 24u * 3600 * 1000 ? 24 * 3600 * 1000 : static_cast<int>(*ms);
    options.connect_timeout_ms = capped;
    options.io_timeout_ms = capped;
  }
  client_ = std::make_unique<Client>(std::move(options));
  *client = client_.get();
  return Status::Ok();
}

int CliContext::UsageError(const std::string& message) {
  err() << "causeway: " << message << "\n";
  return kExitUsage;
}

int CliContext::Fail(const Status& s) {
  if (usage_problem_) {
    usage_problem_ = false;
    return UsageError(s.message());
  }
  ErrorKind kind = client_ ? client_->last_error().kind : ErrorKind::kNone;
  std::string message;
  int code = kExitFailure;
  if (s.IsNotFound()) {
    message = "not found: " + s.message();
    code = kExitNotFound;
  } else {
    switch (kind) {
      case ErrorKind::kUnreachable:
        message = s.message() + " (is the node running? see cluster/up)";
        break;
      case ErrorKind::kTimeout:
        message = "timed out: " + s.message();
        break;
      case ErrorKind::kServer:
        message = "server error: " + s.message();
        break;
      case ErrorKind::kSecurity:
        message = "security: " + s.message();
        break;
      case ErrorKind::kProtocol:
      case ErrorKind::kNone:
        message = s.message();
        break;
    }
  }
  err() << "causeway: " << message << "\n";
  if (json()) {
    out() << JsonObject()
                 .Bool("ok", false)
                 .Raw("error",
                      JsonObject()
                          .String("kind",
                                  s.IsNotFound() ? "not_found" : KindName(kind))
                          .Raw("message", JsonName(s.message()))
                          .str())
                 .str()
          << "\n";
  }
  return code;
}

CLI::Option* AddQuorumOption(CLI::App* app, const std::string& name,
                             std::optional<uint32_t>* target,
                             const std::string& help) {
  CLI::Validator quorum(
      [](std::string& value) -> std::string {
        if (ParseQuorum(value)) return "";
        return "'" + value +
               "' is not a quorum (one, quorum, all, default "
               "or a number)";
      },
      "QUORUM");
  return app
      ->add_option_function<std::string>(
          name,
          [target](const std::string& value) { *target = ParseQuorum(value); },
          help + " (one|quorum|all|default|N)")
      ->check(quorum);
}

int RunCli(int argc, const char* const* argv, const CliIo& io) {
  CliContext ctx(io);
  CLI::App app{
      "causeway: talk to a Causeway node over the client protocol.\n"
      "Exit status: 0 ok, 1 not found, 2 usage error, 3 server error or "
      "node unreachable.",
      "causeway"};
  // Global options may come before or after the command.
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("causeway ") + kVersion);
  GlobalOptions& g = ctx.global();
  app.add_option("--node", g.node,
                 "node address HOST:PORT (default: $CAUSEWAY_NODE, else " +
                     std::string(kDefaultNode) + ")");
  app.add_option("--type", g.type, "bucket type")->capture_default_str();
  app.add_flag("--json", g.json, "machine-readable JSON on stdout");
  app.add_option("--timeout", g.timeout_seconds,
                 "seconds to wait for the node (connect, each reply) and "
                 "server-side request timeout")
      ->check(CLI::PositiveNumber);
  // The connection's security flags may also come from the environment,
  // so scripts working on a secured cluster set them once.
  app.add_option("--cacert", g.cacert,
                 "CA certificate file (PEM): switch to TLS (RpbStartTls) "
                 "and verify the node's certificate against it")
      ->envname("CAUSEWAY_CACERT");
  app.add_option("--cert", g.cert,
                 "client certificate file (PEM) to present over TLS")
      ->envname("CAUSEWAY_CERT");
  app.add_option("--key", g.key, "private key file (PEM) of --cert")
      ->envname("CAUSEWAY_KEY");
  app.add_option("--user", g.user,
                 "log in as this user after TLS (needs --cacert), as a "
                 "node with security enabled requires")
      ->envname("CAUSEWAY_USER");
  app.add_option("--password-file", g.password_file,
                 "file whose first line is the password of --user (the "
                 "password is never taken on the command line)")
      ->envname("CAUSEWAY_PASSWORD_FILE");
  for (AddCommandFn add : kCommands) add(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, *io.out, *io.err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, *io.out, *io.err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, *io.out, *io.err);
  } catch (const CLI::ParseError& e) {
    app.exit(e, *io.out, *io.err);
    return kExitUsage;
  }
  if (!ctx.action) {
    // A group (like `bucket`) without its own subcommand.
    *io.err << app.help();
    return kExitUsage;
  }
  return ctx.action();
}

}  // namespace causeway::client::cli
