#pragma once
// The randomized simulation's nemesis (see random_sim_test.cc): the fault
// schedule of one seed. Every 200 to 1500 virtual milliseconds it picks one
// kind of fault among those enabled: network loss, duplication and latency;
// a partition in two; one node cut off in one direction; a crash and later
// restart (never a majority down at once); a clock skew; or, with
// membership, a spare node joining or a member leaving. It stops when the
// workload does; HealAll then undoes every fault.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/sim/checker.h"
#include "tests/sim/run_context.h"

namespace causeway::sim {

// The kinds of fault a run may inject.
struct FaultSet {
  bool drop = true;
  bool duplicate = true;
  bool reorder = true;  // latency spread
  bool partition = true;
  bool crash = true;
  bool skew = true;
  bool oneway = true;  // one node hears but is not heard, or the reverse
  // Not in "all": a spare node joins and members leave during the load.
  bool membership = false;

  // "all" (the default set), "none", or a comma list of kinds, which may
  // include "all".
  static std::optional<FaultSet> Parse(const std::string& list);
  std::string ToString() const;
  bool operator==(const FaultSet&) const = default;
};

class Nemesis {
 public:
  Nemesis(RunContext& run, Checker& checker, const FaultSet& faults)
      : run_(run), checker_(checker), faults_(faults) {}

  // A node outside the cluster that a membership fault may have join.
  void AddSpare(const NodeName& name) { spares_.push_back(name); }

  // Injects one fault and schedules the next, until the run is stopping.
  void Next();
  // How many faults were injected.
  uint64_t faults() const { return faults_injected_; }

  // Heals the network, restarts every member that is down and lets
  // leavers that have handed everything off exit.
  void HealAll();
  // Membership changes in flight have finished and every member agrees on
  // the ring.
  bool MembershipSettled();

 private:
  World& world() { return run_.world; }
  std::vector<NodeName>& members() { return run_.members; }

  void RandomNetwork();
  void RandomPartition();
  void RandomOneWayCut();
  void RandomCrash();
  void RandomMembershipChange();
  void RandomSkew();
  void SyncMembers();
  void AwaitExit(const NodeName& name);
  bool Exited(const NodeName& name);
  void Depart(const NodeName& name);

  RunContext& run_;
  Checker& checker_;
  const FaultSet faults_;
  uint64_t faults_injected_ = 0;
  bool partitioned_ = false;
  bool changing_ = false;  // a join or leave is in flight
  std::vector<NodeName> spares_;
  std::set<NodeName> leaving_;
};

}  // namespace causeway::sim
