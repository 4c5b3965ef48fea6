#include "replication/cluster_view.h"

#include <algorithm>

namespace causeway::replication {

ClusterView MakeClusterView(const membership::Cluster& cluster,
                            const handoff::HandoffProgress& handoff) {
  const membership::RingState& st = cluster.state();
  ClusterView view;
  view.self = cluster.self();
  view.claimant = st.claimant();
  view.ring_version = st.version();
  view.ring_size = st.size();
  view.owners = st.owners();
  if (st.pending()) view.next_owners = st.next();
  view.transfers_done.assign(st.transfers_done().begin(),
                             st.transfers_done().end());
  const auto& next = st.pending() ? st.next() : st.owners();
  for (const auto& p : cluster.Peers()) {
    MemberView m;
    m.name = p.member.name;
    m.address = p.member.address;
    m.status = membership::ToString(p.member.status);
    m.up = p.up;
    m.last_heard_ms_ago = p.last_heard_ms_ago;
    m.partitions = static_cast<uint32_t>(
        std::count(st.owners().begin(), st.owners().end(), m.name));
    m.next_partitions =
        static_cast<uint32_t>(std::count(next.begin(), next.end(), m.name));
    view.members.push_back(std::move(m));
  }
  if (st.pending()) {
    for (uint32_t i = 0; i < st.size(); ++i) {
      view.pending_transfers += st.owners()[i] != st.next()[i];
    }
  }
  view.handoff = handoff;
  return view;
}

}  // namespace causeway::replication
