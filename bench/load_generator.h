#pragma once
// The load generator behind causeway-bench, callable from tests.
//
// RunBench opens `connections` PBC connections, spread round-robin over the
// nodes, and drives each in a closed loop (send one request, wait for its
// answer, send the next) until the duration is over. All connections share
// one io_context run by `threads` threads (1 or 2 is plenty: the work per
// request is a few syscalls), so thousands of connections need no thread
// each. Every request has a timeout; a connection that times out, breaks or
// receives a malformed frame is closed, counted and reconnected.
//
// Only successful requests count as ops and have their latency recorded; an
// RpbErrorResp, a timeout, an I/O error or an unexpected reply is an error.
// A get (or dtget) that finds nothing is a success, counted also as
// notfound.
//
// Data-type operations (incr, dtget, sadd in the mix) need a bucket type
// whose datatype matches (counter for incr, set for sadd); the bench does
// not create it. With `tally`, a last phase fetches every key once and adds
// up what the data types hold, to compare against the acknowledged updates.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "bench/key_chooser.h"
#include "bench/options.h"
#include "proto/pbc_codes.h"

namespace causeway::bench {

// What the bench speaks to the nodes: Riak's protocol buffers (Causeway,
// Riak), or redis's RESP (redis-server), so one client with one connection
// model, pacing and latency accounting measures both systems.
enum class Protocol { kPbc, kResp };

struct BenchConfig {
  std::vector<NodeAddress> nodes;
  Protocol protocol = Protocol::kPbc;
  uint32_t connections = 50;
  double duration_seconds = 10;
  uint64_t keys = 100000;
  Distribution distribution = Distribution::kUniform;
  uint32_t value_size = 100;
  OpMix mix{50, 50};
  std::string bucket = "bench";
  // Empty: the default bucket type (field not sent). Data-type operations
  // need one: DtFetchReq and DtUpdateReq name their type.
  std::string type;
  // Write every key once before the timed run, so that gets find data: a
  // put each, or with a data-type mix an incr or sadd each (whichever the
  // mix has; a mix of dtget alone cannot be preloaded).
  bool preload = false;
  // After the timed run, fetch every key once (DtFetchReq, with `r`) and
  // total the counter values and set sizes. Needs a data-type mix.
  bool tally = false;
  // Quorums sent with each request; unset means the bucket's own.
  std::optional<uint32_t> r;
  std::optional<uint32_t> w;
  std::optional<uint32_t> dw;
  uint32_t threads = 1;
  // Target total rate of the timed run in operations per second, shared
  // evenly by the connections; 0 runs every connection flat out. When
  // paced, a request's latency counts from when it was due, not from when
  // it was sent, so a server that falls behind is not flattered by the
  // requests it delayed (no coordinated omission).
  double rate = 0;
  // Paced runs release requests in ticks of this many microseconds: a
  // request goes out at the start of the tick it falls due in (0: at its
  // own due time). Its latency counts from when it was sent, or from when
  // it was due if it went out late. The generator then wakes once a tick
  // instead of once a request; see bench/README.md for what that changes.
  uint32_t pace_tick_us = 0;
  uint32_t request_timeout_ms = 5000;
  uint64_t seed = 1;
  uint32_t max_frame_bytes = pbc::kDefaultMaxFrameBytes;
  // How many distinct error messages to keep for the report.
  uint32_t max_error_samples = 5;
};

// Latencies in milliseconds.
struct OpStats {
  uint64_t ops = 0;
  uint64_t errors = 0;
  uint64_t notfound = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

struct PhaseResult {
  double elapsed_seconds = 0;
  OpStats put;
  OpStats get;
  OpStats incr;
  OpStats dtget;
  OpStats sadd;
  // Failed connection attempts (not tied to an operation kind).
  uint64_t connect_errors = 0;

  uint64_t ops() const {
    return put.ops + get.ops + incr.ops + dtget.ops + sadd.ops;
  }
  uint64_t errors() const {
    return put.errors + get.errors + incr.errors + dtget.errors + sadd.errors +
           connect_errors;
  }
  double throughput() const {
    return elapsed_seconds > 0 ? static_cast<double>(ops()) / elapsed_seconds
                               : 0;
  }
};

// What the tally read: every key of the key space fetched once.
struct TallyResult {
  double elapsed_seconds = 0;
  uint64_t keys_read = 0;     // answered, found or not
  uint64_t keys_found = 0;    // answered with a value
  uint64_t keys_failed = 0;   // no answer after retries: the totals miss them
  int64_t counter_total = 0;  // sum of the counter values found
  uint64_t set_elements = 0;  // sum of the sizes of the sets found
  // Fetches that failed, retried ones included (their messages are among
  // the error samples).
  uint64_t errors = 0;
};

struct BenchResult {
  std::optional<PhaseResult> preload;
  PhaseResult run;
  std::optional<TallyResult> tally;
  // The first few distinct error messages, each prefixed by its operation.
  std::vector<std::string> error_samples;
};

// The tally against the updates the run made, for a mix with incr (counter
// values) or sadd (set sizes; every element is fresh random bytes, so each
// acknowledged add is one more element while --value-size is large enough
// to make a repeat unlikely). On a bucket that held nothing before the
// run, the total read must lie between the acknowledged updates and those
// plus the updates that failed: a failed update (an error reply, a timeout,
// a broken connection) may still have been applied.
struct TallyCheck {
  enum class Verdict {
    kNotApplicable,  // no tally, or a mix of dtget alone
    kIncomplete,     // some keys could not be read
    kConsistent,
    kInconsistent,
  };
  Verdict verdict = Verdict::kNotApplicable;
  const char* what = "";  // "increments" or "adds"
  uint64_t acknowledged = 0;
  uint64_t unknown = 0;  // updates whose outcome the bench does not know
  int64_t observed = 0;  // the tally's counter total or set elements
};
TallyCheck CheckTally(const BenchConfig& config, const BenchResult& result);
const char* VerdictName(TallyCheck::Verdict v);

// When a paced request due at `due` is released: the start of its tick,
// ticks counted from `origin` (the run's start, shared by every
// connection); `due` itself for a zero tick or a time before `origin`.
std::chrono::steady_clock::time_point PacedRelease(
    std::chrono::steady_clock::time_point due,
    std::chrono::steady_clock::time_point origin,
    std::chrono::microseconds tick);

// InvalidArgument naming the first bad field of `config`, or Ok.
Status CheckConfig(const BenchConfig& config);

// Checks the config (InvalidArgument naming the bad field) and resolves the
// nodes, then runs the preload (if asked) and the timed phase. Errors during
// the run are counted in the result, not returned.
Status RunBench(const BenchConfig& config, BenchResult* result);

}  // namespace causeway::bench
