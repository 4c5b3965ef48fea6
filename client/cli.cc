#include "client/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <ostream>
#include <sstream>
#include <vector>

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

// The edit distance (insertions, deletions, substitutions, and swaps of
// neighbours, each 1) between `a` and `b`.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The subcommand of `app` nearest to `word`, if one is near enough to be
// what was meant: a few typos away, or `word` is the start of it.
std::optional<std::string> NearestCommand(const CLI::App& app,
                                          const std::string& word) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const CLI::App* sub : app.get_subcommands({})) {
    const std::string& name = sub->get_name();
    size_t distance = EditDistance(word, name);
    if (name.rfind(word, 0) == 0) distance = std::min<size_t>(distance, 1);
    const size_t limit = std::max<size_t>(2, name.size() / 3);
    if (distance <= limit && (!best || distance < best_distance)) {
      best = name;
      best_distance = distance;
    }
  }
  return best;
}

const CLI::App* FindCommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->check_name(name)) return sub;
  }
  return nullptr;
}

// Finds the first word of `args` (from `start`) that should name a
// subcommand of `app` but names none; options of `app` that take a value
// are skipped with it. Empty when every command word is known.
std::optional<std::string> UnknownCommand(const CLI::App& app,
                                          const std::vector<std::string>& args,
                                          size_t start, size_t* at) {
  for (size_t i = start; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") return std::nullopt;
    if (arg.size() > 1 && arg[0] == '-') {
      if (arg.find('=') != std::string::npos) continue;
      const CLI::Option* option = app.get_option_no_throw(arg);
      if (option != nullptr && option->get_type_size_max() > 0 &&
          option->get_expected_max() > 0) {
        ++i;
      }
      continue;
    }
    *at = i;
    if (FindCommand(app, arg) != nullptr) return std::nullopt;
    return arg;
  }
  return std::nullopt;
}

// A word where a command belongs that names none (`causeway gett`, or
// `causeway bucket gett`): says so with the nearest command, if any.
std::optional<std::string> CheckCommandWords(
    const CLI::App& app, const std::vector<std::string>& args) {
  size_t at = 0;
  const CLI::App* level = &app;
  std::string path;
  for (size_t start = 0; start < args.size();) {
    std::optional<std::string> unknown =
        UnknownCommand(*level, args, start, &at);
    if (unknown) {
      std::string message = "unknown command '" + path + *unknown + "'";
      if (auto near = NearestCommand(*level, *unknown)) {
        message += "; did you mean '" + path + *near + "'?";
      }
      return message + " (see causeway --help)";
    }
    if (at >= args.size()) break;
    const CLI::App* sub = FindCommand(*level, args[at]);
    // Only groups (commands whose words are all subcommands) go deeper.
    if (sub == nullptr || sub->get_subcommands({}).empty() ||
        !sub->get_options(
                [](const CLI::Option* o) { return o->get_positional(); })
             .empty()) {
      break;
    }
    path += args[at] + " ";
    level = sub;
    start = at + 1;
  }
  return std::nullopt;
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

int CliContext::Fail(const Status& s) { return Fail(s, s.message()); }

int CliContext::Fail(const Status& s, const std::string& what) {
  if (usage_problem_) {
    usage_problem_ = false;
    return UsageError(what);
  }
  ErrorKind kind = client_ ? client_->last_error().kind : ErrorKind::kNone;
  std::string message;
  int code = kExitFailure;
  if (s.IsNotFound()) {
    message = "not found: " + what;
    code = kExitNotFound;
  } else {
    switch (kind) {
      case ErrorKind::kUnreachable:
        message = what + " (is the node running? see cluster/up)";
        break;
      case ErrorKind::kTimeout:
        message = "timed out: " + what;
        break;
      case ErrorKind::kServer:
        message = "server error: " + what;
        break;
      case ErrorKind::kSecurity:
        message = "security: " + what;
        break;
      case ErrorKind::kProtocol:
      case ErrorKind::kNone:
        message = what;
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
                          .Raw("message", JsonName(what))
                          .str())
                 .str()
          << "\n";
  }
  return code;
}

bool CliContext::WriteMayHaveLanded(const Status& s) const {
  if (!client_ || s.ok()) return false;
  switch (client_->last_error().kind) {
    case ErrorKind::kTimeout:
      return true;
    case ErrorKind::kServer:
      return s.code() == Status::Code::kUnavailable ||
             s.code() == Status::Code::kTimeout;
    default:
      return false;
  }
}

std::string CliContext::WriteFailure(const Status& s,
                                     const std::string& what) const {
  if (!WriteMayHaveLanded(s)) return s.message();
  return s.message() + "; the " + what +
         " may have been applied on some replicas (a write that misses "
         "w, pw or dw is not undone): read the key before retrying";
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

  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  const bool asks_for_help =
      std::any_of(args.begin(), args.end(), [](const std::string& a) {
        return a == "--help" || a == "-h" || a == "--help-all" ||
               a == "--version";
      });
  if (!asks_for_help) {
    if (auto unknown = CheckCommandWords(app, args)) {
      return ctx.UsageError(*unknown);
    }
  }

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
