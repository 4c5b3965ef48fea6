#pragma once
// NodeCore: the whole replication state machine of one node, behind one
// facade. It wires the components (membership, routing, the read and write
// paths, listing, handoff, anti-entropy) over one storage engine and one
// Env, dispatches peer messages through one table, and is driven only
// through this interface, so the node process and the simulator run
// exactly the same code.
//
// All methods run on the node's single logic thread. Callbacks may be
// invoked before the method returns (a request served entirely by local
// replicas) or later (replies from peers); callers must handle both.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replication/aae/anti_entropy.h"
#include "replication/clock_guard.h"
#include "replication/cluster_view.h"
#include "replication/env.h"
#include "replication/network.h"
#include "replication/node_config.h"
#include "replication/requests.h"
#include "replication/vnode/delta_applier.h"
#include "replication/vnode/object_cache.h"
#include "storage/engine.h"

namespace causeway::replication {

namespace security {
struct Change;
class SecurityRegistry;
}  // namespace security

class NodeCore {
 public:
  // `env` and `engine` must outlive the core. Open() must succeed before
  // any other call.
  NodeCore(Env& env, storage::Engine& engine, NodeConfig config);
  ~NodeCore();
  NodeCore(const NodeCore&) = delete;
  NodeCore& operator=(const NodeCore&) = delete;

  // Reads persisted metadata: the HLC mark, bucket properties, security
  // records, the ring, the anti-entropy trees' state.
  Status Open();
  // Connects the core to its peers; before Start().
  void AttachNetwork(Network* network);
  // Starts background work: heartbeats, gossip, handoff, anti-entropy.
  void Start();
  // Persists the HLC high-water mark; call before shutting down.
  void Close();

  // A message from peer `from` (authenticated by the transport). Malformed
  // messages and messages of another cluster are dropped.
  void OnPeerMessage(const NodeName& from, std::string_view payload);
  // The transport could not reach `node` (or `address`, for a peer known by
  // address only): requests waiting on it fail now rather than at their
  // timeout. Liveness is still the failure detector's call.
  void OnPeerUnreachable(const NodeName& node, const std::string& address,
                         const std::string& reason);

  // Joins the cluster of the node whose peer address is `seed_address`.
  void Join(const std::string& seed_address, std::function<void(Status)> done);
  // Makes `node` (this node when empty) leave: it hands its data off, is
  // removed, and then ReadyToExit() turns true on it.
  void Leave(const NodeName& node, std::function<void(Status)> done);
  ClusterView View() const;
  // This node was removed from its cluster and holds nothing others need.
  bool ReadyToExit() const;

  const NodeConfig& config() const;

  void Get(GetRequest request, std::function<void(GetResult)> done);
  void Put(PutRequest request, std::function<void(PutResult)> done);
  void Delete(DeleteRequest request, std::function<void(DeleteResult)> done);
  // Data types (bucket types with a datatype property).
  void Fetch(FetchRequest request, std::function<void(FetchResult)> done);
  void Update(UpdateRequest request, std::function<void(UpdateResult)> done);
  void ListBuckets(const std::string& type, ListCallback callback);
  void ListKeys(const std::string& type, const std::string& bucket,
                ListCallback callback);

  // InvalidArgument when the bucket type does not exist.
  Status GetBucketProps(const std::string& type, const std::string& bucket,
                        BucketProps* props);
  Status SetBucketProps(const std::string& type, const std::string& bucket,
                        const BucketPropsPatch& patch);
  Status ResetBucketProps(const std::string& type, const std::string& bucket);
  // NotFound for a type that was never created ("default" always exists).
  Status GetBucketTypeProps(const std::string& type, BucketProps* props);
  // Creates the type if needed (new types default to allow_mult=true, as in
  // Riak).
  // Creates a bucket type (see BucketRegistry::CreateType).
  Status CreateBucketType(const std::string& type,
                          const BucketPropsPatch& patch);
  std::vector<std::string> BucketTypeNames() const;
  Status SetBucketTypeProps(const std::string& type,
                            const BucketPropsPatch& patch);

  // Riak's security state (replication/security): applies one operator
  // change, stamped with this node's HLC, and gossips it to every peer at
  // once. The view is for the node layer's gate and status replies.
  Status ChangeSecurity(const security::Change& change);
  const security::SecurityRegistry& SecurityView() const;

  // The replicas a write would go to now.
  Status Preflist(const ObjectId& id, std::vector<PreflistEntry>* preflist);

  // Anti-entropy: exchanges, repairs, rebuilds, tree roots, per partition.
  aae::AaeStatus AaeView() const;
  // The vnode store's object cache (vnode/object_cache.h).
  const vnode::ObjectCache& ObjectCacheView() const;
  // The bound on clock drift: refusals, whether this clock is suspect.
  ClockStats ClockView() const;
  // Data-type deltas sent, applied, buffered (vnode/delta_applier.h).
  const vnode::DeltaStats& DeltaView() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace causeway::replication
