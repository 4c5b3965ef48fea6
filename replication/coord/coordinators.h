#pragma once
// The get and put coordinators: send a request to every replica in a
// preference list, count replies against the quorums, and answer the client
// as soon as the outcome is decided (success, or success no longer
// possible). Late replies still matter: once every replica has answered, a
// get repairs the replicas that returned stale or missing data (read repair)
// without delaying the client's reply.
//
// A replica that fails because its node fell silent (the failure detector
// suspects it, so the request to it failed at once) is replaced by the
// plan's fallback, as a sloppy quorum would have planned had the node been
// silent already; with no fallback free, the request is decided on the
// replicas left, which answers Unavailable at once when its quorum is out
// of reach. A get fails over only until it has answered; a write also
// after, so that the object still reaches as many replicas.
//
// Each call's `done` runs exactly once. Coordinators keep themselves alive
// until every replica has answered or the timeout fires.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/status.h"
#include "replication/coord/replicas.h"
#include "replication/env.h"
#include "replication/object/object.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::replication::coord {

// A replica to ask instead of `failed`, whose request failed: none when
// `failed`'s node is still live (it answered with an error, which another
// replica would not undo) or no live node is left that is not already
// among `taken`.
using FallbackFn = std::function<std::optional<Target>(
    const Target& failed, const std::vector<Target>& taken)>;

struct GetPlan {
  vnode::Key key;
  std::vector<Target> targets;
  uint32_t r = 1;
  uint32_t pr = 0;
  bool notfound_ok = true;
  bool basic_quorum = false;
  object::Resolution resolution = object::Resolution::kKeepSiblings;
  uint64_t timeout_ms = 10000;
  // Empty: a failed replica is not replaced.
  FallbackFn fallback;
};

struct GetOutcome {
  // ok: found (object live); NotFound: absent or deleted (object holds the
  // tombstone, if any); otherwise the error.
  Status status;
  object::Object object;
};

void StartGet(Env& env, Replicas& replicas, GetPlan plan,
              std::function<void(GetOutcome)> done);

struct PutPlan {
  vnode::Key key;
  // Every replica, including the coordinator itself at `coordinator_index`.
  std::vector<Target> targets;
  size_t coordinator_index = 0;
  uint32_t w = 1;
  uint32_t dw = 1;
  uint32_t pw = 0;
  object::Resolution resolution = object::Resolution::kKeepSiblings;
  uint64_t timeout_ms = 10000;
  // A data-type update: only this change goes to the other targets, not
  // the stored object.
  std::optional<object::Delta> delta;
  // Empty: a failed replica is not replaced.
  FallbackFn fallback;
};

// Replicates an object that the coordinator's own replica has already
// stored (counted as one acknowledgement) to the other targets.
void StartReplicate(Env& env, Replicas& replicas, PutPlan plan,
                    object::Object stored, std::function<void(Status)> done);

}  // namespace causeway::replication::coord
