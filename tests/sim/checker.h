#pragma once
// The randomized simulation's checker (see random_sim_test.cc): the model of
// every write attempt, the invariants checked at every storage write and
// every reply, and the final verdict on the history once the cluster has
// quiesced. It only watches: it draws nothing from the run's random stream
// and schedules no event, so checking more never changes the run.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "replication/ring/ring.h"
#include "tests/sim/sim.h"

namespace causeway::sim {

enum class Outcome {
  kPending,
  kAcked,
  kIndeterminate,  // failed or unanswered: it may or may not have happened
  kRejected,       // refused before anything was stored
};

// One write or delete a client issued.
struct Attempt {
  int client = 0;
  bool tombstone = false;
  bool blind = false;
  std::string value;  // unique per put; empty for deletes
  replication::causal::VersionVector context;
  Outcome outcome = Outcome::kPending;
  std::optional<replication::causal::Dot> dot;
  std::optional<replication::causal::HlcTimestamp> timestamp;
  bool stored = false;  // seen in some replica's storage
  std::string via;
  uint64_t issued_ms = 0;
  std::string status;
};

// Every write attempt on one key and what the cluster was seen to hold.
struct KeyModel {
  std::string bucket;
  std::string key;
  replication::object::Resolution resolution =
      replication::object::Resolution::kKeepSiblings;
  bool lww() const {
    return resolution == replication::object::Resolution::kLastWriteWins;
  }
  bool mult() const {
    return resolution == replication::object::Resolution::kKeepSiblings;
  }
  std::vector<Attempt> attempts;
  std::map<std::string, size_t> by_value;
  // Every dot seen anywhere and what it held ('+' value, or '-' tombstone).
  std::map<replication::causal::Dot, std::string> content_of_dot;
  // Each node's last stored clock for the key (erased when its copy goes).
  std::map<NodeName, replication::causal::VersionVector> replica_clock;
  // Each node's last stored tombstone, and the join of the tombstones
  // removed (reaped) since: a key gone from every replica was deleted by
  // them.
  std::map<NodeName, replication::object::Object> last_tombstone;
  std::optional<replication::object::Object> reaped;

  std::string Name() const { return bucket + "/" + key; }
};

std::string Describe(const replication::causal::Dot& d);
std::string Describe(const replication::object::Object& o);
// Each node's view of the ring, transfers, handoff and hints: what a
// violation about membership or handoff prints.
std::string DescribeCluster(World& world);

class Checker {
 public:
  Checker(World& world, bool verbose) : world_(world), verbose_(verbose) {}

  KeyModel& AddKey(const std::string& bucket, const std::string& key,
                   replication::object::Resolution resolution);
  KeyModel* Find(const std::string& bucket, const std::string& key);
  std::map<std::string, KeyModel>& keys() { return keys_; }

  // Records a write or delete about to be issued; returns its index in
  // k.attempts.
  size_t NewAttempt(KeyModel& k, Attempt a);

  // A broken invariant; `key` names the key it concerns ("" for none).
  void Violation(const std::string& key, const std::string& what);
  void Violation(const std::string& what) { Violation("", what); }
  // The first violations, for the report.
  std::vector<std::string> Reported() const;

  // Every write to any node's storage passes through here.
  void OnStorageWrite(const NodeName& node, std::string_view key,
                      const std::string* value);

  // Checks an object some replica stored or a client was given: one dot per
  // value and one value per dot, only written values, and no sibling that
  // a write in the object's own history overwrote.
  void CheckObject(KeyModel& k, const replication::object::Object& o,
                   const std::string& where, bool stored, bool count_writers);

  // The verdict once the cluster has quiesced, `members` agreeing on the
  // ring: every key's replicas hold the same object, no other node holds
  // what they lack, and no acknowledged write was lost.
  void CheckFinal(const std::vector<NodeName>& members);
  // Siblings of the final objects, summed over the keys (after CheckFinal).
  uint64_t final_siblings() const { return final_siblings_; }

  // Which node minted under each actor id (from the minting actor each
  // replica keeps in its stored copies), to attribute dots.
  std::map<replication::causal::ActorId, NodeName> node_of_actor;
  // A key ("bucket/key") whose every storage write is printed.
  std::string trace_key;

 private:
  void Trace(const std::string& line) const;
  void Log(const std::string& line) const {
    if (verbose_) Trace(line);
  }
  // Writes that may still stand as siblings of `o`: those not refused and
  // not overwritten by a write in `o`'s history.
  size_t ConcurrentWriters(const KeyModel& k,
                           const replication::object::Object& o) const;
  void CheckNoSurvivingOverwritten(
      KeyModel& k, const replication::object::Object& o,
      const std::string& where, const std::vector<const Attempt*>& of_sibling);
  void CheckFinalKey(const replication::ring::Ring& ring, KeyModel& k);
  // The copy the primaries agree on (the first primary's, "<none>" if it
  // has none); a violation if they differ.
  std::optional<std::string> AgreedCopy(
      KeyModel& k, const std::set<NodeName>& primaries,
      const std::map<NodeName, std::string>& copies);
  void CheckStrayCopies(KeyModel& k, const std::set<NodeName>& primaries,
                        const std::map<NodeName, std::string>& copies,
                        const replication::object::Object& final_object);
  void CheckNoAckedWriteLost(KeyModel& k, const replication::object::Object& f);

  World& world_;
  const bool verbose_;
  std::map<std::string, KeyModel> keys_;
  struct Broken {
    uint64_t at;
    std::string key;
    std::string what;
  };
  std::vector<Broken> violations_;
  uint64_t final_siblings_ = 0;
};

}  // namespace causeway::sim
