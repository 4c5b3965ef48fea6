#pragma once
// AntiEntropy: replicas that find and repair their differences on their own.
//
// Every node, one exchange at a time, visits each partition it holds as a
// primary with each other live primary of it, in turn:
//   1. roots: equal roots end the exchange (the common case, 16 bytes);
//   2. branch hashes, then the segment hashes of the branches that differ;
//   3. the (key, version hash) lists of the segments that differ, read from
//      both sides' segment indexes;
//   4. repair: this node sends its object for each differing key (or
//      nothing), the peer merges it through the normal causal merge and
//      answers with its merged object where that differs from what it was
//      sent, which this node merges in turn. Both replicas then hold the
//      join of the two, so a repair never loses a write and re-running one
//      changes nothing.
// Work is bounded per exchange (segments compared, keys repaired, keys per
// message) and exchanges are spaced by a pause, so foreground requests keep
// their latency; what an exchange leaves over, the next one finds again.
//
// Trees that are being rebuilt (see tree.h) take no part: an exchange with
// such a replica ends early. Rebuilds run here too, a bounded step per tick.
//
// Tombstones (every sibling deleted) are reaped once they are older than
// tombstone_reap_delay_ms, after an exchange found two primaries' trees
// equal, and only if every primary of the key holds exactly the same
// tombstone and every other member holds that tombstone or no copy at all:
// this node asks every member first and removes its own copy and theirs
// only if all said yes. A replica holding a newer write keeps it; any node
// still holding the deleted value (a fallback, a node yet to clean up)
// blocks the reap, so it cannot hand the value back later.
//
// Deterministic: it reaches the world only through Env and Host, so the
// simulator runs it like the rest of the core.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "replication/aae/tree.h"
#include "replication/env.h"
#include "replication/messenger.h"
#include "replication/object/object.h"

namespace causeway::peer {
class Envelope;
class AaeRepairItem;
class AaeRepairReply;
class AaeKeyVersion;
}  // namespace causeway::peer

namespace causeway::replication::aae {

struct AaeTiming {
  bool enabled = true;
  // Pause between the end of one exchange and the start of the next.
  uint64_t exchange_interval_ms = 100;
  uint64_t rebuild_tick_ms = 10;
  // How often an idle node looks for a tree to rebuild.
  uint64_t rebuild_idle_ms = 1000;
  size_t rebuild_keys_per_tick = 1000;
  // Differing segments whose keys one exchange compares.
  size_t max_segments_per_exchange = 256;
  // Segments per key-list request.
  size_t segments_per_request = 64;
  // Keys one exchange repairs; the rest wait for the next exchange.
  size_t max_repairs_per_exchange = 2000;
  // Keys per repair message.
  size_t repair_batch = 100;
  uint64_t request_timeout_ms = 10000;
  // How old a tombstone must be before it may be reaped (Riak's
  // delete_mode default is 3 s).
  uint64_t tombstone_reap_delay_ms = 3000;
  // Tombstones one exchange considers for reaping.
  size_t max_reaps_per_exchange = 500;
};

// What AntiEntropy needs from the node around it.
class Host {
 public:
  using ReplyFn = Messenger::ReplyFn;
  virtual ~Host() = default;
  virtual std::string self() const = 0;
  // Partitions in the ring; requests naming others are refused.
  virtual uint32_t RingSize() = 0;
  // Partitions this node holds as a primary replica, in order.
  virtual std::vector<uint32_t> HeldPartitions() = 0;
  // The other primaries of `partition` that are up now.
  virtual std::vector<std::string> ExchangePeers(uint32_t partition) = 0;
  // Every member of the cluster, this node included, and whether all of
  // them are up with no ownership change pending (reaping asks every one:
  // a node that is no replica may still hold a copy, as a fallback or
  // before its cleanup).
  virtual std::vector<std::string> Members(bool* all_up) = 0;
  // Whether `node` is a primary for this key under its bucket's n_val (a
  // bucket with a small n_val lives on fewer nodes than the partition).
  virtual bool ShouldHold(const std::string& node, uint32_t partition,
                          const KeyVersion& key) = 0;
  virtual object::Resolution ResolutionOf(const std::string& type,
                                          const std::string& bucket) = 0;
  virtual Status Read(uint32_t partition, const KeyVersion& key,
                      object::Object* out) = 0;
  virtual Status Merge(uint32_t partition, const KeyVersion& key,
                       const object::Object& incoming,
                       object::Object* result) = 0;
  virtual Status Remove(uint32_t partition, const KeyVersion& key) = 0;
  virtual void Request(const std::string& to, peer::Envelope message,
                       uint64_t timeout_ms, ReplyFn on_reply) = 0;
};

struct PartitionAae {
  uint32_t partition = 0;
  bool ready = true;  // tree built
  uint64_t root = 0;  // the tree's root hash, when ready
  uint64_t exchanges = 0;
  uint64_t keys_repaired = 0;
  uint64_t tombstones_reaped = 0;
  uint64_t last_exchange_wall_ms = 0;  // 0: never
  std::string last_peer;
  std::string last_error;  // empty when the last exchange succeeded
  std::optional<RebuildProgress> rebuild;
};

struct AaeStatus {
  bool enabled = true;
  uint64_t now_wall_ms = 0;  // when this status was taken
  uint64_t exchanges = 0;    // finished (successfully) here
  uint64_t exchanges_failed = 0;
  uint64_t keys_repaired = 0;  // differing keys repaired by exchanges
  uint64_t tombstones_reaped = 0;
  uint64_t bytes_sent = 0;  // AAE messages sent, requests and replies
  uint64_t bytes_received = 0;
  uint64_t rebuilds_done = 0;
  uint32_t rebuilds_pending = 0;
  std::vector<PartitionAae> partitions;  // held now, or exchanged before

  // The root hash of `partition`'s tree; nullopt when the partition is not
  // listed or its tree is being rebuilt.
  std::optional<uint64_t> RootOf(uint32_t partition) const;
};

class AntiEntropy {
 public:
  AntiEntropy(Env& env, Trees& trees, Host& host, AaeTiming timing);
  ~AntiEntropy();
  AntiEntropy(const AntiEntropy&) = delete;
  AntiEntropy& operator=(const AntiEntropy&) = delete;

  // Starts rebuild ticks and, when enabled, exchanges.
  void Start();
  // The anti-entropy requests a peer sends during its exchanges (rows of
  // the Messenger's table).
  void ServeTree(const NodeName& from, const peer::Envelope& request,
                 Messenger::Respond respond);
  void ServeKeys(const NodeName& from, const peer::Envelope& request,
                 Messenger::Respond respond);
  void ServeRepair(const NodeName& from, const peer::Envelope& request,
                   Messenger::Respond respond);
  void ServeReap(const NodeName& from, const peer::Envelope& request,
                 Messenger::Respond respond);
  // Counts a message received (for bytes_received).
  void CountReceived(size_t bytes) { totals_.bytes_received += bytes; }
  AaeStatus status();
  // True while no exchange is running (tests wait on it).
  bool idle() const { return !running_; }

  // Runs one exchange of `partition` with `peer` now (tests, benchmarks);
  // `done` gets its outcome.
  void ExchangeNow(uint32_t partition, const std::string& peer,
                   std::function<void(Status)> done);

 private:
  class Exchange;
  void Tick();
  void RebuildTick();
  void Finished(uint32_t partition, const std::string& peer, Status s,
                uint64_t repaired, uint64_t reaped);
  void Send(const std::string& to, peer::Envelope message,
            Host::ReplyFn on_reply);
  // Answers `request` (about `partition`) with the reply body `serve` fills
  // in, counting the bytes both ways.
  template <typename ReplyBody>
  void Answer(const peer::Envelope& request, uint32_t partition,
              ReplyBody* (peer::Envelope::*reply_body)(),
              const Messenger::Respond& respond,
              const std::function<Status(ReplyBody*)>& serve);
  Status RepairOne(uint32_t partition, const peer::AaeRepairItem& item,
                   peer::AaeRepairReply* out);
  bool HoldsTombstone(uint32_t partition, const peer::AaeKeyVersion& kv,
                      bool remove);

  Env& env_;
  Trees& trees_;
  Host& host_;
  AaeTiming timing_;
  AaeStatus totals_;
  std::map<uint32_t, PartitionAae> partitions_;
  // The (partition, peer) pairs left in this round.
  std::vector<std::pair<uint32_t, std::string>> round_;
  bool running_ = false;
  std::shared_ptr<bool> alive_;
  friend class Exchange;
};

}  // namespace causeway::replication::aae
