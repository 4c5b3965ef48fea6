// `security ...`: Riak's security model, with riak-admin security's verbs
// and syntax: enable, disable, status, add-user, alter-user, del-user,
// add-source, del-source, grant, revoke, print-users, print-sources,
// print-grants. Passwords come from a file or stdin, never from argv
// (which other users of the machine can read in the process list).

#include <CLI/CLI.hpp>
#include <fstream>
#include <istream>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "base/printable.h"
#include "client/cli_commands.h"
#include "client/format.h"
#include "proto/admin.pb.h"

namespace causeway::client::cli {
namespace {

// As the node's limit (node/password_hash.h).
constexpr size_t kMaxPasswordBytes = 1024;

struct SecurityArgs {
  std::string user;
  std::string users;  // comma-separated, or "all"
  std::string cidr;
  std::string method;
  std::string password_file;
  bool no_password = false;
  std::vector<std::string> words;  // grant/revoke: PERMS on SCOPE to USERS
};

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// One line: the first, without its line ending.
bool ReadPassword(std::istream& in, std::string* out, std::string* why) {
  std::string line;
  if (!std::getline(in, line) && line.empty()) {
    *why = "no password given";
    return false;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    *why = "the password is empty";
    return false;
  }
  if (line.size() > kMaxPasswordBytes) {
    *why =
        "passwords are at most " + std::to_string(kMaxPasswordBytes) + " bytes";
    return false;
  }
  *out = std::move(line);
  return true;
}

int Send(CliContext& ctx, const admin::CwSecurityChangeReq& req,
         const std::string& done) {
  Client* client;
  Status s = ctx.GetClient(&client);
  if (s.ok()) s = client->SecurityChange(req);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.out() << "{\"ok\":true}\n";
  } else {
    ctx.out() << done << "\n";
  }
  return kExitOk;
}

int RunUserChange(CliContext& ctx, const SecurityArgs& a,
                  const std::string& op) {
  admin::CwSecurityChangeReq req;
  req.set_op(op);
  req.add_users(a.user);
  if (op != "del-user" && !a.no_password) {
    std::string password, why;
    if (!a.password_file.empty()) {
      std::ifstream file(a.password_file, std::ios::binary);
      if (!file) {
        return ctx.UsageError("cannot read --password-file " + a.password_file);
      }
      if (!ReadPassword(file, &password, &why)) {
        return ctx.UsageError("--password-file " + a.password_file + ": " +
                              why);
      }
    } else if (ctx.io().in == nullptr ||
               !ReadPassword(*ctx.io().in, &password, &why)) {
      return ctx.UsageError(
          "give the password on the first line of stdin or in "
          "--password-file FILE, or use --no-password (" +
          (why.empty() ? std::string("no stdin") : why) + ")");
    }
    req.set_password(password);
  }
  const std::string what = op == "add-user"     ? "added"
                           : op == "alter-user" ? "changed"
                                                : "deleted";
  return Send(ctx, req, "user " + a.user + " " + what);
}

int RunSourceChange(CliContext& ctx, const SecurityArgs& a,
                    const std::string& op) {
  admin::CwSecurityChangeReq req;
  req.set_op(op);
  for (const auto& u : SplitCommas(a.users)) req.add_users(u);
  if (req.users().empty()) return ctx.UsageError("name USERS or all");
  req.set_cidr(a.cidr);
  if (op == "add-source") req.set_method(a.method);
  return Send(ctx, req,
              op == "add-source"
                  ? "source added: " + a.users + " " + a.cidr + " " + a.method
                  : "source deleted: " + a.users + " " + a.cidr);
}

// PERMS on any|TYPE [BUCKET] to|from USERS
int RunGrantChange(CliContext& ctx, const SecurityArgs& a,
                   const std::string& op) {
  const std::string link = op == "grant" ? "to" : "from";
  const std::string usage = "usage: security " + op +
                            " PERMS on any|TYPE [BUCKET] " + link +
                            " USERS (comma-separated lists)";
  const auto& w = a.words;
  if (w.size() < 5 || w.size() > 6 || w[1] != "on" || w[w.size() - 2] != link) {
    return ctx.UsageError(usage);
  }
  admin::CwSecurityChangeReq req;
  req.set_op(op);
  for (const auto& p : SplitCommas(w[0])) req.add_permissions(p);
  if (req.permissions().empty()) return ctx.UsageError(usage);
  std::string scope = "any";
  if (w.size() == 5 && w[2] == "any") {
    // the whole cluster
  } else if (w.size() == 5) {
    req.set_type(w[2]);
    scope = "type " + w[2];
  } else {
    if (w[2] == "any") {
      return ctx.UsageError("'any' takes no bucket; " + usage);
    }
    req.set_type(w[2]);
    req.set_bucket(w[3]);
    scope = "bucket " + w[2] + "/" + w[3];
  }
  for (const auto& u : SplitCommas(w.back())) req.add_users(u);
  if (req.users().empty()) return ctx.UsageError(usage);
  return Send(ctx, req,
              (op == "grant" ? "granted " : "revoked ") + w[0] + " on " +
                  scope + " " + link + " " + w.back());
}

int Fetch(CliContext& ctx, admin::CwSecurityStatusResp* status) {
  Client* client;
  Status s = ctx.GetClient(&client);
  if (s.ok()) s = client->SecurityStatus(status);
  if (!s.ok()) return ctx.Fail(s);
  return kExitOk;
}

std::string UserJson(const admin::CwSecurityUser& u) {
  return JsonObject()
      .Raw("name", JsonName(u.name()))
      .Bool("has_password", u.has_password())
      .str();
}
std::string SourceJson(const admin::CwSecuritySource& s) {
  return JsonObject()
      .Raw("user", JsonName(s.user()))
      .Raw("cidr", JsonName(s.cidr()))
      .Raw("method", JsonName(s.method()))
      .str();
}
std::string GrantJson(const admin::CwSecurityGrant& g) {
  JsonObject o;
  o.Raw("user", JsonName(g.user()));
  if (g.has_type()) {
    o.Raw("type", JsonName(g.type()));
  } else {
    o.Null("type");
  }
  if (g.has_bucket()) {
    o.Raw("bucket", JsonName(g.bucket()));
  } else {
    o.Null("bucket");
  }
  std::vector<std::string> perms;
  for (const auto& p : g.permissions()) perms.push_back(JsonName(p));
  o.Raw("permissions", JsonArray(perms));
  return o.str();
}

std::string Scope(const admin::CwSecurityGrant& g) {
  if (!g.has_type()) return "any";
  if (!g.has_bucket()) return Printable(g.type());
  return Printable(g.type()) + " " + Printable(g.bucket());
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + Printable(s);
  return out;
}

enum class View { kStatus, kUsers, kSources, kGrants };

int RunView(CliContext& ctx, const SecurityArgs& a, View view) {
  admin::CwSecurityStatusResp st;
  if (int rc = Fetch(ctx, &st); rc != kExitOk) return rc;
  std::vector<std::string> users, sources, grants;
  for (const auto& u : st.users()) users.push_back(UserJson(u));
  for (const auto& s : st.sources()) sources.push_back(SourceJson(s));
  std::vector<const admin::CwSecurityGrant*> shown;
  for (const auto& g : st.grants()) {
    // One user's grants include those to all, which apply to them too.
    if (!a.user.empty() && g.user() != a.user && g.user() != "all") continue;
    shown.push_back(&g);
    grants.push_back(GrantJson(g));
  }
  std::ostream& out = ctx.out();
  switch (view) {
    case View::kStatus:
      if (ctx.json()) {
        out << JsonObject()
                   .Bool("enabled", st.enabled())
                   .Raw("users", JsonArray(users))
                   .Raw("sources", JsonArray(sources))
                   .Raw("grants", JsonArray(grants))
                   .str()
            << "\n";
      } else {
        out << "security: " << (st.enabled() ? "enabled" : "disabled") << "\n"
            << "users: " << st.users_size()
            << ", sources: " << st.sources_size()
            << ", grants: " << st.grants_size() << "\n";
      }
      break;
    case View::kUsers:
      if (ctx.json()) {
        out << JsonObject().Raw("users", JsonArray(users)).str() << "\n";
      } else {
        for (const auto& u : st.users()) {
          out << Printable(u.name()) << "\t"
              << (u.has_password() ? "password" : "no password") << "\n";
        }
      }
      break;
    case View::kSources:
      if (ctx.json()) {
        out << JsonObject().Raw("sources", JsonArray(sources)).str() << "\n";
      } else {
        for (const auto& s : st.sources()) {
          out << Printable(s.user()) << "\t" << Printable(s.cidr()) << "\t"
              << Printable(s.method()) << "\n";
        }
      }
      break;
    case View::kGrants:
      if (ctx.json()) {
        out << JsonObject().Raw("grants", JsonArray(grants)).str() << "\n";
      } else {
        for (const auto* g : shown) {
          out << Printable(g->user()) << "\t" << Scope(*g) << "\t"
              << Join(g->permissions()) << "\n";
        }
      }
      break;
  }
  return kExitOk;
}

CLI::App* AddLeaf(CLI::App* group, CliContext& ctx, const std::string& name,
                  const std::string& help,
                  std::function<int(CliContext&, const SecurityArgs&)> run,
                  std::shared_ptr<SecurityArgs> args) {
  CLI::App* sub = group->add_subcommand(name, help);
  sub->callback([&ctx, args, run] {
    ctx.action = [&ctx, args, run] { return run(ctx, *args); };
  });
  return sub;
}

void AddPasswordOptions(CLI::App* sub, const std::shared_ptr<SecurityArgs>& a) {
  CLI::Option* file = sub->add_option(
      "--password-file", a->password_file,
      "read the password from the first line of FILE (default: stdin)");
  sub->add_flag("--no-password", a->no_password,
                "no password: the user logs in through trust or certificate "
                "sources only")
      ->excludes(file);
}

}  // namespace

void AddSecurityCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group = app.add_subcommand(
      "security",
      "Riak's security model: users, sources (who may log in from where, "
      "and how) and grants (permissions on any, a bucket type or a bucket)");
  group->require_subcommand(1);

  auto none = std::make_shared<SecurityArgs>();
  AddLeaf(
      group, ctx, "enable",
      "require TLS, authentication and grants on every client connection; "
      "refused until some user holds causeway.cluster_admin on any and has "
      "a source that lets them log in",
      [](CliContext& c, const SecurityArgs&) {
        admin::CwSecurityChangeReq req;
        req.set_op("enable");
        return Send(c, req, "security enabled");
      },
      none);
  AddLeaf(
      group, ctx, "disable", "turn security off cluster-wide",
      [](CliContext& c, const SecurityArgs&) {
        admin::CwSecurityChangeReq req;
        req.set_op("disable");
        return Send(c, req, "security disabled");
      },
      none);
  AddLeaf(
      group, ctx, "status",
      "whether security is enabled, and how many users, sources and grants; "
      "--json lists them all",
      [](CliContext& c, const SecurityArgs& a) {
        return RunView(c, a, View::kStatus);
      },
      none);

  for (const std::string op : {"add-user", "alter-user", "del-user"}) {
    auto args = std::make_shared<SecurityArgs>();
    const std::string help =
        op == "add-user" ? "add USER; the password is read from stdin or "
                           "--password-file (never from the command line)"
        : op == "alter-user"
            ? "give USER a new password (stdin or --password-file), or "
              "none (--no-password)"
            : "delete USER, with its sources and grants";
    CLI::App* sub = AddLeaf(
        group, ctx, op, help,
        [op](CliContext& c, const SecurityArgs& a) {
          return RunUserChange(c, a, op);
        },
        args);
    sub->add_option("user", args->user, "user name")->required();
    if (op != "del-user") AddPasswordOptions(sub, args);
  }

  for (const std::string op : {"add-source", "del-source"}) {
    auto args = std::make_shared<SecurityArgs>();
    CLI::App* sub = AddLeaf(
        group, ctx, op,
        op == "add-source"
            ? "let USERS (comma-separated, or all) log in from CIDR with "
              "METHOD: trust (no password), password, or certificate (TLS "
              "client certificate whose common name is the user)"
            : "remove the source of USERS on CIDR",
        [op](CliContext& c, const SecurityArgs& a) {
          return RunSourceChange(c, a, op);
        },
        args);
    sub->add_option("users", args->users, "USERS, comma-separated, or all")
        ->required();
    sub->add_option("cidr", args->cidr,
                    "network, e.g. 127.0.0.1/32, 10.0.0.0/8, ::1/128")
        ->required();
    if (op == "add-source") {
      sub->add_option("method", args->method, "trust, password or certificate")
          ->required()
          ->check(CLI::IsMember({"trust", "password", "certificate"}));
    }
  }

  for (const std::string op : {"grant", "revoke"}) {
    auto args = std::make_shared<SecurityArgs>();
    CLI::App* sub = AddLeaf(
        group, ctx, op,
        op == "grant"
            ? "grant PERMS on any|TYPE [BUCKET] to USERS: PERMS and USERS "
              "comma-separated (riak_kv.get, riak_kv.put, riak_kv.delete, "
              "riak_kv.index, riak_kv.list_keys, riak_kv.list_buckets, "
              "riak_core.get_bucket, riak_core.set_bucket, "
              "riak_core.get_bucket_type, riak_core.set_bucket_type, "
              "causeway.cluster_admin); USERS may be all"
            : "revoke PERMS on any|TYPE [BUCKET] from USERS",
        [op](CliContext& c, const SecurityArgs& a) {
          return RunGrantChange(c, a, op);
        },
        args);
    sub->add_option("words", args->words,
                    op == "grant" ? "PERMS on any|TYPE [BUCKET] to USERS"
                                  : "PERMS on any|TYPE [BUCKET] from USERS")
        ->required();
  }

  AddLeaf(
      group, ctx, "print-users",
      "one line per user: name and whether it has a password",
      [](CliContext& c, const SecurityArgs& a) {
        return RunView(c, a, View::kUsers);
      },
      none);
  AddLeaf(
      group, ctx, "print-sources", "one line per source: users, CIDR, method",
      [](CliContext& c, const SecurityArgs& a) {
        return RunView(c, a, View::kSources);
      },
      none);
  auto grants_args = std::make_shared<SecurityArgs>();
  CLI::App* grants = AddLeaf(
      group, ctx, "print-grants",
      "one line per grant: user, scope (any, TYPE, or TYPE BUCKET), "
      "permissions; with USER only the grants that apply to USER (its own "
      "and those to all)",
      [](CliContext& c, const SecurityArgs& a) {
        return RunView(c, a, View::kGrants);
      },
      grants_args);
  grants->add_option("user", grants_args->user, "user name");
}

}  // namespace causeway::client::cli
