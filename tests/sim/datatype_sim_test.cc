// Randomized clusters running data types under the nemesis (nemesis.h):
// clients increment counters and add to and remove from sets through random
// members while messages are dropped, duplicated and reordered, the network
// partitions, nodes crash and restart, clocks skew and (in some seeds)
// members join and leave. Deltas travel between replicas as they would in a
// real cluster, so reordering and loss exercise the reorder buffer and its
// full-state fallback. The invariants:
//
// - after healing, every primary replica of a key holds an equal state;
// - a counter equals the acknowledged increments plus a subset of those
//   whose outcome is unknown (a failed or unanswered update may or may not
//   have been applied);
// - every acknowledged set add is present unless a remove of that element
//   was issued, and an element an acknowledged remove saw is gone (every
//   add adds a fresh element, so a remove that saw an element saw the only
//   add of it); nothing that was never added appears;
// - no reorder buffer ever holds more than its bounds, checked every
//   virtual 50 ms;
// - no replica ever stores a state holding a change of an origin without
//   that origin's earlier changes: every stored data-type state's clock is
//   the object's prefix per origin (asserted in Object::ApplyDelta), and a
//   set's own causal context has no gap (checked at every storage write).
//
// Replay one seed: datatype_sim_test --gtest_filter='*' with
// CAUSEWAY_SIM_SEED=N (and CAUSEWAY_SIM_VERBOSE=1 for a log).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "replication/crdt/causal_context.h"
#include "replication/crdt/data_type.h"
#include "replication/crdt/dot_store.h"
#include "replication/object/object.h"
#include "replication/ring/ring.h"
#include "storage/keys.h"
#include "tests/sim/checker.h"
#include "tests/sim/nemesis.h"
#include "tests/sim/run_context.h"
#include "tests/sim/seed_replay.h"
#include "tests/sim/sim.h"

namespace causeway::sim {
namespace {

using replication::ObjectId;
using replication::Quorum;
using replication::crdt::CounterOp;
using replication::crdt::SetOp;
using replication::object::Object;

constexpr const char* kCounterType = "counters";
constexpr const char* kSetType = "sets";
constexpr const char* kBucket = "b";

struct CounterModel {
  std::string key;
  int64_t acked = 0;    // sum of acknowledged increments
  int64_t unknown = 0;  // sum of increments whose outcome is unknown
};

struct SetModel {
  std::string key;
  std::set<std::string> acked_adds, unknown_adds;
  std::set<std::string> remove_issued;  // any remove of the element
  std::set<std::string> acked_removes;  // a remove that saw it, acknowledged
};

struct Client {
  int id = 0;
  uint64_t token = 0;
  bool busy = false;
  uint64_t next_element = 0;
};

class DataTypeRun {
 public:
  DataTypeRun(uint64_t seed, const FaultSet& faults, bool verbose)
      : run_(seed, verbose),
        checker_(run_.world, verbose),
        nemesis_(run_, checker_, faults),
        faults_(faults) {}

  std::vector<std::string> Run() {
    const int nodes = 3 + static_cast<int>(run_.Pick(3));
    run_.members = FormCluster(world(), nodes, kRing);
    if (run_.members.empty()) return {"the cluster did not form"};
    if (faults_.membership) {
      const NodeName spare = "n" + std::to_string(nodes + 1);
      world().AddNode(spare, kRing);
      nemesis_.AddSpare(spare);
    }
    if (!CreateTypes()) return checker_.Reported();
    for (int i = 0; i < 3; ++i) {
      counters_.push_back({"c" + std::to_string(i)});
      sets_.push_back({"s" + std::to_string(i)});
      StoredKey(kSetType, sets_.back().key);
      StoredKey(kCounterType, counters_.back().key);
    }
    world().storage_observer =
        [this](const NodeName& node, std::string_view key,
               const std::string* value) { OnStorageWrite(node, key, value); };
    WatchBuffers();
    clients_.resize(2 + run_.Pick(3));
    for (size_t i = 0; i < clients_.size(); ++i) {
      clients_[i].id = static_cast<int>(i);
      Think(clients_[i]);
    }
    world().After(run_.Pick(500), [this] { nemesis_.Next(); });
    world().RunFor(15000);
    run_.stopping = true;
    if (!world().RunUntil([&] { return Idle(); }, kClientTimeoutMs + 5000)) {
      checker_.Violation("a client never finished its operation");
    }
    Quiesce();
    CheckFinal();
    world().storage_observer = nullptr;
    return checker_.Reported();
  }

 private:
  World& world() { return run_.world; }

  bool CreateTypes() {
    auto& core = world().node(run_.members[0]).core();
    for (auto [type, datatype] :
         {std::pair{kCounterType, "counter"}, std::pair{kSetType, "set"}}) {
      replication::BucketPropsPatch patch;
      patch.datatype = datatype;
      Status s = core.CreateBucketType(type, patch);
      if (!s.ok()) {
        checker_.Violation("could not create type " + std::string(type) + ": " +
                           s.ToString());
        return false;
      }
    }
    bool spread = world().RunUntil(
        [&] {
          for (const auto& name : run_.members) {
            replication::BucketProps c, s;
            auto& n = world().node(name).core();
            if (!n.GetBucketTypeProps(kCounterType, &c).ok() ||
                !n.GetBucketTypeProps(kSetType, &s).ok() ||
                c.datatype != "counter" || s.datatype != "set") {
              return false;
            }
          }
          return true;
        },
        60000);
    if (!spread) checker_.Violation("bucket types did not reach every node");
    return spread;
  }

  bool Idle() const {
    for (const Client& c : clients_) {
      if (c.busy) return false;
    }
    return true;
  }

  void Think(Client& c) {
    c.busy = false;
    if (run_.stopping) return;
    c.busy = true;
    const uint64_t token = ++c.token;
    world().After(run_.Pick(60), [this, &c, token] {
      if (c.token == token) Step(c);
    });
  }

  // Runs `give_up` and moves on if the operation `token` is unanswered
  // after the client's timeout.
  void ArmTimeout(Client& c, uint64_t token, std::function<void()> give_up) {
    world().After(kClientTimeoutMs, [this, &c, token, give_up] {
      if (c.token != token) return;
      give_up();
      Think(c);
    });
  }

  std::optional<Quorum> RandomQuorum() {
    switch (run_.Pick(4)) {
      case 0:
        return Quorum::One();
      case 1:
        return Quorum::All();
      default:
        return std::nullopt;
    }
  }

  void Step(Client& c) {
    SimNode* via = run_.AnyUpMember();
    if (via == nullptr) return Think(c);
    if (run_.Chance(0.5)) {
      return Increment(c, *via, counters_[run_.Pick(counters_.size())]);
    }
    SetModel& k = sets_[run_.Pick(sets_.size())];
    if (run_.Chance(0.7)) return Add(c, *via, k);
    return FetchThenRemove(c, *via, k);
  }

  void Increment(Client& c, SimNode& via, CounterModel& k) {
    const int64_t by = 1 + static_cast<int64_t>(run_.Pick(5));
    replication::UpdateRequest u;
    u.id = ObjectId{kCounterType, kBucket, k.key};
    u.op = CounterOp{by};
    u.w = RandomQuorum();
    const uint64_t token = ++c.token;
    via.core().Update(std::move(u),
                      [this, &c, &k, token, by](replication::UpdateResult r) {
                        if (c.token != token) return;
                        ++c.token;
                        (r.status.ok() ? k.acked : k.unknown) += by;
                        Think(c);
                      });
    ArmTimeout(c, token, [&k, by] { k.unknown += by; });
  }

  void Add(Client& c, SimNode& via, SetModel& k) {
    const std::string e =
        "e" + std::to_string(c.id) + "." + std::to_string(c.next_element++);
    replication::UpdateRequest u;
    u.id = ObjectId{kSetType, kBucket, k.key};
    u.op = SetOp{{e}, {}};
    u.w = RandomQuorum();
    const uint64_t token = ++c.token;
    via.core().Update(
        std::move(u), [this, &c, &k, token, e](replication::UpdateResult r) {
          if (c.token != token) return;
          ++c.token;
          (r.status.ok() ? k.acked_adds : k.unknown_adds).insert(e);
          Think(c);
        });
    ArmTimeout(c, token, [&k, e] { k.unknown_adds.insert(e); });
  }

  void FetchThenRemove(Client& c, SimNode& via, SetModel& k) {
    replication::FetchRequest f;
    f.id = ObjectId{kSetType, kBucket, k.key};
    const uint64_t token = ++c.token;
    const NodeName via_name = via.name();
    via.core().Fetch(std::move(f), [this, &c, &k, token,
                                    via_name](replication::FetchResult r) {
      if (c.token != token) return;
      ++c.token;
      CheckRead(k, r);
      if (!r.status.ok() || r.value.elements.empty() ||
          !world().node(via_name).up()) {
        return Think(c);
      }
      const std::string e =
          r.value.elements[run_.Pick(r.value.elements.size())];
      Remove(c, world().node(via_name), k, e, r.context);
    });
    ArmTimeout(c, token, [] {});
  }

  void Remove(Client& c, SimNode& via, SetModel& k, const std::string& e,
              const std::string& context) {
    k.remove_issued.insert(e);
    replication::UpdateRequest u;
    u.id = ObjectId{kSetType, kBucket, k.key};
    u.op = SetOp{{}, {e}};
    u.context = context;
    u.w = RandomQuorum();
    const uint64_t token = ++c.token;
    via.core().Update(std::move(u),
                      [this, &c, &k, token, e](replication::UpdateResult r) {
                        if (c.token != token) return;
                        ++c.token;
                        if (r.status.ok()) k.acked_removes.insert(e);
                        Think(c);
                      });
    ArmTimeout(c, token, [] {});
  }

  // At every read, no replica exposes a change of an origin before that
  // origin's earlier ones: an add's dot (A, n) is live in a set only with
  // every earlier dot of A observed (live, or removed since). A replica that
  // applied A's deltas out of order would hold (A, n) past a gap.
  void CheckOriginOrder(const std::string& key) {
    const std::string stored = StoredKey(kSetType, key);
    for (const auto& name : world().names()) {
      SimNode& n = world().node(name);
      std::string bytes;
      Object o;
      if (!n.up() || !n.engine().Get(stored, &bytes).ok() ||
          !Object::Decode(bytes, &o).ok() || o.data() == nullptr) {
        continue;
      }
      const std::string state = o.data()->Encode();
      std::string_view in(state);
      in.remove_prefix(1);  // the set's version byte
      replication::crdt::CausalContext context;
      replication::crdt::SetStore live;
      if (!replication::crdt::CausalContext::DecodeFrom(&in, &context) ||
          !replication::crdt::GetSetStore(&in, context, &live)) {
        checker_.Violation(key, name +
                                    " holds a set state that does not "
                                    "decode");
        continue;
      }
      for (const auto& [element, dots] : live) {
        for (const auto& [dot, unused] : dots) {
          for (uint64_t earlier = 1; earlier < dot.counter; ++earlier) {
            if (!context.Contains({dot.actor, earlier})) {
              checker_.Violation(key, name + " exposes " + element + " (dot " +
                                          dot.ToString() +
                                          ") without the origin's change " +
                                          std::to_string(earlier));
              return;
            }
          }
        }
      }
    }
  }

  // A read shows nothing that was never added.
  void CheckRead(SetModel& k, const replication::FetchResult& r) {
    CheckOriginOrder(k.key);
    for (const std::string& e : r.value.elements) {
      if (!k.acked_adds.count(e) && !k.unknown_adds.count(e) && !InFlight(e)) {
        checker_.Violation(
            k.key, k.key + ": a read shows " + e + ", which no client added");
      }
    }
  }

  // An add whose answer has not come yet may already be visible.
  bool InFlight(const std::string& e) const {
    const size_t dot = e.find('.');
    const int client = std::atoi(e.c_str() + 1);
    const uint64_t n = std::strtoull(e.c_str() + dot + 1, nullptr, 10);
    return client < static_cast<int>(clients_.size()) &&
           n + 1 == clients_[client].next_element;
  }

  // Every object a node stores decodes. (A set's context may have gaps
  // while the cluster runs: a change of one origin can carry dots of another
  // that have not arrived yet. After healing it may not; see AgreedValue.)
  void OnStorageWrite(const NodeName& node, std::string_view key,
                      const std::string* value) {
    if (value == nullptr) return;
    storage::ObjectKeyParts parts;
    if (key.empty() || !storage::DecodeObjectKey(key, &parts) ||
        parts.type != kSetType) {
      return;
    }
    Object o;
    if (!Object::Decode(*value, &o).ok()) {
      checker_.Violation(parts.key, node + " stored an undecodable object");
      return;
    }
  }

  void WatchBuffers() {
    for (const auto& name : world().names()) {
      SimNode& n = world().node(name);
      if (!n.up()) continue;
      const auto& stats = n.core().DeltaView();
      const auto& limits = replication::vnode::DeltaBufferLimits{};
      if (stats.buffered > limits.max_deltas ||
          stats.buffered_bytes > limits.max_bytes) {
        checker_.Violation(name + "'s reorder buffer exceeds its bounds");
      }
      buffered_high_water_ =
          std::max<uint64_t>(buffered_high_water_, stats.buffered_high_water);
    }
    if (!run_.stopping) world().After(50, [this] { WatchBuffers(); });
  }

  void Quiesce() {
    nemesis_.HealAll();
    if (!world().RunUntil([&] { return nemesis_.MembershipSettled(); },
                          120000)) {
      checker_.Violation("membership did not settle after healing");
    }
    world().RunFor(5000);
    // Read repair (r=all fetches), then anti-entropy time.
    for (int round = 0; round < 2; ++round) {
      for (const auto& [type, key] : AllKeys()) {
        SimNode& via =
            world().node(run_.members[run_.Pick(run_.members.size())]);
        replication::FetchRequest f;
        f.id = ObjectId{type, kBucket, key};
        f.r = Quorum::All();
        std::optional<replication::FetchResult> out;
        via.core().Fetch(f, [&](replication::FetchResult r) { out = r; });
        world().RunUntil([&] { return out.has_value(); }, 30000);
      }
      world().RunFor(2000);
    }
    world().RunFor(10000);
  }

  std::vector<std::pair<std::string, std::string>> AllKeys() const {
    std::vector<std::pair<std::string, std::string>> keys;
    for (const auto& k : counters_) keys.push_back({kCounterType, k.key});
    for (const auto& k : sets_) keys.push_back({kSetType, k.key});
    return keys;
  }

  // Where every node stores (type, key): under the key's partition, which
  // depends only on the ring's size, so it is worked out once, from the
  // first member's ring while it is sure to be up.
  std::string StoredKey(const std::string& type, const std::string& key) {
    auto [it, added] = stored_keys_.try_emplace(type + "/" + key);
    if (added) {
      const auto owners = world().node(run_.members[0]).core().View().owners;
      replication::ring::Ring ring(owners);
      const uint32_t partition =
          ring.PartitionOf(replication::ring::HashKey(type, kBucket, key));
      it->second = storage::EncodeObjectKey(partition, type, kBucket, key);
    }
    return it->second;
  }

  // The primaries' states for (type, key), all equal, or nullopt.
  std::optional<replication::crdt::Value> AgreedValue(const std::string& type,
                                                      const std::string& key) {
    const auto owners = world().node(run_.members[0]).core().View().owners;
    replication::ring::Ring ring(owners);
    const uint32_t partition =
        ring.PartitionOf(replication::ring::HashKey(type, kBucket, key));
    const std::string stored = StoredKey(type, key);
    std::optional<std::string> agreed;
    std::optional<replication::crdt::Value> value;
    for (const auto& m : ring.Preflist(partition, kNVal)) {
      std::string bytes, state;
      Object o;
      if (world().node(m.node).engine().Get(stored, &bytes).ok() &&
          Object::Decode(bytes, &o).ok() && o.data() != nullptr) {
        state = o.data()->Encode();
        value = o.data()->Read();
        replication::crdt::CausalContext context;
        if (o.data()->tag() == replication::crdt::TypeTag::kSet &&
            replication::crdt::CausalContext::Decode(o.data()->Context(),
                                                     &context) &&
            context.HasGaps()) {
          checker_.Violation(key, type + "/" + key + " on " + m.node +
                                      " still misses a change another "
                                      "change depended on after healing");
        }
      }
      if (agreed && *agreed != state) {
        checker_.Violation(key, type + "/" + key +
                                    ": primaries hold different states "
                                    "after healing");
        return std::nullopt;
      }
      agreed = state;
    }
    if (!value) value = replication::crdt::Value{};
    return value;
  }

  void CheckFinal() {
    // A run that acknowledged nothing would pass every check below.
    int64_t acked = 0;
    size_t added = 0;
    for (const CounterModel& k : counters_) acked += k.acked;
    for (const SetModel& k : sets_) added += k.acked_adds.size();
    if (acked == 0 || added == 0) {
      checker_.Violation("the workload acknowledged no increment (" +
                         std::to_string(acked) + ") or no add (" +
                         std::to_string(added) + ")");
    }
    if (std::getenv("CAUSEWAY_SIM_VERBOSE") != nullptr) {
      std::fprintf(stderr, "acknowledged: %lld increments, %zu adds\n",
                   static_cast<long long>(acked), added);
    }
    for (const CounterModel& k : counters_) {
      auto v = AgreedValue(kCounterType, k.key);
      if (!v) continue;
      if (v->counter < k.acked || v->counter > k.acked + k.unknown) {
        checker_.Violation(
            k.key, k.key + ": counter is " + std::to_string(v->counter) +
                       ", acknowledged " + std::to_string(k.acked) +
                       " plus up to " + std::to_string(k.unknown) + " unknown");
      }
    }
    for (const SetModel& k : sets_) {
      auto v = AgreedValue(kSetType, k.key);
      if (!v) continue;
      std::set<std::string> have(v->elements.begin(), v->elements.end());
      for (const std::string& e : k.acked_adds) {
        if (!have.count(e) && !k.remove_issued.count(e)) {
          checker_.Violation(
              k.key, k.key + ": acknowledged add of " + e + " was lost");
        }
      }
      for (const std::string& e : have) {
        if (k.acked_removes.count(e)) {
          checker_.Violation(k.key, k.key + ": " + e +
                                        " survived an acknowledged remove "
                                        "that saw it");
        }
        if (!k.acked_adds.count(e) && !k.unknown_adds.count(e)) {
          checker_.Violation(k.key, k.key + ": " + e + " was never added");
        }
      }
    }
  }

  RunContext run_;
  Checker checker_;
  Nemesis nemesis_;
  FaultSet faults_;
  std::vector<CounterModel> counters_;
  std::vector<SetModel> sets_;
  std::vector<Client> clients_;
  uint64_t buffered_high_water_ = 0;
  std::map<std::string, std::string> stored_keys_;
};

void RunSeeds(uint64_t first, int count, const FaultSet& faults) {
  const char* only = std::getenv("CAUSEWAY_SIM_SEED");
  const bool verbose = std::getenv("CAUSEWAY_SIM_VERBOSE") != nullptr;
  for (int i = 0; i < count; ++i) {
    const uint64_t seed = only ? std::strtoull(only, nullptr, 10) : first + i;
    CurrentSeed current(seed, "CAUSEWAY_SIM_SEED=" + std::to_string(seed) +
                                  " datatype_sim_test");
    std::vector<std::string> violations =
        DataTypeRun(seed, faults, verbose).Run();
    EXPECT_TRUE(violations.empty())
        << "seed " << seed << " (faults " << faults.ToString()
        << "): " << violations.front() << "\nreplay: CAUSEWAY_SIM_SEED=" << seed
        << " datatype_sim_test";
    if (only) return;
  }
}

TEST(DataTypeSim, CountersAndSetsUnderEveryFault) {
  RunSeeds(1, 200, FaultSet());
}

TEST(DataTypeSim, CountersAndSetsWhileMembersJoinAndLeave) {
  FaultSet faults;
  faults.membership = true;
  RunSeeds(1001, 50, faults);
}

}  // namespace
}  // namespace causeway::sim
