// `cluster join SEED`, `cluster leave [NODE]` and
// `cluster members|status|ring`: cluster administration over the client
// port with Causeway's own messages (proto/admin.proto).

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "base/host_port.h"
#include "client/cli_commands.h"
#include "client/cluster_format.h"
#include "client/format.h"

namespace causeway::client::cli {
namespace {

// Peer ports of clusters made by cluster/up sit this far above client ports.
constexpr int kLocalPeerPortOffset = 200;

struct ClusterArgs {
  std::string seed;
  std::string node;  // empty: the node the tool talks to
};

void PrintOk(CliContext& ctx, const std::string& text) {
  if (ctx.json()) {
    ctx.out() << "{\"ok\":true}\n";
  } else {
    ctx.out() << text << "\n";
  }
}

int RunJoin(CliContext& ctx, const ClusterArgs& a) {
  // A seed names a peer port, which has no default: it must be given.
  HostPort seed;
  Status s = ParseHostPort(a.seed, &seed);
  if (!s.ok()) {
    return ctx.UsageError(
        "SEED must be a member's peer address HOST:PORT, got '" + a.seed +
        "' (" + s.message() + ")");
  }
  Client* client;
  s = ctx.GetClient(&client);
  if (s.ok()) s = client->ClusterJoin(a.seed);
  if (!s.ok()) return ctx.Fail(s);
  PrintOk(ctx, "join requested: " + client->endpoint() +
                   " joins the cluster of " + a.seed +
                   "; partitions move in the background (see `causeway "
                   "cluster status`)");
  return kExitOk;
}

int RunLeave(CliContext& ctx, const ClusterArgs& a) {
  Client* client;
  Status s = ctx.GetClient(&client);
  if (s.ok()) {
    s = client->ClusterLeave(a.node.empty() ? std::nullopt
                                            : std::optional(a.node));
  }
  if (!s.ok()) return ctx.Fail(s);
  const std::string who =
      a.node.empty() ? "the node at " + client->endpoint() : Printable(a.node);
  PrintOk(ctx, "leave requested: " + who +
                   " hands its partitions off, then exits (see `causeway "
                   "cluster status`)");
  return kExitOk;
}

using Render = std::string (*)(const admin::CwClusterStatusResp&);

int RunView(CliContext& ctx, Render text, Render json) {
  Client* client;
  Status s = ctx.GetClient(&client);
  admin::CwClusterStatusResp status;
  if (s.ok()) s = client->ClusterStatus(&status);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.out() << json(status) << "\n";
  } else {
    ctx.out() << text(status);
  }
  return kExitOk;
}

// A leaf whose action runs `run` with the parsed arguments.
CLI::App* AddLeaf(CLI::App* group, CliContext& ctx, const std::string& name,
                  const std::string& help,
                  std::function<int(CliContext&, const ClusterArgs&)> run,
                  std::shared_ptr<ClusterArgs> args) {
  CLI::App* sub = group->add_subcommand(name, help);
  sub->callback([&ctx, args, run] {
    ctx.action = [&ctx, args, run] { return run(ctx, *args); };
  });
  return sub;
}

}  // namespace

void AddClusterCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* group = app.add_subcommand(
      "cluster",
      "join or leave a cluster, show members, status, the ring and "
      "anti-entropy "
      "(--node picks the node that acts and answers)");
  group->require_subcommand(1);

  auto join_args = std::make_shared<ClusterArgs>();
  CLI::App* join = AddLeaf(
      group, ctx, "join",
      "make the node given by --node (the NEW node) join the cluster that "
      "SEED belongs to",
      RunJoin, join_args);
  join->add_option("seed", join_args->seed,
                   "a member's PEER address HOST:PORT (its peer port, not its "
                   "client port; in local clusters made by cluster/up the "
                   "peer port is the client port + " +
                       std::to_string(kLocalPeerPortOffset) + ")")
      ->required();

  auto leave_args = std::make_shared<ClusterArgs>();
  CLI::App* leave = AddLeaf(
      group, ctx, "leave",
      "make NODE leave the cluster; without NODE the node given by --node "
      "leaves. The node hands its partitions off, then exits",
      RunLeave, leave_args);
  leave->add_option("node", leave_args->node,
                    "member name, e.g. causeway2@127.0.0.1 (see `cluster "
                    "members`)");

  auto none = std::make_shared<ClusterArgs>();
  AddLeaf(
      group, ctx, "members",
      "one line per member: name, status (up, down, joining, leaving), "
      "partitions owned, peer address; --json for {\"members\":[...]}",
      [](CliContext& c, const ClusterArgs&) {
        return RunView(c, RenderMembersText, RenderMembersJson);
      },
      none);
  AddLeaf(
      group, ctx, "status",
      "ring version, claimant, members, pending_transfers (partitions still "
      "to move), transfer progress and hints pending",
      [](CliContext& c, const ClusterArgs&) {
        return RunView(c, RenderStatusText, RenderStatusJson);
      },
      none);
  AddLeaf(
      group, ctx, "ring",
      "partition -> owner (and next owner while a transfer is pending), "
      "and partitions per node",
      [](CliContext& c, const ClusterArgs&) {
        return RunView(c, RenderRingText, RenderRingJson);
      },
      none);
  AddLeaf(
      group, ctx, "aae",
      "anti-entropy on the node: exchanges done and failed, keys repaired, "
      "tombstones reaped, bytes sent and received, tree rebuilds, and per "
      "partition the time of the last exchange",
      [](CliContext& c, const ClusterArgs&) {
        return RunView(c, RenderAaeText, RenderAaeJson);
      },
      none);
}

}  // namespace causeway::client::cli
