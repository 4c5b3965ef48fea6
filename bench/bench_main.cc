// causeway-bench: a load generator for the Riak PBC protocol. See
// bench/README.md for how the numbers in it were produced, and --help for the
// flags.
//
// Exit status: 0 when the run finished with at least one successful operation
// and no errors (or any errors, with --allow-errors); 1 when the run had
// errors, nothing succeeded or the tally disagrees with the acknowledged
// updates; 2 for bad flags.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "bench/key_chooser.h"
#include "bench/load_generator.h"
#include "bench/options.h"
#include "bench/report.h"

namespace {

using causeway::Status;
namespace bench = causeway::bench;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  bench::BenchConfig config;
  std::string nodes = "127.0.0.1:8087";
  std::string distribution = "uniform";
  std::string mix = "put=50,get=50";
  std::string protocol = "pbc";
  std::string r, w, dw;
  bool json = false;
  bool allow_errors = false;

  CLI::App app{
      "causeway-bench: drives PBC (Riak protocol) load at Causeway nodes, or "
      "RESP load at redis-server, and reports throughput and latency per "
      "operation kind.\n"
      "Each connection runs a closed loop: one request in flight at a time."};
  app.add_option("--nodes", nodes,
                 "HOST:PORT[,HOST:PORT...]; connections are spread over them "
                 "round-robin")
      ->capture_default_str();
  app.add_option("--protocol", protocol,
                 "pbc (Riak protocol buffers) or resp (redis: put is SET, get "
                 "is GET of BUCKET:KEY), so one client measures both systems")
      ->capture_default_str()
      ->check(CLI::IsMember({"pbc", "resp"}));
  app.add_option("--connections", config.connections,
                 "number of client connections")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  app.add_option("--duration", config.duration_seconds,
                 "length of the timed run in seconds (fractions allowed)")
      ->capture_default_str();
  app.add_option("--keys", config.keys, "size of the key space")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--distribution", distribution,
                 "key popularity: uniform, or pareto (80% of operations on "
                 "20% of the keys, self-similar)")
      ->capture_default_str()
      ->check(CLI::IsMember({"uniform", "pareto"}));
  app.add_option("--value-size", config.value_size,
                 "bytes per value (random, incompressible)")
      ->capture_default_str();
  app.add_option(
         "--mix", mix,
         "operation weights, e.g. put=80,get=20; a bare name weighs 1, so "
         "'put' is puts only and 'get' gets only. Data types (need --type "
         "of a bucket type with the matching datatype, which the bench does "
         "not create): incr (counter +1), sadd (set: add a fresh random "
         "element of --value-size bytes), dtget (fetch)")
      ->capture_default_str();
  app.add_option("--bucket", config.bucket, "bucket for every key")
      ->capture_default_str();
  app.add_option("--type", config.type,
                 "bucket type (default: the default type)");
  app.add_flag("--preload", config.preload,
               "write every key once before the timed run, so gets find "
               "data (a put each; with incr or sadd in the mix, one of "
               "those)");
  app.add_flag("--tally", config.tally,
               "after the timed run, fetch every key once and total the "
               "counters and set sizes; with incr or sadd, check the total "
               "against the acknowledged updates (on a bucket that was "
               "empty before the run)");
  app.add_option("--r", r,
                 "read quorum sent with gets: a number or "
                 "one|quorum|all|default (default: the bucket's)");
  app.add_option("--w", w, "write quorum sent with puts (same forms as --r)");
  app.add_option("--dw", dw,
                 "durable-write quorum sent with puts (same forms as --r)");
  app.add_option("--rate", config.rate,
                 "target total ops/s of the timed run, spread over the "
                 "connections (0: as fast as they go); latency counts from "
                 "when each request was due")
      ->capture_default_str();
  app.add_option("--pace-tick-us", config.pace_tick_us,
                 "with --rate, release requests in ticks of this many "
                 "microseconds, each at the start of the tick it falls due "
                 "in (0: each at its own due time)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 1'000'000u));
  app.add_option("--threads", config.threads,
                 "threads running the shared event loop")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  app.add_option("--timeout-ms", config.request_timeout_ms,
                 "a request (or connect) without an answer in this time is an "
                 "error and its connection is reopened")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", config.seed,
                 "seed for keys, operation choice and values")
      ->capture_default_str();
  app.add_option("--errors-shown", config.max_error_samples,
                 "how many distinct error messages to print")
      ->capture_default_str();
  app.add_flag("--json", json, "print one JSON object instead of a table");
  app.add_flag("--allow-errors", allow_errors,
               "exit 0 even if some requests failed (as long as some worked)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  auto usage_error = [](const Status& s) {
    std::cerr << "causeway-bench: " << s.message() << "\n";
    return kExitUsage;
  };
  Status s = bench::ParseNodes(nodes, &config.nodes);
  if (!s.ok()) return usage_error(s);
  s = bench::ParseMix(mix, &config.mix);
  if (!s.ok()) return usage_error(s);
  bench::ParseDistribution(distribution, &config.distribution);
  config.protocol =
      protocol == "resp" ? bench::Protocol::kResp : bench::Protocol::kPbc;
  for (auto [text, slot] : {std::pair{&r, &config.r}, std::pair{&w, &config.w},
                            std::pair{&dw, &config.dw}}) {
    if (text->empty()) continue;
    uint32_t q = 0;
    s = bench::ParseQuorum(*text, &q);
    if (!s.ok()) return usage_error(s);
    *slot = q;
  }

  bench::BenchResult result;
  s = bench::RunBench(config, &result);
  if (!s.ok()) {
    std::cerr << "causeway-bench: " << s.message() << "\n";
    return s.code() == Status::Code::kInvalidArgument ? kExitUsage
                                                      : kExitFailed;
  }

  if (json) {
    std::cout << bench::FormatJson(config, result) << "\n";
  } else {
    std::cout << bench::FormatText(config, result);
  }

  uint64_t errors = result.run.errors() +
                    (result.preload ? result.preload->errors() : 0) +
                    (result.tally ? result.tally->errors : 0);
  if (result.run.ops() == 0) {
    std::cerr << "causeway-bench: no operation succeeded\n";
    return kExitFailed;
  }
  bench::TallyCheck check = bench::CheckTally(config, result);
  if (check.verdict == bench::TallyCheck::Verdict::kInconsistent) {
    std::cerr << "causeway-bench: the tally (" << check.observed
              << ") is not within the acknowledged " << check.what << " ("
              << check.acknowledged << ") plus those of unknown outcome ("
              << check.unknown << ")\n";
    return kExitFailed;
  }
  if (errors > 0 && !allow_errors) {
    std::cerr << "causeway-bench: " << errors
              << " errors (pass --allow-errors to accept them)\n";
    return kExitFailed;
  }
  return 0;
}
