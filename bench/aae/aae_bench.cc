// causeway-aae-bench: anti-entropy between two replicas in one process.
//
// Two LevelDB stores, each with its hash trees and the real AntiEntropy
// code, joined by a loopback "network" that serializes every message (so
// byte counts are what a peer link would carry) and delivers it through an
// event queue. It measures:
//   diverged  - two replicas of --keys keys differing in --diffs keys (a
//               third missing on one side, a third stale, a third concurrent
//               siblings): time until every partition's trees agree, and
//               bytes exchanged against the dataset's bytes;
//   refill    - one replica of --refill-keys keys and one wiped (empty):
//               time and bytes until the empty one holds everything;
//   writes    - write throughput into the vnode store with and without
//               trees (--write-keys keys each).
// Nothing here is asserted; bench/README.md records the figures.

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "proto/peer.pb.h"
#include "replication/aae/anti_entropy.h"
#include "replication/aae/tree.h"
#include "replication/messenger.h"
#include "replication/ring/ring.h"
#include "replication/vnode/vnode_store.h"
#include "storage/engine.h"

namespace causeway::bench {
namespace {

using replication::aae::AntiEntropy;
using replication::aae::KeyVersion;
using replication::aae::Trees;
using replication::object::Object;
using replication::object::Resolution;
using replication::object::Sibling;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kPartitions = 64;

// The actor ids a store mints under: fresh ones from a range of its own
// (store `n` mints n<<32 + 1, + 2, ...), so stores never share one.
std::function<replication::causal::ActorId()> Actor(
    replication::causal::ActorId n) {
  return [next = n << 32]() mutable { return ++next; };
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Message deliveries and immediate timers run from one queue, in order.
// Delayed timers (request timeouts; anti-entropy's own ticks, which this
// benchmark never starts) never fire: every request here is answered.
class Loop : public replication::Env {
 public:
  uint64_t MonotonicMillis() override { return Ms(); }
  uint64_t WallMillis() override { return 1'700'000'000'000ULL + Ms(); }
  replication::TimerId After(uint64_t delay_ms,
                             std::function<void()> fn) override {
    if (delay_ms == 0) queue_.push_back(std::move(fn));
    return ++next_;
  }
  void Cancel(replication::TimerId) override {}
  uint64_t Random() override { return rng_(); }
  void Post(std::function<void()> fn) { queue_.push_back(std::move(fn)); }
  void Run() {
    while (!queue_.empty()) {
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      fn();
    }
  }

 private:
  uint64_t Ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               Clock::now().time_since_epoch())
        .count();
  }
  std::deque<std::function<void()>> queue_;
  replication::TimerId next_ = 0;
  std::mt19937_64 rng_{1};
};

struct Replica;

// The host around one replica's AntiEntropy, and its loopback network: every
// message is serialized, counted and delivered through the loop to the other
// replica's messenger.
class LoopHost : public replication::aae::Host, public replication::Network {
 public:
  LoopHost(Replica& self, Loop& loop) : self_(self), loop_(loop) {}
  Replica* peer = nullptr;
  uint64_t wire_bytes = 0;

  std::string self() const override;
  uint32_t RingSize() override { return kPartitions; }
  std::vector<uint32_t> HeldPartitions() override {
    std::vector<uint32_t> out;
    for (uint32_t p = 0; p < kPartitions; ++p) out.push_back(p);
    return out;
  }
  std::vector<std::string> ExchangePeers(uint32_t) override;
  std::vector<std::string> Members(bool* all_up) override {
    *all_up = false;  // no reaping in this benchmark
    return {};
  }
  bool ShouldHold(const std::string&, uint32_t, const KeyVersion&) override {
    return true;
  }
  Resolution ResolutionOf(const std::string&, const std::string&) override {
    return Resolution::kKeepSiblings;
  }
  Status Read(uint32_t p, const KeyVersion& k, Object* out) override;
  Status Merge(uint32_t p, const KeyVersion& k, const Object& in,
               Object* result) override;
  Status Remove(uint32_t p, const KeyVersion& k) override;
  void Request(const std::string& to, peer::Envelope message,
               uint64_t timeout_ms, ReplyFn on_reply) override;
  void Send(const std::string& to, const std::string& address,
            std::string payload) override;

 private:
  Replica& self_;
  Loop& loop_;
};

struct Replica {
  Replica(std::string name, const std::string& dir, Loop& loop, bool trees_on)
      : name(std::move(name)), host(*this, loop), messenger(loop, "bench") {
    std::filesystem::remove_all(dir);
    storage::LevelDbOptions o;
    Status s = storage::OpenLevelDb(dir, o, &engine);
    if (!s.ok()) {
      std::fprintf(stderr, "open %s: %s\n", dir.c_str(), s.ToString().c_str());
      std::exit(1);
    }
    trees = std::make_unique<Trees>(*engine);
    trees->Open();
    // Distinct actors per replica, as distinct nodes have.
    store = std::make_unique<replication::vnode::VnodeStore>(
        *engine, Actor(1 + static_cast<uint8_t>(this->name[0])));
    if (trees_on) store->AttachTrees(trees.get());
    replication::aae::AaeTiming timing;
    ae = std::make_unique<AntiEntropy>(loop, *trees, host, timing);
    messenger.Attach(&host);
    ServeAntiEntropy();
  }

  // The anti-entropy rows of the node's peer protocol table.
  void ServeAntiEntropy() {
    using E = peer::Envelope;
    using M = replication::Messenger;
    auto row = [this](auto serve) {
      return [this, serve](const std::string& from, const E& m, M::Respond r) {
        (ae.get()->*serve)(from, m, std::move(r));
      };
    };
    messenger.Serve(E::kAaeTree, E::kAaeTreeReply, "a tree request",
                    row(&AntiEntropy::ServeTree));
    messenger.Serve(E::kAaeKeys, E::kAaeKeysReply, "a key list request",
                    row(&AntiEntropy::ServeKeys));
    messenger.Serve(E::kAaeRepair, E::kAaeRepairReply, "a repair",
                    row(&AntiEntropy::ServeRepair));
    messenger.Serve(E::kAaeReap, E::kAaeReapReply, "a reap request",
                    row(&AntiEntropy::ServeReap));
  }
  std::string name;
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<Trees> trees;
  std::unique_ptr<replication::vnode::VnodeStore> store;
  LoopHost host;
  replication::Messenger messenger;
  std::unique_ptr<AntiEntropy> ae;
};

std::string LoopHost::self() const { return self_.name; }
std::vector<std::string> LoopHost::ExchangePeers(uint32_t) {
  return {peer->name};
}
Status LoopHost::Read(uint32_t p, const KeyVersion& k, Object* out) {
  return self_.store->Read({p, k.type, k.bucket, k.key}, out);
}
Status LoopHost::Merge(uint32_t p, const KeyVersion& k, const Object& in,
                       Object* result) {
  return self_.store->Merge({p, k.type, k.bucket, k.key}, in,
                            Resolution::kKeepSiblings, false, result);
}
Status LoopHost::Remove(uint32_t p, const KeyVersion& k) {
  return self_.store->Remove({p, k.type, k.bucket, k.key});
}
void LoopHost::Request(const std::string& to, peer::Envelope message,
                       uint64_t timeout_ms, ReplyFn on_reply) {
  self_.messenger.Request(to, "", std::move(message), timeout_ms,
                          std::move(on_reply));
}

void LoopHost::Send(const std::string&, const std::string&,
                    std::string payload) {
  wire_bytes += payload.size();
  loop_.Post([this, payload = std::move(payload)] {
    peer::Envelope in;
    in.ParseFromString(payload);
    peer->messenger.Receive(self_.name, in);
  });
}

uint32_t PartitionOf(const std::string& key) {
  static const replication::ring::Ring ring =
      replication::ring::Ring::SingleOwner(kPartitions, "x");
  return ring.PartitionOf(replication::ring::HashKey("default", "b", key));
}

std::string KeyName(uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "k%012llu",
                static_cast<unsigned long long>(i));
  return buf;
}

Sibling Value(std::mt19937_64& rng, size_t size, uint64_t ms) {
  Sibling s;
  s.value.resize(size);
  for (auto& c : s.value) c = static_cast<char>(rng());
  s.timestamp = {ms, 0};
  return s;
}

// Writes `count` keys, the same object to every replica in `to`; returns
// the object record bytes written per replica.
uint64_t Fill(std::vector<Replica*> to, uint64_t count, size_t value_size) {
  std::mt19937_64 rng(7);
  uint64_t bytes = 0;
  for (uint64_t i = 0; i < count; ++i) {
    Object o;
    o.Update({}, Value(rng, value_size, 1000), 1 + i % 7,
             Resolution::kKeepSiblings);
    std::string key = KeyName(i);
    bytes += o.Encode().size() + key.size();
    Object out;
    for (Replica* r : to) {
      r->store->Merge({PartitionOf(key), "default", "b", key}, o,
                      Resolution::kKeepSiblings, false, &out);
    }
  }
  return bytes;
}

// Bytes on the loopback link, both ways.
uint64_t WireBytes(const Replica& a, const Replica& b) {
  return a.host.wire_bytes + b.host.wire_bytes;
}

bool Agree(Replica& a, Replica& b) {
  for (uint32_t p = 0; p < kPartitions; ++p) {
    if (a.trees->Root(p) != b.trees->Root(p)) return false;
  }
  return true;
}

// Exchanges every partition from `a` with `b` until all trees agree;
// returns the rounds taken.
int Converge(Loop& loop, Replica& a, Replica& b, int max_rounds = 100) {
  int rounds = 0;
  while (!Agree(a, b) && rounds < max_rounds) {
    ++rounds;
    for (uint32_t p = 0; p < kPartitions; ++p) {
      if (a.trees->Root(p) == b.trees->Root(p)) continue;
      a.ae->ExchangeNow(p, b.name, [](Status) {});
      loop.Run();
    }
  }
  return rounds;
}

void Diverged(const std::string& dir, uint64_t keys, uint64_t diffs,
              size_t value_size) {
  Loop loop;
  Replica a("a", dir + "/a", loop, true), b("b", dir + "/b", loop, true);
  a.host.peer = &b;
  b.host.peer = &a;
  auto t0 = Clock::now();
  const uint64_t dataset = Fill({&a, &b}, keys, value_size);
  std::printf("diverged: filled 2 x %llu keys in %.1f s (%.1f MB of records)\n",
              static_cast<unsigned long long>(keys), Seconds(t0),
              dataset / 1e6);
  std::mt19937_64 rng(11);
  Object out;
  for (uint64_t d = 0; d < diffs; ++d) {
    std::string key = KeyName((d * 7919) % keys);
    replication::vnode::Key k{PartitionOf(key), "default", "b", key};
    Object cur;
    a.store->Read(k, &cur);
    switch (d % 3) {
      case 0:  // missing on b
        b.store->Remove(k);
        break;
      case 1:  // stale on b: a has a newer write
        a.store->Coordinate(k, cur.clock(), Value(rng, value_size, 2000),
                            Resolution::kKeepSiblings, false, &out);
        break;
      default: {  // concurrent writes on both
        replication::vnode::VnodeStore other(*b.engine, Actor(99));
        other.AttachTrees(b.trees.get());
        a.store->Coordinate(k, cur.clock(), Value(rng, value_size, 2000),
                            Resolution::kKeepSiblings, false, &out);
        other.Coordinate(k, cur.clock(), Value(rng, value_size, 2001),
                         Resolution::kKeepSiblings, false, &out);
      }
    }
  }
  t0 = Clock::now();
  int rounds = Converge(loop, a, b);
  double secs = Seconds(t0);
  auto sa = a.ae->status();
  std::printf(
      "diverged: %llu keys, %llu differing: agreement in %.3f s (%d rounds), "
      "%llu keys repaired, %llu bytes exchanged = %.3f%% of %llu dataset "
      "bytes; trees agree: %s\n",
      static_cast<unsigned long long>(keys),
      static_cast<unsigned long long>(diffs), secs, rounds,
      static_cast<unsigned long long>(sa.keys_repaired),
      static_cast<unsigned long long>(WireBytes(a, b)),
      100.0 * WireBytes(a, b) / dataset,
      static_cast<unsigned long long>(dataset), Agree(a, b) ? "yes" : "no");

  // What a restart costs: segment hashes live in memory only, so a node
  // that starts sums every partition's index again before it exchanges.
  t0 = Clock::now();
  Trees restarted(*a.engine);
  Status s = restarted.Open();
  size_t steps = 0;
  while (s.ok() && !restarted.rebuilding().empty()) {
    bool done = false;
    s = restarted.RebuildStep(
        *restarted.rebuilding().begin(),
        replication::aae::AaeTiming{}.rebuild_keys_per_tick, &done);
    ++steps;
  }
  secs = Seconds(t0);
  bool same = s.ok();
  for (uint32_t p = 0; same && p < kPartitions; ++p) {
    same = restarted.Root(p) == a.trees->Root(p);
  }
  std::printf(
      "restart: segment hashes of %llu keys summed from the index in %.2f s "
      "(%zu steps of at most %zu keys); equal to before: %s\n",
      static_cast<unsigned long long>(keys), secs, steps,
      replication::aae::AaeTiming{}.rebuild_keys_per_tick, same ? "yes" : "no");
}

void Refill(const std::string& dir, uint64_t keys, size_t value_size) {
  Loop loop;
  Replica a("a", dir + "/ra", loop, true), b("b", dir + "/rb", loop, true);
  a.host.peer = &b;
  b.host.peer = &a;
  const uint64_t dataset = Fill({&a}, keys, value_size);
  auto t0 = Clock::now();
  int rounds = Converge(loop, a, b);
  double secs = Seconds(t0);
  std::printf(
      "refill: %llu keys into a wiped replica in %.2f s (%d rounds), %llu "
      "bytes exchanged for %llu dataset bytes; trees agree: %s\n",
      static_cast<unsigned long long>(keys), secs, rounds,
      static_cast<unsigned long long>(WireBytes(a, b)),
      static_cast<unsigned long long>(dataset), Agree(a, b) ? "yes" : "no");
}

void Writes(const std::string& dir, uint64_t keys, size_t value_size) {
  for (bool trees_on : {false, true}) {
    Loop loop;
    Replica r(trees_on ? "t" : "p", dir + (trees_on ? "/wt" : "/wp"), loop,
              trees_on);
    std::mt19937_64 rng(3);
    Object out;
    auto t0 = Clock::now();
    for (uint64_t i = 0; i < keys; ++i) {
      std::string key = KeyName(i);
      r.store->Coordinate({PartitionOf(key), "default", "b", key}, {},
                          Value(rng, value_size, 1000 + i),
                          Resolution::kKeepSiblings, false, &out);
    }
    double secs = Seconds(t0);
    std::printf("writes %s trees: %llu coordinated writes in %.2f s = %.0f/s\n",
                trees_on ? "with" : "without",
                static_cast<unsigned long long>(keys), secs, keys / secs);
  }
}

}  // namespace
}  // namespace causeway::bench

int main(int argc, char** argv) {
  CLI::App app{"anti-entropy benchmark over two in-process LevelDB replicas"};
  std::string dir = "var/aae-bench";
  uint64_t keys = 1000000, diffs = 1000, refill_keys = 100000,
           write_keys = 200000;
  size_t value_size = 100;
  std::string only;
  app.add_option("--dir", dir, "scratch directory (wiped first)");
  app.add_option("--keys", keys, "keys per replica in `diverged`");
  app.add_option("--diffs", diffs, "differing keys in `diverged`");
  app.add_option("--refill-keys", refill_keys, "keys in `refill`");
  app.add_option("--write-keys", write_keys, "keys per run in `writes`");
  app.add_option("--value-size", value_size, "bytes per value");
  app.add_option("--only", only, "diverged, refill or writes (default all)");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(dir);
  if (only.empty() || only == "diverged") {
    causeway::bench::Diverged(dir, keys, diffs, value_size);
  }
  if (only.empty() || only == "refill") {
    causeway::bench::Refill(dir, refill_keys, value_size);
  }
  if (only.empty() || only == "writes") {
    causeway::bench::Writes(dir, write_keys, value_size);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
