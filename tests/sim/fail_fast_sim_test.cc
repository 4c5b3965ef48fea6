// Requests at the onset of a fault, in simulated time: a peer that falls
// silent is suspect after peer_suspect_ms (1 s), and every request waiting
// on it then fails over to a fallback replica or, when its quorum is out of
// reach, fails at once, long before the request timeout (10 s here). A
// peer that is slow but whose messages keep arriving is never suspect.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>

#include "replication/membership/cluster.h"
#include "replication/ring/ring.h"
#include "tests/sim/sim.h"

namespace causeway::sim {
namespace {

using replication::GetRequest;
using replication::kDefaultType;
using replication::ObjectId;
using replication::PutRequest;
using replication::Quorum;

constexpr uint32_t kRing = 16;
constexpr uint64_t kRequestTimeoutMs = 10000;
// The suspect bound, plus the failure detector's look every eighth of it,
// plus a round trip to a fallback: "about a second", far from the timeout.
constexpr uint64_t kSuspectMs =
    replication::membership::ClusterTiming{}.suspect_after_ms;
constexpr uint64_t kFailFastMs = kSuspectMs + kSuspectMs / 8 + 75;
static_assert(kFailFastMs < kRequestTimeoutMs / 5);

const std::string kBucket = "b";

PutRequest MakePut(const std::string& key, const std::string& value) {
  PutRequest r;
  r.id = ObjectId{kDefaultType, kBucket, key};
  r.content.value = value;
  return r;
}

GetRequest MakeGet(const std::string& key) {
  GetRequest r;
  r.id = ObjectId{kDefaultType, kBucket, key};
  return r;
}

// A request's answer and the simulated time it came.
struct Answer {
  std::optional<Status> status;
  std::vector<std::string> values;
  uint64_t at = 0;
};

class FailFastSim : public ::testing::Test {
 protected:
  FailFastSim() : world_(7) { world_.request_timeout_ms = kRequestTimeoutMs; }

  void Form(int n) {
    names_ = FormCluster(world_, n, kRing);
    ASSERT_FALSE(names_.empty()) << "cluster did not form";
  }

  // Issues a put through `via` now; `out` is filled when it is answered.
  void PutAt(const NodeName& via, PutRequest r, Answer* out) {
    world_.node(via).core().Put(
        std::move(r), [this, out](replication::PutResult p) {
          ASSERT_FALSE(out->status.has_value()) << "answered twice";
          out->status = p.status;
          out->at = world_.now();
        });
  }
  void GetAt(const NodeName& via, GetRequest r, Answer* out) {
    world_.node(via).core().Get(
        std::move(r), [this, out](replication::GetResult g) {
          ASSERT_FALSE(out->status.has_value()) << "answered twice";
          out->status = g.status;
          for (const auto* s : g.object.LiveSiblings()) {
            out->values.push_back(s->value);
          }
          out->at = world_.now();
        });
  }
  bool AllAnswered(std::initializer_list<const Answer*> answers) {
    return world_.RunUntil(
        [&] {
          return std::all_of(answers.begin(), answers.end(),
                             [](const Answer* a) { return a->status; });
        },
        2 * kRequestTimeoutMs);
  }

  // The key's primaries, in preference order, and the other nodes.
  void Roles(const std::string& key, std::vector<NodeName>* primaries,
             std::vector<NodeName>* others) {
    std::vector<replication::PreflistEntry> preflist;
    ASSERT_TRUE(world_.node(names_[0])
                    .core()
                    .Preflist(ObjectId{kDefaultType, kBucket, key}, &preflist)
                    .ok());
    primaries->clear();
    for (const auto& e : preflist) primaries->push_back(e.node);
    ASSERT_EQ(primaries->size(), 3u);
    others->clear();
    for (const auto& n : names_) {
      if (std::find(primaries->begin(), primaries->end(), n) ==
          primaries->end()) {
        others->push_back(n);
      }
    }
  }

  // The key's values as every primary holds them (r=all, once settled).
  std::multiset<std::string> ValuesEverywhere(const std::string& key) {
    GetRequest g = MakeGet(key);
    g.r = Quorum::All();
    auto r = Get(world_, world_.node(names_[0]), g);
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    std::multiset<std::string> values;
    for (const auto* s : r.object.LiveSiblings()) values.insert(s->value);
    return values;
  }

  World world_;
  std::vector<NodeName> names_;
};

// The case: three nodes, n3 cut off from n1 and n2. Through n3 no
// quorum can be met; through n1 it can.
TEST_F(FailFastSim, RequestsCutOffFromTheirQuorumFailWithinASecond) {
  Form(3);
  ASSERT_TRUE(Put(world_, world_.node("n1"), MakePut("old", "v0")).status.ok());
  world_.RunFor(1000);

  const uint64_t fault = world_.now();
  world_.Partition({{"n1", "n2"}, {"n3"}});
  Answer minority_put, minority_get, majority_put;
  PutAt("n3", MakePut("k", "through n3"), &minority_put);
  GetAt("n3", MakeGet("old"), &minority_get);
  PutAt("n1", MakePut("majority", "through n1"), &majority_put);
  ASSERT_TRUE(AllAnswered({&minority_put, &minority_get, &majority_put}));

  EXPECT_EQ(minority_put.status->code(), Status::Code::kUnavailable)
      << minority_put.status->ToString();
  EXPECT_LE(minority_put.at - fault, kFailFastMs);
  EXPECT_EQ(minority_get.status->code(), Status::Code::kUnavailable)
      << minority_get.status->ToString();
  EXPECT_LE(minority_get.at - fault, kFailFastMs);
  EXPECT_TRUE(majority_put.status->ok()) << majority_put.status->ToString();
  EXPECT_LE(majority_put.at - fault, kFailFastMs);

  // A request that starts once the peers are suspect fails on the spot.
  Answer later;
  const uint64_t asked = world_.now();
  PutAt("n3", MakePut("k2", "later"), &later);
  ASSERT_TRUE(AllAnswered({&later}));
  EXPECT_EQ(later.status->code(), Status::Code::kUnavailable);
  EXPECT_EQ(later.at, asked) << "no replica is asked";

  // The acknowledged write survives the partition. (The failed ones left
  // n3's own copy, which anti-entropy spreads: a failed write is
  // indeterminate, not undone.)
  world_.Heal();
  world_.RunFor(10000);
  EXPECT_EQ(ValuesEverywhere("majority"),
            std::multiset<std::string>{"through n1"});
  EXPECT_EQ(ValuesEverywhere("old"), std::multiset<std::string>{"v0"});
}

// Five nodes: the coordinator keeps a majority of the cluster but loses two
// of the key's three primaries. Requests waiting on them turn to fallbacks
// and succeed within a second; after healing, the fallbacks hand the write
// to the primaries.
TEST_F(FailFastSim, RequestsFailOverToFallbacksWithinASecond) {
  Form(5);
  std::vector<NodeName> primaries, others;
  Roles("k", &primaries, &others);
  ASSERT_EQ(others.size(), 2u);
  const NodeName& via = primaries[0];
  ASSERT_TRUE(Put(world_, world_.node(via), MakePut("k", "v0")).status.ok());
  auto read = Get(world_, world_.node(via), MakeGet("k"));
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  world_.RunFor(1000);

  const uint64_t fault = world_.now();
  world_.Partition({{via, others[0], others[1]}, {primaries[1], primaries[2]}});
  Answer put, get;
  PutRequest p = MakePut("k", "v1");
  p.context = read.object.clock();
  GetRequest g = MakeGet("k");
  g.r = Quorum::Number(3);  // every replica: two must be fallbacks
  GetAt(via, g, &get);
  PutAt(via, p, &put);
  ASSERT_TRUE(AllAnswered({&put, &get}));
  EXPECT_TRUE(put.status->ok()) << put.status->ToString();
  EXPECT_LE(put.at - fault, kFailFastMs);
  EXPECT_TRUE(get.status->ok()) << get.status->ToString();
  EXPECT_LE(get.at - fault, kFailFastMs);

  world_.Heal();
  world_.RunFor(10000);
  EXPECT_EQ(ValuesEverywhere("k"), std::multiset<std::string>{"v1"});
}

// A crashed primary: nothing tells the survivors but its silence.
TEST_F(FailFastSim, WritesToACrashedPrimaryFailOverWithinASecond) {
  Form(4);
  std::vector<NodeName> primaries, others;
  Roles("k", &primaries, &others);
  ASSERT_EQ(others.size(), 1u);
  world_.RunFor(1000);

  const uint64_t fault = world_.now();
  world_.node(primaries[2]).Crash();
  Answer put;
  PutRequest p = MakePut("k", "v");
  p.w = Quorum::All();
  PutAt(primaries[0], p, &put);
  ASSERT_TRUE(AllAnswered({&put}));
  EXPECT_TRUE(put.status->ok()) << put.status->ToString();
  EXPECT_LE(put.at - fault, kFailFastMs);

  world_.node(primaries[2]).Boot();
  world_.RunFor(10000);
  EXPECT_EQ(ValuesEverywhere("k"), std::multiset<std::string>{"v"});
}

// A listing whose page waits on a node that falls silent asks another
// replica of that partition, and still lists every key.
TEST_F(FailFastSim, ListingsTurnToAnotherReplicaWithinASecond) {
  Form(4);
  std::vector<std::string> written;
  for (int i = 0; i < 40; ++i) {
    written.push_back("k" + std::to_string(100 + i));
    PutRequest p = MakePut(written.back(), "v");
    p.w = Quorum::All();
    ASSERT_TRUE(Put(world_, world_.node("n1"), p).status.ok());
  }
  world_.RunFor(1000);
  // The node n1 asks first for a partition it holds no replica of.
  const replication::ring::Ring ring(world_.node("n1").core().View().owners);
  NodeName victim;
  for (uint32_t p = 0; p < ring.size() && victim.empty(); ++p) {
    auto preflist = ring.Preflist(p, 3);
    if (std::none_of(preflist.begin(), preflist.end(),
                     [](const auto& m) { return m.node == "n1"; })) {
      victim = preflist.front().node;
    }
  }
  ASSERT_FALSE(victim.empty());
  std::set<NodeName> rest(names_.begin(), names_.end());
  rest.erase(victim);

  const uint64_t fault = world_.now();
  world_.Partition({rest, {victim}});
  std::vector<std::string> listed;
  std::optional<Status> failed;
  std::optional<uint64_t> done_at;
  world_.node("n1").core().ListKeys(
      kDefaultType, kBucket,
      [&](const Status& s, std::vector<std::string> batch, bool last) {
        ASSERT_FALSE(done_at.has_value()) << "a callback after the last";
        if (!s.ok()) failed = s;
        listed.insert(listed.end(), batch.begin(), batch.end());
        if (last) done_at = world_.now();
      });
  ASSERT_TRUE(world_.RunUntil([&] { return done_at.has_value(); },
                              2 * kRequestTimeoutMs));
  EXPECT_FALSE(failed.has_value()) << failed->ToString();
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, written);
  EXPECT_LE(*done_at - fault, kFailFastMs);
}

// Every message takes 0.3 to 0.9 s, yet each peer is heard from at least
// every 0.85 s (a heartbeat each quarter of a second): nobody is suspect,
// so requests that need every replica still succeed, however slowly.
TEST_F(FailFastSim, SlowPeersWhoseMessagesArriveAreNeverSuspect) {
  Form(3);
  world_.faults.min_latency_ms = 300;
  world_.faults.max_latency_ms = 900;
  world_.RunFor(3000);
  for (int i = 0; i < 20; ++i) {
    const NodeName& via = names_[i % names_.size()];
    PutRequest p = MakePut("k" + std::to_string(i), "v");
    p.w = Quorum::All();
    auto put = Put(world_, world_.node(via), p);
    EXPECT_TRUE(put.status.ok()) << i << ": " << put.status.ToString();
    GetRequest g = MakeGet("k" + std::to_string(i));
    g.r = Quorum::All();
    auto get = Get(world_, world_.node(via), g);
    EXPECT_TRUE(get.status.ok()) << i << ": " << get.status.ToString();
  }
  for (const auto& n : names_) {
    for (const auto& m : world_.node(n).core().View().members) {
      EXPECT_TRUE(m.up) << m.name << " as " << n << " sees it";
    }
  }
}

}  // namespace
}  // namespace causeway::sim
