#pragma once
// DeltaApplier: applies other copies' data-type deltas to this node's
// replicas, each origin's in order.
//
// A delta is the next of its origin (the copy that made it) when this
// replica holds exactly the origin's earlier changes; it is applied at
// once. A delta applied before is a no-op (its dot is in the clock:
// idempotence). An early one, with a change of its origin still missing,
// waits in a reorder buffer for the gap to fill, so a replica never holds
// (or shows a reader) a change without the changes its origin made before
// it. The buffer is bounded in deltas, bytes and time:
//   - a delta that does not fill its gap within the timeout makes the
//     replica fetch the full state from the node that sent it (which holds
//     every change of its own), merge it, and apply what is then in order;
//   - a delta that finds the buffer full is refused at once (its sender
//     counts a failed acknowledgement) and the full state is fetched, which
//     brings the change anyway;
//   - a failed fetch fails the deltas waiting on it; anti-entropy repairs
//     the replica later.
// Never out of order, never unbounded, never stuck.
//
// Deterministic: timers come from Env, fetches through the caller's
// function.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "replication/env.h"
#include "replication/object/object.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::replication::vnode {

struct DeltaBufferLimits {
  size_t max_deltas = 10000;
  size_t max_bytes = size_t{64} << 20;
  // How long an early delta waits for its gap before the full state is
  // fetched.
  uint64_t timeout_ms = 1000;
};

struct DeltaStats {
  uint64_t sent = 0;        // deltas this node sent to other replicas
  uint64_t sent_bytes = 0;  // their encoded states
  uint64_t applied = 0;     // in order, at once or from the buffer
  uint64_t duplicates = 0;  // applied before: no-ops
  uint64_t buffered = 0;    // waiting now
  uint64_t buffered_bytes = 0;
  uint64_t buffered_high_water = 0;  // most waiting at once
  uint64_t timeouts = 0;             // deltas whose gap did not fill in time
  uint64_t overflows = 0;            // refused: the buffer was full
  uint64_t full_state_fetches = 0;   // fallbacks to the full state
  uint64_t full_state_failures = 0;
};

class DeltaApplier {
 public:
  // Reads `key`'s replica on `node`.
  using FetchState =
      std::function<void(const NodeName& node, const Key& key,
                         std::function<void(Status, object::Object)> done)>;

  // `env` and `store` must outlive the applier.
  DeltaApplier(Env& env, VnodeStore& store, FetchState fetch,
               DeltaBufferLimits limits, bool sync);
  ~DeltaApplier();
  DeltaApplier(const DeltaApplier&) = delete;
  DeltaApplier& operator=(const DeltaApplier&) = delete;

  // Applies `delta`, which node `from` sent (`bytes`: its encoded size).
  // `done` runs once: ok when the change is in this replica's store
  // (applied now or before, once its gap filled, or brought by the full
  // state), else the error that stopped it. May run before Apply returns.
  void Apply(const NodeName& from, const Key& key, object::Delta delta,
             size_t bytes, std::function<void(Status)> done);

  // Counts a delta this node sent (for DeltaStats::sent).
  void CountSent(size_t bytes) {
    ++stats_.sent;
    stats_.sent_bytes += bytes;
  }
  const DeltaStats& stats() const { return stats_; }

 private:
  struct Waiting {
    object::Delta delta;
    size_t bytes = 0;
    uint64_t deadline_ms = 0;
    std::function<void(Status)> done;
  };
  // One origin's early deltas for one key, by sequence number.
  struct Slot {
    NodeName from;
    Key key;
    std::map<uint64_t, Waiting> waiting;
    bool fetching = false;
  };
  // (encoded key, origin actor)
  using SlotId = std::pair<std::string, causal::ActorId>;

  void Buffer(const SlotId& id, const NodeName& from, const Key& key,
              Waiting waiting);
  // Applies what is now in order in the slot, answers what turned out to be
  // applied already, and drops the slot once empty.
  void Drain(const SlotId& id);
  void Fetch(const SlotId& id);
  void Fetched(const SlotId& id, Status s, const object::Object& state);
  // Takes a waiting delta out of the buffer's totals.
  void Unbuffer(const Waiting& w);
  void ArmTimer();
  void Sweep();

  Env& env_;
  VnodeStore& store_;
  FetchState fetch_;
  const DeltaBufferLimits limits_;
  const bool sync_;
  std::map<SlotId, Slot> slots_;
  DeltaStats stats_;
  TimerId timer_ = 0;
  std::shared_ptr<bool> alive_;
};

}  // namespace causeway::replication::vnode
