#pragma once
// Network fault injection for testing a running cluster (the nemesis). It
// exists in a node only when causewayd was started with
// --enable-fault-injection; a production node has none of it.
//
// FaultPolicy decides, from its own seeded RNG, what happens to each peer
// message: dropped, duplicated, delivered late (delay with jitter, or a
// random extra delay that reorders it), or blocked by a partition. Settings
// are cluster-wide or for one peer node; a per-node setting overrides the
// cluster-wide one field by field. Partitions are symmetric as long as every
// node is told the same groups, and each node also refuses what arrives
// from the other side, so one node that was told is enough to cut a link.
// The policy also records the clock skew in force; the node applies it to
// its Env's wall clock.
//
// FaultyNetwork sits between the core and the peer transport: the core
// sends through it, and it forwards (now, later, twice or never) to the
// real transport. Delivery goes through FaultPolicy::AllowDelivery.
//
// Threading: like the rest of the node, everything here is used only on the
// logic thread. Ownership: FaultyNetwork borrows the policy, the inner
// network and the Env; all three must outlive it. Messages it holds back sit
// in Env timers; destroying the FaultyNetwork turns those into no-ops.
//
// AddFaultRoutes installs the admin endpoints (see the function).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replication/env.h"
#include "replication/network.h"

namespace causeway::node {

class AdminHttp;

// Per-link settings; an absent field falls back to the cluster-wide one
// (and that to 0).
struct LinkFaults {
  std::optional<uint32_t> drop_pct;
  std::optional<uint32_t> duplicate_pct;
  std::optional<uint32_t> reorder_pct;
  std::optional<uint64_t> reorder_ms;  // largest extra delay of a reorder
  std::optional<uint64_t> delay_ms;
  std::optional<uint64_t> jitter_ms;
};

struct FaultCounters {
  uint64_t dropped_partition_out = 0;
  uint64_t dropped_partition_in = 0;
  uint64_t dropped_random = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t delayed = 0;
};

class FaultPolicy {
 public:
  // Limits on what the endpoints accept.
  static constexpr uint64_t kMaxDelayMs = 600000;
  static constexpr int64_t kMaxSkewMs = 86400000;
  static constexpr uint64_t kDefaultReorderMs = 100;

  FaultPolicy(std::string self, uint64_t seed);

  const std::string& self() const { return self_; }
  uint64_t seed() const { return seed_; }
  // Restarts the RNG, so a run can be replayed.
  void Reseed(uint64_t seed);

  // `groups`: groups separated by '/', names in a group by ','; spaces
  // ignored, e.g. "n1,n2/n3". At least two groups, no name twice, no empty
  // name. A node named in no group is alone in a group of its own.
  Status SetPartition(std::string_view groups);
  void Heal();
  // Undoes every fault, network and clock alike.
  void Clear();

  // `node` empty: cluster-wide. Percentages 0 to 100, times up to
  // kMaxDelayMs; InvalidArgument otherwise.
  Status SetDrop(uint32_t pct, const std::string& node);
  Status SetDuplicate(uint32_t pct, const std::string& node);
  Status SetReorder(uint32_t pct, uint64_t max_extra_ms,
                    const std::string& node);
  Status SetDelay(uint64_t ms, uint64_t jitter_ms, const std::string& node);
  // Offset added to this node's wall clock, within +-kMaxSkewMs.
  Status SetSkew(int64_t ms);
  int64_t skew_ms() const { return skew_ms_; }

  // True when a partition separates this node from `peer`.
  bool Partitioned(const std::string& peer) const;
  // For a message that arrived from `peer`: false (and counted) when a
  // partition separates the two.
  bool AllowDelivery(const std::string& peer);
  // For a message to `peer` (a node name, or an address when the name is
  // not known): one delay in ms per copy to deliver; empty means drop.
  // Partitions are checked here too. Draws from the RNG.
  std::vector<uint64_t> PlanSend(const std::string& peer);

  const FaultCounters& counters() const { return counters_; }
  // What is in force, as one JSON object:
  //   {"node", "seed", "partition": [[names]...], "skew_ms",
  //    "all": {drop_pct, duplicate_pct, reorder_pct, reorder_ms, delay_ms,
  //            jitter_ms},
  //    "nodes": {name: {only the fields set for it}},
  //    "counters": {dropped_partition_out, dropped_partition_in,
  //                 dropped_random, duplicated, reordered, delayed}}
  std::string StatusJson() const;

 private:
  LinkFaults& Target(const std::string& node);
  bool Chance(uint32_t pct);
  uint64_t UpTo(uint64_t max);  // uniform in [0, max]
  int GroupOf(const std::string& node) const;

  std::string self_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<std::vector<std::string>> groups_;  // empty: no partition
  LinkFaults all_;
  std::map<std::string, LinkFaults> nodes_;
  int64_t skew_ms_ = 0;
  FaultCounters counters_;
};

class FaultyNetwork : public replication::Network {
 public:
  FaultyNetwork(FaultPolicy& policy, replication::Network& inner,
                replication::Env& env);
  ~FaultyNetwork() override;
  FaultyNetwork(const FaultyNetwork&) = delete;
  FaultyNetwork& operator=(const FaultyNetwork&) = delete;

  void Send(const replication::NodeName& to, const std::string& address,
            std::string payload) override;

 private:
  FaultPolicy& policy_;
  replication::Network& inner_;
  replication::Env& env_;
  // Held-back messages check this before sending: after destruction they
  // find it expired and do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Installs, on `http`:
//   GET  /faults                              status JSON (StatusJson)
//   POST /faults/partition   body "n1,n2/n3"  (or ?groups=...)
//   POST /faults/heal
//   POST /faults/drop?pct=P[&node=N]
//   POST /faults/duplicate?pct=P[&node=N]
//   POST /faults/reorder?pct=P[&ms=M][&node=N]   M: largest extra delay
//   POST /faults/delay?ms=M[&jitter=J][&node=N]
//   POST /faults/skew?ms=S                     S may be negative
//   POST /faults/clear                         everything, skew included
//   POST /faults/seed?value=N                  restart the RNG
// Every POST answers 200 with the status JSON, or 400 with the reason.
// Query values are percent-decoded. `apply_skew` is called with the skew in
// force after every change. `policy` must outlive the server.
void AddFaultRoutes(AdminHttp& http, FaultPolicy& policy,
                    std::function<void(int64_t)> apply_skew);

// "a=1&b=x%40y" -> {a: 1, b: x@y}; '+' is a space. A malformed escape is
// an error; a repeated key keeps the last value.
Status ParseQuery(std::string_view query,
                  std::map<std::string, std::string>* out);

}  // namespace causeway::node
