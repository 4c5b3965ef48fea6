// Core bugs the randomized simulation (or reading the code) found, each
// reduced to a small deterministic scenario with its diagnosis, and kept as
// a regression test once fixed. A bug found but not yet fixed goes in as a
// DISABLED_ test (run those with --gtest_also_run_disabled_tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proto/peer.pb.h"
#include "replication/membership/ring_state.h"
#include "replication/ring/ring.h"
#include "storage/keys.h"
#include "tests/sim/sim.h"

namespace causeway::sim {
namespace {

using replication::BucketPropsPatch;
using replication::GetRequest;
using replication::kDefaultType;
using replication::ObjectId;
using replication::PutRequest;
using replication::Quorum;

constexpr uint32_t kRing = 16;
constexpr const char* kBucket = "m";  // allow_mult

class CoreBugs : public ::testing::Test {
 protected:
  CoreBugs() : world_(42) {}

  void Form(int n) {
    names_ = FormCluster(world_, n, kRing);
    ASSERT_FALSE(names_.empty()) << "cluster did not form";
    BucketPropsPatch mult;
    mult.allow_mult = true;
    ASSERT_TRUE(world_.node(names_[0])
                    .core()
                    .SetBucketProps(kDefaultType, kBucket, mult)
                    .ok());
    ASSERT_TRUE(world_.RunUntil(
        [&] {
          for (const auto& name : names_) {
            replication::BucketProps p;
            world_.node(name).core().GetBucketProps(kDefaultType, kBucket, &p);
            if (!p.allow_mult) return false;
          }
          return true;
        },
        30000));
  }

  bool Settled() { return sim::Settled(world_, names_); }

  // Hands `to` a replica write of `key` = `value` from n1 as a coordinator
  // sends it to a fallback: with a hint naming the primary it stands in for.
  void DeliverHintedWrite(const NodeName& to, const std::string& key,
                          const std::string& value, const NodeName& hint_for) {
    replication::ring::Ring ring(world_.node("n1").core().View().owners);
    peer::Envelope m;
    m.set_cluster("causeway");
    m.set_request_id(7);
    peer::WriteRequest* w = m.mutable_write();
    w->mutable_key()->set_partition(ring.PartitionOf(
        replication::ring::HashKey(kDefaultType, kBucket, key)));
    w->mutable_key()->set_type(kDefaultType);
    w->mutable_key()->set_bucket(kBucket);
    w->mutable_key()->set_key(key);
    replication::object::Object object;
    replication::object::Sibling sibling;
    sibling.value = value;
    object.Update({}, sibling, /*actor=*/99,
                  replication::object::Resolution::kKeepSiblings);
    w->set_object(object.Encode());
    w->set_resolution(
        static_cast<uint32_t>(replication::object::Resolution::kKeepSiblings));
    w->set_hint_for(hint_for);
    world_.node(to).core().OnPeerMessage("n1", m.SerializeAsString());
  }

  // The key's replicas, and the one node (of four) that is not one.
  void Roles(const std::string& key, std::vector<NodeName>* primaries,
             NodeName* other) {
    std::vector<replication::PreflistEntry> preflist;
    ASSERT_TRUE(world_.node(names_[0])
                    .core()
                    .Preflist(ObjectId{kDefaultType, kBucket, key}, &preflist)
                    .ok());
    primaries->clear();
    for (const auto& e : preflist) primaries->push_back(e.node);
    ASSERT_EQ(primaries->size(), 3u);
    for (const auto& n : names_) {
      if (std::find(primaries->begin(), primaries->end(), n) ==
          primaries->end()) {
        *other = n;
      }
    }
    ASSERT_FALSE(other->empty());
  }

  bool HoldsLocally(const NodeName& node, const std::string& key) {
    uint32_t partition = replication::ring::Ring::SingleOwner(kRing, "x")
                             .PartitionOf(replication::ring::HashKey(
                                 kDefaultType, kBucket, key));
    std::string value;
    return world_.node(node)
        .engine()
        .Get(storage::EncodeObjectKey(partition, kDefaultType, kBucket, key),
             &value)
        .ok();
  }

  // Runs until every live node other than `node` agrees on its liveness.
  void AwaitSeenAs(const NodeName& node, bool up) {
    ASSERT_TRUE(world_.RunUntil(
        [&] {
          for (const auto& n : names_) {
            if (n == node || !world_.node(n).up()) continue;
            for (const auto& m : world_.node(n).core().View().members) {
              if (m.name == node && m.up != up) return false;
            }
          }
          return true;
        },
        20000));
  }

  std::multiset<std::string> ValuesEverywhere(const std::string& key) {
    GetRequest g;
    g.id = ObjectId{kDefaultType, kBucket, key};
    g.r = Quorum::All();
    auto r = Get(world_, world_.node(names_[0]), g);
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    std::multiset<std::string> values;
    for (const auto* s : r.object.LiveSiblings()) values.insert(s->value);
    return values;
  }

  PutRequest BlindPut(const std::string& key, const std::string& value) {
    PutRequest p;
    p.id = ObjectId{kDefaultType, kBucket, key};
    p.content.value = value;
    return p;
  }

  World world_;
  std::vector<NodeName> names_;
};

// Found by random_sim_test (seed 1, --expose-known-bugs): one client write
// became two siblings with the same value. A PutForward that the network
// delivers twice is coordinated twice, and each coordination mints a new
// dot; unlike replica writes, forwards are not idempotent. (A forwarded
// delete the same way leaves two tombstones.) Expected: re-delivery of a
// forward is a no-op, e.g. the forwarder names the write (request id or a
// client-chosen write id) and the coordinator remembers recent ones.
TEST_F(CoreBugs, DuplicatedPutForwardIsAppliedOnce) {
  Form(4);
  std::vector<NodeName> primaries;
  NodeName other;
  Roles("k", &primaries, &other);
  world_.faults.duplicate = 1.0;  // every message arrives twice
  auto put = Put(world_, world_.node(other), BlindPut("k", "once"));
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  world_.faults = NetworkFaults();
  world_.RunFor(1000);
  EXPECT_EQ(ValuesEverywhere("k"), std::multiset<std::string>{"once"});
}

// Found by random_sim_test (seed 1 with --workload-ms=15000, and seeds 53,
// 207, 217 there, where acknowledged last_write_wins writes were lost): a
// node that coordinated writes to a key as a fallback delivers its hint and
// drops its copy; the next time it coordinates a write to that key it has
// no clock for it and mints the key's dots from 1 again. Replicas that hold
// the old dot take the new write for one they have seen and drop it, so an
// acknowledged write is lost. Fixed: each stored copy keeps the actor its
// replica mints under, and a copy without one gets a fresh random actor
// (VnodeStore::Coordinate), much as Riak's per-key epochs do.
TEST_F(CoreBugs, NodeThatDroppedACopyNeverReusesItsDots) {
  Form(4);
  std::vector<NodeName> primaries;
  NodeName fallback;
  Roles("k", &primaries, &fallback);
  const NodeName down = primaries.back();

  // The fallback stands in for a down primary and coordinates a write.
  world_.node(down).Crash();
  AwaitSeenAs(down, false);
  ASSERT_TRUE(
      Put(world_, world_.node(fallback), BlindPut("k", "a")).status.ok());
  ASSERT_TRUE(HoldsLocally(fallback, "k"));
  // The primary returns, takes the hint, and the fallback drops its copy.
  world_.node(down).Boot();
  ASSERT_TRUE(
      world_.RunUntil([&] { return !HoldsLocally(fallback, "k"); }, 20000));
  // Again: the fallback coordinates a second, concurrent (blind) write.
  world_.node(down).Crash();
  AwaitSeenAs(down, false);
  ASSERT_TRUE(
      Put(world_, world_.node(fallback), BlindPut("k", "b")).status.ok());
  world_.node(down).Boot();
  AwaitSeenAs(down, true);
  world_.RunFor(10000);  // hints delivered

  // Both blind writes were acknowledged and neither saw the other.
  EXPECT_EQ(ValuesEverywhere("k"), (std::multiset<std::string>{"a", "b"}));
}

// Found by random_sim_test (seed 743 with --workload-ms=15000): after
// quiescing, a node that is not a replica of the key still held the only
// copy of a write. A node that receives a PutForward but is not a replica in
// its own view of the ring (the forwarder saw a primary down, it did not)
// coordinates the write as an "extra holder": it stores the object and
// counts itself towards w, but records no hint, so nothing ever moves the
// copy to the replicas. With w=1 and the replicas unreachable, the write is
// acknowledged and then never readable. Expected: the extra holder records
// hints for the primaries (or does not count itself), so the write reaches
// them once they are reachable.
TEST_F(CoreBugs, ForwardedWriteAtANonReplicaReachesTheReplicas) {
  Form(4);
  std::vector<NodeName> primaries;
  NodeName other;
  Roles("k", &primaries, &other);
  // `other` still sees every primary up, but cannot reach them.
  std::set<NodeName> rest(primaries.begin(), primaries.end());
  world_.Partition({{other}, rest});

  // The forward a node that believed a primary down would send to `other`
  // (its first fallback), asking for w=1.
  replication::ring::Ring ring(world_.node(other).core().View().owners);
  peer::Envelope m;
  m.set_cluster("causeway");
  m.set_request_id(1);
  peer::PutForward* f = m.mutable_put_forward();
  f->mutable_key()->set_partition(
      ring.PartitionOf(replication::ring::HashKey(kDefaultType, kBucket, "k")));
  f->mutable_key()->set_type(kDefaultType);
  f->mutable_key()->set_bucket(kBucket);
  f->mutable_key()->set_key("k");
  f->set_context(replication::causal::VersionVector().Encode());
  replication::object::Object content;
  replication::object::Sibling value;
  value.value = "acked";
  content.Update({}, value, /*actor=*/1,
                 replication::object::Resolution::kKeepSiblings);
  f->set_content(content.Encode());
  f->set_w(1);
  f->set_dw(1);
  f->set_pw(0);
  world_.node(other).core().OnPeerMessage(primaries.front(),
                                          m.SerializeAsString());
  world_.RunFor(100);
  // It accepted the write: stored it, and w=1 is met by its own copy.
  ASSERT_TRUE(HoldsLocally(other, "k"));

  world_.Heal();
  world_.RunFor(30000);  // ample time for any hint to be delivered
  EXPECT_EQ(ValuesEverywhere("k"), std::multiset<std::string>{"acked"});
}

// Seen by reading Handoff::ScanHints, then reproduced here: the fallback
// sends its copy to the returning primary and, on the acknowledgement,
// deletes the hint marker and its copy, even if another write for that
// primary arrived while the copy was in flight (RecordHint finds the
// primary already owed and changes nothing). That write never reaches the
// primary by handoff. Expected: the fallback drops the marker and the copy
// only if the object is unchanged since it was sent (as the cleanup sweep
// already checks), otherwise it sends again.
TEST_F(CoreBugs, WriteArrivingDuringHintDeliveryIsHandedOff) {
  Form(4);
  std::vector<NodeName> primaries;
  NodeName fallback;
  Roles("k", &primaries, &fallback);
  const NodeName down = primaries.back();
  world_.node(down).Crash();
  AwaitSeenAs(down, false);
  ASSERT_TRUE(
      Put(world_, world_.node(fallback), BlindPut("k", "a")).status.ok());

  // Slow messages widen the window: the primary restarts 50 ms after a
  // second boundary, so the fallback (which scans its hints on whole
  // seconds) first hears it about 950 ms later and sends its copy at once;
  // the acknowledgement takes 800 ms to come back. A coordinator that has
  // not heard the primary yet writes to the fallback meanwhile.
  world_.faults.min_latency_ms = world_.faults.max_latency_ms = 400;
  world_.RunFor(1000 - world_.now() % 1000 + 50);
  world_.node(down).Boot();
  world_.RunFor(800);
  const NodeName coordinator = primaries.front();
  std::optional<replication::PutResult> second;
  PutRequest b = BlindPut("k", "b");
  b.w = Quorum::One();
  world_.node(coordinator).core().Put(b, [&](replication::PutResult r) {
    second = r;
  });
  ASSERT_TRUE(world_.RunUntil([&] { return second.has_value(); }, 5000));
  ASSERT_TRUE(second->status.ok()) << second->status.ToString();
  world_.faults = NetworkFaults();
  world_.RunFor(10000);

  // No read has repaired anything: what the primary holds came by writes
  // and handoff alone.
  uint32_t partition =
      replication::ring::Ring::SingleOwner(kRing, "x")
          .PartitionOf(replication::ring::HashKey(kDefaultType, kBucket, "k"));
  std::string bytes;
  ASSERT_TRUE(
      world_.node(down)
          .engine()
          .Get(storage::EncodeObjectKey(partition, kDefaultType, kBucket, "k"),
               &bytes)
          .ok());
  replication::object::Object held;
  ASSERT_TRUE(replication::object::Object::Decode(bytes, &held).ok());
  std::multiset<std::string> values;
  for (const auto* s : held.LiveSiblings()) values.insert(s->value);
  EXPECT_EQ(values, (std::multiset<std::string>{"a", "b"}));
}

// Found by random_sim_test (seed 25 with --faults=all,membership): hinted
// handoff never finished. A member that was leaving finished its transfers
// and crashed; writes meant for it landed on a fallback with a hint naming
// it; then the claimant removed it. A hint naming a node that will never
// return is retried for ever (nodes that restart even presume the removed
// node alive, as it is unknown to their failure detector); the fallback
// never drops its copy, and the key's new replicas get the write only by
// chance. Here the hinted write reaches the fallback just after the removal
// (it was in flight), which ends in the same state. Expected: a hint for a
// node that is no longer a member goes to the key's current replicas
// instead, and is dropped once they acknowledge it.
TEST_F(CoreBugs, HintForANodeThatLeftReachesTheNewReplicas) {
  Form(4);
  std::optional<Status> left;
  world_.node("n4").core().Leave("", [&](Status s) { left = s; });
  ASSERT_TRUE(left && left->ok());
  ASSERT_TRUE(world_.RunUntil(
      [&] { return world_.node("n4").core().ReadyToExit(); }, 60000));
  world_.node("n4").Crash();
  names_.pop_back();
  world_.RunFor(5000);
  // Three members now: every key lives on all of them. A replica write
  // that a coordinator sent to n2 as n4's fallback, before the removal.
  DeliverHintedWrite("n2", "k", "hinted", /*hint_for=*/"n4");
  ASSERT_TRUE(HoldsLocally("n2", "k"));

  world_.RunFor(20000);
  for (const auto& n : names_) {
    EXPECT_EQ(world_.node(n).core().View().handoff.hints_pending, 0u) << n;
  }
  // The key's replicas hold the write without any read repairing it.
  for (const auto& n : names_) EXPECT_TRUE(HoldsLocally(n, "k")) << n;
}

// Found by random_sim_test (seed 50042 with --faults=all,membership, before
// the harness learnt to retry joins): the seed admits a joining node and
// answers, but the answer is lost. The node, told the join failed, stays a
// cluster of its own, so it never heartbeats or gossips to the members;
// they list it as joining and down for ever, and as the claimant moves
// ownership only while every member is up, no join or leave can finish
// again until an operator repeats the join. Expected: the cluster recovers
// by itself, e.g. members gossip their ring to a joining member they have
// not heard from (it adopts the ring that lists it), or the joiner retries.
// Fixed: members also gossip to one member that looks down each second, a
// node alone adopts a ring that lists it (Cluster::MergeGossip), and the
// claimant leaves joiners that look down out of a claim.
TEST_F(CoreBugs, JoinWhoseReplyIsLostDoesNotWedgeTheCluster) {
  Form(3);
  world_.AddNode("n4", kRing);
  world_.faults.min_latency_ms = world_.faults.max_latency_ms = 10;
  std::optional<Status> joined;
  world_.node("n4").core().Join("n1", [&](Status s) { joined = s; });
  // The request arrives after 10 ms; the reply is cut off on its way back.
  world_.RunFor(15);
  world_.Partition({{"n4"}, {"n1", "n2", "n3"}});
  world_.RunFor(6000);
  ASSERT_TRUE(joined.has_value());
  EXPECT_FALSE(joined->ok());  // as the joiner was told
  world_.Heal();
  world_.faults = NetworkFaults();
  world_.RunFor(30000);
  // Either the cluster forgot n4 or n4 became a member that takes part.
  for (const auto& n : names_) {
    for (const auto& m : world_.node(n).core().View().members) {
      if (m.name != "n4") continue;
      EXPECT_TRUE(m.status == "removed" || (m.status == "valid" && m.up))
          << "at " << n << ", n4 is " << m.status << (m.up ? "" : " (down)");
    }
  }
  // And ownership can still move: n3 can leave.
  std::optional<Status> left;
  world_.node("n3").core().Leave("", [&](Status s) { left = s; });
  ASSERT_TRUE(left && left->ok());
  EXPECT_TRUE(world_.RunUntil(
      [&] { return world_.node("n3").core().ReadyToExit(); }, 60000));
}

// Found by random_sim_test (seeds 200155, 200892, 201761, 201818 and
// 202025 with --faults=all,membership: acknowledged allow_mult writes
// lost): a node that has just joined knows the ring but not the bucket
// properties, which only reach it by gossip a second or so later.
// Meanwhile it applies the defaults (allow_mult=false): a read it
// coordinates resolves siblings to one, and read repair writes that to the
// replicas, which drop the other siblings for good. Expected: a joining
// node has the cluster's bucket properties before it serves (e.g. they
// come with the join reply), or refuses to coordinate until it has them.
TEST_F(CoreBugs, NewMemberUsesTheClustersBucketProperties) {
  Form(3);
  // Two concurrent writes: two siblings on every replica.
  ASSERT_TRUE(Put(world_, world_.node("n1"), BlindPut("k", "a")).status.ok());
  ASSERT_TRUE(Put(world_, world_.node("n2"), BlindPut("k", "b")).status.ok());
  world_.RunFor(100);
  ASSERT_EQ(ValuesEverywhere("k"), (std::multiset<std::string>{"a", "b"}));

  world_.AddNode("n4", kRing);
  ASSERT_TRUE(Join(world_, world_.node("n4"), "n1").ok());
  // A client reads through the new member straight away.
  GetRequest g;
  g.id = ObjectId{kDefaultType, kBucket, "k"};
  g.r = Quorum::All();
  auto through_new = Get(world_, world_.node("n4"), g);
  ASSERT_TRUE(through_new.status.ok()) << through_new.status.ToString();
  EXPECT_EQ(through_new.object.LiveSiblings().size(), 2u);
  world_.RunFor(5000);
  EXPECT_EQ(ValuesEverywhere("k"), (std::multiset<std::string>{"a", "b"}));
}

// Found by random_sim_test (seeds 202029, 202793 and 203225 with
// --faults=all,membership): a member that left still held a hint, so it
// never became ready to exit. Once a node is removed the members stop
// sending it heartbeats, so it judges them all down, and hinted handoff
// only sends to primaries it believes up: the hint, and the write it
// carries, stay on the departed node for ever. Here the hinted write
// reaches the node just after its removal (it was in flight), which ends in
// the same state. Expected: a removed node still delivers what it owes (it
// can probe the primaries, or members keep heartbeating to nodes that
// still owe them data), and exits once it has.
TEST_F(CoreBugs, RemovedNodeStillDeliversItsHints) {
  Form(4);
  std::optional<Status> left;
  world_.node("n4").core().Leave("", [&](Status s) { left = s; });
  ASSERT_TRUE(left && left->ok());
  ASSERT_TRUE(world_.RunUntil(
      [&] { return world_.node("n4").core().ReadyToExit(); }, 60000));
  world_.RunFor(5000);
  // A replica write sent to n4 as n2's fallback, before n4 was removed.
  DeliverHintedWrite("n4", "k", "owed", /*hint_for=*/"n2");
  ASSERT_TRUE(HoldsLocally("n4", "k"));

  world_.RunFor(20000);
  EXPECT_TRUE(HoldsLocally("n2", "k"));
  EXPECT_EQ(world_.node("n4").core().View().handoff.hints_pending, 0u);
  EXPECT_TRUE(world_.node("n4").core().ReadyToExit());
}

// Found by random_sim_test (seed 202982 with --faults=all,membership; there
// the write was not acknowledged, so it was only a stranded copy): a
// leaving node goes on coordinating writes to what it still owns after it
// has moved its data, relying on its cleanup sweep after the flip to hand
// the late ones over. If it crashes after it learns of its removal but
// before that sweep is done, it restarts as a removed node, founds a
// cluster of its own, and the sweep never runs: a write only it held (w=1,
// its copies to the others lost) was acknowledged and is gone. Expected: a
// removed node that still holds objects hands them to their holders before
// it forgets its cluster (or the claimant removes a leaver only once it
// reports its cleanup done). Fixed: a removed node that restarts holding
// objects or hints keeps its old cluster's ring until its cleanup has
// handed them over (Cluster::Load).
TEST_F(CoreBugs, LeaverThatCrashesAfterRemovalStillHandsOffLateWrites) {
  Form(4);
  std::string key;
  std::vector<NodeName> primaries;
  NodeName other;
  for (int i = 0; i < 100 && key.empty(); ++i) {
    std::string k = "k" + std::to_string(i);
    Roles(k, &primaries, &other);
    if (other != "n4") key = k;  // n4 is one of its replicas
  }
  ASSERT_FALSE(key.empty());
  std::optional<Status> left;
  world_.node("n4").core().Leave("", [&](Status s) { left = s; });
  ASSERT_TRUE(left && left->ok());
  ASSERT_TRUE(world_.RunUntil(
      [&] {
        auto v = world_.node("n4").core().View();
        return std::count(v.transfers_done.begin(), v.transfers_done.end(),
                          "n4") > 0;
      },
      30000));
  // A write n4 coordinates and acknowledges alone (w=1): its copies to the
  // other replicas are lost.
  world_.faults.drop = 1.0;
  PutRequest late = BlindPut(key, "late");
  late.w = Quorum::One();
  late.dw = Quorum::One();
  auto put = Put(world_, world_.node("n4"), late);
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  world_.RunFor(1);
  // Slow messages: n4 learns of its removal, and before the copies its
  // cleanup sweep sends can arrive, it is cut off and crashes.
  world_.faults = NetworkFaults();
  world_.faults.min_latency_ms = world_.faults.max_latency_ms = 200;
  ASSERT_TRUE(world_.RunUntil(
      [&] {
        for (const auto& m : world_.node("n4").core().View().members) {
          if (m.name == "n4") return m.status == "removed";
        }
        return false;
      },
      30000));
  world_.Partition({{"n4"}, {"n1", "n2", "n3"}});
  world_.node("n4").Crash();
  world_.RunFor(1000);  // what was in flight is lost
  world_.Heal();
  world_.faults = NetworkFaults();
  names_.pop_back();
  world_.node("n4").Boot();
  world_.RunFor(20000);
  EXPECT_EQ(ValuesEverywhere(key), std::multiset<std::string>{"late"});
}

// Found by random_sim_test (seed 203895 with --faults=all,membership; the
// write was not acknowledged there, so it was only a stranded copy): n6
// joined and soon left, so the owners after its leave equalled those
// before its join. n2 had its cleanup after the join cut short by the
// leave's transfer, so its last finished cleanup was for those very owners;
// meanwhile, a replica of a key under the interim owners, it took a write
// after its transfer was done. At the final flip Handoff::OnRingChange saw
// owners equal to the last cleaned ones and skipped the cleanup, so the
// write stayed on n2 and never reached the key's replicas. Here n2 misses
// the interim ring altogether (it hears nothing while it is current), which
// leaves it in the same state. Expected: a cleanup after every flip that
// changed owners since the node last adopted a ring (e.g. keyed by ring
// version), not only when the owners differ from the last cleaned ones.
TEST_F(CoreBugs, CleanupRunsWhenOwnersReturnToAnEarlierRing) {
  Form(5);
  const auto before = world_.node("n1").core().View().owners;
  replication::ring::Ring old_ring(before);
  replication::ring::Ring joined_ring(replication::membership::Claim(
      before, {"n1", "n2", "n3", "n4", "n5", "n6"}));
  // A key whose replicas gain a node other than n6 while n6 is a member:
  // that node will take a late write for it.
  std::string key;
  NodeName gainer;
  for (int i = 0; i < 200 && key.empty(); ++i) {
    std::string k = "k" + std::to_string(i);
    uint32_t p = old_ring.PartitionOf(
        replication::ring::HashKey(kDefaultType, kBucket, k));
    std::set<NodeName> was, will;
    for (const auto& m : old_ring.Preflist(p, 3)) was.insert(m.node);
    for (const auto& m : joined_ring.Preflist(p, 3)) will.insert(m.node);
    for (const auto& n : will) {
      if (n != "n6" && !was.count(n)) {
        key = k;
        gainer = n;
      }
    }
  }
  ASSERT_FALSE(key.empty());

  world_.AddNode("n6", kRing);
  ASSERT_TRUE(Join(world_, world_.node("n6"), "n1").ok());
  names_.push_back("n6");
  // The gainer does its part of the join's transfer, then hears nothing
  // (the others still hear it, so it counts as up) while the join finishes
  // and n6's leave begins.
  ASSERT_TRUE(world_.RunUntil(
      [&] {
        auto v = world_.node(gainer).core().View();
        return v.pending_transfers > 0 &&
               std::count(v.transfers_done.begin(), v.transfers_done.end(),
                          gainer) > 0;
      },
      30000));
  for (const auto& n : names_) {
    if (n != gainer) world_.Block(n, gainer);
  }
  ASSERT_TRUE(world_.RunUntil(
      [&] {
        auto v = world_.node("n1").core().View();
        return v.pending_transfers == 0 &&
               std::count(v.owners.begin(), v.owners.end(), "n6") > 0;
      },
      30000));
  ASSERT_EQ(world_.node("n1").core().View().owners,
            replication::membership::Claim(
                before, {"n1", "n2", "n3", "n4", "n5", "n6"}));
  std::optional<Status> left;
  world_.node("n6").core().Leave("", [&](Status s) { left = s; });
  ASSERT_TRUE(world_.RunUntil(
      [&] { return world_.node("n1").core().View().pending_transfers > 0; },
      30000));
  world_.Heal();
  // The gainer learns of the leave and does its part of that transfer.
  ASSERT_TRUE(world_.RunUntil(
      [&] {
        auto v = world_.node(gainer).core().View();
        return v.pending_transfers > 0 &&
               std::count(v.owners.begin(), v.owners.end(), "n6") > 0 &&
               std::count(v.transfers_done.begin(), v.transfers_done.end(),
                          gainer) > 0;
      },
      30000));
  // Then takes a write as a replica; what it sends the others is lost.
  world_.faults.drop = 1.0;
  PutRequest late = BlindPut(key, "late");
  late.w = Quorum::One();
  late.dw = Quorum::One();
  auto put = Put(world_, world_.node(gainer), late);
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  world_.RunFor(1);
  world_.faults = NetworkFaults();
  // n6 leaves; the owners are those before it joined.
  ASSERT_TRUE(world_.RunUntil(
      [&] { return world_.node("n6").core().ReadyToExit(); }, 60000));
  world_.node("n6").Crash();
  names_.pop_back();
  ASSERT_EQ(world_.node("n1").core().View().owners, before);
  world_.RunFor(10000);
  // The late write reached the key's replicas, and the gainer, no longer
  // one of them, dropped its copy.
  for (const auto& m :
       old_ring.Preflist(old_ring.PartitionOf(replication::ring::HashKey(
                             kDefaultType, kBucket, key)),
                         3)) {
    EXPECT_TRUE(HoldsLocally(m.node, key)) << m.node;
  }
  EXPECT_FALSE(HoldsLocally(gainer, key));
}

// Found by random_sim_test (seed 600062 with
// --faults=all,membership,oneway): a node's leave was acknowledged and then
// silently undone. The network had duplicated its join request, and the
// copy arrived after the leave: a seed admits any join request as a new
// joining entry with a higher version, so a stale one turns a leaving (or
// removed) member back into a joining one. Had the node already exited,
// the cluster would wait for it for ever (see
// JoinWhoseReplyIsLostDoesNotWedgeTheCluster). Expected: a join request
// that predates the member's current entry is ignored, e.g. it carries the
// joiner's incarnation or the version it expects to supersede. Fixed: a
// join request from a current member changes nothing, and one from a
// removed member must propose a member version above its removal
// (Cluster::HandleJoin); a joiner that left before retries with one.
TEST_F(CoreBugs, StaleJoinRequestDoesNotUndoALeave) {
  Form(3);
  world_.AddNode("n4", kRing);
  ASSERT_TRUE(Join(world_, world_.node("n4"), "n1").ok());
  names_.push_back("n4");
  ASSERT_TRUE(world_.RunUntil([&] { return Settled(); }, 60000));
  std::optional<Status> left;
  world_.node("n4").core().Leave("", [&](Status s) { left = s; });
  ASSERT_TRUE(left && left->ok());
  ASSERT_TRUE(world_.RunUntil(
      [&] { return world_.node("n4").core().ReadyToExit(); }, 60000));
  world_.node("n4").Crash();
  names_.pop_back();
  // A copy of n4's join request, delayed in the network, arrives now.
  peer::Envelope join;
  join.set_cluster("causeway");
  join.set_request_id(1);
  join.mutable_join()->mutable_member()->set_name("n4");
  join.mutable_join()->mutable_member()->set_address("n4");
  world_.Deliver("n4", "n1", join.SerializeAsString());
  world_.RunFor(10000);
  for (const auto& n : names_) {
    for (const auto& m : world_.node(n).core().View().members) {
      if (m.name == "n4") {
        EXPECT_EQ(m.status, "removed") << "at " << n;
      }
    }
  }
}

}  // namespace
}  // namespace causeway::sim
