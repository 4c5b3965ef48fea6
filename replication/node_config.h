#pragma once
// NodeConfig: what a node's replication core is told at construction.

#include <cstddef>
#include <cstdint>
#include <string>

#include "replication/aae/anti_entropy.h"
#include "replication/buckets/bucket_props.h"
#include "replication/env.h"
#include "replication/handoff/handoff.h"
#include "replication/membership/cluster.h"
#include "replication/vnode/delta_applier.h"

namespace causeway::replication {

struct NodeConfig {
  NodeName name = "causeway@127.0.0.1";
  // HOST:PORT where peers reach this node; empty for a node that never
  // joins others (it still runs as a one-node cluster).
  std::string peer_address;
  // Peers of another cluster are ignored (the transport also refuses them).
  std::string cluster_name = "causeway";
  uint32_t ring_size = 64;                  // partitions, a power of two
  buckets::BucketPropsPatch default_props;  // over Riak's defaults
  // Sync every object write regardless of dw (for paranoid operators).
  bool always_sync = false;
  // Recently used objects kept decoded in memory (vnode/object_cache.h).
  size_t object_cache_bytes = size_t{64} << 20;
  // Keys per page when listing a bucket, from this node's store or from
  // another node's: what a listing holds of one partition at a time.
  size_t list_page_keys = 1000;
  // How long a coordinator waits for other replicas (and anti-entropy for
  // its peers).
  uint64_t request_timeout_ms = 10000;
  // Peer timestamps leading this node's physical clock by more than this
  // are refused (clock_guard.h): the bound on clock drift between nodes.
  uint64_t max_clock_offset_ms = 500;
  // The reorder buffer for other replicas' data-type deltas
  // (vnode/delta_applier.h).
  vnode::DeltaBufferLimits delta_buffer;
  membership::ClusterTiming cluster_timing;
  handoff::HandoffTiming handoff_timing;
  aae::AaeTiming aae_timing;
};

}  // namespace causeway::replication
