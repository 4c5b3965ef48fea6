#pragma once
// Turning a request's quorum settings into replica counts.
//
// Settings resolve against n_val (one=1, quorum=n_val/2+1, all=n_val); a
// number above n_val is refused, as Riak does. Each node keeps at most one
// replica of a key, so a cluster with fewer nodes than n_val has a shorter
// preference list; counts are then capped at the replicas that exist, which
// keeps a one-node cluster usable with Riak's default properties.

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "replication/buckets/bucket_props.h"

namespace causeway::replication::coord {

// Resolves `requested` (or the bucket's `fallback`) into a count of replicas
// out of `replicas` existing ones. InvalidArgument names the setting.
Status ResolveQuorum(const char* name,
                     const std::optional<buckets::Quorum>& requested,
                     buckets::Quorum fallback, uint32_t n_val,
                     uint32_t replicas, uint32_t* count);

}  // namespace causeway::replication::coord
