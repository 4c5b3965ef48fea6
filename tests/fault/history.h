#pragma once
// History: what the clients of a fault run did, one Op per client operation,
// as seen from the client: when it was invoked, when it completed, and how it
// ended. An operation that failed in a way that may still have taken effect
// (a timeout, a broken connection after the request went out, a quorum not
// met after some replicas stored the write) is kUnknown, never kFail: the
// checkers must treat it as "maybe happened". kFail is reserved for
// operations that certainly did nothing (nothing reached the server).
//
// History is safe to append to from many threads; everything else reads it
// after the workload has stopped.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace causeway::fault {

enum class Outcome { kOk, kFail, kUnknown };

const char* OutcomeName(Outcome o);

enum class OpKind {
  kAdd,    // set workload: read-merge-write adding `value` to the set `key`
  kRead,   // register workload: a read of `key`; `values` are its siblings
  kWrite,  // register or durability workload: a write of `value` to `key`
  // Data-type workloads (DtUpdateReq on a bucket type with a datatype):
  kIncrement,  // counter: an increment of `key` by `amount`
  kDtAdd,      // set: an add of the element `value` to `key`
  kDtRemove,   // set: a remove of `value`, sent with the context of a fetch
               // that showed it
};

const char* OpKindName(OpKind k);

struct Op {
  int process = 0;  // the client thread that ran it
  OpKind kind = OpKind::kWrite;
  std::string node;  // the node the client talked to
  std::string key;
  std::string value;                // the element added, or the value written
  std::vector<std::string> values;  // what a read returned (its siblings)
  int64_t amount = 0;               // a counter increment's amount
  // Siblings the operation saw: a read's, or the read before an add.
  int siblings = 0;
  // A set add whose read lacked this client's previous acknowledged add to
  // the key (a read on the other side of a partition): its write cannot
  // cover that earlier one, which may stay a sibling of its own.
  bool read_missed_own_previous = false;
  Outcome outcome = Outcome::kUnknown;
  int64_t invoke_ms = 0;    // since the start of the run
  int64_t complete_ms = 0;  // since the start of the run
  std::string error;        // why it did not end kOk
};

// A fault in force from start_ms to end_ms (end_ms == start_ms: an instant
// action, e.g. a kill that was not undone).
struct FaultEvent {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string what;
  // How far the fault set a node's clock off (0: no clock skew). While it is
  // in force, and for as long again after it (a clock ahead may have pushed
  // other nodes' hybrid logical clocks ahead), timestamp order need not
  // follow real-time order.
  int64_t clock_skew_ms = 0;
};

class History {
 public:
  void Add(Op op);
  // A copy, in the order the operations completed.
  std::vector<Op> ops() const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<Op> ops_;
};

// One line of JSON per operation, for the run's output directory.
std::string ToJsonLines(const std::vector<Op>& ops);

}  // namespace causeway::fault
