// Randomized whole-cluster simulation: the driver and the tests. Each seed
// builds a cluster of 3 to 7 nodes and runs a few clients against a handful
// of hot keys (workload.h): an allow_mult bucket (read-modify-write, blind
// writes, deletes with contexts), a last_write_wins bucket of registers, and
// a bucket with default properties (concurrent values resolve to the newest
// stamp). Meanwhile a seeded nemesis (nemesis.h) drops, duplicates and
// delays messages, partitions the network (both ways, or one node one way),
// crashes and restarts nodes (never a majority at once) and skews their
// clocks; with --faults=all,membership nodes also join and leave. Then it
// heals everything, restarts every node, lets hinted handoff finish, forces
// read repair (r=all reads) and the checker (checker.h) gives its verdict:
//
// - every replica of every key holds the same object, and no other node
//   holds anything the replicas lack;
// - no acknowledged write is lost: it is still a sibling, or a write or
//   delete whose context covered it overwrote it, or (without allow_mult) a
//   concurrent write stamped later won; anti-entropy runs throughout and
//   reaps tombstones (see Form), so a write may also be covered by a
//   tombstone that every replica removed (the key then starts afresh);
// - sibling counts never exceed the number of concurrent writers, and no
//   sibling survives in a history that includes a write overwriting it;
// - a replica's clock for a key only grows (checked at every storage write);
// - every stored sibling is one write: one dot per value, one value per dot;
// - the same seed replays the same run bit for bit;
// - the seed tested something: it acknowledged writes and its nemesis
//   injected faults, at least a floor of each (CheckFloors).
//
// The driver, the workload and the nemesis draw from one random stream in a
// fixed order (run_context.h); the checker only watches.
//
// Replaying one seed, with a log of every operation and fault:
//   random_sim_test --gtest_filter=RandomSimReplay.OneSeed --seed=N -v
// (or CAUSEWAY_SIM_SEED=N instead of --seed). A failing seed prints this
// command, with any --faults, --nodes, --workload-ms or --reap-delay-ms it
// ran with; so does a failed CAUSEWAY_ASSERT during a seed's run, on stderr
// just before the abort (seed_replay.h).
// A long campaign: tests/sim/soak --seeds N [--faults LIST].
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "replication/ring/ring.h"
#include "storage/keys.h"
#include "tests/sim/checker.h"
#include "tests/sim/nemesis.h"
#include "tests/sim/run_context.h"
#include "tests/sim/seed_replay.h"
#include "tests/sim/sim.h"
#include "tests/sim/workload.h"

namespace causeway::sim {
namespace {

using replication::BucketPropsPatch;
using replication::kDefaultType;
using replication::ObjectId;
using replication::Quorum;

// ---------------------------------------------------------------------------
// Options, shared by the tests, the replay flags and the soak mode.

struct SimOptions {
  uint64_t seed = 1;
  FaultSet faults;
  int nodes = 0;    // 0: chosen by the seed, 3 to 7
  int clients = 0;  // 0: chosen by the seed, 2 to 4
  uint64_t workload_ms = 20000;
  // Anti-entropy's tombstone reap delay; 0 keeps tombstones.
  uint64_t reap_delay_ms =
      replication::aae::AaeTiming{}.tombstone_reap_delay_ms;
  bool verbose = false;
  std::string trace_key;  // print every storage write of this key
  // Only for the test of the assertion hook: a CAUSEWAY_ASSERT fails at
  // this virtual time (0: never). Not part of the replay command.
  uint64_t fail_assertion_at_ms = 0;
};

// Set by main() from the command line.
struct Flags {
  std::optional<uint64_t> seed;
  std::optional<FaultSet> faults;
  int nodes = 0;
  uint64_t workload_ms = 0;
  std::optional<uint64_t> reap_delay_ms;
  bool verbose = false;
  std::string trace_key;
  std::string argv0 = "random_sim_test";
};
Flags g_flags;

std::string ReplayCommand(const SimOptions& o) {
  std::string cmd = g_flags.argv0 +
                    " --gtest_filter=RandomSimReplay.OneSeed --seed=" +
                    std::to_string(o.seed);
  if (!(o.faults == FaultSet())) cmd += " --faults=" + o.faults.ToString();
  if (o.nodes != 0) cmd += " --nodes=" + std::to_string(o.nodes);
  if (o.workload_ms != SimOptions().workload_ms) {
    cmd += " --workload-ms=" + std::to_string(o.workload_ms);
  }
  if (o.reap_delay_ms != SimOptions().reap_delay_ms) {
    cmd += " --reap-delay-ms=" + std::to_string(o.reap_delay_ms);
  }
  return cmd + " -v";
}

// ---------------------------------------------------------------------------
// The run.

// Per-seed floors (CheckFloors). Over the 1200 seeds of the campaign the
// fewest acknowledged writes a seed had was 12 and the fewest faults 18.
constexpr uint64_t kMinAckedPerSeed = 5;
constexpr uint64_t kMinFaultsPerSeed = 5;

struct RunResult {
  uint64_t trace_hash = 0;
  std::vector<std::string> violations;
  uint64_t acked = 0, indeterminate = 0, reads = 0, faults = 0;
  // How much the run exercised (for tuning, not asserted per seed).
  uint64_t hints_delivered = 0, max_siblings = 0, final_siblings = 0;
  int nodes = 0, clients = 0;
};

class RandomRun {
 public:
  explicit RandomRun(const SimOptions& options)
      : o_(options),
        run_(options.seed, options.verbose),
        checker_(run_.world, options.verbose),
        workload_(run_, checker_),
        nemesis_(run_, checker_, options.faults) {
    checker_.trace_key = options.trace_key;
  }

  RunResult Run() {
    world().storage_observer = [this](const NodeName& node, std::string_view k,
                                      const std::string* v) {
      checker_.OnStorageWrite(node, k, v);
    };
    if (o_.fail_assertion_at_ms != 0) {
      world().After(o_.fail_assertion_at_ms, [] {
        CAUSEWAY_ASSERT_MSG(false, "failed on purpose by the test");
      });
    }
    const int nodes = o_.nodes ? o_.nodes : 3 + static_cast<int>(Pick(5));
    const int clients = o_.clients ? o_.clients : 2 + static_cast<int>(Pick(3));
    result_.nodes = nodes;
    result_.clients = clients;
    Log("cluster of " + std::to_string(nodes) + " nodes, " +
        std::to_string(clients) + " clients, faults " + o_.faults.ToString());
    if (Form(nodes)) {
      workload_.MakeKeys();
      RunWorkload(clients);
      Quiesce();
      checker_.CheckFinal(run_.members);
      CheckFloors();
    }
    world().storage_observer = nullptr;
    const WorkloadStats& w = workload_.stats();
    result_.acked = w.acked;
    result_.indeterminate = w.indeterminate;
    result_.reads = w.reads;
    result_.max_siblings = w.max_siblings;
    result_.faults = nemesis_.faults();
    result_.final_siblings = checker_.final_siblings();
    result_.trace_hash = world().trace_hash;
    result_.violations = checker_.Reported();
    return result_;
  }

 private:
  World& world() { return run_.world; }
  std::vector<NodeName>& members() { return run_.members; }
  uint64_t Pick(uint64_t n) { return run_.Pick(n); }
  void Log(const std::string& line) { run_.Log(line); }

  bool Form(int n) {
    // Anti-entropy exchanges and tombstone reaping run in every seed.
    world().aae_timing.tombstone_reap_delay_ms = o_.reap_delay_ms;
    for (int i = 1; i <= n; ++i) {
      members().push_back("n" + std::to_string(i));
      world().AddNode(members().back(), kRing);
    }
    if (o_.faults.membership) {
      // Waits outside the cluster until the nemesis has it join.
      const NodeName spare = "n" + std::to_string(n + 1);
      nemesis_.AddSpare(spare);
      world().AddNode(spare, kRing);
    }
    for (int i = 1; i < n; ++i) {
      Status s = Join(world(), world().node(members()[i]), members()[0]);
      if (!s.ok()) {
        checker_.Violation(members()[i] + " could not join: " + s.ToString());
        return false;
      }
    }
    if (!world().RunUntil([&] { return Settled(world(), members()); },
                          120000)) {
      checker_.Violation("the cluster did not settle after forming");
      return false;
    }
    BucketPropsPatch mult;
    mult.allow_mult = true;
    BucketPropsPatch lww;
    lww.last_write_wins = true;
    SimNode& first = world().node(members()[0]);
    if (!first.core().SetBucketProps(kDefaultType, kMultBucket, mult).ok() ||
        !first.core().SetBucketProps(kDefaultType, kLwwBucket, lww).ok()) {
      checker_.Violation("could not set bucket properties");
      return false;
    }
    bool spread = world().RunUntil(
        [&] {
          for (const auto& name : members()) {
            replication::BucketProps m, l;
            auto& core = world().node(name).core();
            if (!core.GetBucketProps(kDefaultType, kMultBucket, &m).ok() ||
                !core.GetBucketProps(kDefaultType, kLwwBucket, &l).ok() ||
                !m.allow_mult || !l.last_write_wins) {
              return false;
            }
          }
          return true;
        },
        60000);
    if (!spread) {
      checker_.Violation("bucket properties did not reach every node");
      return false;
    }
    Log("cluster formed");
    return true;
  }

  // Verbose runs log each node's ring changes as they are seen.
  void WatchRings() {
    for (const auto& n : world().names()) {
      SimNode& node = world().node(n);
      if (!node.up()) continue;
      auto v = node.core().View();
      auto& seen = ring_seen_[n];
      if (seen == std::make_pair(v.ring_version, v.pending_transfers)) continue;
      seen = {v.ring_version, v.pending_transfers};
      std::string owners;
      for (size_t i = 0; i < v.owners.size(); ++i) {
        owners += (i ? "," : "") + v.owners[i];
      }
      Log(n + " has ring v" + std::to_string(v.ring_version) + " pending " +
          std::to_string(v.pending_transfers) + " owners " + owners);
    }
    world().After(100, [this] { WatchRings(); });
  }

  void RunWorkload(int clients) {
    if (o_.verbose) WatchRings();
    workload_.Start(clients);
    world().After(Pick(500), [this] { nemesis_.Next(); });
    world().RunFor(o_.workload_ms);
    run_.stopping = true;
    Log("workload over; waiting for clients");
    bool idle = world().RunUntil([&] { return workload_.Idle(); },
                                 kClientTimeoutMs + 5000);
    if (!idle) checker_.Violation("a client never finished its operation");
  }

  void CountHints() {
    for (const auto& n : members()) {
      result_.hints_delivered +=
          world().node(n).core().View().handoff.hints_delivered;
    }
  }

  bool HintsPending() {
    for (const auto& n : members()) {
      if (world().node(n).core().View().handoff.hints_pending != 0) return true;
    }
    return false;
  }

  // A seed that acknowledged (almost) no write, or whose nemesis injected
  // (almost) no fault, passed without testing anything: it fails.
  void CheckFloors() {
    const uint64_t acked = workload_.stats().acked;
    if (acked < kMinAckedPerSeed) {
      checker_.Violation("the workload acknowledged " + std::to_string(acked) +
                         " writes, fewer than the floor of " +
                         std::to_string(kMinAckedPerSeed));
    }
    const bool faulty = !(o_.faults == *FaultSet::Parse("none"));
    if (faulty && nemesis_.faults() < kMinFaultsPerSeed) {
      checker_.Violation("the nemesis injected " +
                         std::to_string(nemesis_.faults()) +
                         " faults, fewer than the floor of " +
                         std::to_string(kMinFaultsPerSeed));
    }
  }

  void Quiesce() {
    nemesis_.HealAll();
    // Membership changes in flight finish: transfers complete, leavers
    // exit, and every member agrees on the ring.
    if (!world().RunUntil([&] { return nemesis_.MembershipSettled(); },
                          120000)) {
      checker_.Violation("membership did not settle after healing:" +
                         DescribeCluster(world()));
    }
    // Failure detectors see everyone again; hinted handoff runs.
    world().RunFor(5000);
    if (!world().RunUntil([&] { return !HintsPending(); }, 30000)) {
      checker_.Violation("hinted handoff did not finish after healing:" +
                         DescribeCluster(world()));
    }
    CountHints();
    // No anti-entropy yet: a read of every key with r=all repairs replicas
    // that missed writes.
    for (int round = 0; round < 2; ++round) {
      for (auto& [name, k] : checker_.keys()) {
        SimNode& via = world().node(members()[Pick(members().size())]);
        replication::GetRequest r;
        r.id = ObjectId{kDefaultType, k.bucket, k.key};
        r.r = Quorum::All();
        auto g = Get(world(), via, r);
        world().Record(static_cast<uint64_t>(g.status.code()));
        if (!g.status.ok() && !g.status.IsNotFound()) {
          checker_.Violation(k.Name(), k.Name() + ": final r=all read via " +
                                           via.name() +
                                           " failed: " + g.status.ToString());
        }
      }
      world().RunFor(2000);
    }
  }

  SimOptions o_;
  RunContext run_;
  Checker checker_;
  Workload workload_;
  Nemesis nemesis_;
  RunResult result_;
  std::map<NodeName, std::pair<uint64_t, uint32_t>> ring_seen_;
};

RunResult RunSeed(const SimOptions& options) {
  // A failed CAUSEWAY_ASSERT during the run names this seed and its replay.
  CurrentSeed current(options.seed, ReplayCommand(options));
  return RandomRun(options).Run();
}

std::string Report(const SimOptions& o, const RunResult& r) {
  std::string out = "seed " + std::to_string(o.seed) + " (" +
                    std::to_string(r.nodes) + " nodes, " +
                    std::to_string(r.clients) + " clients) failed:\n";
  for (const auto& v : r.violations) out += "  " + v + "\n";
  out += "replay: " + ReplayCommand(o) + "\n";
  return out;
}

SimOptions OptionsFor(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  if (g_flags.faults) o.faults = *g_flags.faults;
  o.nodes = g_flags.nodes;
  if (g_flags.workload_ms) o.workload_ms = g_flags.workload_ms;
  if (g_flags.reap_delay_ms) o.reap_delay_ms = *g_flags.reap_delay_ms;
  o.verbose = g_flags.verbose;
  o.trace_key = g_flags.trace_key;
  return o;
}

// ---------------------------------------------------------------------------
// Tests.

// One seed, run twice: it must pass, and both runs must match event for
// event. With --seed=N this is the replay of a failing seed.
TEST(RandomSimReplay, OneSeed) {
  SimOptions o = OptionsFor(g_flags.seed.value_or(1));
  RunResult first = RunSeed(o);
  EXPECT_TRUE(first.violations.empty()) << Report(o, first);
  o.verbose = false;
  RunResult second = RunSeed(o);
  EXPECT_EQ(first.trace_hash, second.trace_hash)
      << "seed " << o.seed << " did not replay the same trace";
  EXPECT_GT(first.acked, 0u) << "the workload acknowledged nothing";
  std::cerr << "seed " << o.seed << ": " << first.nodes << " nodes, "
            << first.clients << " clients, " << first.acked << " acked, "
            << first.indeterminate << " indeterminate, " << first.reads
            << " reads, " << first.faults << " faults, "
            << first.hints_delivered << " hints delivered, "
            << first.max_siblings << " most siblings read, trace " << std::hex
            << first.trace_hash << std::dec << "\n";
}

// The invariants hold in a fault-free run too (a checker that only fails
// under faults would be suspect), and faults do reach the workload.
TEST(RandomSimReplay, FaultsMakeWritesIndeterminate) {
  SimOptions calm = OptionsFor(7);
  calm.faults = *FaultSet::Parse("none");
  calm.verbose = false;
  RunResult r = RunSeed(calm);
  EXPECT_TRUE(r.violations.empty()) << Report(calm, r);
  EXPECT_EQ(r.indeterminate, 0u);
  uint64_t indeterminate = 0;
  for (uint64_t seed = 100; seed < 110; ++seed) {
    SimOptions o = OptionsFor(seed);
    o.faults = FaultSet();
    o.verbose = false;
    RunResult f = RunSeed(o);
    EXPECT_TRUE(f.violations.empty()) << Report(o, f);
    indeterminate += f.indeterminate;
  }
  EXPECT_GT(indeterminate, 0u);
}

// The checker's own test: one acknowledged write, planted in a history the
// checker watched, and then lost by every replica (its records deleted
// from their storage behind the cluster's back) must fail the verdict; the
// same history with the write kept must pass, or the first result would
// mean nothing.
TEST(CheckerSelfTest, APlantedLostWriteFailsTheVerdict) {
  for (const bool lose : {false, true}) {
    World world(11);
    const std::vector<NodeName> members = FormCluster(world, 3, kRing);
    ASSERT_EQ(members.size(), 3u);
    Checker checker(world, /*verbose=*/false);
    world.storage_observer = [&checker](const NodeName& node,
                                        std::string_view key,
                                        const std::string* value) {
      checker.OnStorageWrite(node, key, value);
    };
    KeyModel& k = checker.AddKey(kNewestBucket, "planted",
                                 replication::object::Resolution::kNewest);
    Attempt a;
    a.value = "kept or lost";
    a.via = members[0];
    a.issued_ms = world.now();
    const size_t index = checker.NewAttempt(k, a);
    replication::PutRequest p;
    p.id = ObjectId{kDefaultType, k.bucket, k.key};
    p.content.value = a.value;
    p.w = Quorum::All();
    p.return_body = true;
    auto put = Put(world, world.node(members[0]), p);
    ASSERT_TRUE(put.status.ok()) << put.status.ToString();
    k.attempts[index].outcome = Outcome::kAcked;
    checker.CheckObject(k, put.object, "returned", /*stored=*/true,
                        /*count_writers=*/true);
    world.RunFor(2000);

    if (lose) {
      const uint32_t partition =
          replication::ring::Ring::SingleOwner(kRing, "x")
              .PartitionOf(
                  replication::ring::HashKey(kDefaultType, k.bucket, k.key));
      const std::string stored =
          storage::EncodeObjectKey(partition, kDefaultType, k.bucket, k.key);
      for (const auto& n : members) {
        ASSERT_TRUE(world.node(n).engine().Delete(stored, {}).ok());
      }
    }
    checker.CheckFinal(members);
    world.storage_observer = nullptr;
    const std::vector<std::string> reported = checker.Reported();
    if (!lose) {
      EXPECT_TRUE(reported.empty()) << reported.front();
      continue;
    }
    ASSERT_FALSE(reported.empty()) << "the checker missed a lost write";
    EXPECT_NE(reported.front().find("acknowledged put 'kept or lost'"),
              std::string::npos)
        << reported.front();
  }
}

// A seed too short to acknowledge writes or inject faults fails on its
// floors, though nothing it did broke an invariant.
TEST(RandomSimReplay, ASeedThatTestedNothingFails) {
  SimOptions o = OptionsFor(5);
  o.workload_ms = 1;
  o.verbose = false;
  RunResult r = RunSeed(o);
  ASSERT_EQ(r.violations.size(), 2u) << Report(o, r);
  EXPECT_NE(r.violations[0].find("acknowledged"), std::string::npos)
      << r.violations[0];
  EXPECT_NE(r.violations[1].find("faults, fewer than the floor"),
            std::string::npos)
      << r.violations[1];
}

// `text` as a regular expression that matches only itself.
std::string Literally(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// A failed CAUSEWAY_ASSERT in the middle of a seed's run fails the seed:
// stderr says which seed it was and the command that replays it.
TEST(RandomSimReplayDeathTest, FailedAssertionPrintsTheSeedsReplayCommand) {
  SimOptions o = OptionsFor(31);
  o.verbose = false;
  o.fail_assertion_at_ms = 1000;
  EXPECT_DEATH(RunSeed(o),
               "assertion failed at .*random_sim_test.cc:[0-9]+: false: "
               "failed on purpose by the test\n"
               "seed 31 failed an assertion; replay: " +
                   Literally(ReplayCommand(o)) + "\n");
}

// The campaign: blocks of seeds, one CTest entry per block so CTest can run
// blocks side by side. Every tenth seed also checks its replay.
constexpr int kSeedsPerBlock = 50;

// Runs one block of seeds; `faults`, unless --faults overrides it.
void RunBlock(uint64_t first, const FaultSet& faults) {
  int failed = 0;
  for (uint64_t seed = first; seed < first + kSeedsPerBlock; ++seed) {
    SimOptions o = OptionsFor(seed);
    if (!g_flags.faults) o.faults = faults;
    o.verbose = false;
    RunResult r = RunSeed(o);
    if (!r.violations.empty()) {
      ++failed;
      ADD_FAILURE() << Report(o, r);
      continue;
    }
    if (seed % 10 == 0) {
      EXPECT_EQ(RunSeed(o).trace_hash, r.trace_hash)
          << "seed " << seed
          << " did not replay the same trace; replay: " << ReplayCommand(o);
    }
  }
  EXPECT_EQ(failed, 0);
}

// The faults the brief names, 1000 seeds.
class RandomSimSeeds : public ::testing::TestWithParam<int> {};
TEST_P(RandomSimSeeds, Block) {
  RunBlock(1000 + GetParam() * kSeedsPerBlock, FaultSet());
}
INSTANTIATE_TEST_SUITE_P(Seeds, RandomSimSeeds, ::testing::Range(0, 20));

// The same with nodes joining and leaving under the load, 200 seeds.
class RandomSimMembershipSeeds : public ::testing::TestWithParam<int> {};
TEST_P(RandomSimMembershipSeeds, Block) {
  RunBlock(50000 + GetParam() * kSeedsPerBlock,
           *FaultSet::Parse("all,membership"));
}
INSTANTIATE_TEST_SUITE_P(Seeds, RandomSimMembershipSeeds,
                         ::testing::Range(0, 4));

// Rotating seeds: one more block whose seeds change with every commit, so
// each CI run explores seeds no run before it tried, on top of the fixed
// ones above. CMake passes the commit it configured from
// (CAUSEWAY_SIM_COMMIT); a failing seed prints its replay command like any
// other, and the block prints where it started.
uint64_t RotatingBase() {
  const char* commit = std::getenv("CAUSEWAY_SIM_COMMIT");
  const std::string text = commit != nullptr && *commit != '\0'
                               ? commit
                               : "no commit: a build outside git";
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // Above the fixed blocks' seeds (1000-1999, 50000-50199).
  return 1'000'000 + h % 1'000'000'000;
}

TEST(RandomSimRotatingSeeds, Block) {
  const uint64_t first = RotatingBase();
  const char* commit = std::getenv("CAUSEWAY_SIM_COMMIT");
  std::cerr << "rotating seeds " << first << " to "
            << first + kSeedsPerBlock - 1 << " (from commit "
            << (commit != nullptr ? commit : "unknown") << ")\n";
  RunBlock(first, FaultSet());
}

// --- Soak mode: tests/sim/soak runs this binary with --soak. ---------------

int Soak(uint64_t first, uint64_t count) {
  int failed = 0;
  uint64_t acked = 0, indeterminate = 0, hints = 0, siblings = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    SimOptions o = OptionsFor(seed);
    o.verbose = false;
    RunResult r = RunSeed(o);
    acked += r.acked;
    indeterminate += r.indeterminate;
    hints += r.hints_delivered;
    siblings = std::max(siblings, r.max_siblings);
    if (!r.violations.empty()) {
      ++failed;
      std::cout << Report(o, r) << std::flush;
    }
    if ((seed - first + 1) % 100 == 0) {
      std::cerr << "soak: " << (seed - first + 1) << "/" << count << " seeds, "
                << failed << " failed\n";
    }
  }
  std::cout << "soak: " << count << " seeds from " << first << ", " << failed
            << " failed (" << acked << " writes acknowledged, " << indeterminate
            << " indeterminate, " << hints << " hints delivered, at most "
            << siblings << " siblings read)\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace causeway::sim

namespace {

bool ParseUint(const std::string& text, uint64_t* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0') return false;
  *out = v;
  return true;
}

int Usage(const std::string& bad) {
  std::cerr << "random_sim_test: bad flag '" << bad << "'\n"
            << "flags: --seed=N  --nodes=N (3-7)  --workload-ms=N\n"
               "       --reap-delay-ms=N (tombstone reap delay; 0: keep)\n"
               "       --faults=LIST: all (the default: drop,dup,reorder,"
               "partition,crash,skew,oneway),\n"
               "         none, or a comma list of those, \"all\" and "
               "\"membership\" (nodes join and leave)\n"
               "       -v (log every operation and fault)\n"
               "       --trace-key=BUCKET/KEY (print every stored copy of it)\n"
               "       --soak --seeds=N [--first-seed=N]\n"
            << "The seed may also come from CAUSEWAY_SIM_SEED.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  using causeway::sim::FaultSet;
  using causeway::sim::g_flags;
  g_flags.argv0 = argv[0];
  bool soak = false;
  uint64_t seeds = 1000, first_seed = 1;
  if (const char* env = std::getenv("CAUSEWAY_SIM_SEED")) {
    uint64_t v;
    if (!ParseUint(env, &v))
      return Usage(std::string("CAUSEWAY_SIM_SEED=") + env);
    g_flags.seed = v;
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    // Both --flag=value and --flag value.
    std::string name = arg, value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg != "-v" && arg != "--verbose" && arg != "--soak" &&
               i + 1 < argc) {
      value = argv[++i];
    }
    uint64_t v = 0;
    if (name == "-v" || name == "--verbose") {
      g_flags.verbose = true;
    } else if (name == "--trace-key" && !value.empty()) {
      g_flags.trace_key = value;
    } else if (name == "--soak") {
      soak = true;
    } else if (name == "--seed" && ParseUint(value, &v)) {
      g_flags.seed = v;
    } else if (name == "--seeds" && ParseUint(value, &v)) {
      seeds = v;
    } else if (name == "--first-seed" && ParseUint(value, &v)) {
      first_seed = v;
    } else if (name == "--nodes" && ParseUint(value, &v) && v >= 3 && v <= 7) {
      g_flags.nodes = static_cast<int>(v);
    } else if (name == "--workload-ms" && ParseUint(value, &v) && v > 0) {
      g_flags.workload_ms = v;
    } else if (name == "--reap-delay-ms" && ParseUint(value, &v)) {
      g_flags.reap_delay_ms = v;
    } else if (name == "--faults" && FaultSet::Parse(value)) {
      g_flags.faults = FaultSet::Parse(value);
    } else {
      return Usage(arg);
    }
  }
  if (soak) return causeway::sim::Soak(first_seed, seeds);
  return RUN_ALL_TESTS();
}
