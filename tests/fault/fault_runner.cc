// fault_runner: history checking on a real cluster. Starts five causewayd
// processes with fault injection (tests/support Daemon), forms one
// cluster, and runs client workloads (read-merge-write sets, registers, and
// Riak data types: counters and observed-remove sets) while a nemesis
// schedule partitions the network, drops, duplicates, reorders and delays
// peer messages, skews a clock, kills and restarts nodes and pauses them. Every
// client operation is recorded (tests/fault/history.h); after healing, final
// reads go through every node and the checkers (tests/fault/checker.h) judge
// the history. A second phase kills a node with SIGKILL under a dw=all write
// load and checks that every acknowledged write is still on every replica
// after the restart (r=all, notfound_ok=false, through every node).
//
// Nothing passes by default. Each workload must have acknowledged enough
// operations, and enough inside each fault window (Floors()); each fault
// must be confirmed by the nodes (a counter of /faults or /stats that grew
// while it was in force, the skew shown in /faults, a killed or paused
// node's admin port not answering), and a nemesis request that failed fails
// the run; after healing the cluster must settle, deliver its hints and show
// no fault in force.
//
// Output, in --out DIR: report.md (what was done, faults, verdicts,
// latency, availability), timeline.svg (latency and availability over time),
// history.jsonl (every operation), and the node logs when a check failed.
// Exit status: 0 every verdict ok; 1 a verdict was violated; 2 the run
// could not be carried out (a node did not start, the cluster did not form).
//
// Schedules: `short` (about a minute of faults, for tests/run) runs each
// kind of fault once in a fixed order; `soak` draws faults at random from
// --seed for --duration seconds.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/client.h"
#include "proto/admin.pb.h"
#include "proto/riak.pb.h"
#include "tests/fault/checker.h"
#include "tests/fault/history.h"
#include "tests/fault/report.h"
#include "tests/support/daemon.h"

namespace causeway::fault {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kNodes = 5;
constexpr uint32_t kQuorumOne = 0xFFFFFFFE;
constexpr uint32_t kQuorumQuorum = 0xFFFFFFFD;
constexpr uint32_t kQuorumAll = 0xFFFFFFFC;
const char* const kSetBucket = "fault-sets";
const char* const kRegisterBucket = "fault-registers";
const char* const kDurableBucket = "fault-durable";
// The data types: two bucket types, one bucket in each.
const char* const kCounterType = "fault_counters";
const char* const kDtSetType = "fault_sets";
const char* const kDtBucket = "fault-dt";
constexpr int kSetKeys = 3;
constexpr int kRegisterKeys = 3;
constexpr int kCounterKeys = 3;
constexpr int kDtSetKeys = 3;
constexpr int kSetWriters = 3;
constexpr int kRegisterClients = 2;
constexpr int kCounterClients = 2;
constexpr int kDtSetClients = 2;
constexpr int kDurableWriters = 3;

std::string NodeName(int k) {
  return "node" + std::to_string(k) + "@127.0.0.1";
}

// Options from the command line.
struct Options {
  std::string schedule = "short";
  std::string out;
  uint64_t seed = 0;
  int duration_s = 600;
};

int Usage(const char* error) {
  if (error != nullptr) std::cerr << "fault_runner: " << error << "\n";
  std::cerr
      << "Usage: fault_runner --out DIR [--schedule short|soak] [--seed N]\n"
         "                    [--duration S]\n"
         "  --out DIR        where report.md, timeline.svg and history.jsonl\n"
         "                   go (created; earlier files are replaced)\n"
         "  --schedule       short: each fault once, about a minute "
         "(default);\n"
         "                   soak: random faults for --duration seconds\n"
         "  --seed N         seeds the soak schedule, the workload and the\n"
         "                   nodes' fault RNGs (default: from the clock)\n"
         "  --duration S     soak length in seconds (default 600)\n";
  return 2;
}

bool ParseOptions(int argc, char** argv, Options* o, std::string* error) {
  o->seed = static_cast<uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count());
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      *error = "unknown or incomplete argument '" + a + "'";
      return false;
    }
    const std::string v = argv[++i];
    try {
      if (a == "--out") {
        o->out = v;
      } else if (a == "--schedule") {
        o->schedule = v;
      } else if (a == "--seed") {
        o->seed = std::stoull(v);
      } else if (a == "--duration") {
        o->duration_s = std::stoi(v);
      } else {
        *error = "unknown argument '" + a + "'";
        return false;
      }
    } catch (const std::exception&) {
      *error = a + " needs a number, not '" + v + "'";
      return false;
    }
  }
  if (o->out.empty()) *error = "--out is required";
  if (o->schedule != "short" && o->schedule != "soak") {
    *error = "--schedule must be short or soak";
  }
  if (o->duration_s < 10) *error = "--duration must be at least 10";
  return error->empty();
}

// One HTTP/1.1 request to 127.0.0.1:port; returns the status code (0 when
// the node did not answer within timeout_ms) and puts the body in *body.
int HttpRequest(uint16_t port, const std::string& method,
                const std::string& target, const std::string& payload,
                std::string* body, int timeout_ms = 5000) {
  body->clear();
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return 0;
  }
  const std::string request = method + " " + target +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              "Content-Type: text/plain\r\nContent-Length: " +
                              std::to_string(payload.size()) +
                              "\r\nConnection: close\r\n\r\n" + payload;
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n =
        send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return 0;
    }
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[4096];
  while (true) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  // "HTTP/1.1 200 OK\r\n..."
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
  const size_t header_end = response.find("\r\n\r\n");
  if (header_end != std::string::npos) *body = response.substr(header_end + 4);
  return std::atoi(response.c_str() + 9);
}

// The number after "key": in a JSON text whose keys of that name are
// unique (the /faults and /stats bodies); -1 when absent.
int64_t JsonNumber(const std::string& json, const std::string& key) {
  const std::string quoted = "\"" + key + "\":";
  const size_t at = json.find(quoted);
  if (at == std::string::npos) return -1;
  return std::strtoll(json.c_str() + at + quoted.size(), nullptr, 10);
}

int64_t NowMs(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

// How a data-type update that the server did not acknowledge ended. Only a
// refusal made before anything was applied is a certain failure: a bad
// request, a remove of an absent element (not_present), a remove whose
// context the coordinator has not seen yet, no replica reachable. A quorum
// not met or timed out may have been applied on some replicas, and a broken
// connection or a client-side timeout says nothing: unknown.
Outcome UpdateFailure(const client::ClientError& e, const Status& s) {
  if (e.kind != client::ErrorKind::kServer) return Outcome::kUnknown;
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kPreconditionFailed:
      return Outcome::kFail;
    case Status::Code::kUnavailable:
      for (const char* refusal :
           {"has not yet seen everything in the context", "no replica of "}) {
        if (s.message().find(refusal) != std::string::npos &&
            s.message().find(" not met") == std::string::npos) {
          return Outcome::kFail;
        }
      }
      return Outcome::kUnknown;
    default:
      return Outcome::kUnknown;
  }
}

// The five nodes and what the nemesis does to them. Only the main thread
// touches the Daemons (they were forked from it: a daemon dies with the
// thread that started it); workers read the client ports from `pb_ports`.
class Cluster {
 public:
  explicit Cluster(uint64_t seed) : seed_(seed) {
    for (auto& p : pb_ports) p = 0;
  }
  ~Cluster() {
    // A paused node would only take SIGTERM once resumed.
    for (auto& d : nodes_) {
      if (d->running()) kill(d->pid(), SIGCONT);
    }
  }

  bool Form(std::string* error) {
    for (int k = 1; k <= kNodes; ++k) {
      testing::DaemonOptions o;
      o.name = NodeName(k);
      o.peer = true;
      o.cluster_name = "causeway-fault";
      o.cluster_secret = "the fault runner's cluster secret";
      o.extra_args = {"--enable-fault-injection", "--request-timeout-ms",
                      "4000"};
      o.stop_timeout = seconds(10);
      nodes_.push_back(std::make_unique<testing::Daemon>(o));
      Status s = nodes_.back()->Start();
      if (!s.ok()) {
        *error = "starting " + NodeName(k) + ": " + s.ToString();
        return false;
      }
      pb_ports[k - 1] = nodes_.back()->pb_port();
    }
    for (int k = 2; k <= kNodes; ++k) {
      auto c = ClientFor(k);
      Status s = c->ClusterJoin(node(1).peer_address());
      if (!s.ok()) {
        *error = NodeName(k) + " joining: " + s.ToString();
        return false;
      }
    }
    if (!WaitSettled(seconds(90))) {
      *error = "the cluster did not settle:\n" + Describe();
      return false;
    }
    request_errors.clear();
    for (int k = 1; k <= kNodes; ++k) {
      Post(k, "/faults/seed?value=" + std::to_string(seed_ + k), "");
    }
    if (!request_errors.empty()) {
      *error = "fault injection does not answer: " + request_errors.front();
      return false;
    }
    return true;
  }

  testing::Daemon& node(int k) { return *nodes_.at(k - 1); }

  std::unique_ptr<client::Client> ClientFor(int k, int timeout_ms = 15000) {
    client::ClientOptions o;
    o.port = pb_ports[k - 1];
    o.connect_timeout_ms = 2000;
    o.io_timeout_ms = timeout_ms;
    return std::make_unique<client::Client>(o);
  }

  // POSTs to node k's admin port; false unless 200, and then the reason
  // goes to request_errors (a nemesis request that failed fails the run).
  bool Post(int k, const std::string& target, const std::string& payload) {
    if (!Reachable(k)) return true;
    std::string body;
    const int code =
        HttpRequest(node(k).http_port(), "POST", target, payload, &body);
    if (code != 200) {
      const std::string error = NodeName(k) + " answered " +
                                std::to_string(code) + " to POST " + target +
                                ": " + body;
      std::cerr << "fault_runner: " << error << "\n";
      request_errors.push_back(error);
      return false;
    }
    return true;
  }
  // Running and not paused: its admin port can answer.
  bool Reachable(int k) { return node(k).running() && paused_.count(k) == 0; }
  // GET `target` from node k's admin port; the body, or empty unless 200.
  std::string Get(int k, const std::string& target, int timeout_ms = 5000) {
    std::string body;
    const int code =
        HttpRequest(node(k).http_port(), "GET", target, "", &body, timeout_ms);
    return code == 200 ? body : std::string();
  }
  // True when node k's admin port answers /ping within timeout_ms (a
  // killed node refuses the connection, a paused one never answers).
  bool Answers(int k, int timeout_ms) {
    std::string body;
    return HttpRequest(node(k).http_port(), "GET", "/ping", "", &body,
                       timeout_ms) == 200;
  }
  // /faults and /stats of every reachable node, for the confirmations.
  struct Snapshot {
    std::map<int, std::string> faults, stats;
  };
  Snapshot Observe() {
    Snapshot out;
    for (int k = 1; k <= kNodes; ++k) {
      if (!Reachable(k)) continue;
      std::string f = Get(k, "/faults");
      std::string st = Get(k, "/stats");
      if (!f.empty()) out.faults[k] = std::move(f);
      if (!st.empty()) out.stats[k] = std::move(st);
    }
    return out;
  }
  void PostAll(const std::string& target, const std::string& payload = "") {
    for (int k = 1; k <= kNodes; ++k) Post(k, target, payload);
  }
  // "1,2/3,4,5" -> node names.
  void Partition(const std::string& groups) {
    std::string text;
    for (char c : groups) {
      if (c >= '1' && c <= '9') {
        text += NodeName(c - '0');
      } else {
        text.push_back(c);
      }
    }
    PostAll("/faults/partition", text);
  }
  // A link fault on every link, or only on node k's links (both ways).
  void LinkFault(const std::string& verb, const std::string& query,
                 int only = 0) {
    for (int k = 1; k <= kNodes; ++k) {
      for (int peer = 1; peer <= kNodes; ++peer) {
        if (only == 0 && peer > 1) break;
        if (only != 0 && (peer == k || (k != only && peer != only))) continue;
        std::string target = "/faults/" + verb + "?" + query;
        if (only != 0) target += "&node=" + NodeName(peer).replace(5, 1, "%40");
        Post(k, target, "");
      }
    }
  }
  void Kill(int k) { node(k).Kill(); }
  bool Start(int k) {
    Status s = node(k).Start();
    if (!s.ok()) {
      const std::string error =
          "restarting " + NodeName(k) + ": " + s.ToString();
      std::cerr << "fault_runner: " << error << "\n";
      request_errors.push_back(error);
      return false;
    }
    Post(k, "/faults/seed?value=" + std::to_string(seed_ + 100 + k), "");
    pb_ports[k - 1] = node(k).pb_port();
    return true;
  }
  void Pause(int k) {
    if (node(k).running()) kill(node(k).pid(), SIGSTOP);
    paused_.insert(k);
  }
  void Resume(int k) {
    if (node(k).running()) kill(node(k).pid(), SIGCONT);
    paused_.erase(k);
  }
  // Undoes everything: resumes, restarts, clears faults.
  bool HealAll() {
    for (int k = 1; k <= kNodes; ++k) Resume(k);
    bool ok = true;
    for (int k = 1; k <= kNodes; ++k) {
      if (!node(k).running()) ok = Start(k) && ok;
    }
    PostAll("/faults/clear");
    return ok;
  }

  bool WaitSettled(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (Settled()) return true;
      std::this_thread::sleep_for(milliseconds(250));
    }
    return false;
  }
  // Waits until no node holds hints (bounded); true when none do.
  bool WaitHintsDelivered(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      bool none = true;
      for (int k = 1; k <= kNodes && none; ++k) {
        admin::CwClusterStatusResp st;
        none = ClientFor(k)->ClusterStatus(&st).ok() &&
               st.handoff().hints_pending() == 0;
      }
      if (none) return true;
      std::this_thread::sleep_for(milliseconds(250));
    }
    return false;
  }

  std::string Describe() {
    std::string out;
    for (int k = 1; k <= kNodes; ++k) {
      out += NodeName(k) + ": ";
      admin::CwClusterStatusResp st;
      Status s = ClientFor(k)->ClusterStatus(&st);
      if (!s.ok()) {
        out += s.ToString() + "\n";
        continue;
      }
      out += "ring " + std::to_string(st.ring_version()) + ", pending " +
             std::to_string(st.pending_transfers()) + ", members:";
      for (const auto& m : st.members()) {
        out += " " + m.name() + "(" + m.status() + "," +
               (m.up() ? "up" : "down") + ")";
      }
      out += "\n";
    }
    return out;
  }

  std::array<std::atomic<uint16_t>, kNodes> pb_ports;
  // Nemesis requests that failed since the caller last cleared it.
  std::vector<std::string> request_errors;

 private:
  bool Settled() {
    std::optional<uint64_t> version;
    for (int k = 1; k <= kNodes; ++k) {
      admin::CwClusterStatusResp st;
      if (!ClientFor(k, 5000)->ClusterStatus(&st).ok()) return false;
      if (st.pending_transfers() != 0) return false;
      if (version && *version != st.ring_version()) return false;
      version = st.ring_version();
      int valid_up = 0;
      for (const auto& m : st.members()) {
        if (m.status() == "removed") continue;
        if (m.status() != "valid" || (m.has_up() && !m.up())) return false;
        ++valid_up;
      }
      if (valid_up != kNodes) return false;
    }
    return version.has_value();
  }

  uint64_t seed_;
  std::vector<std::unique_ptr<testing::Daemon>> nodes_;
  std::set<int> paused_;
};

// A client thread: one Client per node, replaced when the node's port
// changes (a restarted node binds new client ports).
class Worker {
 public:
  Worker(int process, Cluster& cluster, History& history,
         Clock::time_point start, uint64_t seed)
      : process_(process),
        cluster_(cluster),
        history_(history),
        start_(start),
        rng_(seed) {}

  int PickNode() {
    return static_cast<int>(
        std::uniform_int_distribution<int>(1, kNodes)(rng_));
  }
  client::Client& ClientOf(int k) {
    const uint16_t port = cluster_.pb_ports[k - 1];
    auto& c = clients_[k];
    if (!c || c->options().port != port) c = cluster_.ClientFor(k, 6000);
    return *c;
  }
  // Connects first, so that a refused connection (nothing sent) is a
  // certain failure; anything after that is unknown.
  bool Reachable(client::Client& c, Op* op) {
    if (c.connected()) return true;
    Status s = c.Connect();
    if (s.ok()) return true;
    op->outcome = Outcome::kFail;
    op->error = s.ToString();
    return false;
  }
  Op Begin(OpKind kind, int k, std::string key) {
    Op op;
    op.process = process_;
    op.kind = kind;
    op.node = NodeName(k);
    op.key = std::move(key);
    op.invoke_ms = NowMs(start_);
    return op;
  }
  void Finish(Op op) {
    op.complete_ms = NowMs(start_);
    history_.Add(std::move(op));
  }

  // Set workload: read, merge the siblings, add one element, write back
  // with the context.
  void AddElement(int seq) {
    const int k = PickNode();
    Op op = Begin(OpKind::kAdd, k, RandomKey("set-", kSetKeys));
    op.value = "p" + std::to_string(process_) + "-" + std::to_string(seq);
    client::Client& c = ClientOf(k);
    if (!Reachable(c, &op)) return Finish(std::move(op));
    pbc::RpbGetReq get;
    get.set_bucket(kSetBucket);
    get.set_key(op.key);
    pbc::RpbGetResp got;
    Status s = c.Get(get, &got);
    if (!s.ok() && !s.IsNotFound()) {
      // Nothing was written yet.
      op.outcome = Outcome::kFail;
      op.error = "read: " + s.ToString();
      return Finish(std::move(op));
    }
    std::vector<std::string> siblings;
    for (const auto& content : got.content())
      siblings.push_back(content.value());
    op.siblings = static_cast<int>(siblings.size());
    std::set<std::string> elements = DecodeSets(siblings);
    auto previous = last_acked_add_.find(op.key);
    op.read_missed_own_previous = previous != last_acked_add_.end() &&
                                  elements.count(previous->second) == 0;
    elements.insert(op.value);
    pbc::RpbPutReq put;
    put.set_bucket(kSetBucket);
    put.set_key(op.key);
    if (got.has_vclock()) put.set_vclock(got.vclock());
    put.mutable_content()->set_value(EncodeSet(elements));
    pbc::RpbPutResp resp;
    s = c.Put(put, &resp);
    op.outcome = s.ok() ? Outcome::kOk : Outcome::kUnknown;
    if (!s.ok()) op.error = s.ToString();
    if (s.ok()) last_acked_add_[op.key] = op.value;
    Finish(std::move(op));
  }

  // Register workload: a blind write of a fresh value, or a read.
  void RegisterOp(int seq) {
    const int k = PickNode();
    const std::string key = RandomKey("reg-", kRegisterKeys);
    client::Client& c = ClientOf(k);
    if (std::uniform_int_distribution<int>(0, 1)(rng_) == 0) {
      Op op = Begin(OpKind::kWrite, k, key);
      op.value = "p" + std::to_string(process_) + "-" + std::to_string(seq);
      if (!Reachable(c, &op)) return Finish(std::move(op));
      pbc::RpbPutReq put;
      put.set_bucket(kRegisterBucket);
      put.set_key(key);
      put.mutable_content()->set_value(op.value);
      pbc::RpbPutResp resp;
      Status s = c.Put(put, &resp);
      op.outcome = s.ok() ? Outcome::kOk : Outcome::kUnknown;
      if (!s.ok()) op.error = s.ToString();
      return Finish(std::move(op));
    }
    Op op = Begin(OpKind::kRead, k, key);
    if (!Reachable(c, &op)) return Finish(std::move(op));
    pbc::RpbGetReq get;
    get.set_bucket(kRegisterBucket);
    get.set_key(key);
    pbc::RpbGetResp got;
    Status s = c.Get(get, &got);
    if (s.ok() || s.IsNotFound()) {
      op.outcome = Outcome::kOk;
      for (const auto& content : got.content())
        op.values.push_back(content.value());
      op.siblings = static_cast<int>(op.values.size());
    } else {
      op.outcome = Outcome::kFail;  // a read that failed changed nothing
      op.error = s.ToString();
    }
    Finish(std::move(op));
  }

  // Durability workload: a fresh key, written once with dw=all.
  void DurableWrite(int seq) {
    const int k = PickNode();
    Op op = Begin(OpKind::kWrite, k,
                  "d-" + std::to_string(process_) + "-" + std::to_string(seq));
    op.value = "v" + std::to_string(seq);
    client::Client& c = ClientOf(k);
    if (!Reachable(c, &op)) return Finish(std::move(op));
    pbc::RpbPutReq put;
    put.set_bucket(kDurableBucket);
    put.set_key(op.key);
    put.set_dw(kQuorumAll);
    put.mutable_content()->set_value(op.value);
    pbc::RpbPutResp resp;
    Status s = c.Put(put, &resp);
    op.outcome = s.ok() ? Outcome::kOk : Outcome::kUnknown;
    if (!s.ok()) op.error = s.ToString();
    Finish(std::move(op));
  }

  // Counter workload: an increment by 1..5 of a random counter.
  void Increment() {
    const int k = PickNode();
    Op op = Begin(OpKind::kIncrement, k, RandomKey("counter-", kCounterKeys));
    op.amount = std::uniform_int_distribution<int>(1, 5)(rng_);
    pbc::DtOp dt;
    dt.mutable_counter_op()->set_increment(op.amount);
    SendUpdate(k, kCounterType, dt, nullptr, &op);
    Finish(std::move(op));
  }

  // Set workload: mostly adds of fresh elements; now and then a remove of an
  // element this client added and saw acknowledged.
  void DtSetOp(int seq) {
    if (acked_elements_.empty() ||
        std::uniform_int_distribution<int>(0, 3)(rng_) != 0) {
      return AddDtElement(seq);
    }
    const size_t i = std::uniform_int_distribution<size_t>(
        0, acked_elements_.size() - 1)(rng_);
    std::swap(acked_elements_[i], acked_elements_.back());
    const auto [key, element] = acked_elements_.back();
    acked_elements_.pop_back();
    RemoveDtElement(key, element);
  }

 private:
  std::string RandomKey(const std::string& prefix, int count) {
    return prefix + std::to_string(
                        std::uniform_int_distribution<int>(0, count - 1)(rng_));
  }
  // One of w=one, quorum, all.
  uint32_t PickW() {
    const uint32_t ws[] = {kQuorumOne, kQuorumQuorum, kQuorumAll};
    return ws[std::uniform_int_distribution<int>(0, 2)(rng_)];
  }

  // Sends `dt` to op->key of bucket type `type` through node k (with the
  // fetched `context` for a remove) and records how it ended in `op`.
  void SendUpdate(int k, const char* type, const pbc::DtOp& dt,
                  const std::string* context, Op* op) {
    client::Client& c = ClientOf(k);
    if (!Reachable(c, op)) return;
    pbc::DtUpdateReq req;
    req.set_type(type);
    req.set_bucket(kDtBucket);
    req.set_key(op->key);
    *req.mutable_op() = dt;
    if (context != nullptr) req.set_context(*context);
    req.set_w(PickW());
    pbc::DtUpdateResp resp;
    Status s = c.DtUpdate(req, &resp);
    op->outcome = s.ok() ? Outcome::kOk : UpdateFailure(c.last_error(), s);
    if (!s.ok()) op->error = s.ToString();
  }

  void AddDtElement(int seq) {
    const int k = PickNode();
    Op op = Begin(OpKind::kDtAdd, k, RandomKey("dtset-", kDtSetKeys));
    op.value = "p" + std::to_string(process_) + "-" + std::to_string(seq);
    pbc::DtOp dt;
    dt.mutable_set_op()->add_adds(op.value);
    SendUpdate(k, kDtSetType, dt, nullptr, &op);
    if (op.outcome == Outcome::kOk)
      acked_elements_.emplace_back(op.key, op.value);
    Finish(std::move(op));
  }

  // Fetches the set through a node and, if the fetch shows the element,
  // removes it with the fetch's context through the same node.
  void RemoveDtElement(const std::string& key, const std::string& element) {
    const int k = PickNode();
    Op op = Begin(OpKind::kDtRemove, k, key);
    op.value = element;
    client::Client& c = ClientOf(k);
    if (!Reachable(c, &op)) return Finish(std::move(op));
    pbc::DtFetchReq fetch;
    fetch.set_type(kDtSetType);
    fetch.set_bucket(kDtBucket);
    fetch.set_key(key);
    pbc::DtFetchResp got;
    Status s = c.DtFetch(fetch, &got);
    const auto& shown = got.value().set_value();
    if (!s.ok() ||
        std::find(shown.begin(), shown.end(), element) == shown.end()) {
      // Nothing was sent: a certain failure.
      op.outcome = Outcome::kFail;
      op.error = s.ok() ? "the fetch did not show it; no remove sent"
                        : "fetch: " + s.ToString();
      return Finish(std::move(op));
    }
    pbc::DtOp dt;
    dt.mutable_set_op()->add_removes(element);
    SendUpdate(k, kDtSetType, dt, &got.context(), &op);
    Finish(std::move(op));
  }

  int process_;
  Cluster& cluster_;
  History& history_;
  Clock::time_point start_;
  std::mt19937_64 rng_;
  std::map<int, std::unique_ptr<client::Client>> clients_;
  // (key, element) of this client's acknowledged data-type adds not yet
  // picked for a remove.
  std::vector<std::pair<std::string, std::string>> acked_elements_;
  // This client's last acknowledged add to each plain-bucket set.
  std::map<std::string, std::string> last_acked_add_;
};

// Runs `body(seq)` on `count` threads until `stop`.
class Workers {
 public:
  void Run(int count, int first_process, Cluster& cluster, History& history,
           Clock::time_point start, uint64_t seed,
           std::function<void(Worker&, int)> body) {
    for (int i = 0; i < count; ++i) {
      const int process = first_process + i;
      threads_.emplace_back([=, &cluster, &history, this] {
        Worker w(process, cluster, history, start, seed * 1000 + process);
        for (int seq = 0; !stop_; ++seq) {
          body(w, seq);
          // A short pause keeps the load light for a 2-core machine.
          std::this_thread::sleep_for(milliseconds(20));
        }
      });
    }
  }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  ~Workers() {
    if (!threads_.empty()) Stop();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// What must show that a fault took effect (see CheckNemesis).
struct Evidence {
  enum Kind {
    kFaultCounters,  // the sum of `names` in /faults grew (over `nodes`)
    kStatsCounters,  // the sum of `names` in /stats grew (over `nodes`)
    kFaultState,     // node `nodes[0]`'s /faults holds `names[0]` at the end
    kDown,           // node `nodes[0]` does not answer mid-fault (kill, pause)
  };
  Kind kind;
  std::vector<std::string> names;
  std::vector<int> nodes;  // empty: every node
};

// One step of a schedule: apply a fault, hold it, undo it.
struct Step {
  std::string what;
  std::function<void(Cluster&)> apply;
  std::function<void(Cluster&)> undo;
  int hold_ms;
  std::vector<Evidence> evidence;
  int64_t clock_skew_ms = 0;
};

std::string Joined(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string NodeList(const std::vector<int>& nodes) {
  if (nodes.empty()) return "every node";
  std::string out;
  for (int k : nodes)
    out += (out.empty() ? "node" : ", node") + std::to_string(k);
  return out;
}

// How much of `e` the snapshots before and after the fault (and, for kDown,
// the probe made while it was in force: `down` holds the nodes that did
// not answer) show.
FaultConfirmation Confirm(const std::string& fault, const Evidence& e,
                          const Cluster::Snapshot& before,
                          const Cluster::Snapshot& after,
                          const std::set<int>& down) {
  FaultConfirmation c;
  c.fault = fault;
  switch (e.kind) {
    case Evidence::kFaultCounters:
    case Evidence::kStatsCounters: {
      const bool faults = e.kind == Evidence::kFaultCounters;
      const auto& b = faults ? before.faults : before.stats;
      const auto& a = faults ? after.faults : after.stats;
      c.evidence = Joined(e.names, "+") + " in " +
                   (faults ? "/faults" : "/stats") + " of " + NodeList(e.nodes);
      for (int k = 1; k <= kNodes; ++k) {
        if (!e.nodes.empty() &&
            std::find(e.nodes.begin(), e.nodes.end(), k) == e.nodes.end()) {
          continue;
        }
        auto bi = b.find(k), ai = a.find(k);
        if (bi == b.end() || ai == a.end()) continue;  // down at either end
        for (const std::string& name : e.names) {
          const int64_t x = JsonNumber(bi->second, name);
          const int64_t y = JsonNumber(ai->second, name);
          if (x >= 0 && y >= 0) c.observed += y - x;
        }
      }
      break;
    }
    case Evidence::kFaultState: {
      const int k = e.nodes.at(0);
      c.evidence = "'" + e.names.at(0) + "' in node" + std::to_string(k) +
                   "'s /faults while in force";
      auto it = after.faults.find(k);
      c.observed = it != after.faults.end() &&
                   it->second.find(e.names[0]) != std::string::npos;
      break;
    }
    case Evidence::kDown: {
      const int k = e.nodes.at(0);
      c.evidence = "node" + std::to_string(k) +
                   "'s admin port not answering /ping while in force";
      c.observed = down.count(k);
      break;
    }
  }
  return c;
}

// Applies `step`, holds it and undoes it, recording the fault in `events`
// and what the nodes showed of it in `confirmations`.
void RunStep(Cluster& cluster, const Step& step, Clock::time_point start,
             std::vector<FaultEvent>* events,
             std::vector<FaultConfirmation>* confirmations) {
  std::cerr << "fault_runner: " << NowMs(start) / 1000.0 << " s: " << step.what
            << "\n";
  cluster.request_errors.clear();
  const Cluster::Snapshot before = cluster.Observe();
  FaultEvent e;
  e.what = step.what;
  e.clock_skew_ms = step.clock_skew_ms;
  e.start_ms = NowMs(start);
  step.apply(cluster);
  const auto end = Clock::now() + milliseconds(step.hold_ms);
  std::this_thread::sleep_until(Clock::now() + milliseconds(step.hold_ms / 2));
  std::set<int> down;
  for (const Evidence& ev : step.evidence) {
    if (ev.kind == Evidence::kDown && !cluster.Answers(ev.nodes.at(0), 1000)) {
      down.insert(ev.nodes[0]);
    }
  }
  std::this_thread::sleep_until(end);
  const Cluster::Snapshot after = cluster.Observe();
  step.undo(cluster);
  e.end_ms = NowMs(start);
  events->push_back(e);
  bool first = true;
  for (const Evidence& ev : step.evidence) {
    FaultConfirmation c = Confirm(step.what, ev, before, after, down);
    // The requests' failures go with the first confirmation only.
    if (first) c.errors = cluster.request_errors;
    first = false;
    confirmations->push_back(std::move(c));
  }
  if (step.evidence.empty()) {
    FaultConfirmation c;
    c.fault = step.what;
    c.evidence = "nothing";
    c.errors = cluster.request_errors;
    confirmations->push_back(std::move(c));
  }
}

std::vector<Step> Menu() {
  const Evidence partition_drops{
      Evidence::kFaultCounters,
      {"dropped_partition_out", "dropped_partition_in"},
      {}};
  return {
      {"partition 1,2 / 3,4,5",
       [](Cluster& c) { c.Partition("1,2/3,4,5"); },
       [](Cluster& c) { c.PostAll("/faults/heal"); },
       10000,
       {partition_drops}},
      {"partition 1 / 2,3,4,5",
       [](Cluster& c) { c.Partition("1/2,3,4,5"); },
       [](Cluster& c) { c.PostAll("/faults/heal"); },
       8000,
       {partition_drops}},
      {"drop 15%, duplicate 10%, reorder 20% by up to 50 ms",
       [](Cluster& c) {
         c.LinkFault("drop", "pct=15");
         c.LinkFault("duplicate", "pct=10");
         c.LinkFault("reorder", "pct=20&ms=50");
       },
       [](Cluster& c) { c.PostAll("/faults/clear"); },
       8000,
       {{Evidence::kFaultCounters, {"dropped_random"}, {}},
        {Evidence::kFaultCounters, {"duplicated"}, {}},
        {Evidence::kFaultCounters, {"reordered"}, {}}}},
      {"kill -9 node3, then start it",
       [](Cluster& c) { c.Kill(3); },
       [](Cluster& c) { c.Start(3); },
       6000,
       {{Evidence::kDown, {}, {3}}}},
      {"pause node4 (SIGSTOP), then resume",
       [](Cluster& c) { c.Pause(4); },
       [](Cluster& c) { c.Resume(4); },
       6000,
       {{Evidence::kDown, {}, {4}}}},
      // The skewed node refuses its peers' timestamps (they lead its clock
      // by more than max_clock_offset_ms) and counts each refusal.
      {"delay node5's links 40+-20 ms, node2's clock 5 s behind",
       [](Cluster& c) {
         c.LinkFault("delay", "ms=40&jitter=20", 5);
         c.Post(2, "/faults/skew?ms=-5000", "");
       },
       [](Cluster& c) { c.PostAll("/faults/clear"); },
       8000,
       {{Evidence::kFaultCounters, {"delayed"}, {}},
        {Evidence::kFaultState, {"\"skew_ms\":-5000"}, {2}},
        {Evidence::kStatsCounters, {"clock_offset_refusals_total"}, {2}}},
       -5000},
      {"partition 1,3 / 2,4,5 and kill -9 node1",
       [](Cluster& c) {
         c.Partition("1,3/2,4,5");
         c.Kill(1);
       },
       [](Cluster& c) {
         c.Start(1);
         c.PostAll("/faults/heal");
       },
       8000,
       {partition_drops, {Evidence::kDown, {}, {1}}}},
  };
}

// Reads `key` through node k with `read` until it succeeds or `timeout`
// passes.
FinalRead ReadUntilOk(
    Cluster& cluster, int k, const std::string& key, milliseconds timeout,
    const std::function<Status(client::Client&, FinalRead*)>& read) {
  FinalRead f;
  f.node = NodeName(k);
  f.key = key;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto c = cluster.ClientFor(k, 10000);
    f.values.clear();
    Status s = read(*c, &f);
    if (s.ok()) {
      f.ok = true;
      f.error.clear();
      return f;
    }
    f.error = s.ToString();
    if (Clock::now() >= deadline) return f;
    std::this_thread::sleep_for(milliseconds(500));
  }
}

// A key-value read of `key` (its siblings) with read quorum r.
FinalRead ReadFinal(Cluster& cluster, int k, const std::string& bucket,
                    const std::string& key, uint32_t r, milliseconds timeout) {
  return ReadUntilOk(cluster, k, key, timeout,
                     [&](client::Client& c, FinalRead* f) {
                       pbc::RpbGetReq get;
                       get.set_bucket(bucket);
                       get.set_key(key);
                       get.set_r(r);
                       get.set_notfound_ok(false);
                       pbc::RpbGetResp got;
                       Status s = c.Get(get, &got);
                       if (!s.ok() && !s.IsNotFound()) return s;
                       f->found = s.ok();
                       for (const auto& content : got.content())
                         f->values.push_back(content.value());
                       return Status::Ok();
                     });
}

// A data-type read of `key` in the bucket type `type` with r=all, as the
// key-value final reads do: a counter's value or a set's elements.
FinalRead ReadFinalDt(Cluster& cluster, int k, const char* type,
                      const std::string& key) {
  return ReadUntilOk(cluster, k, key, seconds(20),
                     [&](client::Client& c, FinalRead* f) {
                       pbc::DtFetchReq fetch;
                       fetch.set_type(type);
                       fetch.set_bucket(kDtBucket);
                       fetch.set_key(key);
                       fetch.set_r(kQuorumAll);
                       fetch.set_notfound_ok(false);
                       fetch.set_include_context(false);
                       pbc::DtFetchResp got;
                       Status s = c.DtFetch(fetch, &got);
                       if (!s.ok()) return s;
                       f->found = got.has_value();
                       f->counter = got.value().counter_value();
                       for (const std::string& e : got.value().set_value())
                         f->values.push_back(e);
                       return Status::Ok();
                     });
}

// Reads PREFIX0 .. PREFIX<count-1> through every node with `read`.
std::vector<FinalRead> ReadEveryNode(
    const std::string& prefix, int count,
    const std::function<FinalRead(int k, const std::string& key)>& read) {
  std::vector<FinalRead> out;
  for (int i = 0; i < count; ++i) {
    for (int k = 1; k <= kNodes; ++k) {
      out.push_back(read(k, prefix + std::to_string(i)));
    }
  }
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// Polls `check` on every node until it holds on all of them (gossip carries
// bucket properties and types); gives up after 60 s, saying which node
// lacks `what`.
Status WaitOnEveryNode(
    Cluster& cluster, const std::string& what,
    const std::function<bool(client::Client&, Status*)>& check) {
  const auto deadline = Clock::now() + seconds(60);
  for (int k = 1; k <= kNodes; ++k) {
    while (true) {
      Status s;
      if (check(*cluster.ClientFor(k), &s)) break;
      if (Clock::now() >= deadline) {
        return Status::Timeout(NodeName(k) + " did not take " + what +
                               " within 60 s (" +
                               (s.ok() ? "old values" : s.ToString()) + ")");
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  return Status::Ok();
}

// Sets the properties through node1, then waits until every node reports
// them: a node that still has the defaults (allow_mult=false) would rightly
// resolve concurrent adds to one of them.
Status SetBucketProps(Cluster& cluster, const std::string& bucket,
                      bool allow_mult, bool lww) {
  pbc::RpbSetBucketReq req;
  req.set_bucket(bucket);
  req.mutable_props()->set_allow_mult(allow_mult);
  req.mutable_props()->set_last_write_wins(lww);
  Status s = cluster.ClientFor(1)->SetBucket(req);
  if (!s.ok()) return s;
  return WaitOnEveryNode(cluster, "the properties of bucket " + bucket,
                         [&](client::Client& c, Status* s) {
                           pbc::RpbGetBucketReq get;
                           get.set_bucket(bucket);
                           pbc::RpbBucketProps props;
                           *s = c.GetBucket(get, &props);
                           return s->ok() && props.allow_mult() == allow_mult &&
                                  props.last_write_wins() == lww;
                         });
}

// Creates the bucket type `type` holding `datatype` through node1, then
// waits until every node knows it (a node that does not would refuse the
// data-type requests sent through it).
Status CreateDataType(Cluster& cluster, const std::string& type,
                      const std::string& datatype) {
  pbc::RpbSetBucketTypeReq req;
  req.set_type(type);
  req.mutable_props()->set_datatype(datatype);
  Status s = cluster.ClientFor(1)->CreateBucketType(req);
  if (!s.ok()) return s;
  return WaitOnEveryNode(cluster, "bucket type " + type,
                         [&](client::Client& c, Status* s) {
                           pbc::RpbGetBucketTypeReq get;
                           get.set_type(type);
                           pbc::RpbBucketProps props;
                           *s = c.GetBucketType(get, &props);
                           return s->ok() && props.datatype() == datatype;
                         });
}

// Every bucket setting and bucket type the workloads need.
Status PrepareBuckets(Cluster& cluster) {
  for (Status s : {SetBucketProps(cluster, kSetBucket, true, false),
                   SetBucketProps(cluster, kRegisterBucket, false, true),
                   CreateDataType(cluster, kCounterType, "counter"),
                   CreateDataType(cluster, kDtSetType, "set")}) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// The final reads of the workload phase's keys, through every node.
struct MainFinals {
  std::vector<FinalRead> sets, registers, counters, dt_sets;
};

MainFinals ReadMainFinals(Cluster& cluster) {
  auto kv = [&cluster](const char* bucket) {
    return [&cluster, bucket](int k, const std::string& key) {
      return ReadFinal(cluster, k, bucket, key, kQuorumAll, seconds(20));
    };
  };
  auto dt = [&cluster](const char* type) {
    return [&cluster, type](int k, const std::string& key) {
      return ReadFinalDt(cluster, k, type, key);
    };
  };
  MainFinals f;
  f.sets = ReadEveryNode("set-", kSetKeys, kv(kSetBucket));
  f.registers = ReadEveryNode("reg-", kRegisterKeys, kv(kRegisterBucket));
  f.counters = ReadEveryNode("counter-", kCounterKeys, dt(kCounterType));
  f.dt_sets = ReadEveryNode("dtset-", kDtSetKeys, dt(kDtSetType));
  return f;
}

// Healing is judged, not only noted: after every fault was undone the
// cluster must settle (one ring, every member valid and up, no transfer
// pending), deliver every hint, and show no fault still in force.
void CheckHealed(Cluster& cluster, const std::string& when, Verdict* v) {
  auto one_line = [](std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
  };
  const auto t0 = Clock::now();
  if (!cluster.WaitSettled(seconds(90))) {
    v->Fail("the cluster did not settle within 90 s " + when + ": " +
            one_line(cluster.Describe()));
  } else {
    v->stats["ms to settle " + when] =
        std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  }
  const auto t1 = Clock::now();
  if (!cluster.WaitHintsDelivered(seconds(30))) {
    v->Fail("hints were still pending 30 s " + when);
  } else {
    v->stats["ms to deliver hints " + when] =
        std::chrono::duration_cast<milliseconds>(Clock::now() - t1).count();
  }
  for (int k = 1; k <= kNodes; ++k) {
    const std::string f = cluster.Get(k, "/faults");
    if (f.empty()) {
      v->Fail(NodeName(k) + " did not answer GET /faults " + when);
    } else if (f.find("\"partition\":[]") == std::string::npos ||
               JsonNumber(f, "skew_ms") != 0) {
      v->Fail(NodeName(k) + " still has a partition or a skew in force " +
              when + ": " + one_line(f));
    }
  }
}

// Floors on acknowledged operations (CheckProgress). A healthy short run
// (seed 1, on a 2-core machine shared with other builds) acknowledged 2,700
// to 5,600 operations of each workload and 790 durable writes; the floors
// sit more than ten times lower, so only a run in which a workload hardly
// ran falls under them. Inside the fault windows it acknowledged 2,060,
// 1,321, 59, 1,442, 23, 460 and 869 operations, and 23 in the durability
// phase's kill: the fewest while a node is paused (every client that picks
// it waits out its 6 s timeout) or while 15% of peer messages are dropped
// (requests wait out their 4 s timeout). The floor of 3 per window is far
// under those and still fails a fault during which the cluster served
// nothing at all.
ProgressFloors Floors() {
  ProgressFloors f;
  f.workloads = {
      {"sets (read-merge-write adds)", {OpKind::kAdd}, 200},
      {"registers (writes and reads)", {OpKind::kWrite, OpKind::kRead}, 200},
      {"counters (increments)", {OpKind::kIncrement}, 200},
      {"data-type sets (adds and removes)",
       {OpKind::kDtAdd, OpKind::kDtRemove},
       200},
  };
  f.min_acknowledged_per_fault = 3;
  return f;
}

// The durability phase runs about 10 s with 3 writers.
constexpr int64_t kDurableFloor = 50;

// The report's paragraph on the workloads.
std::string DescribeWorkload() {
  return std::to_string(kSetWriters) + " clients add elements to " +
         std::to_string(kSetKeys) +
         " sets (read-merge-write with contexts, bucket " + kSetBucket +
         ", allow_mult=true); " + std::to_string(kRegisterClients) +
         " clients write and read " + std::to_string(kRegisterKeys) +
         " registers (blind writes, bucket " + kRegisterBucket +
         ", last_write_wins=true); " + std::to_string(kCounterClients) +
         " clients increment " + std::to_string(kCounterKeys) +
         " counters by 1-5 (bucket type " + kCounterType + "); " +
         std::to_string(kDtSetClients) + " clients add unique elements to " +
         std::to_string(kDtSetKeys) + " data-type sets (bucket type " +
         kDtSetType +
         "), and in one operation of four remove one of their acknowledged "
         "elements (a fetch, then a remove with its context). Data-type "
         "updates go with w=one, quorum or all at random, every other "
         "operation with the bucket's default quorums, each to a random "
         "node. Then " +
         std::to_string(kDurableWriters) +
         " clients write fresh keys with dw=all while one node is killed "
         "with SIGKILL and restarted.";
}

int Run(const Options& o) {
  std::filesystem::create_directories(o.out);
  Cluster cluster(o.seed);
  std::string error;
  std::cerr << "fault_runner: starting " << kNodes << " nodes (seed " << o.seed
            << ")\n";
  if (!cluster.Form(&error)) {
    std::cerr << "fault_runner: " << error << "\n";
    return 2;
  }
  if (Status s = PrepareBuckets(cluster); !s.ok()) {
    std::cerr << "fault_runner: setting up buckets: " << s.ToString() << "\n";
    return 2;
  }

  RunSummary run;
  run.schedule = o.schedule;
  run.seed = o.seed;
  run.nodes = kNodes;
  run.workload = DescribeWorkload();

  // Timing is not replayed, but the seed fixes the schedule's faults, the
  // workload's choices and the nodes' fault RNGs.
  run.notes.push_back("run again with: fault_runner --schedule " + o.schedule +
                      (o.schedule == "soak"
                           ? " --duration " + std::to_string(o.duration_s)
                           : std::string()) +
                      " --seed " + std::to_string(o.seed) + " --out DIR");

  History history;
  std::vector<FaultConfirmation> confirmations;
  const Clock::time_point start = Clock::now();
  std::mt19937_64 rng(o.seed);
  {
    Workers workers;
    workers.Run(kSetWriters, 0, cluster, history, start, o.seed,
                [](Worker& w, int seq) { w.AddElement(seq); });
    workers.Run(kRegisterClients, kSetWriters, cluster, history, start, o.seed,
                [](Worker& w, int seq) { w.RegisterOp(seq); });
    workers.Run(kCounterClients, 20, cluster, history, start, o.seed,
                [](Worker& w, int) { w.Increment(); });
    workers.Run(kDtSetClients, 20 + kCounterClients, cluster, history, start,
                o.seed, [](Worker& w, int seq) { w.DtSetOp(seq); });
    std::this_thread::sleep_for(seconds(4));
    const std::vector<Step> menu = Menu();
    std::vector<Step> steps;
    if (o.schedule == "short") {
      steps = menu;
    } else {
      const auto end = start + seconds(o.duration_s);
      int64_t planned = 0;
      while (start + milliseconds(planned) < end) {
        const Step& s = menu[rng() % menu.size()];
        steps.push_back(s);
        planned += s.hold_ms + 4000;
      }
    }
    for (const Step& step : steps) {
      RunStep(cluster, step, start, &run.events, &confirmations);
      std::this_thread::sleep_for(seconds(3));
    }
    std::this_thread::sleep_for(seconds(2));
    workers.Stop();
  }
  run.run_ms = NowMs(start);
  const size_t main_fault_count = run.events.size();

  // Heal everything and let the cluster settle before the final reads.
  std::cerr << "fault_runner: healing, waiting for the cluster to settle\n";
  Verdict healed;
  healed.name = "recovery (settled, hints delivered, faults cleared)";
  cluster.request_errors.clear();
  if (!cluster.HealAll()) {
    healed.Fail("healing failed: " + Joined(cluster.request_errors, "; "));
  }
  CheckHealed(cluster, "after the faults", &healed);
  const MainFinals finals = ReadMainFinals(cluster);

  // Durability: kill -9 a node under a dw=all load, restart it, read back.
  History durable;
  {
    std::cerr << "fault_runner: durability phase\n";
    Workers workers;
    const Clock::time_point d_start = start;
    workers.Run(kDurableWriters, 10, cluster, durable, d_start, o.seed,
                [](Worker& w, int seq) { w.DurableWrite(seq); });
    std::this_thread::sleep_for(seconds(3));
    const int victim = 2 + static_cast<int>(rng() % (kNodes - 1));
    const Step kill{
        "kill -9 " + NodeName(victim) + " under dw=all writes, restart",
        [victim](Cluster& c) { c.Kill(victim); },
        [victim](Cluster& c) { c.Start(victim); },
        4000,
        {{Evidence::kDown, {}, {victim}}}};
    RunStep(cluster, kill, start, &run.events, &confirmations);
    std::this_thread::sleep_for(seconds(3));
    workers.Stop();
  }
  CheckHealed(cluster, "after the durability phase", &healed);
  // Every acknowledged write, read through every node with r=all and
  // notfound_ok=false: each read needs all three replicas to hold the key,
  // so a replica that lost its copy (the killed node's own, say) makes the
  // read come back without it.
  std::vector<FinalRead> durable_finals;
  for (const Op& op : durable.ops()) {
    if (op.outcome != Outcome::kOk) continue;
    for (int k = 1; k <= kNodes; ++k) {
      durable_finals.push_back(ReadFinal(cluster, k, kDurableBucket, op.key,
                                         kQuorumAll, seconds(10)));
    }
  }

  const std::vector<Op> ops = history.ops();
  const std::vector<Op> durable_ops = durable.ops();
  std::vector<Op> all = ops;
  all.insert(all.end(), durable_ops.begin(), durable_ops.end());
  // The workload phase's operations inside its faults; the durable writes
  // (judged on their own: the register workload writes with the same kind)
  // inside the durability phase's kill.
  const std::vector<FaultEvent> main_events(
      run.events.begin(), run.events.begin() + main_fault_count);
  const std::vector<FaultEvent> durable_events(
      run.events.begin() + main_fault_count, run.events.end());
  Verdict progress = CheckProgress(ops, main_events, Floors());
  progress.name = "progress of the workloads (acknowledged above floors)";
  run.verdicts.push_back(progress);
  ProgressFloors durable_floors;
  durable_floors.workloads = {
      {"durable writes (dw=all)", {OpKind::kWrite}, kDurableFloor}};
  durable_floors.min_acknowledged_per_fault =
      Floors().min_acknowledged_per_fault;
  Verdict durable_progress =
      CheckProgress(durable_ops, durable_events, durable_floors);
  durable_progress.name = "progress of the durable writes";
  run.verdicts.push_back(durable_progress);
  run.verdicts.push_back(CheckNemesis(run.events, confirmations));
  run.verdicts.push_back(healed);
  run.verdicts.push_back(CheckSetGrowth(ops, finals.sets, kSetWriters));
  run.verdicts.push_back(CheckRegisters(ops, finals.registers, run.events));
  run.verdicts.push_back(CheckCounters(ops, finals.counters));
  run.verdicts.push_back(CheckDtSets(ops, finals.dt_sets));
  run.verdicts.push_back(CheckDurability(durable_ops, durable_finals));

  const int64_t total_ms = NowMs(start);
  WriteFile(o.out + "/history.jsonl", ToJsonLines(all));
  WriteFile(o.out + "/timeline.svg", RenderSvg(all, run.events, total_ms));
  run.run_ms = total_ms;
  const std::string report = RenderMarkdown(run, all, "timeline.svg");
  WriteFile(o.out + "/report.md", report);

  bool ok = true;
  for (const Verdict& v : run.verdicts) ok = ok && v.ok;
  if (!ok) {
    for (int k = 1; k <= kNodes; ++k) {
      std::error_code ec;
      std::filesystem::copy_file(
          cluster.node(k).log_path(),
          o.out + "/node" + std::to_string(k) + ".log",
          std::filesystem::copy_options::overwrite_existing, ec);
    }
  }
  std::cout << report;
  std::cerr << "fault_runner: " << (ok ? "PASS" : "FAIL") << "; report in "
            << o.out << "/report.md\n";
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace causeway::fault

int main(int argc, char** argv) {
  causeway::fault::Options o;
  std::string error;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-h") == 0 ||
        std::strcmp(argv[i], "--help") == 0) {
      causeway::fault::Usage(nullptr);
      return 0;
    }
  }
  if (!causeway::fault::ParseOptions(argc, argv, &o, &error)) {
    return causeway::fault::Usage(error.c_str());
  }
  return causeway::fault::Run(o);
}
