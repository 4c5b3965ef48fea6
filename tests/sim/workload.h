#pragma once
// The randomized simulation's workload (see random_sim_test.cc): a few
// clients against a handful of hot keys, each choice drawn from the run's
// random stream. Keys live in three buckets: allow_mult (reads,
// read-modify-writes, blind writes, deletes with the context read),
// last_write_wins registers (mostly blind writes) and default properties
// (concurrent values resolve to the newest stamp). Each client does one
// operation at a time through a random member that is up, with a random
// quorum, and gives up after kClientTimeoutMs. Every attempt and every
// answer goes to the checker.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/checker.h"
#include "tests/sim/run_context.h"

namespace causeway::sim {

// How much the workload did.
struct WorkloadStats {
  uint64_t acked = 0, indeterminate = 0, reads = 0;
  uint64_t max_siblings = 0;  // the most siblings a read returned
};

class Workload {
 public:
  Workload(RunContext& run, Checker& checker) : run_(run), checker_(checker) {}

  // Draws how many keys of each kind the run uses and declares them to the
  // checker.
  void MakeKeys();
  // Starts `clients` clients; they stop once the run is stopping.
  void Start(int clients);
  // No client has an operation in flight.
  bool Idle() const;
  const WorkloadStats& stats() const { return stats_; }

 private:
  struct Client {
    int id = 0;
    uint64_t token = 0;  // the operation in progress
    bool busy = false;
    uint64_t next_value = 0;
    // Last clock seen, by key.
    std::map<std::string, replication::causal::VersionVector> context;
  };

  World& world() { return run_.world; }
  std::optional<replication::Quorum> RandomQuorum();
  // The client waits a little, then takes its next step.
  void Think(Client& c);
  // Arms the client-side timeout of the operation `token`; `give_up` runs if
  // no answer came.
  void ArmTimeout(Client& c, uint64_t token, std::function<void()> give_up);
  void Step(Client& c);
  // Reads `k`; then=1 writes with the context read, then=2 deletes with it.
  void DoRead(Client& c, SimNode& via, KeyModel& k, int then);
  void DoPut(Client& c, SimNode& via, KeyModel& k, bool blind);
  void DoDelete(Client& c, SimNode& via, KeyModel& k);

  RunContext& run_;
  Checker& checker_;
  WorkloadStats stats_;
  std::vector<KeyModel*> mult_keys_, lww_keys_, newest_keys_;
  std::vector<Client> clients_;
};

}  // namespace causeway::sim
