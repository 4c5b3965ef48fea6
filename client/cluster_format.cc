#include "client/cluster_format.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "client/format.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"

namespace causeway::client {
namespace {

// Where the per-partition next owners would be: admin.proto does not declare
// them yet (see NextOwners).
constexpr const char* kNextOwnersName = "next_owners";
constexpr int kNextOwnersNumber = 10;

bool MemberUp(const admin::CwMember& m) {
  // ClusterView's own default: a member is up unless the node says otherwise.
  return !m.has_up() || m.up();
}

struct Summary {
  int total = 0, up = 0, down = 0, joining = 0, leaving = 0, other = 0;
};

Summary Summarize(const admin::CwClusterStatusResp& status) {
  Summary s;
  for (const admin::CwMember* m : VisibleMembers(status)) {
    const std::string st = MemberDisplayStatus(*m);
    ++s.total;
    if (st == "up") {
      ++s.up;
    } else if (st == "down") {
      ++s.down;
    } else if (st == "joining") {
      ++s.joining;
    } else if (st == "leaving") {
      ++s.leaving;
    } else {
      ++s.other;
    }
  }
  return s;
}

std::string PadRight(const std::string& text, size_t width) {
  std::string out = text;
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// Left-aligned columns separated by two spaces; the last column is not
// padded, so lines carry no trailing blanks.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      line += i + 1 < row.size() ? PadRight(row[i], widths[i]) : row[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string NameOrNone(const std::string& bytes) {
  return bytes.empty() ? std::string("(none)") : Printable(bytes);
}

std::string JsonNameOrNull(bool present, const std::string& bytes) {
  return present ? JsonName(bytes) : std::string("null");
}

// Partitions per node now and after the pending change. With per-partition
// next owners the counts come from them; otherwise from each member's own
// next_partitions.
struct NodeCount {
  uint32_t partitions = 0;
  uint32_t next_partitions = 0;
};

std::map<std::string, NodeCount> CountPerNode(
    const admin::CwClusterStatusResp& status,
    const std::vector<std::string>& next_owners) {
  std::map<std::string, NodeCount> counts;
  for (const admin::CwMember* m : VisibleMembers(status)) counts[m->name()];
  for (const std::string& owner : status.owners()) {
    ++counts[owner].partitions;
  }
  if (!next_owners.empty()) {
    for (const std::string& owner : next_owners) {
      ++counts[owner].next_partitions;
    }
    return counts;
  }
  for (auto& [name, count] : counts) count.next_partitions = count.partitions;
  for (const admin::CwMember* m : VisibleMembers(status)) {
    if (m->has_next_partitions()) {
      counts[m->name()].next_partitions = m->next_partitions();
    }
  }
  return counts;
}

bool Pending(const admin::CwClusterStatusResp& status) {
  return status.pending_transfers() > 0;
}

std::string HandoffJson(const admin::CwHandoff& h) {
  return JsonObject()
      .Unsigned("hints_pending", h.hints_pending())
      .Unsigned("hints_delivered", h.hints_delivered())
      .Bool("transfer_running", h.transfer_running())
      .Number("transfer_partition", h.transfer_partition())
      .Unsigned("transfer_keys_scanned", h.transfer_keys_scanned())
      .Unsigned("transfer_keys_done", h.transfer_keys_done())
      .Bool("cleanup_running", h.cleanup_running())
      .Unsigned("cleanup_keys_done", h.cleanup_keys_done())
      .str();
}

// Omitted for a node that does not report it.
std::string ClockText(const admin::CwClock& c) {
  const std::string refused =
      std::to_string(c.refusals()) + " peer timestamps refused";
  const std::string bound =
      "max offset " + std::to_string(c.max_offset_ms()) + " ms";
  if (!c.suspect()) return "clock: ok, " + refused + " (" + bound + ")\n";
  return "clock: SUSPECT, reads beyond the " + bound + " from " +
         std::to_string(c.peers_beyond()) + " of " +
         std::to_string(c.peers_heard()) + " peers; " + refused + "\n";
}

std::string ClockJson(const admin::CwClock& c) {
  return JsonObject()
      .Unsigned("max_offset_ms", c.max_offset_ms())
      .Unsigned("refusals", c.refusals())
      .Unsigned("peers_heard", c.peers_heard())
      .Unsigned("peers_beyond", c.peers_beyond())
      .Bool("suspect", c.suspect())
      .str();
}

}  // namespace

std::string MemberDisplayStatus(const admin::CwMember& member) {
  const std::string& st = member.status();
  if (st == "removed") return "";
  if (st == "valid") return MemberUp(member) ? "up" : "down";
  if (st.empty()) return "unknown";
  return Printable(st);
}

std::vector<const admin::CwMember*> VisibleMembers(
    const admin::CwClusterStatusResp& status) {
  std::vector<const admin::CwMember*> out;
  for (const admin::CwMember& m : status.members()) {
    if (m.status() != "removed") out.push_back(&m);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const admin::CwMember* a, const admin::CwMember* b) {
                     return a->name() < b->name();
                   });
  return out;
}

// admin.proto carries the current owner of each partition but, so far, not
// the next one, which `cluster ring` shows. Until the field is declared it is
// read by name through reflection when the generated code knows it, else from
// the unknown fields under the number proposed for it, so the client works
// with a server that sends it either way. A list whose length differs from
// `owners` is ignored: it cannot be matched to partitions.
std::vector<std::string> NextOwners(const admin::CwClusterStatusResp& status) {
  std::vector<std::string> out;
  const google::protobuf::FieldDescriptor* field =
      status.GetDescriptor()->FindFieldByName(kNextOwnersName);
  if (field != nullptr && field->is_repeated() &&
      field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    const google::protobuf::Reflection* r = status.GetReflection();
    const int n = r->FieldSize(status, field);
    for (int i = 0; i < n; ++i) {
      out.push_back(r->GetRepeatedString(status, field, i));
    }
  } else if (field == nullptr) {
    const google::protobuf::UnknownFieldSet& unknown =
        status.GetReflection()->GetUnknownFields(status);
    for (int i = 0; i < unknown.field_count(); ++i) {
      const google::protobuf::UnknownField& f = unknown.field(i);
      if (f.number() == kNextOwnersNumber &&
          f.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
        out.push_back(f.length_delimited());
      }
    }
  }
  if (out.size() != static_cast<size_t>(status.owners_size())) out.clear();
  return out;
}

std::string RenderMembersText(const admin::CwClusterStatusResp& status) {
  std::vector<std::vector<std::string>> rows;
  for (const admin::CwMember* m : VisibleMembers(status)) {
    std::vector<std::string> row = {
        Printable(m->name()), MemberDisplayStatus(*m),
        std::to_string(m->partitions()),
        m->address().empty() ? std::string("-") : Printable(m->address())};
    if (m->has_next_partitions() && m->next_partitions() != m->partitions()) {
      row.push_back("(next " + std::to_string(m->next_partitions()) + ")");
    }
    rows.push_back(std::move(row));
  }
  return RenderTable(rows);
}

std::string RenderMembersJson(const admin::CwClusterStatusResp& status) {
  std::vector<std::string> members;
  for (const admin::CwMember* m : VisibleMembers(status)) {
    members.push_back(
        JsonObject()
            .Raw("name", JsonName(m->name()))
            .Raw("status", JsonName(MemberDisplayStatus(*m)))
            .Raw("address", JsonNameOrNull(m->has_address(), m->address()))
            .Number("partitions", m->partitions())
            .Number("next_partitions", m->has_next_partitions()
                                           ? m->next_partitions()
                                           : m->partitions())
            .Bool("up", MemberUp(*m))
            .Unsigned("last_heard_ms_ago", m->last_heard_ms_ago())
            .str());
  }
  return JsonObject().Raw("members", JsonArray(members)).str();
}

std::string RenderStatusText(const admin::CwClusterStatusResp& status) {
  const Summary s = Summarize(status);
  const admin::CwHandoff& h = status.handoff();
  std::string out;
  out += "node: " + NameOrNone(status.node()) + "\n";
  out += "claimant: " + NameOrNone(status.claimant()) + "\n";
  out += "ring_version: " + std::to_string(status.ring_version()) + "\n";
  out += "ring_size: " + std::to_string(status.ring_size()) + "\n";
  out += "members: " + std::to_string(s.total) + " (" + std::to_string(s.up) +
         " up, " + std::to_string(s.down) + " down, " +
         std::to_string(s.joining) + " joining, " + std::to_string(s.leaving) +
         " leaving";
  if (s.other > 0) out += ", " + std::to_string(s.other) + " other";
  out += ")\n";
  out +=
      "pending_transfers: " + std::to_string(status.pending_transfers()) + "\n";
  if (Pending(status) || status.transfers_done_size() > 0) {
    std::string done;
    for (const std::string& n : status.transfers_done()) {
      if (!done.empty()) done += ", ";
      done += Printable(n);
    }
    out += "transfers_done: " + (done.empty() ? std::string("(none)") : done) +
           "\n";
  }
  if (h.transfer_running()) {
    out += "transfer: running at partition " +
           std::to_string(h.transfer_partition()) + ", " +
           std::to_string(h.transfer_keys_scanned()) + " keys scanned, " +
           std::to_string(h.transfer_keys_done()) + " sent\n";
  } else {
    out += "transfer: idle\n";
  }
  if (h.cleanup_running()) {
    out += "cleanup: running, " + std::to_string(h.cleanup_keys_done()) +
           " keys removed\n";
  } else {
    out += "cleanup: idle\n";
  }
  out += "hints_pending: " + std::to_string(h.hints_pending()) + "\n";
  out += "hints_delivered: " + std::to_string(h.hints_delivered()) + "\n";
  if (status.has_clock()) out += ClockText(status.clock());
  return out;
}

std::string RenderStatusJson(const admin::CwClusterStatusResp& status) {
  const Summary s = Summarize(status);
  std::vector<std::string> done;
  for (const std::string& n : status.transfers_done()) {
    done.push_back(JsonName(n));
  }
  JsonObject members;
  members.Number("total", s.total)
      .Number("up", s.up)
      .Number("down", s.down)
      .Number("joining", s.joining)
      .Number("leaving", s.leaving);
  if (s.other > 0) members.Number("other", s.other);
  JsonObject out;
  out.Raw("node", JsonNameOrNull(status.has_node(), status.node()))
      .Raw("claimant",
           JsonNameOrNull(status.has_claimant() && !status.claimant().empty(),
                          status.claimant()))
      .Unsigned("ring_version", status.ring_version())
      .Number("ring_size", status.ring_size())
      .Raw("members", members.str())
      .Number("pending_transfers", status.pending_transfers())
      .Raw("transfers_done", JsonArray(done))
      .Raw("handoff", HandoffJson(status.handoff()));
  if (status.has_clock()) out.Raw("clock", ClockJson(status.clock()));
  return out.str();
}

std::string RenderRingText(const admin::CwClusterStatusResp& status) {
  const std::vector<std::string> next = NextOwners(status);
  const bool pending = Pending(status);
  const bool show_next = pending && !next.empty();
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"PARTITION", "OWNER"});
  if (show_next) rows.back().push_back("NEXT");
  for (int i = 0; i < status.owners_size(); ++i) {
    std::vector<std::string> row = {std::to_string(i),
                                    NameOrNone(status.owners(i))};
    if (show_next && next[i] != status.owners(i)) {
      row.push_back(NameOrNone(next[i]));
    }
    rows.push_back(std::move(row));
  }
  std::string out = RenderTable(rows);
  out += "\n";
  rows.clear();
  rows.push_back({"NODE", "PARTITIONS"});
  if (pending) rows.back().push_back("NEXT");
  for (const auto& [name, count] : CountPerNode(status, next)) {
    rows.push_back({NameOrNone(name), std::to_string(count.partitions)});
    if (pending) rows.back().push_back(std::to_string(count.next_partitions));
  }
  out += RenderTable(rows);
  return out;
}

std::string RenderRingJson(const admin::CwClusterStatusResp& status) {
  const std::vector<std::string> next = NextOwners(status);
  std::vector<std::string> partitions;
  for (int i = 0; i < status.owners_size(); ++i) {
    JsonObject p;
    p.Number("partition", i).Raw("owner", JsonName(status.owners(i)));
    if (!next.empty() && next[i] != status.owners(i)) {
      p.Raw("next_owner", JsonName(next[i]));
    } else {
      p.Null("next_owner");
    }
    partitions.push_back(p.str());
  }
  std::vector<std::string> nodes;
  for (const auto& [name, count] : CountPerNode(status, next)) {
    nodes.push_back(JsonObject()
                        .Raw("name", JsonName(name))
                        .Number("partitions", count.partitions)
                        .Number("next_partitions", count.next_partitions)
                        .str());
  }
  return JsonObject()
      .Unsigned("ring_version", status.ring_version())
      .Number("ring_size", status.ring_size())
      .Number("pending_transfers", status.pending_transfers())
      .Raw("partitions", JsonArray(partitions))
      .Raw("nodes", JsonArray(nodes))
      .str();
}

namespace {

// "12.3s ago", or "never"; the node's own clock is the reference, so the
// client's clock does not matter.
std::string Ago(uint64_t now_ms, uint64_t then_ms) {
  if (then_ms == 0) return "never";
  uint64_t ms = now_ms > then_ms ? now_ms - then_ms : 0;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1fs ago", static_cast<double>(ms) / 1000);
  return buf;
}

}  // namespace

std::string RenderAaeText(const admin::CwClusterStatusResp& status) {
  const admin::CwAae& a = status.aae();
  std::string out;
  out += "node: " + NameOrNone(status.node()) + "\n";
  if (!status.has_aae()) return out + "aae: (not reported by this node)\n";
  out += std::string("enabled: ") + (a.enabled() ? "true" : "false") + "\n";
  out += "exchanges: " + std::to_string(a.exchanges()) + " (" +
         std::to_string(a.exchanges_failed()) + " failed)\n";
  out += "keys_repaired: " + std::to_string(a.keys_repaired()) + "\n";
  out += "tombstones_reaped: " + std::to_string(a.tombstones_reaped()) + "\n";
  out += "bytes_sent: " + std::to_string(a.bytes_sent()) + "\n";
  out += "bytes_received: " + std::to_string(a.bytes_received()) + "\n";
  out += "tree_rebuilds: " + std::to_string(a.rebuilds_done()) + " done, " +
         std::to_string(a.rebuilds_pending()) + " pending\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"PARTITION", "TREE", "EXCHANGES", "REPAIRED", "REAPED",
                  "LAST_EXCHANGE", "PEER"});
  for (const admin::CwAaePartition& p : a.partitions()) {
    std::string tree = p.ready() ? "ready" : "rebuilding";
    if (!p.ready() && p.rebuild_is_sum()) {
      tree = "summing index (" + std::to_string(p.rebuild_keys_scanned()) +
             " keys)";
    } else if (!p.ready() && p.rebuild_phase() != 0) {
      tree += " (phase " + std::to_string(p.rebuild_phase()) + ", " +
              std::to_string(p.rebuild_keys_scanned()) + " keys)";
    }
    std::string last = Ago(a.now_ms(), p.last_exchange_ms());
    if (!p.last_error().empty()) {
      last += " [error: " + Printable(p.last_error()) + "]";
    }
    rows.push_back({std::to_string(p.partition()), tree,
                    std::to_string(p.exchanges()),
                    std::to_string(p.keys_repaired()),
                    std::to_string(p.tombstones_reaped()), last,
                    p.last_peer().empty() ? "-" : Printable(p.last_peer())});
  }
  return out + RenderTable(rows);
}

std::string RenderAaeJson(const admin::CwClusterStatusResp& status) {
  const admin::CwAae& a = status.aae();
  std::vector<std::string> partitions;
  for (const admin::CwAaePartition& p : a.partitions()) {
    JsonObject o;
    o.Number("partition", p.partition())
        .Bool("ready", p.ready())
        .Unsigned("root", p.root())
        .Unsigned("exchanges", p.exchanges())
        .Unsigned("keys_repaired", p.keys_repaired())
        .Unsigned("tombstones_reaped", p.tombstones_reaped());
    if (p.last_exchange_ms() == 0) {
      o.Null("last_exchange_ms").Null("last_exchange_ms_ago");
    } else {
      o.Unsigned("last_exchange_ms", p.last_exchange_ms())
          .Unsigned("last_exchange_ms_ago",
                    a.now_ms() > p.last_exchange_ms()
                        ? a.now_ms() - p.last_exchange_ms()
                        : 0);
    }
    o.Raw("last_peer", JsonNameOrNull(!p.last_peer().empty(), p.last_peer()))
        .Raw("last_error",
             JsonNameOrNull(!p.last_error().empty(), p.last_error()));
    if (p.rebuild_phase() == 0) {
      o.Null("rebuild");
    } else {
      o.Raw("rebuild", JsonObject()
                           .Number("phase", p.rebuild_phase())
                           .Unsigned("keys_scanned", p.rebuild_keys_scanned())
                           .Number("segments_done", p.rebuild_segments_done())
                           .Bool("sum_at_start", p.rebuild_is_sum())
                           .str());
    }
    partitions.push_back(o.str());
  }
  return JsonObject()
      .Raw("node", JsonNameOrNull(status.has_node(), status.node()))
      .Bool("enabled", a.enabled())
      .Unsigned("exchanges", a.exchanges())
      .Unsigned("exchanges_failed", a.exchanges_failed())
      .Unsigned("keys_repaired", a.keys_repaired())
      .Unsigned("tombstones_reaped", a.tombstones_reaped())
      .Unsigned("bytes_sent", a.bytes_sent())
      .Unsigned("bytes_received", a.bytes_received())
      .Unsigned("rebuilds_done", a.rebuilds_done())
      .Number("rebuilds_pending", a.rebuilds_pending())
      .Raw("partitions", JsonArray(partitions))
      .str();
}

}  // namespace causeway::client
