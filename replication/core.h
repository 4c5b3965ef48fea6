#pragma once
// NodeCore: the whole replication state machine of one node. It owns the
// ring view, the local vnodes, the coordinators and the bucket registry, and
// is driven only through this interface and Env, so the node process and the
// simulator run exactly the same code.
//
// All methods run on the node's single logic thread. Callbacks may be invoked
// before the method returns (a request served entirely by local replicas) or
// later (replies from peers); callers must handle both.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replication/aae/anti_entropy.h"
#include "replication/buckets/bucket_props.h"
#include "replication/env.h"
#include "replication/handoff/handoff.h"
#include "replication/membership/cluster.h"
#include "replication/network.h"
#include "replication/object/object.h"
#include "replication/vnode/object_cache.h"
#include "storage/engine.h"
#include "base/status.h"

namespace causeway::replication {

namespace buckets {
class BucketRegistry;
}
namespace ring {
class Ring;
}
namespace vnode {
class VnodeSet;
}
class AaeHost;

using buckets::BucketProps;
using buckets::BucketPropsPatch;
using buckets::Quorum;

inline constexpr const char* kDefaultType = "default";

struct ObjectId {
  std::string type = kDefaultType;
  std::string bucket;
  std::string key;
};

struct GetRequest {
  ObjectId id;
  std::optional<Quorum> r, pr;
  std::optional<bool> basic_quorum, notfound_ok;
  // Return metadata only (values left empty).
  bool head = false;
  // When set and the object's clock equals it, the reply says `unchanged`.
  std::optional<causal::VersionVector> if_modified;
};

struct GetResult {
  // ok (found), NotFound, or an error (e.g. Unavailable: r not met;
  // InvalidArgument: unknown bucket type, quorum above n_val). Get, Put and
  // Delete on a bucket type that does not exist fail with InvalidArgument.
  Status status;
  // Merged object; for a deleted key, the tombstone (its clock is the
  // `deletedvclock`).
  object::Object object;
  bool unchanged = false;
};

struct PutRequest {
  // An empty key asks the node to generate one (returned in PutResult::key).
  ObjectId id;
  // The causal context the client read (decoded `vclock`); empty for a blind
  // write.
  causal::VersionVector context;
  // Value and metadata; dot, timestamp and deleted are set by the node.
  object::Sibling content;
  std::optional<Quorum> w, dw, pw;
  bool return_body = false;
  bool return_head = false;
  // Fail with PreconditionFailed unless the stored clock equals `context`.
  bool if_not_modified = false;
  // Fail with PreconditionFailed if a live object exists.
  bool if_none_match = false;
};

struct PutResult {
  Status status;
  std::string key;        // the generated key when the request had none
  object::Object object;  // filled when return_body or return_head
};

struct DeleteRequest {
  ObjectId id;
  causal::VersionVector context;
  std::optional<Quorum> rw, r, w, pr, pw, dw;
};

struct DeleteResult {
  Status status;
};

struct PreflistEntry {
  uint32_t partition;
  NodeName node;
  bool primary;
};

// Streamed listing: called with batches, the last call has done=true (or a
// non-ok status, which also ends the stream).
using ListCallback = std::function<void(
    const Status& status, std::vector<std::string> items, bool done)>;

struct NodeConfig {
  NodeName name = "causeway@127.0.0.1";
  // HOST:PORT where peers reach this node; empty for a node that never
  // joins others (it still runs as a one-node cluster).
  std::string peer_address;
  // Peers of another cluster are ignored (the transport also refuses them).
  std::string cluster_name = "causeway";
  uint32_t ring_size = 64;         // partitions, a power of two
  BucketPropsPatch default_props;  // over Riak's defaults
  // Sync every object write regardless of dw (for paranoid operators).
  bool always_sync = false;
  // Recently used objects kept decoded in memory (vnode/object_cache.h).
  size_t object_cache_bytes = size_t{64} << 20;
  // Keys per page when listing a bucket, from this node's store or from
  // another node's: what a listing holds of one partition at a time.
  size_t list_page_keys = 1000;
  uint64_t request_timeout_ms = 10000;
  membership::ClusterTiming cluster_timing;
  handoff::HandoffTiming handoff_timing;
  aae::AaeTiming aae_timing;
};

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

class NodeCore {
 public:
  // `engine` must outlive the core. Open() reads persisted metadata (actor
  // id, HLC high-water mark, bucket properties) and must succeed before use.
  NodeCore(Env& env, storage::Engine& engine, NodeConfig config);
  ~NodeCore();
  NodeCore(const NodeCore&) = delete;
  NodeCore& operator=(const NodeCore&) = delete;

  Status Open();
  // Connects the core to its peers; before Start().
  void AttachNetwork(Network* network);
  // Starts background work: heartbeats, gossip, handoff. After Open().
  void Start();
  // Persists the HLC high-water mark; call before shutting down.
  void Close();

  // A message from peer `from` (authenticated by the transport). Malformed
  // messages are dropped.
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

  const NodeConfig& config() const { return config_; }

  void Get(GetRequest request, std::function<void(GetResult)> done);
  void Put(PutRequest request, std::function<void(PutResult)> done);
  void Delete(DeleteRequest request, std::function<void(DeleteResult)> done);
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
  Status SetBucketTypeProps(const std::string& type,
                            const BucketPropsPatch& patch);

  Status Preflist(const ObjectId& id, std::vector<PreflistEntry>* preflist);

  // Anti-entropy: exchanges, repairs, rebuilds, per partition.
  aae::AaeStatus AaeView() const;
  // The vnode store's object cache (vnode/object_cache.h).
  const vnode::ObjectCache& ObjectCacheView() const;
  // Runs one exchange of `partition` with `peer` now (tests).
  void ExchangeNow(uint32_t partition, const NodeName& peer,
                   std::function<void(Status)> done);
  // The root hash of this node's tree of `partition` (tests); nullopt
  // while it is being rebuilt.
  std::optional<uint64_t> AaeRoot(uint32_t partition) const;

 private:
  struct Impl;
  friend class AaeHost;
  std::unique_ptr<Impl> impl_;
  NodeConfig config_;
};

}  // namespace causeway::replication
