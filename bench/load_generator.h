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
// A get that finds nothing is a success, counted also as notfound.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/key_chooser.h"
#include "bench/options.h"
#include "proto/pbc_codes.h"
#include "base/status.h"

namespace causeway::bench {

struct BenchConfig {
  std::vector<NodeAddress> nodes;
  uint32_t connections = 50;
  double duration_seconds = 10;
  uint64_t keys = 100000;
  Distribution distribution = Distribution::kUniform;
  uint32_t value_size = 100;
  OpMix mix{50, 50};
  std::string bucket = "bench";
  std::string type;  // empty: the default bucket type (field not sent)
  // Write every key once before the timed run, so that gets find data.
  bool preload = false;
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
  // Failed connection attempts (not tied to an operation kind).
  uint64_t connect_errors = 0;

  uint64_t ops() const { return put.ops + get.ops; }
  uint64_t errors() const { return put.errors + get.errors + connect_errors; }
  double throughput() const {
    return elapsed_seconds > 0 ? static_cast<double>(ops()) / elapsed_seconds
                               : 0;
  }
};

struct BenchResult {
  std::optional<PhaseResult> preload;
  PhaseResult run;
  // The first few distinct error messages, each prefixed by its operation.
  std::vector<std::string> error_samples;
};

// When a paced request due at `due` is released: the start of its tick,
// ticks counted from `origin` (the run's start, shared by every
// connection); `due` itself for a zero tick or a time before `origin`.
std::chrono::steady_clock::time_point PacedRelease(
    std::chrono::steady_clock::time_point due,
    std::chrono::steady_clock::time_point origin,
    std::chrono::microseconds tick);

// Checks the config (InvalidArgument naming the bad field) and resolves the
// nodes, then runs the preload (if asked) and the timed phase. Errors during
// the run are counted in the result, not returned.
Status RunBench(const BenchConfig& config, BenchResult* result);

}  // namespace causeway::bench
