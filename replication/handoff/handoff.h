#pragma once
// Handoff: moving replicas to the nodes that should hold them.
//
// - Hinted handoff. A write meant for a down primary lands on a fallback
//   node, which stores the object like any replica plus a hint marker naming
//   the primary (storage key space 'h'). Once a second the fallback scans its
//   markers; for each primary that is up again it sends the object, and on
//   the acknowledgement drops the marker (and its copy, if the fallback
//   holds no replica of the key itself). Markers live in LevelDB, so hints
//   survive a restart.
// - Ownership transfer. While the ring has pending owners, every member
//   sends each object it holds to the nodes that gain the key under the new
//   owners, then reports itself done; the claimant flips ownership when all
//   are done. Writes during a transfer also go to the gaining nodes (see
//   NodeCore), so nothing written meanwhile is missed.
// - Cleanup. After a flip, every object this node no longer holds a replica
//   of is sent to the nodes that do and deleted once they all acknowledged.
//   A leaving node thereby hands off everything before it exits.
//
// All three are sweeps over the local store, a bounded number of keys per
// tick with a bounded window of unacknowledged sends, so foreground requests
// keep their latency. Every step is an idempotent merge, so a sweep that
// fails part-way simply runs again.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "replication/bucket_registry.h"
#include "replication/coord/replicas.h"
#include "replication/env.h"
#include "replication/membership/cluster.h"
#include "replication/vnode/vnode_store.h"
#include "storage/engine.h"

namespace causeway::replication::handoff {

// A hint marker's value: the primaries still owed the object, each with a
// two-byte length. Decoding stops at the first cut-off entry and ignores
// it. A name too long for its length is cut (node names are far shorter).
std::vector<NodeName> DecodePrimaries(std::string_view v);
std::string EncodePrimaries(const std::vector<NodeName>& names);

struct HandoffTiming {
  uint64_t hint_scan_ms = 1000;
  uint64_t sweep_tick_ms = 10;
  size_t keys_per_tick = 200;
  size_t window = 64;  // unacknowledged sends per sweep
  uint64_t retry_ms = 2000;
};

struct HandoffProgress {
  uint64_t hints_pending = 0;
  uint64_t hints_delivered = 0;
  bool transfer_running = false;
  uint64_t transfer_ring_version = 0;
  uint64_t transfer_keys_scanned = 0;
  uint64_t transfer_keys_done = 0;
  uint32_t transfer_partition = 0;  // where the scan is
  bool cleanup_running = false;
  uint64_t cleanup_keys_done = 0;
};

class Handoff {
 public:
  Handoff(Env& env, membership::Cluster& cluster, vnode::VnodeStore& store,
          storage::Engine& engine, BucketRegistry& registry,
          coord::Replicas& replicas, HandoffTiming timing);
  ~Handoff();

  void Start();
  // The ring changed: restart the transfer or start a cleanup.
  void OnRingChange();
  // Records that `key` was written here on behalf of `primary`.
  Status RecordHint(const NodeName& primary, const vnode::Key& key);
  HandoffProgress progress() const;
  // Nothing left to move: no sweep running or owed, no hints pending.
  bool idle() const;

  // The nodes that hold replicas of `key` under `ring`.
  std::vector<NodeName> Holders(const ring::Ring& ring,
                                const vnode::Key& key) const;

 private:
  class Sweep;
  // A hint marker as a scan read it: the primaries still owed `key`.
  struct Hint {
    std::string marker;
    vnode::Key key;
    std::vector<NodeName> primaries;
  };
  void ScheduleHintScan();
  void ScanHints();
  std::vector<Hint> ReadHints();
  bool RedirectHint(Hint* hint);
  // Sends the object to each primary owed it that is up.
  void SendHint(const Hint& hint, const object::Object& object);
  void HintDelivered(const std::string& marker, const vnode::Key& key,
                     const NodeName& primary, const std::string& sent);
  void StartTransfer();
  void StartCleanup();
  void Retry();

  Env& env_;
  membership::Cluster& cluster_;
  vnode::VnodeStore& store_;
  storage::Engine& engine_;
  BucketRegistry& registry_;
  coord::Replicas& replicas_;
  HandoffTiming timing_;
  std::shared_ptr<Sweep> transfer_;
  std::shared_ptr<Sweep> cleanup_;
  // Ring versions the last finished cleanup and the running one served. A
  // cleanup runs after every flip (each bumps the version), even one that
  // returns to owners cleaned for before: writes taken in between may
  // belong elsewhere. 0: none yet, so a fresh start cleans once.
  uint64_t cleaned_version_ = 0;
  uint64_t cleanup_version_ = 0;
  uint64_t transfer_version_ = 0;
  uint64_t hints_pending_ = 0;
  uint64_t hints_delivered_ = 0;
  bool hint_scan_busy_ = false;
  std::shared_ptr<bool> alive_;
};

}  // namespace causeway::replication::handoff
