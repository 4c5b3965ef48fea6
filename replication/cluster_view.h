#pragma once
// ClusterView: one node's picture of its cluster for operators (the CLI's
// `cluster` commands, /cluster): members, ring, pending transfers, handoff.

#include <cstdint>
#include <string>
#include <vector>

#include "replication/env.h"
#include "replication/handoff/handoff.h"
#include "replication/membership/cluster.h"

namespace causeway::replication {

struct MemberView {
  NodeName name;
  std::string address;
  std::string status;  // joining, valid, leaving, removed
  bool up = true;      // this node's judgement
  uint64_t last_heard_ms_ago = 0;
  uint32_t partitions = 0;       // owned now
  uint32_t next_partitions = 0;  // owned once the pending change is done
};

struct ClusterView {
  NodeName self;
  NodeName claimant;
  uint64_t ring_version = 0;
  uint32_t ring_size = 0;
  std::vector<MemberView> members;
  // Partitions whose owner changes once pending transfers finish.
  uint32_t pending_transfers = 0;
  std::vector<NodeName> transfers_done;
  std::vector<NodeName> owners;
  // Owners once the pending change is done; empty when none is pending.
  std::vector<NodeName> next_owners;
  handoff::HandoffProgress handoff;
};

ClusterView MakeClusterView(const membership::Cluster& cluster,
                            const handoff::HandoffProgress& handoff);

}  // namespace causeway::replication
