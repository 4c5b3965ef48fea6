// End-to-end tests of a cluster of real causewayd processes on this
// machine: nodes joined through the admin messages (and the CLI), a node
// crashed and restarted (quorums, failure detection, hinted handoff), a node
// added (ownership handoff), nodes leaving, and concurrent writes through
// different nodes (siblings and last-write-wins).
//
// Every wait is bounded; every process is stopped when its Daemon goes out
// of scope, also when an assertion fails half way.

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "gtest/gtest.h"
#include "proto/admin.pb.h"
#include "proto/riak.pb.h"
#include "tests/support/daemon.h"

namespace causeway {
namespace {

using client::Client;
using client::ClientOptions;
using testing::Daemon;
using testing::DaemonOptions;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Riak's symbolic quorum "all" on the wire.
constexpr uint32_t kQuorumAll = 0xFFFFFFFC;

// Joins and ownership changes of a handful of nodes with little data settle
// in a few seconds; the bound only keeps a broken cluster from hanging.
constexpr milliseconds kSettleTimeout = seconds(60);

std::string NodeName(int k) {
  return "node" + std::to_string(k) + "@127.0.0.1";
}

// Calls `check` every 100 ms until it returns true or `timeout` passes;
// returns its last answer.
bool Eventually(milliseconds timeout, const std::function<bool()>& check) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (check()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(100));
  }
}

// Runs the causeway CLI with `args`; returns its exit status and puts its
// stdout and stderr in *output.
int RunCli(const std::vector<std::string>& args, std::string* output) {
  std::string command = CAUSEWAY_CLI_PATH;
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2>&1 </dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  output->clear();
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    output->append(buf.data(), n);
  }
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Nodes node1..nodeN of one cluster, each a Daemon with a peer port. Node
// numbers are 1-based, as in their names.
class LocalCluster {
 public:
  LocalCluster() = default;
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts node size()+1 (not yet joined to anything).
  ::testing::AssertionResult StartNode() {
    DaemonOptions options;
    const int k = size() + 1;
    options.name = NodeName(k);
    options.peer = true;
    options.cluster_name = "causeway-test";
    options.cluster_secret = "a shared secret for the cluster tests";
    // Requests that wait on a dead peer fail in seconds, not the default 10.
    options.extra_args = {"--request-timeout-ms", "4000"};
    options.stop_timeout = seconds(10);
    nodes_.push_back(std::make_unique<Daemon>(options));
    Status s = nodes_.back()->Start();
    if (!s.ok()) {
      return ::testing::AssertionFailure()
             << "starting " << NodeName(k) << ": " << s.ToString();
    }
    return ::testing::AssertionSuccess();
  }

  // Starts `n` nodes, joins nodes 2..n to node1 and waits until settled.
  ::testing::AssertionResult Form(int n) {
    for (int k = 1; k <= n; ++k) {
      auto r = StartNode();
      if (!r) return r;
    }
    for (int k = 2; k <= n; ++k) {
      auto r = Join(k, 1);
      if (!r) return r;
    }
    return WaitSettled(n);
  }

  // Node k joins the cluster of node `seed`, through the admin message.
  ::testing::AssertionResult Join(int k, int seed) {
    auto c = ClientFor(k);
    Status s = c->ClusterJoin(node(seed).peer_address());
    if (!s.ok()) {
      return ::testing::AssertionFailure()
             << NodeName(k) << " joining " << NodeName(seed) << ": "
             << s.ToString();
    }
    return ::testing::AssertionSuccess();
  }

  int size() const { return static_cast<int>(nodes_.size()); }
  Daemon& node(int k) { return *nodes_.at(k - 1); }

  std::unique_ptr<Client> ClientFor(int k) {
    ClientOptions o;
    o.port = node(k).pb_port();
    o.io_timeout_ms = 15000;
    return std::make_unique<Client>(o);
  }

  Status StatusOf(int k, admin::CwClusterStatusResp* out) {
    return ClientFor(k)->ClusterStatus(out);
  }

  // Waits until every running node reports the same ring version, `members`
  // members all valid and up, and no pending transfer.
  ::testing::AssertionResult WaitSettled(
      int members, milliseconds timeout = kSettleTimeout) {
    bool ok = Eventually(timeout, [&] { return Settled(members); });
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "the ring did not settle with " << members << " members within "
           << timeout.count() << " ms:\n"
           << Describe();
  }

  // Every running node's view, for failure messages.
  std::string Describe() {
    std::ostringstream out;
    for (int k = 1; k <= size(); ++k) {
      out << NodeName(k) << ": ";
      if (!node(k).running()) {
        out << "not running\n";
        continue;
      }
      admin::CwClusterStatusResp st;
      Status s = StatusOf(k, &st);
      if (!s.ok()) {
        out << "no status (" << s.ToString() << ")\n";
        continue;
      }
      out << "ring_version " << st.ring_version() << ", pending_transfers "
          << st.pending_transfers() << ", hints_pending "
          << st.handoff().hints_pending() << ", members:";
      for (const auto& m : st.members()) {
        out << " " << m.name() << "(" << m.status() << ","
            << (m.up() ? "up" : "down") << "," << m.partitions() << ")";
      }
      out << "\n";
    }
    return out.str();
  }

 private:
  bool Settled(int members) {
    std::optional<uint64_t> version;
    for (int k = 1; k <= size(); ++k) {
      if (!node(k).running()) continue;
      admin::CwClusterStatusResp st;
      if (!StatusOf(k, &st).ok()) return false;
      if (st.pending_transfers() != 0) return false;
      if (version && *version != st.ring_version()) return false;
      version = st.ring_version();
      int valid_up = 0, others = 0;
      for (const auto& m : st.members()) {
        if (m.status() == "removed") continue;
        if (m.status() == "valid" && (!m.has_up() || m.up())) {
          ++valid_up;
        } else {
          ++others;
        }
      }
      if (valid_up != members || others != 0) return false;
    }
    return version.has_value();
  }

  std::vector<std::unique_ptr<Daemon>> nodes_;
};

Status PutValue(Client& c, const std::string& bucket, const std::string& key,
                const std::string& value, std::optional<uint32_t> w = {},
                std::optional<uint32_t> pw = {}) {
  pbc::RpbPutReq req;
  req.set_bucket(bucket);
  req.set_key(key);
  req.mutable_content()->set_value(value);
  if (w) req.set_w(*w);
  if (pw) req.set_pw(*pw);
  pbc::RpbPutResp resp;
  return c.Put(req, &resp);
}

struct ReadOptions {
  std::optional<uint32_t> r;
  std::optional<bool> notfound_ok;
};

// The values of key's siblings, sorted; NotFound when there are none.
Status GetValues(Client& c, const std::string& bucket, const std::string& key,
                 const ReadOptions& o, std::vector<std::string>* values) {
  pbc::RpbGetReq req;
  req.set_bucket(bucket);
  req.set_key(key);
  if (o.r) req.set_r(*o.r);
  if (o.notfound_ok) req.set_notfound_ok(*o.notfound_ok);
  pbc::RpbGetResp resp;
  Status s = c.Get(req, &resp);
  values->clear();
  for (const auto& content : resp.content()) values->push_back(content.value());
  std::sort(values->begin(), values->end());
  return s;
}

std::string KeyName(int i) { return "key-" + std::to_string(i); }
std::string ValueOf(int i) { return "value of key " + std::to_string(i); }

// Writes keys 0..count-1 (each with ValueOf) through node k with `w`.
::testing::AssertionResult WriteKeys(LocalCluster& cluster, int k,
                                     const std::string& bucket, int count,
                                     std::optional<uint32_t> w) {
  auto c = cluster.ClientFor(k);
  for (int i = 0; i < count; ++i) {
    Status s = PutValue(*c, bucket, KeyName(i), ValueOf(i), w);
    if (!s.ok()) {
      return ::testing::AssertionFailure()
             << KeyName(i) << " through " << NodeName(k) << ": "
             << s.ToString();
    }
  }
  return ::testing::AssertionSuccess();
}

// Reads every key 0..count-1 through node k with `o` (notfound_ok=false:
// a replica without the key makes the read NotFound, so a missing key
// cannot pass as a found one); `where` names what was read in a failure.
::testing::AssertionResult AllKeysRead(LocalCluster& cluster, int k,
                                       const std::string& bucket, int count,
                                       const ReadOptions& o,
                                       const std::string& where) {
  auto c = cluster.ClientFor(k);
  int missing = 0;
  std::string first;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> values;
    Status s = GetValues(*c, bucket, KeyName(i), o, &values);
    if (s.ok() && values == std::vector<std::string>{ValueOf(i)}) continue;
    if (missing++ == 0) {
      first = KeyName(i) + ": " + s.ToString() + " with " +
              std::to_string(values.size()) + " value(s)";
    }
  }
  if (missing == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << missing << " of " << count << " keys not " << where << " "
         << NodeName(k) << " (first: " << first << ")\n"
         << cluster.Describe();
}

// With r=all: every replica (the new and remaining owners included) holds
// every key, not just some.
::testing::AssertionResult AllKeysOnAllReplicas(LocalCluster& cluster, int k,
                                                const std::string& bucket,
                                                int count) {
  return AllKeysRead(cluster, k, bucket, count,
                     {.r = kQuorumAll, .notfound_ok = false},
                     "on every replica through");
}

// With r=1, for a node running alone: it answers from its own copy.
::testing::AssertionResult AllKeysInOwnCopy(LocalCluster& cluster, int k,
                                            const std::string& bucket,
                                            int count) {
  return AllKeysRead(cluster, k, bucket, count, {.r = 1, .notfound_ok = false},
                     "in the own copy of");
}

// --- the harness's peer support ------------------------------------------

TEST(DaemonPeerHarnessTest, ParsesThePeerPortWhenPresent) {
  uint16_t pb = 0, http = 0, peer = 7;
  ASSERT_TRUE(testing::ParsePortsJson("{\"pb\":1,\"http\":2,\"peer\":3}", &pb,
                                      &http, &peer)
                  .ok());
  EXPECT_EQ(peer, 3);
  ASSERT_TRUE(
      testing::ParsePortsJson("{\"pb\":1,\"http\":2}", &pb, &http, &peer).ok());
  EXPECT_EQ(peer, 0) << "absent means no peer port";
  EXPECT_FALSE(testing::ParsePortsJson("{\"pb\":1,\"http\":2,\"peer\":0}", &pb,
                                       &http, &peer)
                   .ok());
  EXPECT_FALSE(testing::ParsePortsJson("{\"pb\":1,\"http\":2,\"peer\":70000}",
                                       &pb, &http, &peer)
                   .ok());
  EXPECT_FALSE(testing::ParsePortsJson("{\"pb\":1,\"http\":2,\"peer\":\"x\"}",
                                       &pb, &http, &peer)
                   .ok());
}

TEST(DaemonPeerHarnessTest, WritesASecretOnlyTheOwnerCanRead) {
  char pattern[] = "/tmp/causeway-secret-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string path = std::string(pattern) + "/secret";
  {
    std::ofstream loose(path);  // an existing, world-readable file
    loose << "old";
  }
  chmod(path.c_str(), 0644);
  ASSERT_TRUE(testing::WriteSecretFile(path, "s3cret").ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "s3cret\n");
  std::remove(path.c_str());
  rmdir(pattern);
}

TEST(DaemonPeerHarnessTest, StandaloneByDefaultPeerPortOnRequestKeptOnRestart) {
  Daemon standalone;
  ASSERT_TRUE(standalone.Start().ok());
  EXPECT_EQ(standalone.peer_port(), 0) << "the harness passes --no-peer";

  DaemonOptions options;
  options.peer = true;
  options.name = NodeName(1);
  Daemon member(options);
  Status s = member.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  const uint16_t peer = member.peer_port();
  ASSERT_NE(peer, 0);
  EXPECT_EQ(member.peer_address(), "127.0.0.1:" + std::to_string(peer));
  s = member.Stop();
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = member.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(member.peer_port(), peer);
}

// --- clusters ---------------------------------------------------------------

TEST(ClusterTest, ThreeNodesFormOneRingWithEveryNodeOwningPartitions) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Form(3));
  admin::CwClusterStatusResp st;
  ASSERT_TRUE(cluster.StatusOf(2, &st).ok());
  std::map<std::string, int> owned;
  for (const auto& owner : st.owners()) ++owned[owner];
  ASSERT_EQ(owned.size(), 3u) << cluster.Describe();
  for (int k = 1; k <= 3; ++k) {
    // 64 partitions over 3 nodes: 21 or 22 each.
    EXPECT_GE(owned[NodeName(k)], 21) << cluster.Describe();
  }
  // A value written through one node is read through the others.
  auto c1 = cluster.ClientFor(1);
  ASSERT_TRUE(PutValue(*c1, "formed", "k", "v").ok());
  for (int k = 2; k <= 3; ++k) {
    std::vector<std::string> values;
    auto c = cluster.ClientFor(k);
    Status s = GetValues(*c, "formed", "k", {}, &values);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(values, std::vector<std::string>{"v"});
  }
}

TEST(ClusterTest, KilledNodeIsDownQuorumsAreEnforcedAndHintsReachItOnRestart) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Form(3));

  cluster.node(3).Kill();
  // Failure detection: down after 3 s of silence (design notes); the bound
  // leaves room for a loaded machine.
  std::string members;
  const bool seen_down = Eventually(seconds(8), [&] {
    const int rc = RunCli(
        {"--node", "127.0.0.1:" + std::to_string(cluster.node(1).pb_port()),
         "cluster", "members"},
        &members);
    if (rc != 0) return false;
    std::istringstream lines(members);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream words(line);
      std::string name, state;
      words >> name >> state;
      if (name == NodeName(3)) return state == "down";
    }
    return false;
  });
  ASSERT_TRUE(seen_down) << "`causeway cluster members` on node1 never showed "
                         << NodeName(3) << " down; last output:\n"
                         << members;

  // Two replicas are up: w=2 is met (the third copy waits as a hint), pw=3
  // is not, and the error says which setting failed.
  constexpr int kKeys = 40;
  for (int i = 0; i < kKeys; ++i) {
    auto c = cluster.ClientFor(1 + i % 2);
    Status s = PutValue(*c, "hinted", KeyName(i), ValueOf(i), /*w=*/2);
    ASSERT_TRUE(s.ok()) << KeyName(i) << ": " << s.ToString();
  }
  {
    auto c = cluster.ClientFor(1);
    Status s = PutValue(*c, "hinted", "needs-three-primaries", "x", /*w=*/2,
                        /*pw=*/3);
    ASSERT_FALSE(s.ok()) << "pw=3 with one of three primaries down";
    EXPECT_NE(s.message().find("pw"), std::string::npos) << s.ToString();
  }
  admin::CwClusterStatusResp st;
  ASSERT_TRUE(cluster.StatusOf(1, &st).ok());
  EXPECT_GT(st.handoff().hints_pending(), 0u)
      << "writes for the dead node must be kept as hints\n"
      << cluster.Describe();

  Status s = cluster.node(3).Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  const bool delivered = Eventually(seconds(10), [&] {
    for (int k = 1; k <= 2; ++k) {
      admin::CwClusterStatusResp view;
      if (!cluster.StatusOf(k, &view).ok()) return false;
      if (view.handoff().hints_pending() != 0) return false;
    }
    return true;
  });
  ASSERT_TRUE(delivered) << "hints not delivered within 10 s of the restart\n"
                         << cluster.Describe();

  // Only node3 is left: with r=1 it answers from its own storage, so every
  // key it lacks reads as not found.
  ASSERT_TRUE(cluster.node(1).Stop().ok());
  ASSERT_TRUE(cluster.node(2).Stop().ok());
  auto c3 = cluster.ClientFor(3);
  for (int i = 0; i < kKeys; ++i) {
    std::vector<std::string> values;
    s = GetValues(*c3, "hinted", KeyName(i), {.r = 1, .notfound_ok = {}},
                  &values);
    ASSERT_TRUE(s.ok()) << KeyName(i)
                        << " is not on the restarted node: " << s.ToString();
    EXPECT_EQ(values, std::vector<std::string>{ValueOf(i)});
  }
}

TEST(ClusterTest, AddedNodeTakesPartitionsAndEveryKeyIsReadableEverywhere) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Form(3));
  constexpr int kKeys = 150;
  ASSERT_TRUE(WriteKeys(cluster, 1, "grow", kKeys, kQuorumAll));

  ASSERT_TRUE(cluster.StartNode());
  ASSERT_TRUE(cluster.Join(4, 2));
  ASSERT_TRUE(cluster.WaitSettled(4));

  admin::CwClusterStatusResp st;
  ASSERT_TRUE(cluster.StatusOf(4, &st).ok());
  int owned_by_new = 0;
  for (const auto& owner : st.owners()) owned_by_new += owner == NodeName(4);
  EXPECT_EQ(owned_by_new, 16) << "64 partitions over 4 nodes\n"
                              << cluster.Describe();
  for (int k = 1; k <= 4; ++k) {
    EXPECT_TRUE(AllKeysOnAllReplicas(cluster, k, "grow", kKeys));
  }
}

// Writes kKeys keys with w=all to a cluster of four, makes `leaver` leave
// by asking node `asked` (the CLI with a NODE argument when they differ),
// and checks that the leaver exits 0 by itself and that the three others
// still serve every key from all replicas.
void LeaveAndCheck(int leaver, int asked) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Form(4));
  constexpr int kKeys = 150;
  ASSERT_TRUE(
      WriteKeys(cluster, asked == 1 ? 2 : 1, "shrink", kKeys, kQuorumAll));

  std::vector<std::string> args = {
      "--node", "127.0.0.1:" + std::to_string(cluster.node(asked).pb_port()),
      "cluster", "leave"};
  if (leaver != asked) args.push_back(NodeName(leaver));
  std::string output;
  ASSERT_EQ(RunCli(args, &output), 0) << output;

  Status s = cluster.node(leaver).WaitForExit(seconds(60));
  ASSERT_TRUE(s.ok()) << NodeName(leaver)
                      << " did not exit after leaving: " << s.ToString() << "\n"
                      << cluster.Describe();
  const int ws = cluster.node(leaver).last_wait_status();
  ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
      << NodeName(leaver) << " ended with wait status " << ws << "; log:\n"
      << cluster.node(leaver).LogTail();

  ASSERT_TRUE(cluster.WaitSettled(3));
  for (int k = 1; k <= 4; ++k) {
    if (k == leaver) continue;
    admin::CwClusterStatusResp st;
    ASSERT_TRUE(cluster.StatusOf(k, &st).ok());
    for (const auto& owner : st.owners()) {
      ASSERT_NE(owner, NodeName(leaver)) << cluster.Describe();
    }
    EXPECT_TRUE(AllKeysOnAllReplicas(cluster, k, "shrink", kKeys));
  }
}

TEST(ClusterTest, NodeThatLeavesExitsByItselfAndNoKeyIsLost) {
  LeaveAndCheck(/*leaver=*/3, /*asked=*/3);
}

TEST(ClusterTest, ClaimantMadeToLeaveByAnotherNodeExitsAndNoKeyIsLost) {
  // node1 has the smallest name, so it is the claimant that drives
  // ownership changes; its own departure must still complete.
  LeaveAndCheck(/*leaver=*/1, /*asked=*/2);
}

// Sets `patch` on bucket through node 1 and waits until every node serves
// the new properties (they travel by gossip).
::testing::AssertionResult SetBucketEverywhere(
    LocalCluster& cluster, const std::string& bucket,
    const pbc::RpbBucketProps& patch) {
  pbc::RpbSetBucketReq set;
  set.set_bucket(bucket);
  *set.mutable_props() = patch;
  Status s = cluster.ClientFor(1)->SetBucket(set);
  if (!s.ok()) {
    return ::testing::AssertionFailure()
           << "set " << bucket << ": " << s.ToString();
  }
  const bool everywhere = Eventually(seconds(15), [&] {
    for (int k = 1; k <= cluster.size(); ++k) {
      pbc::RpbGetBucketReq get;
      get.set_bucket(bucket);
      pbc::RpbBucketProps props;
      if (!cluster.ClientFor(k)->GetBucket(get, &props).ok()) return false;
      if (props.allow_mult() != patch.allow_mult() ||
          props.last_write_wins() != patch.last_write_wins()) {
        return false;
      }
    }
    return true;
  });
  if (everywhere) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "properties of " << bucket << " did not reach every node in 15 s";
}

TEST(ClusterTest, ConcurrentBlindWritesThroughDifferentNodes) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Form(3));
  pbc::RpbBucketProps mult;
  mult.set_allow_mult(true);
  mult.set_last_write_wins(false);
  ASSERT_TRUE(SetBucketEverywhere(cluster, "mult", mult));
  pbc::RpbBucketProps lww;
  lww.set_allow_mult(false);
  lww.set_last_write_wins(true);
  ASSERT_TRUE(SetBucketEverywhere(cluster, "lww", lww));

  // One writer per node, all at once, each writing every key once to each
  // bucket without a context.
  constexpr int kKeys = 30;
  std::vector<std::string> errors(3);
  std::vector<std::thread> writers;
  for (int k = 1; k <= 3; ++k) {
    writers.emplace_back([&cluster, &errors, k] {
      auto c = cluster.ClientFor(k);
      for (int i = 0; i < kKeys; ++i) {
        for (const char* bucket : {"mult", "lww"}) {
          Status s = PutValue(*c, bucket, KeyName(i), "from " + NodeName(k),
                              kQuorumAll);
          if (!s.ok() && errors[k - 1].empty()) {
            errors[k - 1] =
                std::string(bucket) + "/" + KeyName(i) + ": " + s.ToString();
          }
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  for (int k = 1; k <= 3; ++k) {
    ASSERT_TRUE(errors[k - 1].empty())
        << "writer " << k << ": " << errors[k - 1];
  }

  const std::vector<std::string> all = {
      "from " + NodeName(1), "from " + NodeName(2), "from " + NodeName(3)};
  for (int i = 0; i < kKeys; ++i) {
    std::optional<std::vector<std::string>> lww_seen;
    for (int k = 1; k <= 3; ++k) {
      auto c = cluster.ClientFor(k);
      std::vector<std::string> values;
      Status s = GetValues(*c, "mult", KeyName(i),
                           {.r = kQuorumAll, .notfound_ok = {}}, &values);
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(values, all)
          << "mult/" << KeyName(i) << " through " << NodeName(k);
      s = GetValues(*c, "lww", KeyName(i), {.r = kQuorumAll, .notfound_ok = {}},
                    &values);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(values.size(), 1u)
          << "lww/" << KeyName(i) << " through " << NodeName(k);
      EXPECT_NE(std::find(all.begin(), all.end(), values[0]), all.end())
          << values[0];
      // Every node resolves to the same winner.
      if (lww_seen) {
        EXPECT_EQ(values, *lww_seen)
            << "lww/" << KeyName(i) << " through " << NodeName(k);
      }
      lww_seen = values;
    }
  }
}

// A replica acknowledges a write over the peer transport; nodes defer
// their storage log writes until something is about to leave them
// (storage::Engine::FlushLog). With w=all every replica acknowledged every
// write, so killing all three (one after another, within milliseconds)
// must lose none: a node restarted alone still holds each of them in its
// own copy.
TEST(ClusterTest, ReplicaAcknowledgementsSurviveKillingEveryNode) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Form(3));
  constexpr int kKeys = 300;
  ASSERT_TRUE(WriteKeys(cluster, 1, "acked", kKeys, /*w=*/3));
  for (int k = 1; k <= 3; ++k) cluster.node(k).Kill();
  for (int k = 2; k <= 3; ++k) {
    ASSERT_TRUE(cluster.node(k).Start().ok());
    EXPECT_TRUE(AllKeysInOwnCopy(cluster, k, "acked", kKeys));
    cluster.node(k).Kill();
  }
}

// Anti-entropy on real processes: a node whose data directory is wiped gets
// every key back from its peers with nobody reading, and then serves them
// alone. Nothing reads the keys until the other two are stopped, so read
// repair plays no part; ownership is unchanged, so handoff has nothing to
// move.
TEST(ClusterTest, WipedNodeGetsEveryKeyBackThroughAntiEntropy) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.Form(3));
  constexpr int kKeys = 10000;
  ASSERT_TRUE(WriteKeys(cluster, 1, "aae", kKeys, std::nullopt));
  cluster.node(3).Kill();
  std::string rm = "rm -rf '" + cluster.node(3).data_dir() + "'";
  ASSERT_EQ(std::system(rm.c_str()), 0);
  ASSERT_TRUE(cluster.node(3).Start().ok());
  const auto restarted = Clock::now();

  // Converged when all three report the same root for every partition
  // (with n_val 3 on three nodes, each holds every partition).
  auto roots = [&](int k, std::vector<uint64_t>* out) {
    admin::CwClusterStatusResp st;
    if (!cluster.StatusOf(k, &st).ok() || !st.has_aae()) return false;
    out->clear();
    for (const auto& p : st.aae().partitions()) {
      if (!p.ready()) return false;
      out->push_back(p.root());
    }
    return !out->empty();
  };
  const bool converged = Eventually(seconds(60), [&] {
    std::vector<uint64_t> r1, r2, r3;
    return roots(1, &r1) && roots(2, &r2) && roots(3, &r3) && r1 == r2 &&
           r2 == r3;
  });
  ASSERT_TRUE(converged) << "the wiped node's trees did not match its "
                            "peers' within 60 s\n"
                         << cluster.Describe();
  ::testing::Test::RecordProperty(
      "refill_ms", std::to_string(std::chrono::duration_cast<milliseconds>(
                                      Clock::now() - restarted)
                                      .count()));
  admin::CwClusterStatusResp st;
  ASSERT_TRUE(cluster.StatusOf(1, &st).ok());
  std::string aae_text;
  ASSERT_EQ(RunCli({"--node",
                    "127.0.0.1:" + std::to_string(cluster.node(3).pb_port()),
                    "cluster", "aae"},
                   &aae_text),
            0)
      << aae_text;
  EXPECT_NE(aae_text.find("keys_repaired:"), std::string::npos) << aae_text;

  ASSERT_TRUE(cluster.node(1).Stop().ok());
  ASSERT_TRUE(cluster.node(2).Stop().ok());
  EXPECT_TRUE(AllKeysInOwnCopy(cluster, 3, "aae", kKeys));
}

}  // namespace
}  // namespace causeway
