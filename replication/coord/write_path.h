#pragma once
// WritePath: a client write (put or delete) from request to quorum.
//
//   Put/Delete -> plan the replicas (Router) and resolve w, dw, pw
//     -> this node holds a replica: Coordinate here
//          1. check the request's preconditions against this replica
//          2. Apply the change to this replica (the one place a write's
//             content turns into stored state)
//          3. record the hints the plan calls for
//          4. replicate the stored object and count acknowledgements
//             (coordinators.h)
//     -> otherwise: Forward to a replica, which coordinates it (ServeForward)
//
// A forwarded write is coordinated where it lands even if that node's view
// of the ring disagrees, so a write is never passed around in circles, and a
// forward the network delivers twice is coordinated once.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "proto/peer.pb.h"
#include "replication/causal/clock_lease.h"
#include "replication/clock_guard.h"
#include "replication/coord/read_path.h"
#include "replication/coord/replica_access.h"
#include "replication/coord/route.h"
#include "replication/env.h"
#include "replication/messenger.h"
#include "replication/requests.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::replication::coord {

class WritePath {
 public:
  struct Options {
    bool always_sync = false;
    uint64_t timeout_ms = 10000;
  };

  // Every reference must outlive this object.
  WritePath(Env& env, const NodeName& self, const Router& router,
            ReadPath& reads, vnode::VnodeStore& store, ReplicaAccess& replicas,
            Messenger& messenger, causal::ClockLease& clock, ClockGuard& guard,
            Options options)
      : env_(env),
        self_(self),
        router_(router),
        reads_(reads),
        store_(store),
        replicas_(replicas),
        messenger_(messenger),
        clock_(clock),
        guard_(guard),
        options_(options) {}

  void Put(PutRequest request, std::function<void(PutResult)> done);
  // A data-type update: coordinated like a put, except that step 2 applies
  // the operation to this replica's state and only its delta is
  // replicated.
  void Update(UpdateRequest request, std::function<void(UpdateResult)> done);
  // A delete writes a tombstone with the caller's context; without one, it
  // reads first and deletes what the replicas hold now, as Riak does.
  void Delete(DeleteRequest request, std::function<void(DeleteResult)> done);

  // Writes another node forwarded here (rows of the Messenger's table).
  void ServeForward(const NodeName& from, const peer::Envelope& request,
                    Messenger::Respond respond);
  void ServeUpdateForward(const NodeName& from, const peer::Envelope& request,
                          Messenger::Respond respond);

 private:
  // Resolved replica counts of one write.
  struct Quorums {
    uint32_t w = 0, dw = 0, pw = 0;
  };
  using Done = std::function<void(PutResult)>;
  // A data-type update as coordinated: the stored object, from which a
  // client's answer (value, context) or a forwarder's is made.
  struct Updated {
    Status status;
    std::string key;
    object::Object stored;
  };
  using UpdateDone = std::function<void(Updated)>;

  void Write(PutRequest request, bool tombstone, Done done);
  void Coordinate(const Route& route, PutRequest request, bool tombstone,
                  Quorums quorums, Done done);
  void Forward(const Route& route, PutRequest request, bool tombstone,
               Quorums quorums, Done done);
  // Step 1: if_not_modified and if_none_match, against this replica.
  Status CheckPreconditions(const Route& route,
                            const PutRequest& request) const;
  // Step 2: the change itself, at this replica. A key/value write mints a
  // sibling here; `stored` is the replica's object afterwards.
  Status Apply(const Route& route, PutRequest& request, bool tombstone,
               object::Object* stored);
  // Step 3: hints for the down primaries this write stands in for.
  Status RecordHints(const Route& route);
  // Step 4: replicates `stored` (or, for a data-type update, `delta`) to
  // the other targets and answers once the quorums are decided.
  void Replicate(const Route& route, Quorums quorums, uint64_t timeout_ms,
                 object::Object stored, std::optional<object::Delta> delta,
                 std::function<void(Status)> done);

  // Resolves w, dw and pw for a write planned as `route`.
  static Status ResolveQuorums(const Route& route,
                               const std::optional<Quorum>& w,
                               const std::optional<Quorum>& dw,
                               const std::optional<Quorum>& pw, Quorums* q);
  // Plans a data-type update: the route, its type, and that `op` is one of
  // that type's operations.
  Status PlanUpdate(const UpdateRequest& request, Route* route,
                    crdt::TypeTag* tag) const;
  // The data-type update at this node (it holds a replica, or the update
  // was forwarded here).
  void CoordinateUpdate(const Route& route, crdt::TypeTag tag,
                        UpdateRequest request, Quorums quorums,
                        UpdateDone done);
  void ForwardUpdate(const Route& route, UpdateRequest request, Quorums quorums,
                     UpdateDone done);
  std::string GenerateKey();

  // Forwards received recently, by (sender, request id), with their
  // answers once known; bounded, oldest forgotten first.
  class SeenForwards {
   public:
    // True the first time; for a repeat false, with the first answer in
    // `*answer` when there is one yet.
    bool FirstSight(const NodeName& from, uint64_t id,
                    std::optional<peer::Envelope>* answer);
    void Answered(const NodeName& from, uint64_t id,
                  const peer::Envelope& answer);

   private:
    static constexpr size_t kCapacity = 8192;
    using Id = std::pair<NodeName, uint64_t>;
    std::map<Id, std::optional<peer::Envelope>> answers_;
    std::deque<Id> order_;
  };

  Env& env_;
  const NodeName& self_;
  const Router& router_;
  ReadPath& reads_;
  vnode::VnodeStore& store_;
  ReplicaAccess& replicas_;
  Messenger& messenger_;
  causal::ClockLease& clock_;
  ClockGuard& guard_;
  const Options options_;
  SeenForwards seen_forwards_;
  SeenForwards seen_update_forwards_;
};

}  // namespace causeway::replication::coord
