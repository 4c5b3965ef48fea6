#pragma once
// A deterministic simulator for whole clusters: several NodeCores in one
// thread, over in-memory engines, on a virtual clock and a virtual network
// whose latency, loss, duplication and partitions come from one seed. The
// same seed replays the same run event for event.
//
// Crashing a node drops its core (and every timer and message addressed to
// that incarnation); its engine survives, as a disk would, so a restart
// resumes from what was stored.
//
// Tests may watch every write that reaches a node's storage (World::
// storage_observer), to check replica invariants at the moment they could
// break rather than only at the end, and may schedule events of their own
// (simulated clients, fault schedules) that no crash cancels (World::After).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "replication/core.h"
#include "storage/engine.h"

namespace causeway::sim {

using replication::NodeName;

struct NetworkFaults {
  double drop = 0;       // probability a message is lost
  double duplicate = 0;  // probability it is delivered twice
  uint64_t min_latency_ms = 1;
  uint64_t max_latency_ms = 5;
};

class World;

// Called for every write to a node's storage: `value` is the new bytes, or
// null when the key was deleted. Runs inside the write, before it returns.
using StorageObserver = std::function<void(
    const NodeName& node, std::string_view key, const std::string* value)>;

class SimNode {
 public:
  SimNode(World& world, NodeName name, replication::NodeConfig config);
  ~SimNode();

  const NodeName& name() const { return name_; }
  bool up() const { return core_ != nullptr; }
  replication::NodeCore& core() { return *core_; }
  storage::Engine& engine() { return *engine_; }
  uint64_t incarnation() const { return incarnation_; }
  int64_t skew_ms = 0;

  void Boot();   // Open + Start over the surviving engine
  void Crash();  // the process dies; storage survives
  void Wipe();   // crash and lose the disk

 private:
  friend class World;
  class NodeEnv;
  class NodeNetwork;
  class ObservedEngine;
  std::unique_ptr<storage::Engine> NewEngine();

  World& world_;
  NodeName name_;
  replication::NodeConfig config_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<NodeEnv> env_;
  std::unique_ptr<NodeNetwork> network_;
  std::unique_ptr<replication::NodeCore> core_;
  uint64_t incarnation_ = 0;
};

class World {
 public:
  explicit World(uint64_t seed) : rng_(seed) {}

  // Adds a node named `name` whose peer address is `name` itself.
  SimNode& AddNode(const NodeName& name, uint32_t ring_size = 16);
  SimNode& node(const NodeName& name) { return *nodes_.at(name); }
  std::vector<NodeName> names() const;

  uint64_t now() const { return now_; }
  uint64_t Random() { return rng_(); }
  double Uniform() { return std::uniform_real_distribution<>(0, 1)(rng_); }

  // Runs events until virtual time `until` (inclusive).
  void RunFor(uint64_t ms);
  // Runs until `pred` holds or `limit_ms` passes; true if it held.
  bool RunUntil(const std::function<bool()>& pred, uint64_t limit_ms);

  NetworkFaults faults;
  // Anti-entropy settings for nodes added from now on.
  replication::aae::AaeTiming aae_timing;
  // Keys per page of a listing, for nodes added from now on.
  size_t list_page_keys = replication::NodeConfig{}.list_page_keys;
  // The bound on clock drift, for nodes added from now on.
  uint64_t max_clock_offset_ms = replication::NodeConfig{}.max_clock_offset_ms;
  // How long coordinators wait for replicas, for nodes added from now on.
  uint64_t request_timeout_ms = 2000;
  // Nodes in different groups cannot exchange messages.
  void Partition(const std::vector<std::set<NodeName>>& groups);
  // Messages from `from` to `to` are lost, in that direction only, until
  // Unblock or Heal: an asymmetric partition.
  void Block(const NodeName& from, const NodeName& to) {
    blocked_.insert({from, to});
  }
  void Unblock(const NodeName& from, const NodeName& to) {
    blocked_.erase({from, to});
  }
  void Heal() {
    group_of_.clear();
    blocked_.clear();
  }

  // Schedules `fn` at now + delay; dropped if `owner` has crashed since.
  // An empty `owner` makes a world event, which always runs.
  void Schedule(uint64_t delay, const NodeName& owner, uint64_t incarnation,
                std::function<void()> fn);
  // A world event: simulated clients and fault schedules, outside any node.
  void After(uint64_t delay, std::function<void()> fn) {
    Schedule(delay, "", 0, std::move(fn));
  }
  void Deliver(const NodeName& from, const NodeName& to, std::string payload);

  uint64_t messages_sent = 0;
  uint64_t messages_dropped = 0;
  // A running digest of every event, to prove runs are reproducible.
  uint64_t trace_hash = 1469598103934665603ULL;
  // Folds an outcome the test saw (a reply, a stored object) into the trace.
  void Record(uint64_t v) { Mix(v); }
  void Record(std::string_view bytes);

  StorageObserver storage_observer;

 private:
  struct Event {
    uint64_t at;
    uint64_t seq;
    NodeName owner;
    uint64_t incarnation;
    std::function<void()> fn;
    bool operator>(const Event& o) const {
      return std::tie(at, seq) > std::tie(o.at, o.seq);
    }
  };
  void Mix(uint64_t v) {
    trace_hash ^= v;
    trace_hash *= 1099511628211ULL;
  }

  std::mt19937_64 rng_;
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::map<NodeName, std::unique_ptr<SimNode>> nodes_;
  bool Reachable(const NodeName& from, const NodeName& to) const;

  std::map<NodeName, int> group_of_;
  std::set<std::pair<NodeName, NodeName>> blocked_;
};

// Synchronous helpers for tests: issue a request and run the world until it
// is answered (or `limit_ms` passes, which yields a Timeout status).
replication::PutResult Put(World& w, SimNode& via, replication::PutRequest r,
                           uint64_t limit_ms = 30000);
replication::GetResult Get(World& w, SimNode& via, replication::GetRequest r,
                           uint64_t limit_ms = 30000);
Status Delete(World& w, SimNode& via, replication::DeleteRequest r,
              uint64_t limit_ms = 30000);
Status Join(World& w, SimNode& node, const NodeName& seed,
            uint64_t limit_ms = 30000);
std::vector<std::string> ListKeys(World& w, SimNode& via,
                                  const std::string& bucket,
                                  uint64_t limit_ms = 60000);

// Every node of `members` is up and reports the same ring, no transfer
// pending, and exactly these members valid and up (others may be removed).
bool Settled(World& w, const std::vector<NodeName>& members);
// Adds nodes n1..nN (rings of `ring_size` partitions), joins n2..nN through
// n1 and runs until they have settled. Returns their names; empty if a join
// failed or they did not settle within 60 s of virtual time.
std::vector<NodeName> FormCluster(World& w, int n, uint32_t ring_size);

}  // namespace causeway::sim
