#pragma once
// ReplicaAccess: the coord::Replicas of a node. A target that is this node
// is served from its own vnode store; any other by a peer request. It also
// answers those requests when other nodes' coordinators send them
// (ServeRead, ServeWrite, ServeDelta), so both ends of the replica protocol
// live here.

#include <cstdint>
#include <functional>

#include "base/status.h"
#include "replication/clock_guard.h"
#include "replication/coord/replicas.h"
#include "replication/env.h"
#include "replication/messenger.h"
#include "replication/vnode/delta_applier.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::peer {
class Key;
}

namespace causeway::replication::coord {

// A vnode key on the wire and back.
void ToProto(const vnode::Key& key, peer::Key* out);
vnode::Key FromProto(const peer::Key& key);

class ReplicaAccess : public Replicas {
 public:
  // Records that this node holds `key` on behalf of the down `primary`.
  using HintRecorder =
      std::function<Status(const NodeName& primary, const vnode::Key& key)>;

  // Every reference must outlive this object.
  ReplicaAccess(const NodeName& self, vnode::VnodeStore& store,
                vnode::DeltaApplier& deltas, Messenger& messenger,
                ClockGuard& guard, HintRecorder record_hint, bool always_sync,
                uint64_t timeout_ms)
      : self_(self),
        store_(store),
        deltas_(deltas),
        messenger_(messenger),
        guard_(guard),
        record_hint_(std::move(record_hint)),
        always_sync_(always_sync),
        timeout_ms_(timeout_ms) {}

  void Read(const Target& target, const vnode::Key& key,
            std::function<void(Status, object::Object)> done) override;
  void Write(const Target& target, const vnode::Key& key,
             const object::Object& object, object::Resolution resolution,
             std::function<void(Status)> done) override;
  void WriteDelta(const Target& target, const vnode::Key& key,
                  const object::Delta& delta,
                  std::function<void(Status)> done) override;

  // Merges `object` into this node's replica of `key`, with a hint when it
  // stands in for the down primary `hint_for` (empty: it does not).
  Status MergeLocal(const vnode::Key& key, const object::Object& object,
                    object::Resolution resolution, const NodeName& hint_for);

  // Records that this node holds `key` for the down `primary`.
  Status RecordHint(const NodeName& primary, const vnode::Key& key) {
    return record_hint_(primary, key);
  }

  // Peer requests (rows of the Messenger's table).
  void ServeRead(const NodeName& from, const peer::Envelope& request,
                 Messenger::Respond respond);
  void ServeWrite(const NodeName& from, const peer::Envelope& request,
                  Messenger::Respond respond);
  void ServeDelta(const NodeName& from, const peer::Envelope& request,
                  Messenger::Respond respond);

 private:
  const NodeName& self_;
  vnode::VnodeStore& store_;
  vnode::DeltaApplier& deltas_;
  Messenger& messenger_;
  ClockGuard& guard_;
  HintRecorder record_hint_;
  const bool always_sync_;
  const uint64_t timeout_ms_;
};

}  // namespace causeway::replication::coord
