// Randomized whole-cluster simulation. Each seed builds a cluster of 3 to 7
// nodes and runs a few clients against a handful of hot keys: an allow_mult
// bucket (read-modify-write, blind writes, deletes with contexts), a
// last_write_wins bucket of registers, and a bucket with default properties
// (concurrent values resolve to the newest stamp). Meanwhile a seeded
// nemesis drops, duplicates and delays messages, partitions the network
// (both ways, or one node one way), crashes and restarts nodes (never a
// majority at once) and skews their clocks; with --faults=all,membership
// nodes also join and leave. Then it heals everything, restarts every node,
// lets hinted handoff finish, forces read repair (r=all reads) and checks:
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
// - the same seed replays the same run bit for bit.
//
// Replaying one seed, with a log of every operation and fault:
//   random_sim_test --gtest_filter=RandomSimReplay.OneSeed --seed=N -v
// A long campaign: tests/sim/soak --seeds N [--faults LIST].
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "replication/ring/ring.h"
#include "storage/keys.h"
#include "tests/sim/sim.h"

namespace causeway::sim {
namespace {

using replication::BucketPropsPatch;
using replication::kDefaultType;
using replication::ObjectId;
using replication::Quorum;
using replication::causal::Dot;
using replication::causal::HlcTimestamp;
using replication::causal::VersionVector;
using replication::object::Object;
using replication::object::Resolution;
using replication::object::Sibling;

constexpr uint32_t kRing = 16;
constexpr uint32_t kNVal = 3;
constexpr const char* kMultBucket = "m";
constexpr const char* kLwwBucket = "l";
// Default properties (allow_mult=false, last_write_wins=false): concurrent
// values resolve to the newest timestamp.
constexpr const char* kNewestBucket = "n";
// A client gives up on a request it has no answer for after this long (the
// node it asked may have crashed with the request).
constexpr uint64_t kClientTimeoutMs = 10000;

// ---------------------------------------------------------------------------
// Options, shared by the tests, the replay flags and the soak mode.

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
  static std::optional<FaultSet> Parse(const std::string& list) {
    FaultSet f;
    if (list.empty()) return f;
    f = FaultSet{false, false, false, false, false, false, false, false};
    if (list == "none") return f;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
      if (item == "all") {
        FaultSet defaults;
        defaults.membership = f.membership;
        f = defaults;
      } else if (item == "membership") {
        f.membership = true;
      } else if (item == "oneway") {
        f.oneway = true;
      } else if (item == "drop") {
        f.drop = true;
      } else if (item == "dup" || item == "duplicate") {
        f.duplicate = true;
      } else if (item == "reorder" || item == "latency") {
        f.reorder = true;
      } else if (item == "partition") {
        f.partition = true;
      } else if (item == "crash") {
        f.crash = true;
      } else if (item == "skew") {
        f.skew = true;
      } else {
        return std::nullopt;
      }
    }
    return f;
  }

  std::string ToString() const {
    std::string out;
    auto add = [&](bool on, const char* name) {
      if (!on) return;
      if (!out.empty()) out += ",";
      out += name;
    };
    add(drop, "drop");
    add(duplicate, "dup");
    add(reorder, "reorder");
    add(partition, "partition");
    add(crash, "crash");
    add(skew, "skew");
    add(oneway, "oneway");
    add(membership, "membership");
    return out.empty() ? "none" : out;
  }
  bool operator==(const FaultSet&) const = default;
};

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
// The model: every write attempt and what the cluster was seen to hold.

enum class Outcome {
  kPending,
  kAcked,
  kIndeterminate,  // failed or unanswered: it may or may not have happened
  kRejected,       // refused before anything was stored
};

struct Attempt {
  int client = 0;
  bool tombstone = false;
  bool blind = false;
  std::string value;  // unique per put; empty for deletes
  VersionVector context;
  Outcome outcome = Outcome::kPending;
  std::optional<Dot> dot;
  std::optional<HlcTimestamp> timestamp;
  bool stored = false;  // seen in some replica's storage
  std::string via;
  uint64_t issued_ms = 0;
  std::string status;
};

struct KeyModel {
  std::string bucket;
  std::string key;
  Resolution resolution = Resolution::kKeepSiblings;
  bool lww() const { return resolution == Resolution::kLastWriteWins; }
  bool mult() const { return resolution == Resolution::kKeepSiblings; }
  std::vector<Attempt> attempts;
  std::map<std::string, size_t> by_value;
  // Every dot seen anywhere and what it held ('+' value, or '-' tombstone).
  std::map<Dot, std::string> content_of_dot;
  // Each node's last stored clock for the key (erased when its copy goes).
  std::map<NodeName, VersionVector> replica_clock;
  // Each node's last stored tombstone, and the join of the tombstones
  // removed (reaped) since: a key gone from every replica was deleted by
  // them.
  std::map<NodeName, Object> last_tombstone;
  std::optional<Object> reaped;

  std::string Name() const { return bucket + "/" + key; }
};

std::string Describe(const Dot& d) { return d.ToString(); }

std::string Describe(const Object& o) {
  std::string out = "{clock " + o.clock().ToString() + ", siblings [";
  bool first = true;
  for (const Sibling& s : o.siblings()) {
    if (!first) out += ", ";
    first = false;
    out += s.dot.ToString() + "@" + s.timestamp.ToString() + "=" +
           (s.deleted ? std::string("<deleted>") : "'" + s.value + "'");
  }
  return out + "]}";
}

class Checker {
 public:
  explicit Checker(World& world) : world_(world) {}

  KeyModel& AddKey(const std::string& bucket, const std::string& key,
                   Resolution resolution) {
    auto& k = keys_[bucket + "/" + key];
    k.bucket = bucket;
    k.key = key;
    k.resolution = resolution;
    return k;
  }
  KeyModel* Find(const std::string& bucket, const std::string& key) {
    auto it = keys_.find(bucket + "/" + key);
    return it == keys_.end() ? nullptr : &it->second;
  }
  std::map<std::string, KeyModel>& keys() { return keys_; }

  void Trace(const std::string& line) const {
    std::cerr << "[" << world_.now() << "ms] " << line << "\n";
  }

  // A broken invariant; `key` names the key it concerns ("" for none).
  void Violation(const std::string& key, const std::string& what) {
    violations_.push_back({world_.now(), key,
                           "t=" + std::to_string(world_.now()) + "ms " + what});
  }
  void Violation(const std::string& what) { Violation("", what); }
  std::vector<std::string> Reported() const {
    std::vector<std::string> out;
    for (const auto& v : violations_) {
      if (out.size() < 20) out.push_back(v.what);
    }
    return out;
  }

  // Which node minted under each actor id (from the minting actor each
  // replica keeps in its stored copies), to attribute dots.
  std::map<replication::causal::ActorId, NodeName> node_of_actor;
  // A key ("bucket/key") whose every storage write is printed.
  std::string trace_key;

  // Every write to any node's storage passes through here.
  void OnStorageWrite(const NodeName& node, std::string_view key,
                      const std::string* value) {
    storage::ObjectKeyParts parts;
    if (!trace_key.empty() && !key.empty() && key[0] == storage::kHintSpace &&
        storage::DecodeObjectKey(key.substr(1), &parts) &&
        parts.bucket + "/" + parts.key == trace_key) {
      Trace(node + (value ? " records a hint for " : " drops its hint for ") +
            trace_key);
      return;
    }
    if (!storage::DecodeObjectKey(key, &parts)) return;
    KeyModel* k = Find(parts.bucket, parts.key);
    if (k == nullptr) return;
    const bool traced = k->Name() == trace_key;
    if (value == nullptr) {
      // Handoff dropped a copy this node does not need.
      if (traced) Trace(node + " removed its copy of " + k->Name());
      world_.Record(std::string_view("removed:" + node));
      k->replica_clock.erase(node);
      if (auto t = k->last_tombstone.find(node); t != k->last_tombstone.end()) {
        if (!k->reaped) k->reaped = Object();
        k->reaped->Merge(t->second, k->resolution);
        k->last_tombstone.erase(t);
      }
      return;
    }
    world_.Record(*value);
    Object o;
    replication::causal::ActorId minting = 0;
    Status s = Object::Decode(*value, &o, &minting);
    if (!s.ok()) {
      Violation(k->Name(),
                k->Name() + " at " + node +
                    ": stored record does not decode: " + s.ToString());
      return;
    }
    if (minting != 0) {
      auto [it, fresh] = node_of_actor.emplace(minting, node);
      if (!fresh && it->second != node) {
        Violation(k->Name(), k->Name() + ": actor " + std::to_string(minting) +
                                 " minted at both " + it->second + " and " +
                                 node);
      }
    }
    auto prev = k->replica_clock.find(node);
    if (prev != k->replica_clock.end() && !o.clock().Descends(prev->second)) {
      Violation(k->Name(), k->Name() + " at " + node + ": clock went from " +
                               prev->second.ToString() + " to " +
                               o.clock().ToString() +
                               " (a replica's context lost entries)");
    }
    k->replica_clock[node] = o.clock();
    if (o.IsTombstone()) {
      k->last_tombstone[node] = o;
    } else {
      k->last_tombstone.erase(node);
    }
    if (traced) Trace(node + " stored " + k->Name() + " " + Describe(o));
    CheckObject(*k, o, "stored at " + node, /*stored=*/true,
                /*count_writers=*/false);
  }

  // Checks an object some replica stored or a client was given: one dot per
  // value and one value per dot, only written values, and no sibling that
  // a write in the object's own history overwrote.
  void CheckObject(KeyModel& k, const Object& o, const std::string& where,
                   bool stored, bool count_writers) {
    std::vector<const Attempt*> of_sibling;
    for (const Sibling& s : o.siblings()) {
      std::string content = (s.deleted ? "-" : "+") + s.value;
      auto [it, fresh] = k.content_of_dot.emplace(s.dot, content);
      if (!fresh && it->second != content) {
        Violation(k.Name(), k.Name() + " " + where + ": dot " +
                                Describe(s.dot) + " holds '" + content +
                                "' but held '" + it->second +
                                "' elsewhere (a dot minted twice)");
      }
      if (s.deleted) {
        of_sibling.push_back(nullptr);
        continue;
      }
      auto v = k.by_value.find(s.value);
      if (v == k.by_value.end()) {
        Violation(k.Name(), k.Name() + " " + where + ": value '" + s.value +
                                "' was never written");
        of_sibling.push_back(nullptr);
        continue;
      }
      Attempt& a = k.attempts[v->second];
      if (a.dot && *a.dot != s.dot) {
        Violation(k.Name(), k.Name() + " " + where + ": value '" + s.value +
                                "', written once, has dots " +
                                Describe(*a.dot) + " and " + Describe(s.dot) +
                                " (a write applied twice)");
      }
      if (!a.dot) a.dot = s.dot;
      if (!a.timestamp) a.timestamp = s.timestamp;
      if (stored) a.stored = true;
      of_sibling.push_back(&a);
    }
    if (!k.mult() && o.siblings().size() > 1) {
      Violation(k.Name(), k.Name() + " " + where +
                              ": object without allow_mult has " +
                              std::to_string(o.siblings().size()) +
                              " siblings: " + Describe(o));
    }
    if (!k.lww()) {
      // No sibling may survive a write in this object's history whose
      // context covered it.
      for (size_t i = 0; i < o.siblings().size(); ++i) {
        const Dot& d = o.siblings()[i].dot;
        for (const Attempt& b : k.attempts) {
          if (&b == of_sibling[i] || b.tombstone || !b.dot ||
              !o.clock().Covers(*b.dot) || !b.context.Covers(d)) {
            continue;
          }
          Violation(k.Name(), k.Name() + " " + where + ": sibling " +
                                  Describe(d) + " survives write '" + b.value +
                                  "' (" + Describe(*b.dot) +
                                  ") whose context " + b.context.ToString() +
                                  " overwrote it: " + Describe(o));
          break;
        }
      }
      if (count_writers && k.mult()) {
        size_t writers = ConcurrentWriters(k, o);
        if (o.siblings().size() > writers) {
          Violation(k.Name(), k.Name() + " " + where + ": " +
                                  std::to_string(o.siblings().size()) +
                                  " siblings but only " +
                                  std::to_string(writers) +
                                  " concurrent writers: " + Describe(o));
        }
      }
    }
  }

  // Writes that may still stand as siblings of `o`: those not refused and
  // not overwritten by a write in `o`'s history.
  size_t ConcurrentWriters(const KeyModel& k, const Object& o) const {
    std::vector<const Attempt*> past;
    for (const Attempt& b : k.attempts) {
      if (!b.tombstone && b.dot && o.clock().Covers(*b.dot)) {
        past.push_back(&b);
      }
    }
    size_t n = 0;
    for (const Attempt& a : k.attempts) {
      if (a.outcome == Outcome::kRejected) continue;
      bool overwritten =
          a.dot && std::any_of(past.begin(), past.end(), [&](const Attempt* b) {
            return b != &a && b->context.Covers(*a.dot);
          });
      n += !overwritten;
    }
    return n;
  }

  size_t NewAttempt(KeyModel& k, Attempt a) {
    k.attempts.push_back(std::move(a));
    const size_t i = k.attempts.size() - 1;
    if (!k.attempts[i].tombstone) k.by_value[k.attempts[i].value] = i;
    return i;
  }

 private:
  World& world_;
  std::map<std::string, KeyModel> keys_;
  struct Broken {
    uint64_t at;
    std::string key;
    std::string what;
  };
  std::vector<Broken> violations_;
};

// ---------------------------------------------------------------------------
// The run.

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
        world_(options.seed),
        rng_(options.seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL),
        checker_(world_) {
    checker_.trace_key = options.trace_key;
  }

  RunResult Run() {
    world_.storage_observer = [this](const NodeName& node, std::string_view k,
                                     const std::string* v) {
      checker_.OnStorageWrite(node, k, v);
    };
    const int nodes = o_.nodes ? o_.nodes : 3 + static_cast<int>(Pick(5));
    const int clients = o_.clients ? o_.clients : 2 + static_cast<int>(Pick(3));
    result_.nodes = nodes;
    result_.clients = clients;
    Log("cluster of " + std::to_string(nodes) + " nodes, " +
        std::to_string(clients) + " clients, faults " + o_.faults.ToString());
    if (Form(nodes)) {
      MakeKeys();
      Workload(clients);
      Quiesce();
      CheckFinal();
    }
    world_.storage_observer = nullptr;
    result_.trace_hash = world_.trace_hash;
    result_.violations = checker_.Reported();
    return result_;
  }

 private:
  struct Client {
    int id = 0;
    uint64_t token = 0;  // the operation in progress
    bool busy = false;
    uint64_t next_value = 0;
    std::map<std::string, VersionVector> context;  // last clock seen, by key
  };

  uint64_t Pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool Chance(double p) {
    return std::uniform_real_distribution<>(0, 1)(rng_) < p;
  }
  void Log(const std::string& line) {
    if (o_.verbose) {
      std::cerr << "[" << world_.now() << "ms] " << line << "\n";
    }
  }

  bool Form(int n) {
    // Anti-entropy exchanges and tombstone reaping run in every seed.
    world_.aae_timing.tombstone_reap_delay_ms = o_.reap_delay_ms;
    for (int i = 1; i <= n; ++i) {
      names_.push_back("n" + std::to_string(i));
      world_.AddNode(names_.back(), kRing);
    }
    if (o_.faults.membership) {
      // Waits outside the cluster until the nemesis has it join.
      spares_.push_back("n" + std::to_string(n + 1));
      world_.AddNode(spares_.back(), kRing);
    }
    for (int i = 1; i < n; ++i) {
      Status s = Join(world_, world_.node(names_[i]), names_[0]);
      if (!s.ok()) {
        checker_.Violation(names_[i] + " could not join: " + s.ToString());
        return false;
      }
    }
    if (!world_.RunUntil([&] { return Settled(world_, names_); }, 120000)) {
      checker_.Violation("the cluster did not settle after forming");
      return false;
    }
    BucketPropsPatch mult;
    mult.allow_mult = true;
    BucketPropsPatch lww;
    lww.last_write_wins = true;
    SimNode& first = world_.node(names_[0]);
    if (!first.core().SetBucketProps(kDefaultType, kMultBucket, mult).ok() ||
        !first.core().SetBucketProps(kDefaultType, kLwwBucket, lww).ok()) {
      checker_.Violation("could not set bucket properties");
      return false;
    }
    bool spread = world_.RunUntil(
        [&] {
          for (const auto& name : names_) {
            replication::BucketProps m, l;
            auto& core = world_.node(name).core();
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

  void MakeKeys() {
    const int mult = 2 + static_cast<int>(Pick(3));
    const int lww = 1 + static_cast<int>(Pick(2));
    const int newest = 1 + static_cast<int>(Pick(2));
    for (int i = 0; i < mult; ++i) {
      mult_keys_.push_back(&checker_.AddKey(
          kMultBucket, "k" + std::to_string(i), Resolution::kKeepSiblings));
    }
    for (int i = 0; i < lww; ++i) {
      lww_keys_.push_back(&checker_.AddKey(kLwwBucket, "r" + std::to_string(i),
                                           Resolution::kLastWriteWins));
    }
    for (int i = 0; i < newest; ++i) {
      newest_keys_.push_back(&checker_.AddKey(
          kNewestBucket, "n" + std::to_string(i), Resolution::kNewest));
    }
  }

  // --- Clients --------------------------------------------------------------

  SimNode* AnyUpNode() {
    std::vector<SimNode*> up;
    for (const auto& n : names_) {
      if (world_.node(n).up()) up.push_back(&world_.node(n));
    }
    return up.empty() ? nullptr : up[Pick(up.size())];
  }

  std::optional<Quorum> RandomQuorum() {
    switch (Pick(8)) {
      case 0:
        return Quorum::One();
      case 1:
        return Quorum::All();
      case 2:
        return Quorum::Majority();
      default:
        return std::nullopt;  // the bucket's default (quorum)
    }
  }

  void Think(Client& c) {
    c.busy = false;
    if (stopping_) return;
    c.busy = true;
    const uint64_t token = ++c.token;
    world_.After(Pick(60), [this, &c, token] {
      if (c.token == token) Step(c);
    });
  }

  // Arms the client-side timeout of the operation `token`; `give_up` runs if
  // no answer came.
  void ArmTimeout(Client& c, uint64_t token, std::function<void()> give_up) {
    world_.After(kClientTimeoutMs, [this, &c, token, give_up] {
      if (c.token != token) return;
      give_up();
      Think(c);
    });
  }

  void Step(Client& c) {
    SimNode* via = AnyUpNode();
    if (via == nullptr) return Think(c);
    const uint64_t group = Pick(10);
    const auto& keys =
        group < 3 ? lww_keys_ : (group < 5 ? newest_keys_ : mult_keys_);
    KeyModel& k = *keys[Pick(keys.size())];
    const uint64_t roll = Pick(100);
    if (k.lww()) {
      if (roll < 55) return DoPut(c, *via, k, /*blind=*/true);
      if (roll < 70) return DoPut(c, *via, k, /*blind=*/false);
      if (roll < 95) return DoRead(c, *via, k, /*then=*/0);
      return DoRead(c, *via, k, /*then=*/2);
    }
    if (roll < 20) return DoRead(c, *via, k, /*then=*/0);
    if (roll < 55) return DoRead(c, *via, k, /*then=*/1);  // read-modify-write
    if (roll < 70) return DoPut(c, *via, k, /*blind=*/false);
    if (roll < 85) return DoPut(c, *via, k, /*blind=*/true);
    return DoRead(c, *via, k, /*then=*/2);  // read, then delete what was read
  }

  // Reads `k`; then=1 writes with the context read, then=2 deletes with it.
  void DoRead(Client& c, SimNode& via, KeyModel& k, int then) {
    replication::GetRequest r;
    r.id = ObjectId{kDefaultType, k.bucket, k.key};
    r.r = RandomQuorum();
    if (Chance(0.1)) r.notfound_ok = false;
    const uint64_t token = c.token;
    const std::string node = via.name();
    ++result_.reads;
    ArmTimeout(c, token, [this, &c, &k, node] {
      Log("c" + std::to_string(c.id) + " get " + k.Name() + " via " + node +
          ": no answer");
    });
    via.core().Get(std::move(r), [this, &c, &k, token, then,
                                  node](replication::GetResult g) {
      if (c.token != token) return;
      ++c.token;
      world_.Record(static_cast<uint64_t>(g.status.code()));
      Log("c" + std::to_string(c.id) + " get " + k.Name() + " via " + node +
          ": " + g.status.ToString() + " " + Describe(g.object));
      const bool answered = g.status.ok() || g.status.IsNotFound();
      if (answered) {
        result_.max_siblings = std::max<uint64_t>(result_.max_siblings,
                                                  g.object.siblings().size());
        checker_.CheckObject(k, g.object, "read by c" + std::to_string(c.id),
                             /*stored=*/false, /*count_writers=*/true);
        c.context[k.Name()] = g.object.clock();
      }
      // The follow-up runs as its own step, not inside the node's callback.
      if (answered && then != 0 && !stopping_) {
        const uint64_t next = ++c.token;
        world_.After(Pick(20), [this, &c, &k, then, next] {
          if (c.token != next) return;
          SimNode* v = AnyUpNode();
          if (v == nullptr) return Think(c);
          if (then == 1) return DoPut(c, *v, k, /*blind=*/false);
          if (c.context[k.Name()].empty()) return Think(c);
          DoDelete(c, *v, k);
        });
        return;
      }
      Think(c);
    });
  }

  void DoPut(Client& c, SimNode& via, KeyModel& k, bool blind) {
    Attempt a;
    a.client = c.id;
    a.blind = blind;
    a.value = "c" + std::to_string(c.id) + "." + std::to_string(c.next_value++);
    if (!blind) a.context = c.context[k.Name()];
    a.via = via.name();
    a.issued_ms = world_.now();
    const size_t index = checker_.NewAttempt(k, a);

    replication::PutRequest p;
    p.id = ObjectId{kDefaultType, k.bucket, k.key};
    p.context = a.context;
    p.content.value = a.value;
    p.content.meta.content_type = "text/plain";
    p.w = RandomQuorum();
    if (Chance(0.1)) p.pw = Quorum::Number(1);
    // The reply carries the stored object: how the client learns the dot
    // and timestamp its write got.
    p.return_body = true;
    const uint64_t token = c.token;
    ArmTimeout(c, token, [this, &k, index] {
      Attempt& at = k.attempts[index];
      at.outcome = Outcome::kIndeterminate;
      at.status = "client timeout";
      ++result_.indeterminate;
      Log("c" + std::to_string(at.client) + " put " + k.Name() + " '" +
          at.value + "' via " + at.via + ": no answer");
    });
    via.core().Put(std::move(p), [this, &c, &k, token,
                                  index](replication::PutResult r) {
      if (c.token != token) return;
      ++c.token;
      world_.Record(static_cast<uint64_t>(r.status.code()));
      Attempt& at = k.attempts[index];
      at.status = r.status.ToString();
      Log("c" + std::to_string(c.id) + " put " + k.Name() + " '" + at.value +
          "' ctx " + at.context.ToString() + " via " + at.via + ": " +
          at.status + (r.status.ok() ? " " + Describe(r.object) : ""));
      if (r.status.ok()) {
        at.outcome = Outcome::kAcked;
        ++result_.acked;
        checker_.CheckObject(k, r.object,
                             "returned to c" + std::to_string(c.id),
                             /*stored=*/true, /*count_writers=*/true);
        Attempt& again = k.attempts[index];
        bool present = std::any_of(
            r.object.siblings().begin(), r.object.siblings().end(),
            [&](const Sibling& s) { return s.value == again.value; });
        if (!present) {
          checker_.Violation(k.Name(), k.Name() + ": acknowledged put '" +
                                           again.value +
                                           "' is missing from its own reply " +
                                           Describe(r.object));
        }
        c.context[k.Name()] = r.object.clock();
      } else if (r.status.code() == Status::Code::kInvalidArgument ||
                 r.status.code() == Status::Code::kPreconditionFailed) {
        at.outcome = Outcome::kRejected;
      } else {
        at.outcome = Outcome::kIndeterminate;
        ++result_.indeterminate;
      }
      Think(c);
    });
  }

  void DoDelete(Client& c, SimNode& via, KeyModel& k) {
    Attempt a;
    a.client = c.id;
    a.tombstone = true;
    a.context = c.context[k.Name()];
    a.via = via.name();
    a.issued_ms = world_.now();
    const size_t index = checker_.NewAttempt(k, a);
    replication::DeleteRequest d;
    d.id = ObjectId{kDefaultType, k.bucket, k.key};
    d.context = a.context;
    d.w = RandomQuorum();
    const uint64_t token = c.token;
    ArmTimeout(c, token, [this, &k, index] {
      Attempt& at = k.attempts[index];
      at.outcome = Outcome::kIndeterminate;
      at.status = "client timeout";
      ++result_.indeterminate;
    });
    via.core().Delete(std::move(d), [this, &c, &k, token,
                                     index](replication::DeleteResult r) {
      if (c.token != token) return;
      ++c.token;
      world_.Record(static_cast<uint64_t>(r.status.code()));
      Attempt& at = k.attempts[index];
      at.status = r.status.ToString();
      Log("c" + std::to_string(c.id) + " delete " + k.Name() + " ctx " +
          at.context.ToString() + " via " + at.via + ": " + at.status);
      if (r.status.ok()) {
        at.outcome = Outcome::kAcked;
        ++result_.acked;
      } else if (r.status.code() == Status::Code::kInvalidArgument ||
                 r.status.code() == Status::Code::kPreconditionFailed) {
        at.outcome = Outcome::kRejected;
      } else {
        at.outcome = Outcome::kIndeterminate;
        ++result_.indeterminate;
      }
      Think(c);
    });
  }

  // --- The nemesis ----------------------------------------------------------

  void Nemesis() {
    if (stopping_) return;
    std::vector<int> kinds;
    if (o_.faults.drop || o_.faults.duplicate || o_.faults.reorder) {
      kinds.push_back(0);
    }
    if (o_.faults.partition) kinds.push_back(1);
    if (o_.faults.crash) kinds.push_back(2);
    if (o_.faults.skew) kinds.push_back(3);
    if (o_.faults.membership) kinds.push_back(4);
    if (o_.faults.oneway) kinds.push_back(5);
    if (kinds.empty()) return;
    ++result_.faults;
    switch (kinds[Pick(kinds.size())]) {
      case 0:
        RandomNetwork();
        break;
      case 1:
        RandomPartition();
        break;
      case 2:
        RandomCrash();
        break;
      case 3:
        RandomSkew();
        break;
      case 4:
        RandomMembershipChange();
        break;
      case 5:
        RandomOneWayCut();
        break;
    }
    world_.After(200 + Pick(1300), [this] { Nemesis(); });
  }

  void RandomNetwork() {
    NetworkFaults f;
    if (o_.faults.drop) f.drop = Chance(0.3) ? 0 : Pick(16) / 100.0;
    if (o_.faults.duplicate) f.duplicate = Chance(0.3) ? 0 : Pick(11) / 100.0;
    if (o_.faults.reorder) {
      f.min_latency_ms = 1 + Pick(3);
      f.max_latency_ms = f.min_latency_ms + Pick(80);
    }
    world_.faults = f;
    Log("network: drop " + std::to_string(f.drop) + " dup " +
        std::to_string(f.duplicate) + " latency " +
        std::to_string(f.min_latency_ms) + "-" +
        std::to_string(f.max_latency_ms) + "ms");
  }

  void RandomPartition() {
    if (partitioned_) return;
    std::vector<NodeName> shuffled = names_;
    std::shuffle(shuffled.begin(), shuffled.end(), rng_);
    const size_t cut = 1 + Pick(shuffled.size() - 1);
    std::set<NodeName> a(shuffled.begin(), shuffled.begin() + cut);
    std::set<NodeName> b(shuffled.begin() + cut, shuffled.end());
    world_.Partition({a, b});
    partitioned_ = true;
    std::string desc;
    for (const auto& n : a) desc += n + " ";
    desc += "|";
    for (const auto& n : b) desc += " " + n;
    Log("partition: " + desc);
    world_.After(500 + Pick(4500), [this] {
      if (!partitioned_) return;
      world_.Heal();
      partitioned_ = false;
      Log("partition healed");
    });
  }

  // One node's links cut in one direction: it hears the others but they
  // do not hear it, or the reverse.
  void RandomOneWayCut() {
    if (partitioned_) return;
    const NodeName x = names_[Pick(names_.size())];
    const bool deaf = Chance(0.5);
    for (const auto& n : names_) {
      if (n == x) continue;
      if (deaf) {
        world_.Block(n, x);
      } else {
        world_.Block(x, n);
      }
    }
    partitioned_ = true;
    Log(x + (deaf ? " hears no one" : " is heard by no one"));
    world_.After(500 + Pick(4500), [this] {
      if (!partitioned_) return;
      world_.Heal();
      partitioned_ = false;
      Log("links healed");
    });
  }

  void RandomCrash() {
    // Never a majority down at once.
    const size_t max_down = (names_.size() - 1) / 2;
    size_t down = 0;
    std::vector<NodeName> up;
    for (const auto& n : names_) {
      if (world_.node(n).up()) {
        up.push_back(n);
      } else {
        ++down;
      }
    }
    if (down >= max_down || up.empty()) return;
    NodeName victim = up[Pick(up.size())];
    world_.node(victim).Crash();
    Log("crash " + victim);
    world_.After(300 + Pick(5700), [this, victim] {
      SimNode& node = world_.node(victim);
      if (node.up()) return;
      node.Boot();
      Log("restart " + victim + (node.up() ? "" : " FAILED"));
      if (!node.up()) checker_.Violation(victim + " failed to restart");
      // A leaver that finished while down exits before serving anyone.
      if (leaving_.count(victim)) Exited(victim);
    });
  }

  // A spare joins, or a member leaves (never below three members, one
  // change in flight at a time).
  void RandomMembershipChange() {
    if (changing_) return;
    SimNode* seed = AnyUpNode();
    if (seed == nullptr) return;
    if (!spares_.empty() && (names_.size() <= 3 || Chance(0.5))) {
      const NodeName joiner = spares_.back();
      changing_ = true;
      Log("join " + joiner + " via " + seed->name());
      world_.node(joiner).core().Join(seed->name(), [this, joiner](Status s) {
        Log("join " + joiner + ": " + s.ToString());
        changing_ = false;
        if (!s.ok()) return;
        std::erase(spares_, joiner);
        names_.push_back(joiner);
      });
      return;
    }
    if (names_.size() <= 3) return;
    SimNode& leaver = *seed;
    changing_ = true;
    Log("leave " + leaver.name());
    leaver.core().Leave("", [this, name = leaver.name()](Status s) {
      Log("leave " + name + ": " + s.ToString());
      if (!s.ok()) {
        changing_ = false;
        return;
      }
      leaving_.insert(name);
      AwaitExit(name);
    });
  }

  // A join whose reply was lost reports failure, yet the cluster admitted
  // the node, which completes the join when the cluster's gossip reaches
  // it. Once it has the cluster's ring, count it as a member.
  void SyncMembers() {
    for (auto it = spares_.begin(); it != spares_.end();) {
      SimNode& node = world_.node(*it);
      if (node.up() && node.core().View().members.size() > 1) {
        Log(*it + " is a member after all");
        names_.push_back(*it);
        it = spares_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // A leaving node exits once it has handed everything off: it stops for
  // good and is no longer a member anyone sends clients to.
  void AwaitExit(const NodeName& name) {
    if (Exited(name)) return;
    world_.After(500, [this, name] { AwaitExit(name); });
  }

  bool Exited(const NodeName& name) {
    if (std::find(names_.begin(), names_.end(), name) == names_.end()) {
      return true;  // already gone
    }
    SimNode& node = world_.node(name);
    // A removed node restarted (after a crash) founds a cluster of its own:
    // it has left too, whatever it still holds (the final check looks).
    const bool restarted_alone =
        node.up() && node.core().View().members.size() == 1;
    if (!node.up() || !(node.core().ReadyToExit() || restarted_alone)) {
      return false;
    }
    Depart(name);
    return true;
  }

  void Depart(const NodeName& name) {
    world_.node(name).Crash();
    std::erase(names_, name);
    leaving_.erase(name);
    changing_ = false;
    Log(name + " left the cluster");
  }

  std::string DescribeCluster() {
    std::string out;
    for (const auto& n : world_.names()) {
      SimNode& node = world_.node(n);
      out += "\n    " + n + ":";
      if (!node.up()) {
        out += " down";
        continue;
      }
      auto v = node.core().View();
      out += " ring v" + std::to_string(v.ring_version) + " claimant " +
             v.claimant + " pending " + std::to_string(v.pending_transfers) +
             " done [";
      for (const auto& d : v.transfers_done) out += " " + d;
      out += " ] transfer " +
             std::string(v.handoff.transfer_running ? "running" : "idle") +
             " cleanup " + (v.handoff.cleanup_running ? "running" : "idle") +
             " hints " + std::to_string(v.handoff.hints_pending) +
             (node.core().ReadyToExit() ? " ready-to-exit" : "");
      for (const auto& [key, owed] : HintMarkers(n)) {
        out += " [" + key + " owed to";
        for (const auto& p : owed) out += " " + p;
        out += "]";
      }
      out += "; members";
      for (const auto& m : v.members) {
        out += " " + m.name + "=" + m.status + (m.up ? "" : "(down)") + "/" +
               std::to_string(m.partitions) + ">" +
               std::to_string(m.next_partitions);
      }
    }
    return out;
  }

  void RandomSkew() {
    NodeName n = names_[Pick(names_.size())];
    int64_t skew = static_cast<int64_t>(Pick(6001)) - 3000;
    world_.node(n).skew_ms = skew;
    Log("skew " + n + " " + std::to_string(skew) + "ms");
  }

  // --- Phases ---------------------------------------------------------------

  // Verbose runs log each node's ring changes as they are seen.
  void WatchRings() {
    for (const auto& n : world_.names()) {
      SimNode& node = world_.node(n);
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
    world_.After(100, [this] { WatchRings(); });
  }

  void Workload(int clients) {
    if (o_.verbose) WatchRings();
    clients_.resize(clients);
    for (int i = 0; i < clients; ++i) {
      clients_[i].id = i + 1;
      Think(clients_[i]);
    }
    world_.After(Pick(500), [this] { Nemesis(); });
    world_.RunFor(o_.workload_ms);
    stopping_ = true;
    Log("workload over; waiting for clients");
    bool idle = world_.RunUntil(
        [&] {
          return std::none_of(clients_.begin(), clients_.end(),
                              [](const Client& c) { return c.busy; });
        },
        kClientTimeoutMs + 5000);
    if (!idle) checker_.Violation("a client never finished its operation");
  }

  void CountHints() {
    for (const auto& n : names_) {
      result_.hints_delivered +=
          world_.node(n).core().View().handoff.hints_delivered;
    }
  }

  // The node's hint markers: key name, and the primaries still owed it.
  std::vector<std::pair<std::string, std::vector<NodeName>>> HintMarkers(
      const NodeName& n) {
    std::vector<std::pair<std::string, std::vector<NodeName>>> out;
    const std::string begin(1, storage::kHintSpace);
    world_.node(n).engine().Scan(
        begin, storage::PrefixEnd(begin),
        [&](std::string_view k, std::string_view v) {
          storage::ObjectKeyParts parts;
          if (!storage::DecodeObjectKey(k.substr(1), &parts)) return true;
          std::vector<NodeName> owed;
          // Each primary owed: a 2-byte big-endian length and the name.
          while (v.size() >= 2) {
            size_t len =
                (static_cast<uint8_t>(v[0]) << 8) | static_cast<uint8_t>(v[1]);
            if (v.size() < 2 + len) break;
            owed.emplace_back(v.substr(2, len));
            v.remove_prefix(2 + len);
          }
          out.emplace_back(parts.bucket + "/" + parts.key, std::move(owed));
          return true;
        });
    return out;
  }

  bool HintsPending() {
    for (const auto& n : names_) {
      if (world_.node(n).core().View().handoff.hints_pending != 0) return true;
    }
    return false;
  }

  void Quiesce() {
    world_.Heal();
    partitioned_ = false;
    world_.faults = NetworkFaults();
    for (const auto& n : names_) {
      SimNode& node = world_.node(n);
      if (!node.up()) {
        node.Boot();
        Log("final restart " + n);
      }
    }
    for (const NodeName& n : std::set<NodeName>(leaving_)) Exited(n);
    // Membership changes in flight finish: transfers complete, leavers
    // exit (AwaitExit), and every member agrees on the ring.
    if (!world_.RunUntil(
            [&] {
              SyncMembers();
              return !changing_ && Settled(world_, names_);
            },
            120000)) {
      checker_.Violation("membership did not settle after healing:" +
                         DescribeCluster());
    }
    // Failure detectors see everyone again; hinted handoff runs.
    world_.RunFor(5000);
    if (!world_.RunUntil([&] { return !HintsPending(); }, 30000)) {
      checker_.Violation("hinted handoff did not finish after healing:" +
                         DescribeCluster());
    }
    CountHints();
    // No anti-entropy yet: a read of every key with r=all repairs replicas
    // that missed writes.
    for (int round = 0; round < 2; ++round) {
      for (auto& [name, k] : checker_.keys()) {
        SimNode& via = world_.node(names_[Pick(names_.size())]);
        replication::GetRequest r;
        r.id = ObjectId{kDefaultType, k.bucket, k.key};
        r.r = Quorum::All();
        auto g = Get(world_, via, r);
        world_.Record(static_cast<uint64_t>(g.status.code()));
        if (!g.status.ok() && !g.status.IsNotFound()) {
          checker_.Violation(k.Name(), k.Name() + ": final r=all read via " +
                                           via.name() +
                                           " failed: " + g.status.ToString());
        }
      }
      world_.RunFor(2000);
    }
  }

  // --- Final checks ---------------------------------------------------------

  void CheckFinal() {
    if (o_.verbose) Log("after quiescing:" + DescribeCluster());
    const auto owners = world_.node(names_[0]).core().View().owners;
    for (const auto& n : names_) {
      if (world_.node(n).core().View().owners != owners) {
        checker_.Violation("nodes disagree on the ring after quiescing");
        return;
      }
    }
    replication::ring::Ring ring(owners);
    for (auto& [name, k] : checker_.keys()) {
      const uint32_t partition = ring.PartitionOf(
          replication::ring::HashKey(kDefaultType, k.bucket, k.key));
      const std::string stored_key =
          storage::EncodeObjectKey(partition, kDefaultType, k.bucket, k.key);
      std::set<NodeName> primaries;
      for (const auto& m : ring.Preflist(partition, kNVal)) {
        primaries.insert(m.node);
      }
      // Copies in their replicated form: without the minting actor, which
      // each replica keeps for itself. (One that does not decode is kept
      // as stored, and reported below.)
      std::map<NodeName, std::string> copies;
      for (const auto& n : world_.names()) {
        std::string bytes;
        if (world_.node(n).engine().Get(stored_key, &bytes).ok()) {
          Object o;
          copies[n] = Object::Decode(bytes, &o).ok() ? o.Encode() : bytes;
        }
      }
      // Every primary holds the same object.
      std::optional<std::string> agreed;
      for (const auto& p : primaries) {
        auto it = copies.find(p);
        std::string got = it == copies.end() ? "<none>" : it->second;
        if (!agreed) {
          agreed = got;
        } else if (*agreed != got) {
          std::string detail;
          for (const auto& q : primaries) {
            Object o;
            auto c = copies.find(q);
            detail += " " + q + "=" +
                      (c == copies.end() ? std::string("<none>")
                                         : (Object::Decode(c->second, &o).ok()
                                                ? Describe(o)
                                                : std::string("<corrupt>")));
          }
          checker_.Violation(
              k.Name(),
              k.Name() + ": replicas differ after quiescing:" + detail);
          break;
        }
      }
      Object final_object;
      if (agreed && *agreed != "<none>" &&
          !Object::Decode(*agreed, &final_object).ok()) {
        checker_.Violation(k.Name(),
                           k.Name() + ": final object does not decode");
        continue;
      }
      // Copies elsewhere (fallbacks, departed nodes) must hold no value the
      // replicas lack: merged in, they would change no sibling. (Their
      // clocks may know more: a write that lost there under
      // last_write_wins leaves only a clock entry.) Values a reaped
      // tombstone deleted count as held: the replicas knew and dropped them.
      Object known = final_object;
      if (k.reaped) known.Merge(*k.reaped, k.resolution);
      for (const auto& [n, bytes] : copies) {
        if (primaries.count(n)) continue;
        Object stray;
        if (!Object::Decode(bytes, &stray).ok()) {
          checker_.Violation(
              k.Name(),
              k.Name() + ": " + n + " holds a copy that does not decode");
          continue;
        }
        Object merged = known;
        merged.Merge(stray, k.resolution);
        if (merged.siblings() == known.siblings()) continue;
        merged = final_object;
        merged.Merge(stray, k.resolution);
        if (merged.siblings() != final_object.siblings()) {
          checker_.Violation(
              k.Name(), k.Name() + ": " + n +
                            " (not a replica) holds what the replicas lack: " +
                            Describe(stray) + " vs " + Describe(final_object));
        }
      }
      result_.final_siblings += final_object.siblings().size();
      checker_.CheckObject(k, final_object, "after quiescing",
                           /*stored=*/true, /*count_writers=*/true);
      std::string holders;
      for (const auto& p : primaries) holders += " " + p;
      holders += " | copies:";
      for (const auto& [n, bytes] : copies) holders += " " + n;
      Log(k.Name() + " replicas" + holders + "; final " +
          Describe(final_object));
      CheckNoAckedWriteLost(k, final_object);
    }
  }

  void CheckNoAckedWriteLost(KeyModel& k, const Object& f) {
    for (const Attempt& a : k.attempts) {
      if (a.outcome != Outcome::kAcked || a.tombstone) continue;
      if (!a.dot) {
        checker_.Violation(k.Name(), k.Name() + ": acknowledged put '" +
                                         a.value + "' never showed a dot");
        continue;
      }
      const std::string what = k.Name() + ": acknowledged put '" + a.value +
                               "' (" + Describe(*a.dot) + ", via " + a.via +
                               " at " + std::to_string(a.issued_ms) + "ms)";
      // Deleted, and the tombstone reaped since: the key may have started
      // over with a fresh history that does not mention it.
      if (k.reaped && k.reaped->clock().Covers(*a.dot)) continue;
      if (!f.clock().Covers(*a.dot)) {
        checker_.Violation(k.Name(), what + " is not in the final clock " +
                                         f.clock().ToString());
        continue;
      }
      if (k.lww()) {
        // Last write wins: only a newer write may replace it.
        if (f.siblings().empty()) {
          checker_.Violation(k.Name(),
                             what + " lost: the final object is empty");
          continue;
        }
        const Sibling& w = f.siblings().front();
        if (std::tie(w.timestamp, w.dot) < std::tie(*a.timestamp, *a.dot)) {
          checker_.Violation(k.Name(),
                             what + " stamped " + a.timestamp->ToString() +
                                 " lost to older " + w.dot.ToString() + "@" +
                                 w.timestamp.ToString());
        }
        continue;
      }
      bool present =
          std::any_of(f.siblings().begin(), f.siblings().end(),
                      [&](const Sibling& s) { return s.dot == *a.dot; });
      if (present) continue;
      // Overwritten: by a write or delete that had read it and that may have
      // happened (acknowledged, seen in storage, or a delete not refused).
      bool superseded = std::any_of(
          k.attempts.begin(), k.attempts.end(), [&](const Attempt& b) {
            if (&b == &a || !b.context.Covers(*a.dot)) return false;
            if (b.outcome == Outcome::kAcked || b.stored) return true;
            return b.tombstone && b.outcome != Outcome::kRejected;
          });
      if (superseded) continue;
      if (k.resolution == Resolution::kNewest && !f.siblings().empty() &&
          std::tie(*a.timestamp, *a.dot) <
              std::tie(f.siblings().front().timestamp,
                       f.siblings().front().dot)) {
        continue;  // a concurrent write stamped later won
      }
      checker_.Violation(k.Name(),
                         what + " lost: not in " + Describe(f) +
                             " and no write that saw it replaced it" +
                             (k.mult() ? "" : ", nor a newer one won"));
    }
  }

  SimOptions o_;
  World world_;
  std::mt19937_64 rng_;
  Checker checker_;
  RunResult result_;
  std::vector<NodeName> names_;
  std::vector<KeyModel*> mult_keys_, lww_keys_, newest_keys_;
  std::vector<Client> clients_;
  bool stopping_ = false;
  bool partitioned_ = false;
  bool changing_ = false;  // a join or leave is in flight
  std::vector<NodeName> spares_;
  std::set<NodeName> leaving_;
  std::map<NodeName, std::pair<uint64_t, uint32_t>> ring_seen_;
};

RunResult RunSeed(const SimOptions& options) {
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
