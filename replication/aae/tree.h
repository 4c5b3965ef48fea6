#pragma once
// Trees: one anti-entropy hash tree per partition this node stores, kept
// equal to the partition's objects on every write and persisted next to
// them.
//
// Shape and why (a Tictac-style tree, as in Riak's later AAE, rather than a
// Merkle tree over sorted keys):
// - Every key falls in one of kSegments segments by a hash of its name. A
//   segment's hash is the XOR of H(type, bucket, key, version hash) over its
//   keys; a branch's hash is the XOR of its kSegmentsPerBranch segments;
//   the root is the XOR of the branches.
// - XOR is its own inverse and order-free, so an update is
//   `segment ^= H(old) ^ H(new)`: O(1) per write, and two replicas holding
//   the same objects have the same tree whatever order the writes arrived
//   in. A Merkle tree over sorted keys needs its path re-hashed on every
//   write and depends on key order, which makes incremental upkeep costlier.
// - The segment index, (partition, segment, key) -> version hash, is written
//   in the SAME engine batch as the object, so the keys of a divergent
//   segment are one short prefix scan, not a partition scan, and the old
//   version hash a write replaces is read from the index itself.
// - Segment hashes live in memory only. They are a pure function of the
//   index (the XOR of its entries), so at start each partition that has
//   index entries sums them again, a segment at a time in bounded steps,
//   and is not Ready (takes no part in exchanges) until it is done. Keeping
//   them in storage instead cost a third record in every write's batch,
//   a quarter of a cluster node's CPU under puts (bench/README.md), to
//   save that scan at start.
//
// The version hash is computed from the object's causal state (clock, dots,
// timestamps, tombstone flags, values and metadata), never from its encoded
// bytes, so equal objects hash equally even if the record format changes.
//
// Rebuild: a partition's index is rebuilt from its objects when the store
// was written before trees existed, or when an index entry fails to decode.
// A rebuild is resumable work done in bounded steps (RebuildStep), safe to
// interleave with writes: writes keep each key's index entry right, and the
// rebuild fixes whatever is wrong key by key, then segment by segment. The
// sum at start is the second half of a rebuild without the checks against
// the objects. A partition awaiting either is not Ready.
//
// Single-threaded, like the engine it wraps.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replication/object/object.h"
#include "storage/engine.h"

namespace causeway::replication::aae {

inline constexpr uint32_t kSegments = 1024;
inline constexpr uint32_t kSegmentsPerBranch = 32;
inline constexpr uint32_t kBranches = kSegments / kSegmentsPerBranch;

// The hash of an object's causal state; equal objects hash equally.
uint64_t VersionHash(const object::Object& object);
uint32_t SegmentOf(std::string_view type, std::string_view bucket,
                   std::string_view key);
// What a key with `version` contributes to its segment's hash.
uint64_t EntryHash(std::string_view type, std::string_view bucket,
                   std::string_view key, uint64_t version);

// What the segment index records for one object.
struct IndexEntry {
  uint64_t version = 0;
  uint64_t tombstone_ms = 0;  // newest sibling's wall ms; 0: not a tombstone
  bool operator==(const IndexEntry&) const = default;
};
IndexEntry EntryOf(const object::Object& object);
// An index entry's record: the version hash, then for a tombstone its wall
// ms, each eight bytes little-endian. Decode refuses any other length and a
// tombstone time of 0, leaving `e` alone.
std::string EncodeEntry(const IndexEntry& e);
bool DecodeEntry(std::string_view in, IndexEntry* e);

struct KeyVersion {
  std::string type;
  std::string bucket;
  std::string key;
  uint64_t version = 0;
  bool operator==(const KeyVersion&) const = default;
};

struct RebuildProgress {
  uint32_t partition = 0;
  // 1: objects checked against the index; 2: index checked against the
  // objects (only in a full rebuild) and segment hashes summed.
  int phase = 1;
  uint64_t keys_scanned = 0;
  uint32_t segments_done = 0;
  // The segment hashes summed from the index at start (no checks against
  // the objects), not a full rebuild.
  bool sum_at_start = false;
};

class Trees {
 public:
  explicit Trees(storage::Engine& engine) : engine_(engine) {}
  Trees(const Trees&) = delete;
  Trees& operator=(const Trees&) = delete;

  // Reads the format marker. A store written before trees existed gets
  // every partition holding objects marked for rebuild; otherwise every
  // partition with index entries has its segment hashes summed.
  Status Open();

  // A pending change to one segment, applied to the in-memory tree only
  // once its batch is written.
  struct Change {
    bool valid = false;
    uint32_t partition = 0;
    uint32_t segment = 0;
    uint64_t segment_hash = 0;
    // The key's entry once the batch is written (unset: no object).
    std::optional<IndexEntry> entry;
  };
  // What the caller knows the index holds for the key now (an object just
  // read from the engine); nullptr: read it from the index.
  using Known = std::optional<IndexEntry>;
  // Adds to `batch` the index and segment updates that keep the tree equal
  // to the objects once `key` holds `object` (null: no object). Write the
  // batch, then Commit(change). Tombstones are also listed for reaping.
  Status Stage(uint32_t partition, std::string_view type,
               std::string_view bucket, std::string_view key,
               const object::Object* object, storage::WriteBatch* batch,
               Change* change, const Known* known = nullptr);
  void Commit(const Change& change);

  // False while the partition awaits or runs a rebuild.
  bool Ready(uint32_t partition) const { return !rebuilding_.count(partition); }
  uint64_t Root(uint32_t partition);
  std::vector<uint64_t> Branches(uint32_t partition);
  // The kSegmentsPerBranch segment hashes of `branch`.
  std::vector<uint64_t> BranchSegments(uint32_t partition, uint32_t branch);
  uint64_t Segment(uint32_t partition, uint32_t segment);
  // The index entries of one segment, in key order.
  Status SegmentKeys(uint32_t partition, uint32_t segment,
                     std::vector<KeyVersion>* out);

  // Up to `max` tombstones of `partition` whose newest sibling was stamped
  // at or before `stamped_by_ms` (wall clock of the HLC), with their
  // version hashes.
  Status Tombstones(uint32_t partition, uint64_t stamped_by_ms, size_t max,
                    std::vector<KeyVersion>* out);

  // Marks a partition for a full rebuild (persisted, so a crash resumes
  // it).
  Status RequestRebuild(uint32_t partition);
  // Partitions awaiting or running a rebuild or the sum at start, smallest
  // first.
  const std::set<uint32_t>& rebuilding() const { return rebuilding_; }
  // Does up to `budget` keys of rebuild work on `partition`; `done` turns
  // true when its tree is Ready again.
  Status RebuildStep(uint32_t partition, size_t budget, bool* done);
  std::optional<RebuildProgress> progress(uint32_t partition) const;
  uint64_t rebuilds_done() const { return rebuilds_done_; }

 private:
  struct Rebuild {
    RebuildProgress progress;
    // Full rebuild: objects and index entries checked against each other.
    // Otherwise only the segment hashes are summed from the index.
    bool verify = true;
    std::string cursor;    // next object key (phase 1)
    uint32_t segment = 0;  // next segment (phase 2)
  };
  // The partition's segment hashes (all zero for a partition not seen yet).
  std::vector<uint64_t>& Load(uint32_t partition);
  void StartRebuild(uint32_t partition, bool verify);
  // Calls `visit` with each partition that has a key in [begin, end), in
  // order; `partition_of` reads a key's partition, `after` is where the
  // keys of the partitions after one begin.
  Status ForEachPartition(
      std::string begin, const std::string& end,
      const std::function<std::optional<uint32_t>(std::string_view)>&
          partition_of,
      const std::function<std::string(uint32_t)>& after,
      const std::function<Status(uint32_t)>& visit);
  // False while a full rebuild is pending: the index may not match the
  // objects yet.
  bool IndexTrusted(uint32_t partition) const;
  // Applies one key's correction outside a client write (rebuild).
  Status Fix(uint32_t partition, std::string_view type, std::string_view bucket,
             std::string_view key, const object::Object* object);
  Status RebuildObjects(uint32_t partition, Rebuild& r, size_t budget);
  Status RebuildSegment(uint32_t partition, uint32_t segment, bool verify,
                        size_t* visited);

  storage::Engine& engine_;
  std::map<uint32_t, std::vector<uint64_t>> segments_;
  std::set<uint32_t> rebuilding_;
  std::map<uint32_t, Rebuild> rebuilds_;
  uint64_t rebuilds_done_ = 0;
};

}  // namespace causeway::replication::aae
