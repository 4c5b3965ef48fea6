// causeway-crdt-delta-bytes: what one data-type update costs to replicate as
// a delta rather than as the full state, by type and state size.
//
// For each case it builds a state (the "origin" replica), clones it as a
// second replica with the same contents, and then, many times over: applies
// one update to a fresh copy of the origin (timed: Update), merges the
// resulting delta into a fresh copy of the other replica (timed: merge
// delta) and, for comparison, merges the origin's whole new state into
// another fresh copy (timed: merge state, what shipping the full state would
// cost the receiver). Copies are made outside the timed regions. The first
// round checks that the replica that merged the delta equals the origin.
//
// Bytes are DataType::Encode of the delta and of the origin's state after
// the update: the payload a replica receives per update (peer.proto's
// DeltaRequest.state) against what a full-state replication would send.
//
// Times are medians over the rounds (a shared machine makes means noisy).
// See bench/README.md, "Data types: delta vs full state", for the figures.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "replication/crdt/data_type.h"
#include "replication/crdt/types.h"

namespace {

namespace crdt = causeway::replication::crdt;
using causeway::replication::causal::ActorId;
using Clock = std::chrono::steady_clock;

constexpr size_t kElementBytes = 16;

// Builds a case's starting state, and makes the i-th measured update.
struct Case {
  std::string type;
  std::string state;  // what the state holds, for the table
  std::function<std::unique_ptr<crdt::DataType>()> build;
  std::function<crdt::Operation(size_t round)> op;
  // Who makes the measured update: one of the state's actors, as the node
  // coordinating it would be.
  ActorId updater = 0;
};

struct Row {
  size_t delta_bytes = 0;
  size_t state_bytes = 0;
  double update_us = 0;
  double merge_delta_us = 0;
  double merge_state_us = 0;
  size_t rounds = 0;
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "causeway-crdt-delta-bytes: %s\n", what.c_str());
  std::exit(1);
}

void MustUpdate(crdt::DataType* state, const crdt::Operation& op, ActorId actor,
                std::unique_ptr<crdt::DataType>* delta) {
  crdt::UpdateArgs args;
  args.actor = actor;
  // Registers order writes by this time; later rounds write later.
  static uint64_t wall_ms = 1'800'000'000'000;
  args.timestamp = {++wall_ms, 0};
  causeway::Status s = state->Update(op, args, delta);
  if (!s.ok()) Fail("update refused: " + s.message());
}

// Actor ids are random 64-bit numbers on a node; so are these.
std::vector<ActorId> Actors(size_t n, std::mt19937_64& rng) {
  std::vector<ActorId> actors;
  while (actors.size() < n) {
    ActorId a = rng();
    if (a != 0) actors.push_back(a);
  }
  return actors;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The median time of an empty timed region: the floor under every time in
// the table (each includes it once).
double ClockFloorUs() {
  std::vector<double> v;
  for (int i = 0; i < 10001; ++i) {
    Clock::time_point t0 = Clock::now();
    v.push_back(Micros(Clock::now() - t0));
  }
  return Median(std::move(v));
}

// Runs rounds until `budget_s` of wall time is spent (copies included), at
// least `min_rounds` and at most `max_rounds`.
Row Measure(const Case& c, double budget_s, size_t min_rounds,
            size_t max_rounds) {
  const std::unique_ptr<crdt::DataType> origin = c.build();
  const std::unique_ptr<crdt::DataType> replica = origin->Clone();
  std::vector<double> update_us, merge_delta_us, merge_state_us;
  Row row;
  const Clock::time_point end =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(budget_s));
  for (size_t round = 0; round < max_rounds; ++round) {
    if (round >= min_rounds && Clock::now() >= end) break;
    const crdt::Operation op = c.op(round);

    std::unique_ptr<crdt::DataType> updated = origin->Clone();
    std::unique_ptr<crdt::DataType> delta;
    Clock::time_point t0 = Clock::now();
    MustUpdate(updated.get(), op, c.updater, &delta);
    update_us.push_back(Micros(Clock::now() - t0));

    std::unique_ptr<crdt::DataType> by_delta = replica->Clone();
    t0 = Clock::now();
    by_delta->Merge(*delta);
    merge_delta_us.push_back(Micros(Clock::now() - t0));

    std::unique_ptr<crdt::DataType> by_state = replica->Clone();
    t0 = Clock::now();
    by_state->Merge(*updated);
    merge_state_us.push_back(Micros(Clock::now() - t0));

    if (round == 0) {
      if (!by_delta->Equal(*updated) || !by_state->Equal(*updated)) {
        Fail(c.type + " (" + c.state +
             "): the replica that merged the update differs from the origin");
      }
      row.delta_bytes = delta->Encode().size();
      row.state_bytes = updated->Encode().size();
    }
  }
  row.update_us = Median(update_us);
  row.merge_delta_us = Median(merge_delta_us);
  row.merge_state_us = Median(merge_state_us);
  row.rounds = update_us.size();
  return row;
}

crdt::SetOp AddOf(std::string element) {
  crdt::SetOp op;
  op.adds.push_back(std::move(element));
  return op;
}

// An ORSWOT holding `n` random 16-byte elements, added by the actors in
// turn, in batches (one Update per batch: a state built one add at a time
// would cost n merges of a growing state); each element holds one dot.
Case SetCase(size_t n, const std::vector<ActorId>& actors, uint64_t seed) {
  Case c;
  c.type = "set (ORSWOT)";
  c.state = std::to_string(n) + " elements, " + std::to_string(actors.size()) +
            " actors";
  c.build = [n, actors, seed] {
    std::mt19937_64 rng(seed);
    std::unique_ptr<crdt::DataType> s = crdt::NewSet();
    constexpr size_t kBatch = 1000;
    for (size_t added = 0, batch = 0; added < n; ++batch) {
      crdt::SetOp op;
      for (size_t i = 0; i < kBatch && added < n; ++i, ++added) {
        op.adds.push_back(RandomBytes(rng, kElementBytes));
      }
      std::unique_ptr<crdt::DataType> unused;
      MustUpdate(s.get(), op, actors[batch % actors.size()], &unused);
    }
    if (s->Read().elements.size() != n) Fail("set: repeated elements");
    return s;
  };
  auto rng = std::make_shared<std::mt19937_64>(seed + 1);
  c.op = [rng](size_t) -> crdt::Operation {
    return AddOf(RandomBytes(*rng, kElementBytes));
  };
  c.updater = actors[0];
  return c;
}

// A PN-counter every actor has incremented (totals in the thousands, as
// after a while of use); the update adds 1.
Case CounterCase(const std::vector<ActorId>& actors) {
  Case c;
  c.type = "counter";
  c.state = std::to_string(actors.size()) + " actors";
  c.build = [actors] {
    std::unique_ptr<crdt::DataType> s = crdt::NewCounter();
    for (size_t i = 0; i < actors.size(); ++i) {
      std::unique_ptr<crdt::DataType> unused;
      MustUpdate(s.get(), crdt::CounterOp{static_cast<int64_t>(1000 + 37 * i)},
                 actors[i], &unused);
    }
    return s;
  };
  c.op = [](size_t) -> crdt::Operation { return crdt::CounterOp{1}; };
  c.updater = actors[0];
  return c;
}

crdt::FieldKey FieldName(size_t i, crdt::FieldType type) {
  // "field-" and ten digits: 16 bytes for any map these cases build.
  char name[32];
  std::snprintf(name, sizeof name, "field-%010zu", i);
  return crdt::FieldKey{name, type};
}

// A map of `n` fields of one type (16-byte names), each written once by
// one of the actors in turn; the update changes one existing field.
Case MapCase(size_t n, crdt::FieldType type, const std::vector<ActorId>& actors,
             uint64_t seed) {
  const bool counters = type == crdt::FieldType::kCounter;
  auto update_of = [type](size_t field, std::string value) {
    crdt::MapUpdate u;
    u.field = FieldName(field, type);
    if (type == crdt::FieldType::kCounter) {
      u.counter_op = crdt::CounterOp{1};
    } else {
      u.register_op = std::move(value);
    }
    return u;
  };
  Case c;
  c.type = "map";
  c.state = std::to_string(n) + (counters ? " counter" : " register") +
            " fields, " + std::to_string(actors.size()) + " actors";
  c.build = [n, actors, seed, update_of] {
    std::mt19937_64 rng(seed);
    std::unique_ptr<crdt::DataType> s = crdt::NewMap();
    std::vector<crdt::MapOp> ops(actors.size());
    for (size_t i = 0; i < n; ++i) {
      ops[i % actors.size()].updates.push_back(
          update_of(i, RandomBytes(rng, kElementBytes)));
    }
    for (size_t a = 0; a < actors.size(); ++a) {
      std::unique_ptr<crdt::DataType> unused;
      MustUpdate(s.get(), ops[a], actors[a], &unused);
    }
    if (s->Read().map.size() != n) Fail("map: fields missing");
    return s;
  };
  auto rng = std::make_shared<std::mt19937_64>(seed + 1);
  c.op = [n, rng, update_of](size_t round) -> crdt::Operation {
    crdt::MapOp op;
    op.updates.push_back(
        update_of((round * 7919) % n, RandomBytes(*rng, kElementBytes)));
    return op;
  };
  c.updater = actors[0];
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  double budget_s = 1.0;
  size_t min_rounds = 10;
  size_t max_rounds = 5000;
  uint64_t seed = 1;
  CLI::App app{
      "causeway-crdt-delta-bytes: bytes of one update's delta against the "
      "full state, and the time of Update and of merging either, for the "
      "ORSWOT set, the counter and the map at several sizes"};
  app.add_option("--budget", budget_s, "seconds spent on each case")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--min-rounds", min_rounds, "rounds per case at least")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  app.add_option("--max-rounds", max_rounds, "rounds per case at most")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  app.add_option("--seed", seed, "seed for actors and elements")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  max_rounds = std::max(max_rounds, min_rounds);

  std::mt19937_64 rng(seed);
  const std::vector<ActorId> three = Actors(3, rng);
  const std::vector<ActorId> hundred = Actors(100, rng);

  std::vector<Case> cases = {
      SetCase(1'000, three, seed + 10),
      SetCase(10'000, three, seed + 11),
      SetCase(100'000, three, seed + 12),
      CounterCase(three),
      CounterCase(hundred),
      MapCase(1'000, crdt::FieldType::kCounter, three, seed + 13),
      MapCase(1'000, crdt::FieldType::kRegister, three, seed + 14),
  };

  std::printf(
      "one update by one of the actors: a set adds a fresh 16-byte element, "
      "a counter adds 1,\na map increments one counter field or writes one "
      "register field (16-byte value).\ntimes are medians over the rounds, "
      "in microseconds; an empty timed region measures %.3f us.\n\n",
      ClockFloorUs());
  std::printf("%-13s %-33s %8s %10s %9s %10s %12s %12s %7s\n", "type", "state",
              "delta B", "state B", "delta %", "update us", "merge d. us",
              "merge st. us", "rounds");
  for (const Case& c : cases) {
    Row r = Measure(c, budget_s, min_rounds, max_rounds);
    std::printf("%-13s %-33s %8zu %10zu %8.3f%% %10.2f %12.2f %12.2f %7zu\n",
                c.type.c_str(), c.state.c_str(), r.delta_bytes, r.state_bytes,
                100.0 * static_cast<double>(r.delta_bytes) /
                    static_cast<double>(r.state_bytes),
                r.update_us, r.merge_delta_us, r.merge_state_us, r.rounds);
    std::fflush(stdout);
  }
  return 0;
}
