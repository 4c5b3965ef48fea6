// `bucket get|set|reset BUCKET [NAME=VALUE...]` and
// `bucket-type get|set TYPE [NAME=VALUE...]`.

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "client/cli_commands.h"
#include "client/format.h"
#include "client/props.h"

namespace causeway::client::cli {
namespace {

struct BucketArgs {
  std::string name;  // bucket or bucket type
  std::vector<std::string> props;
};

std::string ValidNames() {
  std::string out;
  for (const std::string& name : BucketPropNames()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// Parses NAME=VALUE arguments; returns an exit status when they are wrong.
// A change needs at least one; a new type may have none (it starts from
// the type defaults).
std::optional<int> ParseProps(CliContext& ctx,
                              const std::vector<std::string>& args,
                              pbc::RpbBucketProps* props,
                              bool allow_none = false) {
  if (args.empty() && !allow_none) {
    return ctx.UsageError(
        "give at least one property as NAME=VALUE (valid "
        "names: " +
        ValidNames() + ")");
  }
  for (const std::string& arg : args) {
    Status s = ApplyBucketProp(arg, props);
    if (!s.ok()) return ctx.UsageError(s.message());
  }
  return std::nullopt;
}

void PrintProps(CliContext& ctx, const pbc::RpbBucketProps& props) {
  ctx.out() << (ctx.json() ? RenderBucketPropsJson(props) + "\n"
                           : RenderBucketPropsText(props));
}

void PrintOk(CliContext& ctx) {
  if (ctx.json()) ctx.out() << "{\"ok\":true}\n";
}

int RunBucketGet(CliContext& ctx, const BucketArgs& a) {
  Client* client;
  Status s = ctx.GetClient(&client);
  pbc::RpbBucketProps props;
  if (s.ok()) {
    pbc::RpbGetBucketReq req;
    req.set_bucket(a.name);
    req.set_type(ctx.type());
    s = client->GetBucket(req, &props);
  }
  if (!s.ok()) return ctx.Fail(s);
  PrintProps(ctx, props);
  return kExitOk;
}

int RunBucketSet(CliContext& ctx, const BucketArgs& a) {
  pbc::RpbSetBucketReq req;
  if (auto bad = ParseProps(ctx, a.props, req.mutable_props())) return *bad;
  req.set_bucket(a.name);
  req.set_type(ctx.type());
  Client* client;
  Status s = ctx.GetClient(&client);
  if (s.ok()) s = client->SetBucket(req);
  if (!s.ok()) return ctx.Fail(s);
  PrintOk(ctx);
  return kExitOk;
}

int RunBucketReset(CliContext& ctx, const BucketArgs& a) {
  pbc::RpbResetBucketReq req;
  req.set_bucket(a.name);
  req.set_type(ctx.type());
  Client* client;
  Status s = ctx.GetClient(&client);
  if (s.ok()) s = client->ResetBucket(req);
  if (!s.ok()) return ctx.Fail(s);
  PrintOk(ctx);
  return kExitOk;
}

int RunTypeGet(CliContext& ctx, const BucketArgs& a) {
  Client* client;
  Status s = ctx.GetClient(&client);
  pbc::RpbBucketProps props;
  if (s.ok()) {
    pbc::RpbGetBucketTypeReq req;
    req.set_type(a.name);
    s = client->GetBucketType(req, &props);
  }
  if (!s.ok()) return ctx.Fail(s);
  PrintProps(ctx, props);
  return kExitOk;
}

int RunTypeSet(CliContext& ctx, const BucketArgs& a) {
  pbc::RpbSetBucketTypeReq req;
  if (auto bad = ParseProps(ctx, a.props, req.mutable_props(),
                            /*allow_none=*/true)) {
    return *bad;
  }
  req.set_type(a.name);
  Client* client;
  Status s = ctx.GetClient(&client);
  if (s.ok()) s = client->SetBucketType(req);
  if (!s.ok()) return ctx.Fail(s);
  PrintOk(ctx);
  return kExitOk;
}

int RunTypeCreate(CliContext& ctx, const BucketArgs& a) {
  pbc::RpbSetBucketTypeReq req;
  if (auto bad = ParseProps(ctx, a.props, req.mutable_props(),
                            /*allow_none=*/true)) {
    return *bad;
  }
  req.set_type(a.name);
  Client* client;
  Status s = ctx.GetClient(&client);
  if (s.ok()) s = client->CreateBucketType(req);
  if (!s.ok()) return ctx.Fail(s);
  PrintOk(ctx);
  return kExitOk;
}

int RunTypeList(CliContext& ctx) {
  Client* client;
  Status s = ctx.GetClient(&client);
  admin::CwListBucketTypesResp resp;
  if (s.ok()) s = client->ListBucketTypes(&resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    std::string out = "[";
    for (const admin::CwBucketType& t : resp.types()) {
      if (out.size() > 1) out += ",";
      out += "{\"name\":" + JsonString(t.name()) +
             ",\"props\":" + RenderBucketPropsJson(t.props()) + "}";
    }
    ctx.out() << out << "]\n";
    return kExitOk;
  }
  for (const admin::CwBucketType& t : resp.types()) {
    const std::string datatype =
        t.props().has_datatype() ? " (" + t.props().datatype() + ")" : "";
    ctx.out() << t.name() << datatype << "\n";
  }
  return kExitOk;
}

// Adds one leaf like `bucket set NAME [props...]`.
void AddLeaf(CLI::App* group, CliContext& ctx, const std::string& name,
             const std::string& help, const std::string& what, bool with_props,
             int (*run)(CliContext&, const BucketArgs&)) {
  auto args = std::make_shared<BucketArgs>();
  CLI::App* sub = group->add_subcommand(name, help);
  sub->add_option(what, args->name, what)->required();
  if (with_props) {
    sub->add_option("props", args->props, "NAME=VALUE, names: " + ValidNames());
  }
  sub->callback([&ctx, args, run] {
    ctx.action = [&ctx, args, run] { return run(ctx, *args); };
  });
}

}  // namespace

void AddBucketCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group = app.add_subcommand(
      "bucket",
      "show or change a bucket's properties (--type selects the type)");
  group->require_subcommand(1);
  AddLeaf(group, ctx, "get", "show the bucket's properties", "bucket", false,
          RunBucketGet);
  AddLeaf(group, ctx, "set", "change properties, e.g. n_val=3 allow_mult=true",
          "bucket", true, RunBucketSet);
  AddLeaf(group, ctx, "reset", "return the bucket to its type's properties",
          "bucket", false, RunBucketReset);
}

void AddBucketTypeCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group = app.add_subcommand(
      "bucket-type", "create, list, show or change bucket types");
  group->require_subcommand(1);
  AddLeaf(group, ctx, "get", "show the bucket type's properties", "type", false,
          RunTypeGet);
  AddLeaf(group, ctx, "set",
          "change an existing type's properties, e.g. allow_mult=true", "type",
          true, RunTypeSet);
  AddLeaf(group, ctx, "create",
          "create a type, e.g. `create counters datatype=counter` (the "
          "datatype is fixed once created); with no properties it starts "
          "from the type defaults",
          "type", true, RunTypeCreate);
  CLI::App* list = group->add_subcommand("list", "list every bucket type");
  list->callback([&ctx] { ctx.action = [&ctx] { return RunTypeList(ctx); }; });
}

}  // namespace causeway::client::cli
