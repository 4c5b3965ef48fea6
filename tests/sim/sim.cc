#include "tests/sim/sim.h"

#include <algorithm>

namespace causeway::sim {

class SimNode::NodeEnv : public replication::Env {
 public:
  explicit NodeEnv(SimNode& node) : node_(node) {}
  uint64_t MonotonicMillis() override { return node_.world_.now(); }
  uint64_t WallMillis() override {
    return 1'700'000'000'000ULL + node_.world_.now() + node_.skew_ms;
  }
  replication::TimerId After(uint64_t delay_ms,
                             std::function<void()> fn) override {
    replication::TimerId id = next_id_++;
    live_.insert(id);
    node_.world_.Schedule(delay_ms, node_.name_, node_.incarnation_,
                          [this, id, fn = std::move(fn)] {
                            if (live_.erase(id)) fn();
                          });
    return id;
  }
  void Cancel(replication::TimerId id) override { live_.erase(id); }
  uint64_t Random() override { return node_.world_.Random(); }

 private:
  SimNode& node_;
  replication::TimerId next_id_ = 1;
  std::set<replication::TimerId> live_;
};

class SimNode::NodeNetwork : public replication::Network {
 public:
  explicit NodeNetwork(SimNode& node) : node_(node) {}
  void Send(const NodeName& to, const std::string& address,
            std::string payload) override {
    // Addresses are node names in the simulator; a join names only the
    // address.
    node_.world_.Deliver(node_.name_, to.empty() ? address : to,
                         std::move(payload));
  }

 private:
  SimNode& node_;
};

// A memory engine that reports every write to the world's observer. Writes
// are reported after they are applied, so an observer reading the engine
// sees the new state.
class SimNode::ObservedEngine : public storage::Engine {
 public:
  explicit ObservedEngine(SimNode& node)
      : node_(node), inner_(storage::NewMemoryEngine()) {}

  Status Get(std::string_view key, std::string* value) override {
    return inner_->Get(key, value);
  }
  Status Put(std::string_view key, std::string_view value,
             const storage::WriteOptions& options) override {
    Status s = inner_->Put(key, value, options);
    if (s.ok()) Observe(key, std::string(value));
    return s;
  }
  Status Delete(std::string_view key,
                const storage::WriteOptions& options) override {
    Status s = inner_->Delete(key, options);
    if (s.ok()) Observe(key, std::nullopt);
    return s;
  }
  Status Write(const storage::WriteBatch& batch,
               const storage::WriteOptions& options) override {
    Status s = inner_->Write(batch, options);
    if (!s.ok()) return s;
    for (const auto& op : batch.ops()) {
      Observe(op.key, op.is_delete ? std::nullopt
                                   : std::optional<std::string>(op.value));
    }
    return s;
  }
  Status Scan(std::string_view begin, std::string_view end,
              const storage::ScanVisitor& visit) override {
    return inner_->Scan(begin, end, visit);
  }

 private:
  void Observe(std::string_view key, const std::optional<std::string>& value) {
    const StorageObserver& observer = node_.world_.storage_observer;
    if (observer) observer(node_.name_, key, value ? &*value : nullptr);
  }

  SimNode& node_;
  std::unique_ptr<storage::Engine> inner_;
};

SimNode::SimNode(World& world, NodeName name, replication::NodeConfig config)
    : world_(world),
      name_(std::move(name)),
      config_(std::move(config)),
      engine_(NewEngine()) {}

std::unique_ptr<storage::Engine> SimNode::NewEngine() {
  return std::make_unique<ObservedEngine>(*this);
}

SimNode::~SimNode() { Crash(); }

void SimNode::Boot() {
  if (core_) return;
  ++incarnation_;
  env_ = std::make_unique<NodeEnv>(*this);
  network_ = std::make_unique<NodeNetwork>(*this);
  core_ = std::make_unique<replication::NodeCore>(*env_, *engine_, config_);
  Status s = core_->Open();
  if (!s.ok()) {
    core_.reset();
    return;
  }
  core_->AttachNetwork(network_.get());
  core_->Start();
}

void SimNode::Crash() {
  if (!core_) return;
  // Bump the incarnation first: every event still queued for this node is
  // now stale and will be dropped.
  ++incarnation_;
  core_.reset();
  network_.reset();
  env_.reset();
}

void SimNode::Wipe() {
  Crash();
  engine_ = NewEngine();
}

SimNode& World::AddNode(const NodeName& name, uint32_t ring_size) {
  replication::NodeConfig config;
  config.name = name;
  config.peer_address = name;
  config.ring_size = ring_size;
  config.request_timeout_ms = request_timeout_ms;
  config.aae_timing = aae_timing;
  config.list_page_keys = list_page_keys;
  config.max_clock_offset_ms = max_clock_offset_ms;
  auto node = std::make_unique<SimNode>(*this, name, config);
  SimNode& ref = *node;
  nodes_[name] = std::move(node);
  ref.Boot();
  return ref;
}

std::vector<NodeName> World::names() const {
  std::vector<NodeName> out;
  for (const auto& [n, _] : nodes_) out.push_back(n);
  return out;
}

void World::Schedule(uint64_t delay, const NodeName& owner,
                     uint64_t incarnation, std::function<void()> fn) {
  events_.push(Event{now_ + delay, seq_++, owner, incarnation, std::move(fn)});
}

void World::Record(std::string_view bytes) {
  // FNV-1a over the bytes, then into the trace.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  Mix(h);
}

void World::Partition(const std::vector<std::set<NodeName>>& groups) {
  group_of_.clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (const auto& n : groups[g]) group_of_[n] = static_cast<int>(g);
  }
}

bool World::Reachable(const NodeName& from, const NodeName& to) const {
  auto group = [&](const NodeName& n) {
    auto g = group_of_.find(n);
    return g == group_of_.end() ? -1 : g->second;
  };
  return group(from) == group(to) && !blocked_.count({from, to});
}

void World::Deliver(const NodeName& from, const NodeName& to,
                    std::string payload) {
  ++messages_sent;
  auto it = nodes_.find(to);
  if (it == nodes_.end() || !it->second->up() || !Reachable(from, to) ||
      Uniform() < faults.drop) {
    ++messages_dropped;
    return;
  }
  int copies = Uniform() < faults.duplicate ? 2 : 1;
  SimNode* target = it->second.get();
  for (int i = 0; i < copies; ++i) {
    uint64_t span = faults.max_latency_ms - faults.min_latency_ms + 1;
    uint64_t latency = faults.min_latency_ms + Random() % span;
    Schedule(latency, to, target->incarnation(), [this, target, from, payload] {
      Mix(payload.size());
      // A partition raised while the message was in flight stops it.
      if (!Reachable(from, target->name())) return;
      target->core().OnPeerMessage(from, payload);
    });
  }
}

void World::RunFor(uint64_t ms) {
  const uint64_t until = now_ + ms;
  while (!events_.empty() && events_.top().at <= until) {
    Event e = events_.top();
    events_.pop();
    now_ = e.at;
    if (!e.owner.empty()) {
      auto it = nodes_.find(e.owner);
      if (it == nodes_.end() || it->second->incarnation() != e.incarnation ||
          !it->second->up()) {
        continue;
      }
    }
    Mix(e.at);
    Mix(e.seq);
    e.fn();
  }
  now_ = until;
}

bool World::RunUntil(const std::function<bool()>& pred, uint64_t limit_ms) {
  const uint64_t until = now_ + limit_ms;
  while (now_ < until) {
    if (pred()) return true;
    RunFor(std::min<uint64_t>(10, until - now_));
  }
  return pred();
}

replication::PutResult Put(World& w, SimNode& via, replication::PutRequest r,
                           uint64_t limit_ms) {
  std::optional<replication::PutResult> out;
  via.core().Put(std::move(r), [&](replication::PutResult p) { out = p; });
  w.RunUntil([&] { return out.has_value(); }, limit_ms);
  if (!out) return {Status::Timeout("simulated client gave up"), {}, {}};
  return *out;
}

replication::GetResult Get(World& w, SimNode& via, replication::GetRequest r,
                           uint64_t limit_ms) {
  std::optional<replication::GetResult> out;
  via.core().Get(std::move(r), [&](replication::GetResult g) { out = g; });
  w.RunUntil([&] { return out.has_value(); }, limit_ms);
  if (!out) return {Status::Timeout("simulated client gave up"), {}, false};
  return *out;
}

Status Delete(World& w, SimNode& via, replication::DeleteRequest r,
              uint64_t limit_ms) {
  std::optional<Status> out;
  via.core().Delete(std::move(r),
                    [&](replication::DeleteResult d) { out = d.status; });
  w.RunUntil([&] { return out.has_value(); }, limit_ms);
  return out ? *out : Status::Timeout("simulated client gave up");
}

Status Join(World& w, SimNode& node, const NodeName& seed, uint64_t limit_ms) {
  std::optional<Status> out;
  node.core().Join(seed, [&](Status s) { out = s; });
  w.RunUntil([&] { return out.has_value(); }, limit_ms);
  return out ? *out : Status::Timeout("join not answered");
}

std::vector<std::string> ListKeys(World& w, SimNode& via,
                                  const std::string& bucket,
                                  uint64_t limit_ms) {
  std::vector<std::string> keys;
  bool done = false;
  via.core().ListKeys(
      replication::kDefaultType, bucket,
      [&](const Status& s, std::vector<std::string> batch, bool last) {
        keys.insert(keys.end(), batch.begin(), batch.end());
        done = last;
      });
  w.RunUntil([&] { return done; }, limit_ms);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

bool Settled(World& w, const std::vector<NodeName>& members) {
  const auto first = w.node(members[0]).core().View();
  for (const auto& n : members) {
    SimNode& node = w.node(n);
    if (!node.up()) return false;
    auto v = node.core().View();
    if (v.ring_version != first.ring_version || v.pending_transfers != 0 ||
        v.owners != first.owners) {
      return false;
    }
    size_t valid = 0;
    for (const auto& m : v.members) valid += m.status == "valid" && m.up;
    if (valid != members.size()) return false;
  }
  return true;
}

std::vector<NodeName> FormCluster(World& w, int n, uint32_t ring_size) {
  std::vector<NodeName> names;
  for (int i = 1; i <= n; ++i) {
    names.push_back("n" + std::to_string(i));
    w.AddNode(names.back(), ring_size);
  }
  for (int i = 1; i < n; ++i) {
    if (!Join(w, w.node(names[i]), names[0]).ok()) return {};
  }
  if (!w.RunUntil([&] { return Settled(w, names); }, 60000)) return {};
  return names;
}

}  // namespace causeway::sim
