// Causeway's cluster administration on the client port (codes 200-205,
// proto/admin.proto): join, leave and status. Seeds and node names are
// checked here before the core sees them.

#include <string>
#include <string_view>

#include "base/host_port.h"
#include "base/printable.h"
#include "node/pbc_handler_internal.h"
#include "node/stats.h"
#include "proto/admin.pb.h"

namespace causeway::node::pbc_internal {
namespace {

// Node names and peer addresses are configured strings; anything longer or
// with spaces or control bytes cannot name a member and is refused before
// it reaches the core.
constexpr size_t kMaxNodeNameBytes = 255;
constexpr size_t kMaxAddressBytes = 255 + 1 + 5;

// HOST:PORT (base/host_port.h) within the length limit; the empty string
// when it is acceptable, else what is wrong with it.
std::string CheckPeerAddress(std::string_view a) {
  if (a.empty()) return "the seed address is empty";
  if (a.size() > kMaxAddressBytes) {
    return "the seed address is longer than " +
           std::to_string(kMaxAddressBytes) + " bytes";
  }
  if (HasSpaceOrControl(a)) {
    return "the seed address '" + Quote(a) +
           "' contains spaces or control characters";
  }
  HostPort parsed;
  if (Status s = ParseHostPort(a, &parsed); !s.ok()) {
    return "the seed address '" + Quote(a) +
           "' is not HOST:PORT with the seed's peer port (" + s.message() + ")";
  }
  return "";
}

void ToCwHandoff(const replication::handoff::HandoffProgress& p,
                 admin::CwHandoff* out) {
  out->set_hints_pending(p.hints_pending);
  out->set_hints_delivered(p.hints_delivered);
  out->set_transfer_running(p.transfer_running);
  out->set_transfer_keys_scanned(p.transfer_keys_scanned);
  out->set_transfer_keys_done(p.transfer_keys_done);
  out->set_transfer_partition(p.transfer_partition);
  out->set_cleanup_running(p.cleanup_running);
  out->set_cleanup_keys_done(p.cleanup_keys_done);
}

void ToCwAae(const replication::aae::AaeStatus& a, admin::CwAae* out) {
  out->set_enabled(a.enabled);
  out->set_now_ms(a.now_wall_ms);
  out->set_exchanges(a.exchanges);
  out->set_exchanges_failed(a.exchanges_failed);
  out->set_keys_repaired(a.keys_repaired);
  out->set_tombstones_reaped(a.tombstones_reaped);
  out->set_bytes_sent(a.bytes_sent);
  out->set_bytes_received(a.bytes_received);
  out->set_rebuilds_done(a.rebuilds_done);
  out->set_rebuilds_pending(a.rebuilds_pending);
  for (const auto& p : a.partitions) {
    admin::CwAaePartition* o = out->add_partitions();
    o->set_partition(p.partition);
    o->set_ready(p.ready);
    o->set_root(p.root);
    o->set_exchanges(p.exchanges);
    o->set_keys_repaired(p.keys_repaired);
    o->set_tombstones_reaped(p.tombstones_reaped);
    o->set_last_exchange_ms(p.last_exchange_wall_ms);
    o->set_last_peer(p.last_peer);
    o->set_last_error(p.last_error);
    if (p.rebuild) {
      o->set_rebuild_phase(static_cast<uint32_t>(p.rebuild->phase));
      o->set_rebuild_keys_scanned(p.rebuild->keys_scanned);
      o->set_rebuild_is_sum(p.rebuild->sum_at_start);
      o->set_rebuild_segments_done(p.rebuild->segments_done);
    }
  }
}

}  // namespace

void HandleClusterJoin(const StatePtr& st, const Frame& f,
                       const ResponderPtr& r) {
  admin::CwClusterJoinReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "CwClusterJoinReq");
  }
  std::string problem = CheckPeerAddress(req.seed());
  if (!problem.empty()) {
    return FinishBadRequest(*st, *r, "cluster join: " + problem);
  }
  ++st->stats.other_requests;
  std::string what = "joining the cluster of " + Quote(req.seed());
  st->core.Join(req.seed(), [r, what](Status status) {
    if (!status.ok()) return FinishWithStatus(*r, what, status);
    Finish(*r, EncodeFrame(pbc::Code::kClusterJoinResp));
  });
}

void HandleClusterLeave(const StatePtr& st, const Frame& f,
                        const ResponderPtr& r) {
  admin::CwClusterLeaveReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "CwClusterLeaveReq");
  }
  // Absent or empty: the answering node itself.
  const std::string& node = req.node();
  if (node.size() > kMaxNodeNameBytes || HasSpaceOrControl(node)) {
    return FinishBadRequest(
        *st, *r,
        "cluster leave: '" + Quote(node) +
            "' is not a node name (at most 255 bytes, no spaces or control "
            "characters)");
  }
  ++st->stats.other_requests;
  std::string what =
      node.empty()
          ? "leaving the cluster (node " + Quote(st->core.config().name) + ")"
          : "making node " + Quote(node) + " leave the cluster";
  st->core.Leave(node, [r, what](Status status) {
    if (!status.ok()) return FinishWithStatus(*r, what, status);
    Finish(*r, EncodeFrame(pbc::Code::kClusterLeaveResp));
  });
}

void ToCwClock(const replication::ClockStats& c, admin::CwClock* out) {
  out->set_max_offset_ms(c.max_offset_ms);
  out->set_refusals(c.refusals_total);
  out->set_peers_heard(c.peers_heard);
  out->set_peers_beyond(c.peers_beyond);
  out->set_suspect(c.suspect);
}

// The request has no body; anything sent is ignored, as for ping, so a
// later request message with optional fields stays compatible.
void HandleClusterStatus(const StatePtr& state, const Frame&,
                         const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  ++st.stats.other_requests;
  replication::ClusterView view = st.core.View();
  admin::CwClusterStatusResp resp;
  resp.set_node(view.self);
  resp.set_claimant(view.claimant);
  resp.set_ring_version(view.ring_version);
  resp.set_ring_size(view.ring_size);
  for (const auto& m : view.members) {
    admin::CwMember* out = resp.add_members();
    out->set_name(m.name);
    out->set_address(m.address);
    out->set_status(m.status);
    out->set_up(m.up);
    out->set_partitions(m.partitions);
    out->set_next_partitions(m.next_partitions);
    out->set_last_heard_ms_ago(m.last_heard_ms_ago);
  }
  resp.set_pending_transfers(view.pending_transfers);
  for (const auto& n : view.transfers_done) resp.add_transfers_done(n);
  for (const auto& n : view.owners) resp.add_owners(n);
  for (const auto& n : view.next_owners) resp.add_next_owners(n);
  ToCwHandoff(view.handoff, resp.mutable_handoff());
  ToCwAae(st.core.AaeView(), resp.mutable_aae());
  ToCwClock(st.core.ClockView(), resp.mutable_clock());
  Finish(r, EncodeFrame(pbc::Code::kClusterStatusResp, resp));
}

}  // namespace causeway::node::pbc_internal
