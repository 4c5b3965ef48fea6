// Anti-entropy in whole simulated clusters: replicas diverged by lost
// writes, a wiped disk, deletes and writes racing the repair end with
// identical trees and identical objects, nothing acknowledged is lost, and
// tombstones every primary holds are reaped without coming back.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "replication/aae/tree.h"
#include "storage/keys.h"
#include "tests/sim/sim.h"

namespace causeway::sim {
namespace {

using replication::GetRequest;
using replication::kDefaultType;
using replication::ObjectId;
using replication::PutRequest;

constexpr uint32_t kRing = 16;

PutRequest MakePut(const std::string& key, const std::string& value) {
  PutRequest r;
  r.id = ObjectId{kDefaultType, "b", key};
  r.content.value = value;
  return r;
}

GetRequest MakeGet(const std::string& key) {
  GetRequest r;
  r.id = ObjectId{kDefaultType, "b", key};
  return r;
}

// Every object a node stores, by storage key.
// The node's objects in their replicated form: without the minting actor
// each replica keeps in its own copy (a record that does not decode is kept
// as stored).
std::map<std::string, std::string> Objects(SimNode& node) {
  std::map<std::string, std::string> out;
  node.engine().Scan(storage::ObjectSpaceBegin(), storage::ObjectSpaceEnd(),
                     [&](std::string_view k, std::string_view v) {
                       replication::object::Object o;
                       out.emplace(
                           k, replication::object::Object::Decode(v, &o).ok()
                                  ? o.Encode()
                                  : std::string(v));
                       return true;
                     });
  return out;
}

class AaeSim : public ::testing::Test {
 protected:
  explicit AaeSim(uint64_t seed = 7) : world_(seed) {}

  void Form(int n) {
    names_ = FormCluster(world_, n, kRing);
    ASSERT_FALSE(names_.empty()) << "cluster did not form";
  }

  bool Settled() { return sim::Settled(world_, names_); }

  // With three nodes and n_val 3 every node holds every partition: trees
  // and objects must be identical everywhere.
  bool Identical() {
    std::vector<replication::aae::AaeStatus> views;
    for (size_t i = 1; i <= names_.size(); ++i) {
      views.push_back(N(i).core().AaeView());
    }
    for (uint32_t p = 0; p < kRing; ++p) {
      auto root = views[0].RootOf(p);
      if (!root) return false;
      for (const auto& view : views) {
        if (view.RootOf(p) != root) return false;
      }
    }
    auto objects = Objects(N(1));
    for (size_t i = 2; i <= names_.size(); ++i) {
      if (Objects(N(i)) != objects) return false;
    }
    return true;
  }

  // Every acknowledged value is among the live values of every replica.
  void ExpectAcknowledgedEverywhere() {
    for (const auto& [key, value] : acked_) {
      for (const auto& n : names_) {
        SimNode& node = world_.node(n);
        std::map<std::string, std::string> objects = Objects(node);
        bool found = false;
        for (const auto& [k, v] : objects) {
          storage::ObjectKeyParts parts;
          ASSERT_TRUE(storage::DecodeObjectKey(k, &parts));
          if (parts.key != key) continue;
          replication::object::Object o;
          ASSERT_TRUE(replication::object::Object::Decode(v, &o).ok());
          for (const auto* s : o.LiveSiblings()) found |= s->value == value;
        }
        EXPECT_TRUE(found) << key << " missing on " << n;
      }
    }
  }

  void PutAcked(SimNode& via, const std::string& key, const std::string& v) {
    auto r = Put(world_, via, MakePut(key, v));
    if (r.status.ok()) acked_[key] = v;
  }

  uint64_t Repaired() {
    uint64_t total = 0;
    for (const auto& n : names_) {
      total += world_.node(n).core().AaeView().keys_repaired;
    }
    return total;
  }

  SimNode& N(size_t i) { return world_.node(names_[i - 1]); }

  World world_;
  std::vector<NodeName> names_;
  std::map<std::string, std::string> acked_;
};

TEST_F(AaeSim, LostWritesAreRepairedWithoutReads) {
  Form(3);
  // A lossy network: writes reach two replicas of three often enough to
  // be acknowledged (w=2), and miss the third now and then.
  world_.faults.drop = 0.2;
  for (int i = 0; i < 300; ++i) {
    PutAcked(N(1 + i % 3), "k" + std::to_string(i), "v" + std::to_string(i));
  }
  world_.faults.drop = 0;
  EXPECT_FALSE(Identical());
  ASSERT_TRUE(world_.RunUntil([&] { return Identical(); }, 60000))
      << "replicas did not converge";
  EXPECT_GT(Repaired(), 0u);
  ExpectAcknowledgedEverywhere();
  EXPECT_GE(acked_.size(), 250u);
  auto view = N(1).core().AaeView();
  EXPECT_GT(view.exchanges, 0u);
  EXPECT_GT(view.bytes_sent, 0u);
  EXPECT_EQ(view.partitions.size(), kRing);
  for (const auto& p : view.partitions) EXPECT_TRUE(p.ready);
}

TEST_F(AaeSim, WipedReplicaGetsEveryKeyBackWhileWritesContinue) {
  Form(3);
  for (int i = 0; i < 400; ++i) {
    PutAcked(N(1 + i % 2), "k" + std::to_string(i), "v" + std::to_string(i));
  }
  world_.RunFor(200);
  ASSERT_TRUE(Identical());
  N(3).Wipe();
  world_.RunFor(100);
  N(3).Boot();
  ASSERT_TRUE(N(3).up());
  // Writes keep coming, to new keys and over old ones, while the wiped
  // replica is being refilled.
  for (int i = 0; i < 100; ++i) {
    PutAcked(N(1 + i % 3), "new" + std::to_string(i), "x");
    auto g = Get(world_, N(1), MakeGet("k" + std::to_string(i)));
    if (g.status.ok()) PutAcked(N(2), "k" + std::to_string(i), "w");
    world_.RunFor(20);
  }
  ASSERT_TRUE(world_.RunUntil([&] { return Settled() && Identical(); }, 60000))
      << "wiped replica was not refilled";
  ExpectAcknowledgedEverywhere();
  EXPECT_GE(Objects(N(3)).size(), 500u);
}

TEST_F(AaeSim, DeletedKeysConvergeAndTombstonesAreReapedForGood) {
  Form(3);
  for (int i = 0; i < 100; ++i) {
    PutAcked(N(1), "k" + std::to_string(i), "v" + std::to_string(i));
  }
  world_.RunFor(100);
  // Deletes over a lossy network: some replicas miss the tombstone.
  world_.faults.drop = 0.2;
  std::set<std::string> deleted;
  for (int i = 0; i < 100; i += 2) {
    replication::DeleteRequest d;
    d.id = ObjectId{kDefaultType, "b", "k" + std::to_string(i)};
    // A delete that failed may still have reached a replica (its outcome
    // is unknown), so the value it aimed at is no longer owed either way.
    acked_.erase(d.id.key);
    if (Delete(world_, N(1 + i % 3), d).ok()) deleted.insert(d.id.key);
  }
  world_.faults.drop = 0;
  ASSERT_GE(deleted.size(), 30u);
  // Converged, and once the reap delay passed no tombstone is left.
  auto reaped = [&] {
    if (!Identical()) return false;
    for (const auto& [k, v] : Objects(N(1))) {
      replication::object::Object o;
      if (replication::object::Object::Decode(v, &o).ok() && o.IsTombstone()) {
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(world_.RunUntil(reaped, 120000)) << "tombstones not reaped";
  uint64_t reaped_count = 0;
  for (const auto& n : names_) {
    reaped_count += world_.node(n).core().AaeView().tombstones_reaped;
  }
  EXPECT_GE(reaped_count, deleted.size());
  // Deleted keys stay deleted: no replica brings one back.
  world_.RunFor(10000);
  ASSERT_TRUE(Identical());
  for (const auto& key : deleted) {
    for (const auto& n : names_) {
      auto g = Get(world_, world_.node(n), MakeGet(key));
      EXPECT_TRUE(g.status.IsNotFound()) << key << " on " << n;
    }
  }
  ExpectAcknowledgedEverywhere();
  // A key written again after its tombstone was reaped is a plain new
  // write, kept everywhere.
  PutAcked(N(2), *deleted.begin(), "again");
  ASSERT_TRUE(world_.RunUntil([&] { return Identical(); }, 30000));
  ExpectAcknowledgedEverywhere();
}

// A node alone has nobody to exchange with, yet its tombstones go too once
// they are old enough; live keys stay.
TEST_F(AaeSim, AOneNodeClusterReapsItsTombstones) {
  Form(1);
  for (int i = 0; i < 40; ++i) {
    PutAcked(N(1), "k" + std::to_string(i), "v" + std::to_string(i));
  }
  std::set<std::string> deleted;
  for (int i = 0; i < 40; i += 2) {
    replication::DeleteRequest d;
    d.id = ObjectId{kDefaultType, "b", "k" + std::to_string(i)};
    ASSERT_TRUE(Delete(world_, N(1), d).ok());
    acked_.erase(d.id.key);
    deleted.insert(d.id.key);
  }
  auto tombstones = [&] {
    size_t n = 0;
    for (const auto& [k, v] : Objects(N(1))) {
      replication::object::Object o;
      n += replication::object::Object::Decode(v, &o).ok() && o.IsTombstone();
    }
    return n;
  };
  EXPECT_EQ(tombstones(), deleted.size());
  ASSERT_TRUE(world_.RunUntil([&] { return tombstones() == 0; }, 60000))
      << tombstones() << " tombstones left";
  EXPECT_EQ(N(1).core().AaeView().tombstones_reaped, deleted.size());
  EXPECT_EQ(Objects(N(1)).size(), 20u);
  for (const auto& key : deleted) {
    EXPECT_TRUE(Get(world_, N(1), MakeGet(key)).status.IsNotFound()) << key;
  }
  ExpectAcknowledgedEverywhere();
}

// A tombstone some replica has not got blocks reaping: the replica still
// holding the old value must not hand it back to the others as live data.
TEST_F(AaeSim, AReplicaMissingTheTombstoneBlocksReapingUntilRepaired) {
  Form(3);
  PutAcked(N(1), "gone", "old");
  world_.RunFor(100);
  ASSERT_TRUE(Identical());
  // n3 misses the delete entirely.
  world_.Block("n1", "n3");
  world_.Block("n2", "n3");
  replication::DeleteRequest d;
  d.id = ObjectId{kDefaultType, "b", "gone"};
  d.w = replication::Quorum::Number(2);
  ASSERT_TRUE(Delete(world_, N(1), d).ok());
  world_.RunFor(6000);  // past the reap delay, n3 still cut off
  world_.Heal();
  ASSERT_TRUE(world_.RunUntil(
      [&] { return Identical() && Objects(N(1)).empty(); }, 60000));
  for (const auto& n : names_) {
    auto g = Get(world_, world_.node(n), MakeGet("gone"));
    EXPECT_TRUE(g.status.IsNotFound()) << n;
  }
}

// Random histories: writes, overwrites and deletes through random nodes
// over a lossy, duplicating network, with crashes and a wiped disk, AAE and
// tombstone reaping running throughout. At the end every replica is
// identical; every key written once with an acknowledgement and never
// deleted holds its value everywhere; every acknowledged delete whose key
// saw only acknowledged writes before it and none after stays deleted.
class AaeRandomSim : public AaeSim,
                     public ::testing::WithParamInterface<uint64_t> {
 protected:
  AaeRandomSim() : AaeSim(GetParam()) {}
};

TEST_P(AaeRandomSim, DivergedReplicasConvergeAndKeepEveryAcknowledgedWrite) {
  Form(3);
  world_.faults.drop = 0.05;
  world_.faults.duplicate = 0.05;
  struct Fate {
    int puts = 0;
    int acked_puts = 0;
    std::string value;
    bool delete_tried = false;
    bool delete_acked = false;
    bool put_after_delete = false;
    replication::causal::VersionVector clock;  // of the last acked put
  };
  std::map<std::string, Fate> fate;
  bool wiped = false;
  std::set<int> down;
  for (int step = 0; step < 400; ++step) {
    const uint64_t r = world_.Random();
    int via = 1 + static_cast<int>(r % 3);
    if (down.count(via)) via = 1 + (via % 3);
    if (down.count(via)) via = 1 + (via % 3);
    const std::string key = "k" + std::to_string((r >> 8) % 150);
    Fate& f = fate[key];
    switch ((r >> 20) % 10) {
      case 0: {
        if (f.acked_puts == 0) break;
        replication::DeleteRequest d;
        d.id = ObjectId{kDefaultType, "b", key};
        // With the context of the last acknowledged write, so a tombstone
        // is written whatever the replicas hold now (a delete without one
        // reads first and, finding nothing, writes nothing).
        d.context = f.clock;
        f.delete_tried = true;
        if (Delete(world_, N(via), d, 5000).ok()) f.delete_acked = true;
        break;
      }
      case 1:
        if ((r >> 32) % 8 == 0 && down.empty()) {
          int victim = 1 + static_cast<int>((r >> 40) % 3);
          if (!wiped && (r >> 48) % 3 == 0) {
            N(victim).Wipe();
            wiped = true;
          } else {
            N(victim).Crash();
          }
          down.insert(victim);
        } else if (!down.empty()) {
          N(*down.begin()).Boot();
          down.clear();
        }
        break;
      default: {
        if (f.delete_tried) f.put_after_delete = true;
        ++f.puts;
        const std::string value = key + "." + std::to_string(step);
        PutRequest put = MakePut(key, value);
        put.return_body = true;
        auto p = Put(world_, N(via), std::move(put), 5000);
        if (p.status.ok()) {
          ++f.acked_puts;
          f.value = value;
          f.clock = p.object.clock();
        }
      }
    }
    world_.RunFor(10);
  }
  for (int n : down) N(n).Boot();
  world_.faults = NetworkFaults{};
  ASSERT_TRUE(world_.RunUntil([&] { return Settled() && Identical(); }, 120000))
      << "replicas did not converge";
  // Past the reap delay and a few rounds: still identical.
  world_.RunFor(15000);
  ASSERT_TRUE(world_.RunUntil([&] { return Identical(); }, 60000));
  for (const auto& [key, f] : fate) {
    if (f.puts == 1 && f.acked_puts == 1 && !f.delete_tried) {
      acked_[key] = f.value;
    }
  }
  ExpectAcknowledgedEverywhere();
  size_t deletes_checked = 0;
  uint64_t reaped = 0;
  for (const auto& n : names_) {
    reaped += world_.node(n).core().AaeView().tombstones_reaped;
  }
  for (const auto& [key, f] : fate) {
    if (!f.delete_acked || f.put_after_delete || f.acked_puts != f.puts) {
      continue;
    }
    ++deletes_checked;
    for (const auto& n : names_) {
      auto g = Get(world_, world_.node(n), MakeGet(key));
      EXPECT_TRUE(g.status.IsNotFound()) << key << " came back on " << n;
    }
  }
  // The history exercised what it is meant to.
  EXPECT_GE(acked_.size(), 10u);
  EXPECT_GE(deletes_checked, 1u);
  EXPECT_GT(reaped, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, AaeRandomSim,
                         ::testing::Range<uint64_t>(1, 51));

}  // namespace
}  // namespace causeway::sim
