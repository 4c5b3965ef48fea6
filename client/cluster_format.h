#pragma once
// Rendering of a node's cluster view (admin::CwClusterStatusResp) for the
// `causeway cluster members|status|ring` commands, as text for people and as
// JSON for scripts. Pure functions of the reply, so every format is tested
// without a server.
//
// The reply comes from the network and is treated as untrusted: names are
// escaped before they reach a terminal, lists of the wrong length are
// ignored rather than indexed past, and missing fields render as absent.
//
// Member status as users see it: a `valid` member is `up` or `down` by the
// answering node's liveness judgement; `joining` and `leaving` are shown as
// such; `removed` members are left out everywhere.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/printable.h"
#include "proto/admin.pb.h"

namespace causeway::client {

// The member's status for display: "up", "down", "joining", "leaving", or
// the server's word when it is none of these. Empty for removed members.
std::string MemberDisplayStatus(const admin::CwMember& member);

// Members that are not removed, sorted by name, so output is stable whatever
// order the node sends them in.
std::vector<const admin::CwMember*> VisibleMembers(
    const admin::CwClusterStatusResp& status);

// The owner of each partition once pending transfers finish, in ring order;
// empty when the reply does not say (see the .cc about the field).
std::vector<std::string> NextOwners(const admin::CwClusterStatusResp& status);

// Bytes as shown on a terminal: printable ASCII and valid UTF-8 as is,
// control characters, the backslash and invalid bytes as \xNN
// (base/printable.h).
using causeway::Printable;

// `cluster members`: one line per member, columns aligned:
// "NAME STATUS PARTITIONS ADDRESS", plus "(next N)" when a pending change
// gives the member a different number of partitions.
std::string RenderMembersText(const admin::CwClusterStatusResp& status);
// {"members":[{"name":..,"status":..,"address":..,"partitions":N,
//  "next_partitions":N,"up":bool,"last_heard_ms_ago":N}]}
std::string RenderMembersJson(const admin::CwClusterStatusResp& status);

// `cluster status`: "key: value" lines (node, claimant, ring_version,
// ring_size, members summary, pending_transfers, transfers_done, transfer,
// cleanup, hints_pending, hints_delivered).
std::string RenderStatusText(const admin::CwClusterStatusResp& status);
// {"node":..,"claimant":..,"ring_version":N,"ring_size":N,
//  "members":{"total":N,"up":N,"down":N,"joining":N,"leaving":N},
//  "pending_transfers":N,"transfers_done":[..],"handoff":{...}}
std::string RenderStatusJson(const admin::CwClusterStatusResp& status);

// `cluster ring`: a PARTITION OWNER [NEXT] table, then NODE PARTITIONS
// [NEXT] counts per node.
std::string RenderRingText(const admin::CwClusterStatusResp& status);
// {"ring_version":N,"ring_size":N,"pending_transfers":N,
//  "partitions":[{"partition":I,"owner":..,"next_owner":..|null}],
//  "nodes":[{"name":..,"partitions":N,"next_partitions":N}]}
std::string RenderRingJson(const admin::CwClusterStatusResp& status);

// `cluster aae`: "key: value" lines (node, enabled, exchanges, keys_repaired,
// tombstones_reaped, bytes_sent, bytes_received, tree_rebuilds), then a
// PARTITION TREE EXCHANGES REPAIRED REAPED LAST_EXCHANGE PEER table.
std::string RenderAaeText(const admin::CwClusterStatusResp& status);
// {"node":..,"enabled":bool,"exchanges":N,"exchanges_failed":N,
//  "keys_repaired":N,"tombstones_reaped":N,"bytes_sent":N,
//  "bytes_received":N,"rebuilds_done":N,"rebuilds_pending":N,
//  "partitions":[{"partition":N,"ready":bool,"root":N,"exchanges":N,
//  "keys_repaired":N,"tombstones_reaped":N,"last_exchange_ms":N|null,
//  "last_exchange_ms_ago":N|null,"last_peer":..|null,"last_error":..|null,
//  "rebuild":null|{"phase":N,"keys_scanned":N,"segments_done":N}}]}
std::string RenderAaeJson(const admin::CwClusterStatusResp& status);

}  // namespace causeway::client
