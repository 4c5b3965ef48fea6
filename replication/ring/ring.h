#pragma once
// Ring: the consistent-hashing ring. The 64-bit hash space is cut into
// `size` equal partitions (a power of two); each partition has one owner
// node. A key's preference list starts at the partition its hash falls in and
// walks clockwise, taking the owner of each partition it meets, skipping
// nodes already taken, until it has n_val distinct nodes or has gone round.
//
// Each node keeps at most one replica of a key: with fewer nodes than n_val
// the list is simply shorter (see coord/quorum.h for how quorums adapt). The
// partition recorded with every replica is the key's own partition, so a
// partition is one contiguous storage range on every node that holds it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "replication/env.h"

namespace causeway::replication::ring {

// Stable across processes and machines: the ring must agree everywhere.
uint64_t HashKey(std::string_view type, std::string_view bucket,
                 std::string_view key);

struct PreflistMember {
  uint32_t partition;  // the partition through which the walk met the node
  NodeName node;
};

class Ring {
 public:
  // owners[i] owns partition i; owners.size() must be a power of two.
  explicit Ring(std::vector<NodeName> owners);
  static Ring SingleOwner(uint32_t size, const NodeName& node);

  uint32_t size() const { return static_cast<uint32_t>(owners_.size()); }
  uint32_t PartitionOf(uint64_t hash) const;
  // REQUIRES: partition < size().
  const NodeName& Owner(uint32_t partition) const {
    CAUSEWAY_ASSERT(partition < size());
    return owners_[partition];
  }
  // Distinct nodes, in order of first appearance from `partition`.
  // REQUIRES: partition < size().
  std::vector<PreflistMember> Preflist(uint32_t partition,
                                       uint32_t n_val) const;

 private:
  std::vector<NodeName> owners_;
  int shift_;  // 64 - log2(size)
};

}  // namespace causeway::replication::ring
