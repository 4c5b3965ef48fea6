// Riak's data types: `counter get|incr|decr`, `set get|add|remove`,
// `gset get|add`, `hll get|add` and `map get|update`, over DtFetchReq and
// DtUpdateReq (codes 80-83). The bucket type (--type) decides which data
// type a key holds; the grammar of map operations is in client/dt_format.h.
//
// Every update asks for the new value (return_body) and prints it in the
// form of the matching `get`. An update that removes something (a set
// element, a map field) fetches first and sends the fetched context with
// it, as Riak needs: a remove applies to what the context has seen.

#include <CLI/CLI.hpp>
#include <limits>
#include <memory>
#include <ostream>
#include <utility>

#include "base/printable.h"
#include "client/cli_commands.h"
#include "client/dt_format.h"
#include "client/format.h"

namespace causeway::client::cli {
namespace {

using DataType = pbc::DtFetchResp::DataType;

// The data type a command group works on.
struct DtKind {
  const char* name;    // "counter": the group and the datatype property
  const char* plural;  // "counters": also the example bucket type
  DataType type;
};

constexpr DtKind kCounter{"counter", "counters", pbc::DtFetchResp::COUNTER};
constexpr DtKind kSet{"set", "sets", pbc::DtFetchResp::SET};
constexpr DtKind kGSet{"gset", "gsets", pbc::DtFetchResp::GSET};
constexpr DtKind kHll{"hll", "hlls", pbc::DtFetchResp::HLL};
constexpr DtKind kMap{"map", "maps", pbc::DtFetchResp::MAP};

const char* PluralOf(DataType type) {
  for (const DtKind* k : {&kCounter, &kSet, &kGSet, &kHll, &kMap}) {
    if (k->type == type) return k->plural;
  }
  return "values of an unknown data type";
}

struct DtArgs {
  std::string bucket, key;
  std::vector<std::string> items;    // elements, or map operations
  std::vector<std::string> removes;  // map fields to remove
  int64_t by = 1;                    // counter step
};

using RunFn = int (*)(CliContext&, const DtKind&, const DtArgs&);

constexpr const char* kElementsHelp =
    "elements (after --, elements may start with '-')";

// --- output ------------------------------------------------------------------

// DtValue (a fetch) and DtUpdateResp (an update's new value) name their
// value fields alike.
template <typename Value>
void PrintValue(CliContext& ctx, const DtKind& kind, const Value& v) {
  const bool json = ctx.json();
  std::ostream& out = ctx.out();
  switch (kind.type) {
    case pbc::DtFetchResp::COUNTER:
      out << (json ? JsonObject().Number("value", v.counter_value()).str()
                   : std::to_string(v.counter_value()))
          << "\n";
      break;
    case pbc::DtFetchResp::SET:
      out << (json ? RenderElementsJson(v.set_value()) + "\n"
                   : RenderElementsText(v.set_value()));
      break;
    case pbc::DtFetchResp::GSET:
      out << (json ? RenderElementsJson(v.gset_value()) + "\n"
                   : RenderElementsText(v.gset_value()));
      break;
    case pbc::DtFetchResp::HLL:
      out << (json ? JsonObject().Unsigned("cardinality", v.hll_value()).str()
                   : std::to_string(v.hll_value()))
          << "\n";
      break;
    case pbc::DtFetchResp::MAP:
      out << (json ? RenderMapJson(v.map_value()) + "\n"
                   : RenderMapText(v.map_value()));
      break;
  }
}

int NotFound(CliContext& ctx, const DtArgs& a) {
  if (ctx.json()) ctx.out() << "{\"found\":false}\n";
  ctx.err() << "causeway: not found: " << a.bucket << "/" << a.key << "\n";
  return kExitNotFound;
}

// --- requests ----------------------------------------------------------------

// Fetches bucket/key (with its context); a reply without a value means not
// found. Fails when the bucket type holds another data type than `kind`.
Status Fetch(CliContext& ctx, Client* client, const DtKind& kind,
             const DtArgs& a, pbc::DtFetchResp* resp) {
  pbc::DtFetchReq req;
  req.set_bucket(a.bucket);
  req.set_key(a.key);
  req.set_type(ctx.type());
  if (auto ms = ctx.request_timeout_ms()) req.set_timeout(*ms);
  Status s = client->DtFetch(req, resp);
  if (!s.ok()) return s;
  if (resp->type() != kind.type) {
    return Status::InvalidArgument(
        "bucket type '" + Printable(ctx.type()) + "' holds " +
        PluralOf(resp->type()) + ", not " + kind.plural +
        " (`causeway bucket-type list` shows each type's datatype)");
  }
  return Status::Ok();
}

int RunGet(CliContext& ctx, const DtKind& kind, const DtArgs& a) {
  Client* client;
  Status s = ctx.GetClient(&client);
  pbc::DtFetchResp resp;
  if (s.ok()) s = Fetch(ctx, client, kind, a, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (!resp.has_value()) return NotFound(ctx, a);
  PrintValue(ctx, kind, resp.value());
  return kExitOk;
}

// Sends `op` to bucket/key and prints the new value; with `needs_context`
// fetches first and sends the context along (a key not found yet has none:
// the server then refuses a remove as not_present).
int RunUpdate(CliContext& ctx, const DtKind& kind, const DtArgs& a,
              pbc::DtOp op, bool needs_context) {
  Client* client;
  Status s = ctx.GetClient(&client);
  if (!s.ok()) return ctx.Fail(s);
  pbc::DtUpdateReq req;
  if (needs_context) {
    pbc::DtFetchResp fetched;
    s = Fetch(ctx, client, kind, a, &fetched);
    if (!s.ok()) {
      return ctx.Fail(s, std::string(kind.name) + " update of " + a.bucket +
                             "/" + a.key +
                             " failed while reading the current value "
                             "(nothing was written): " +
                             s.message());
    }
    if (fetched.has_context()) req.set_context(fetched.context());
  }
  req.set_bucket(a.bucket);
  req.set_key(a.key);
  req.set_type(ctx.type());
  *req.mutable_op() = std::move(op);
  req.set_return_body(true);
  if (auto ms = ctx.request_timeout_ms()) req.set_timeout(*ms);
  pbc::DtUpdateResp resp;
  s = client->DtUpdate(req, &resp);
  if (!s.ok()) return ctx.Fail(s, ctx.WriteFailure(s, "update"));
  PrintValue(ctx, kind, resp);
  return kExitOk;
}

int RunIncr(CliContext& ctx, const DtKind& kind, const DtArgs& a) {
  pbc::DtOp op;
  op.mutable_counter_op()->set_increment(a.by);
  return RunUpdate(ctx, kind, a, std::move(op), false);
}

int RunDecr(CliContext& ctx, const DtKind& kind, const DtArgs& a) {
  if (a.by == std::numeric_limits<int64_t>::min()) {
    return ctx.UsageError("decr: BY does not fit in 64 bits once negated");
  }
  pbc::DtOp op;
  op.mutable_counter_op()->set_increment(-a.by);
  return RunUpdate(ctx, kind, a, std::move(op), false);
}

void AddAll(const std::vector<std::string>& items, Elements* to) {
  for (const std::string& e : items) to->Add()->assign(e);
}

int RunSetAdd(CliContext& ctx, const DtKind& kind, const DtArgs& a) {
  pbc::DtOp op;
  AddAll(a.items, op.mutable_set_op()->mutable_adds());
  return RunUpdate(ctx, kind, a, std::move(op), false);
}

int RunSetRemove(CliContext& ctx, const DtKind& kind, const DtArgs& a) {
  pbc::DtOp op;
  AddAll(a.items, op.mutable_set_op()->mutable_removes());
  return RunUpdate(ctx, kind, a, std::move(op), true);
}

int RunGSetAdd(CliContext& ctx, const DtKind& kind, const DtArgs& a) {
  pbc::DtOp op;
  AddAll(a.items, op.mutable_gset_op()->mutable_adds());
  return RunUpdate(ctx, kind, a, std::move(op), false);
}

int RunHllAdd(CliContext& ctx, const DtKind& kind, const DtArgs& a) {
  pbc::DtOp op;
  AddAll(a.items, op.mutable_hll_op()->mutable_adds());
  return RunUpdate(ctx, kind, a, std::move(op), false);
}

int RunMapUpdate(CliContext& ctx, const DtKind& kind, const DtArgs& a) {
  pbc::DtOp op;
  if (a.items.empty() && a.removes.empty()) {
    return ctx.UsageError("map update: give at least one OP or --remove");
  }
  Status s = ParseMapOps(a.items, a.removes, op.mutable_map_op());
  if (!s.ok()) return ctx.UsageError(s.message());
  const bool removes = MapOpRemoves(op.map_op());
  return RunUpdate(ctx, kind, a, std::move(op), removes);
}

// --- command table -------------------------------------------------------

// Where the bucket type comes from, for every command's --help.
std::string TypeNote(const DtKind& kind) {
  return std::string("--type must name a bucket type created with datatype=") +
         kind.name + ", e.g. `causeway bucket-type create " + kind.plural +
         " datatype=" + kind.name + "`, then `causeway --type " + kind.plural +
         " " + kind.name + " ...`.";
}

// Adds `GROUP NAME BUCKET KEY` running `run`; returns the arguments for the
// caller to add more positionals to.
std::pair<CLI::App*, std::shared_ptr<DtArgs>> AddLeaf(
    CLI::App* group, CliContext& ctx, const DtKind& kind,
    const std::string& name, const std::string& help, RunFn run) {
  auto args = std::make_shared<DtArgs>();
  CLI::App* sub = group->add_subcommand(name, help);
  sub->add_option("bucket", args->bucket, "bucket")->required();
  sub->add_option("key", args->key, "key (not empty)")->required();
  sub->footer(TypeNote(kind));
  sub->callback([&ctx, &kind, args, run] {
    ctx.action = [&ctx, &kind, args, run] {
      // The node would make up a key the user never learns.
      if (args->key.empty()) return ctx.UsageError("the key is empty");
      return run(ctx, kind, *args);
    };
  });
  return {sub, args};
}

CLI::App* AddGroup(CLI::App& app, const DtKind& kind, const std::string& help) {
  CLI::App* group = app.add_subcommand(kind.name, help);
  group->require_subcommand(1);
  group->footer(TypeNote(kind));
  return group;
}

// `GROUP NAME BUCKET KEY ITEM...` with at least one ITEM, named
// `items_name` in the usage line.
void AddItemsLeaf(CLI::App* group, CliContext& ctx, const DtKind& kind,
                  const std::string& name, const std::string& help,
                  const std::string& items_name, const std::string& items_help,
                  RunFn run) {
  auto [sub, args] = AddLeaf(group, ctx, kind, name, help, run);
  sub->add_option(items_name, args->items, items_help)->required();
}

void AddCounterStep(CLI::App* group, CliContext& ctx, const std::string& name,
                    const std::string& help, RunFn run) {
  auto [sub, args] = AddLeaf(group, ctx, kCounter, name, help, run);
  sub->add_option("by", args->by, "the step, default 1 (may be negative)");
}

}  // namespace

void AddCounterCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group =
      AddGroup(app, kCounter, "counters (data type): get, incr, decr");
  AddLeaf(group, ctx, kCounter, "get",
          "print the counter's value; exit 1 if not found", RunGet);
  AddCounterStep(group, ctx, "incr", "add BY (default 1), print the new value",
                 RunIncr);
  AddCounterStep(group, ctx, "decr",
                 "subtract BY (default 1), print the new value", RunDecr);
}

void AddSetCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group =
      AddGroup(app, kSet, "sets (data type): get, add, remove elements");
  AddLeaf(group, ctx, kSet, "get",
          "print the elements, one per line; exit 1 if not found", RunGet);
  AddItemsLeaf(group, ctx, kSet, "add", "add elements, print the new set",
               "elements", kElementsHelp, RunSetAdd);
  AddItemsLeaf(group, ctx, kSet, "remove",
               "remove elements (fetches the set first for its context; an "
               "element not in it is refused as not_present), print the new "
               "set",
               "elements", kElementsHelp, RunSetRemove);
}

void AddGSetCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group = AddGroup(
      app, kGSet, "grow-only sets (data type): get, add elements (no removes)");
  AddLeaf(group, ctx, kGSet, "get",
          "print the elements, one per line; exit 1 if not found", RunGet);
  AddItemsLeaf(group, ctx, kGSet, "add", "add elements, print the new set",
               "elements", kElementsHelp, RunGSetAdd);
}

void AddHllCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group = AddGroup(
      app, kHll, "HyperLogLogs (data type): estimate distinct elements");
  AddLeaf(group, ctx, kHll, "get",
          "print the estimated number of distinct elements; exit 1 if not "
          "found",
          RunGet);
  AddItemsLeaf(group, ctx, kHll, "add", "add elements, print the new estimate",
               "elements", kElementsHelp, RunHllAdd);
}

void AddMapCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group =
      AddGroup(app, kMap, "maps (data type): get, update nested fields");
  AddLeaf(group, ctx, kMap, "get",
          "print one line per field, e.g. `profile.visits (counter) = 3`; "
          "exit 1 if not found",
          RunGet);
  auto [update, args] = AddLeaf(
      group, ctx, kMap, "update",
      "apply OPs (and --remove) in one update, print the new map; a removal "
      "fetches the map first for its context",
      RunMapUpdate);
  update->add_option(
      "ops", args->items,
      "OP: NAME_counter+=N, NAME_counter-=N, NAME_set+=ELEM, NAME_set-=ELEM, "
      "NAME_register=VALUE, NAME_flag=on|off; NAME_map.OP for a field of a "
      "nested map, e.g. address_map.city_register=Seoul (\\ escapes '.', "
      "'=' or '\\' in a name)");
  update
      ->add_option("--remove", args->removes,
                   "remove a field, named NAME_TYPE with its path, e.g. "
                   "tags_set or address_map.city_register (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);  // one field per --remove
}

}  // namespace causeway::client::cli
