#pragma once
// Checkers for the histories of a fault run (see history.h). Each takes the
// operations the clients recorded and the final reads made after every fault
// was healed, and returns a Verdict listing every violation it found. They
// are pure functions of their input, so they are tested on synthetic
// histories that must be rejected (tests/fault/checker_test.cc).
//
// What each promises to reject:
//   - CheckSetGrowth (read-merge-write sets on an allow_mult bucket): an
//     acknowledged element missing from any node's final value; an element
//     in a final value that no client ever tried to add; a read showing more
//     siblings than could exist (one per writer, plus one per write whose
//     outcome is unknown and may have been stored half way).
//   - CheckRegisters (last_write_wins bucket): a read returning a value no
//     client wrote, or one whose write had not been invoked yet when the
//     read completed; more than one sibling; after healing, nodes that
//     disagree on a key, or a missing final value for a key that was
//     written successfully.
//   - CheckRegisters also rejects a lost update: a final value whose write
//     was acknowledged before another acknowledged write was invoked (see
//     CheckRegisters in checker.cc for the exact rule and why it never
//     rejects a legal outcome); and a read of a write that certainly failed.
//   - CheckDurability: an acknowledged write whose value is missing from
//     any final read of its key (each one made with r=all and
//     notfound_ok=false, so one replica without it is enough to fail), a
//     failed final read, or a run without an acknowledged write.
//   - CheckProgress: a workload with fewer acknowledged operations than its
//     floor (an empty or all-failed history never passes), and a fault
//     window in which fewer operations were acknowledged than its floor.
//   - CheckNemesis: a run without faults, a fault that no confirmation
//     covers, a confirmation whose evidence (a node's counter or state) did
//     not show the fault, and a nemesis request that failed: a fault that
//     did not take effect must not make a green run.
//   - CheckCounters (counter data type): a final value below the sum of the
//     acknowledged increments or above what the acknowledged and unknown
//     ones could make together; nodes that disagree after healing.
//   - CheckDtSets (set data type, each element added once): an acknowledged
//     add missing from a final value although no remove of it was issued
//     after the add was acknowledged; an element whose acknowledged remove
//     did not keep it away; an element no add could have put there (never
//     tried, or certainly failed); nodes that disagree after healing.
//   The data-type checkers, the set and the register checker also fail a run
//   without one acknowledged update (a run that shows nothing must not pass),
//   and a key with acknowledged updates but no final read.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/fault/history.h"

namespace causeway::fault {

// One read of a key through one node after the faults were healed.
struct FinalRead {
  std::string node;
  std::string key;
  bool ok = false;                  // the read succeeded (found or not found)
  bool found = false;               // the key had a value
  std::vector<std::string> values;  // siblings; a data-type set's elements
  int64_t counter = 0;              // a data-type counter's value
  std::string error;                // why it did not succeed
};

struct Verdict {
  std::string name;
  bool ok = true;
  // Every violation, one line each (the report shows the first few).
  std::vector<std::string> problems;
  // Counts worth reporting ("acknowledged adds": 412, ...).
  std::map<std::string, int64_t> stats;

  void Fail(std::string problem) {
    ok = false;
    problems.push_back(std::move(problem));
  }
};

// The set workload stores a set as its elements joined by single spaces.
std::string EncodeSet(const std::set<std::string>& elements);
// The union of the elements of all siblings.
std::set<std::string> DecodeSets(const std::vector<std::string>& siblings);

// `writers`: how many client threads ran the set workload.
Verdict CheckSetGrowth(const std::vector<Op>& ops,
                       const std::vector<FinalRead>& finals, int writers);
// `events`: the faults of the run; those with a clock skew exempt the
// writes near them from the lost-update rule.
Verdict CheckRegisters(const std::vector<Op>& ops,
                       const std::vector<FinalRead>& finals,
                       const std::vector<FaultEvent>& events = {});
// How much later than an earlier write's completion a write must have been
// invoked for the lost-update rule to require it to win: the nodes accept
// peer timestamps up to max_clock_offset_ms (500 by default) ahead of their
// own clock, so a hybrid logical clock may run that far ahead.
inline constexpr int64_t kLwwOrderMarginMs = 1000;
Verdict CheckDurability(const std::vector<Op>& ops,
                        const std::vector<FinalRead>& finals);
// Increments are the history's kIncrement operations.
Verdict CheckCounters(const std::vector<Op>& ops,
                      const std::vector<FinalRead>& finals);
// Adds and removes are the history's kDtAdd and kDtRemove operations; the
// workload must add each element once and remove only elements a fetch
// showed it.
Verdict CheckDtSets(const std::vector<Op>& ops,
                    const std::vector<FinalRead>& finals);

// A floor on acknowledged operations: a run that shows less than this did
// not test anything, whatever the other checkers say.
struct WorkloadFloor {
  std::string name;              // "registers"
  std::vector<OpKind> kinds;     // the operations that belong to it
  int64_t min_acknowledged = 1;  // over the whole run; at least 1 is used
};

struct ProgressFloors {
  std::vector<WorkloadFloor> workloads;
  // Operations of all workloads together acknowledged (completed ok) inside
  // each fault window; 0: no floor.
  int64_t min_acknowledged_per_fault = 0;
};

Verdict CheckProgress(const std::vector<Op>& ops,
                      const std::vector<FaultEvent>& events,
                      const ProgressFloors& floors);

// What confirms that one fault took effect: a node's counter that grew
// while it was in force (messages dropped by a partition, ...), a state the
// node reported (the skew in force), or a probe (a killed node refuses
// connections, a paused one does not answer).
struct FaultConfirmation {
  std::string fault;     // the FaultEvent's `what`
  std::string evidence;  // what was looked at, for the report
  int64_t observed = 0;  // how much of it was seen; > 0 confirms
  // Requests of the nemesis (or probes) that failed; any fails the fault.
  std::vector<std::string> errors;
};

Verdict CheckNemesis(const std::vector<FaultEvent>& events,
                     const std::vector<FaultConfirmation>& confirmations);

}  // namespace causeway::fault
