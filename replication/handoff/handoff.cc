#include "replication/handoff/handoff.h"

#include <algorithm>

#include "base/coding.h"
#include "storage/keys.h"

namespace causeway::replication::handoff {
namespace {

std::string HintKey(const vnode::Key& key) {
  return std::string(1, storage::kHintSpace) +
         storage::EncodeObjectKey(key.partition, key.type, key.bucket, key.key);
}

bool Contains(const std::vector<NodeName>& v, const NodeName& n) {
  return std::find(v.begin(), v.end(), n) != v.end();
}

}  // namespace

std::vector<NodeName> DecodePrimaries(std::string_view v) {
  std::vector<NodeName> out;
  std::string_view name;
  while (coding::GetLengthPrefixed16(&v, &name)) out.emplace_back(name);
  return out;
}

std::string EncodePrimaries(const std::vector<NodeName>& names) {
  std::string out;
  for (const auto& n : names) {
    coding::PutLengthPrefixed16(&out, std::string_view(n).substr(0, 0xffff));
  }
  return out;
}

// A resumable scan over every object this node stores, calling `action` on
// each with a bounded number of actions awaiting acknowledgement.
class Handoff::Sweep : public std::enable_shared_from_this<Handoff::Sweep> {
 public:
  using Done = std::function<void(bool ok)>;
  using Action =
      std::function<void(const vnode::Key&, const object::Object&, Done)>;

  Sweep(Env& env, storage::Engine& engine, HandoffTiming timing, Action action,
        std::function<void(bool ok)> finished)
      : env_(env),
        engine_(engine),
        timing_(timing),
        action_(std::move(action)),
        finished_(std::move(finished)),
        resume_(storage::ObjectSpaceBegin()) {}

  void Start() {
    auto self = shared_from_this();
    env_.After(0, [self] { self->Tick(); });
  }
  void Stop() { stopped_ = true; }
  bool running() const { return !stopped_ && !done_; }
  uint64_t scanned() const { return scanned_; }
  uint64_t acted() const { return acted_; }
  uint32_t partition() const { return partition_; }

 private:
  void Tick() {
    if (stopped_ || done_) return;
    auto self = shared_from_this();
    if (in_flight_ < timing_.window) {
      size_t budget = timing_.keys_per_tick;
      std::string last;
      bool more = false;
      std::vector<std::pair<vnode::Key, object::Object>> batch;
      engine_.Scan(
          resume_, storage::ObjectSpaceEnd(),
          [&](std::string_view k, std::string_view v) {
            if (budget == 0) {
              more = true;
              return false;
            }
            --budget;
            last.assign(k);
            storage::ObjectKeyParts parts;
            object::Object o;
            if (!storage::DecodeObjectKey(k, &parts) ||
                !object::Object::Decode(v, &o).ok()) {
              return true;  // corrupt records are not moved
            }
            batch.emplace_back(
                vnode::Key{parts.partition, std::move(parts.type),
                           std::move(parts.bucket), std::move(parts.key)},
                std::move(o));
            return true;
          });
      for (auto& [key, object] : batch) {
        ++scanned_;
        partition_ = key.partition;
        ++in_flight_;
        action_(key, object, [self](bool ok) {
          --self->in_flight_;
          if (ok) ++self->acted_;
          if (!ok) self->failed_ = true;
          self->MaybeFinish();
        });
      }
      if (more) {
        resume_ = last + std::string(1, '\0');
      } else {
        exhausted_ = true;
        MaybeFinish();
        return;
      }
    }
    env_.After(timing_.sweep_tick_ms, [self] { self->Tick(); });
  }

  void MaybeFinish() {
    if (stopped_ || done_ || !exhausted_ || in_flight_ > 0) return;
    done_ = true;
    finished_(!failed_);
  }

  Env& env_;
  storage::Engine& engine_;
  HandoffTiming timing_;
  Action action_;
  std::function<void(bool)> finished_;
  std::string resume_;
  size_t in_flight_ = 0;
  uint64_t scanned_ = 0;
  uint64_t acted_ = 0;
  uint32_t partition_ = 0;
  bool exhausted_ = false;
  bool failed_ = false;
  bool stopped_ = false;
  bool done_ = false;

  friend class Handoff;
};

Handoff::Handoff(Env& env, membership::Cluster& cluster,
                 vnode::VnodeStore& store, storage::Engine& engine,
                 BucketRegistry& registry, coord::Replicas& replicas,
                 HandoffTiming timing)
    : env_(env),
      cluster_(cluster),
      store_(store),
      engine_(engine),
      registry_(registry),
      replicas_(replicas),
      timing_(timing),
      alive_(std::make_shared<bool>(true)) {}

Handoff::~Handoff() {
  *alive_ = false;
  if (transfer_) transfer_->Stop();
  if (cleanup_) cleanup_->Stop();
}

void Handoff::Start() {
  ScheduleHintScan();
  OnRingChange();
}

std::vector<NodeName> Handoff::Holders(const ring::Ring& ring,
                                       const vnode::Key& key) const {
  buckets::BucketProps props;
  if (!registry_.Props(key.type, key.bucket, &props).ok()) {
    props = buckets::BucketProps();
  }
  std::vector<NodeName> out;
  for (const auto& m : ring.Preflist(key.partition, props.n_val)) {
    out.push_back(m.node);
  }
  return out;
}

HandoffProgress Handoff::progress() const {
  HandoffProgress p;
  p.hints_pending = hints_pending_;
  p.hints_delivered = hints_delivered_;
  if (transfer_) {
    p.transfer_running = transfer_->running();
    p.transfer_keys_scanned = transfer_->scanned();
    p.transfer_keys_done = transfer_->acted();
    p.transfer_partition = transfer_->partition();
  }
  p.transfer_ring_version = transfer_version_;
  if (cleanup_) {
    p.cleanup_running = cleanup_->running();
    p.cleanup_keys_done = cleanup_->acted();
  }
  return p;
}

Status Handoff::RecordHint(const NodeName& primary, const vnode::Key& key) {
  std::string marker = HintKey(key);
  std::string value;
  Status s = engine_.Get(marker, &value);
  if (!s.ok() && !s.IsNotFound()) return s;
  std::vector<NodeName> owed = DecodePrimaries(value);
  if (Contains(owed, primary)) return Status::Ok();
  owed.push_back(primary);
  if (owed.size() == 1) ++hints_pending_;
  return engine_.Put(marker, EncodePrimaries(owed));
}

void Handoff::ScheduleHintScan() {
  std::weak_ptr<bool> alive = alive_;
  env_.After(timing_.hint_scan_ms, [this, alive] {
    if (alive.lock() && *alive_) ScanHints();
  });
}

// Each hint's object goes to the primaries owed it that are up; markers of
// objects no longer stored, or owed to no one, are dropped.
void Handoff::ScanHints() {
  if (hint_scan_busy_) return ScheduleHintScan();
  for (Hint& hint : ReadHints()) {
    object::Object object;
    Status s = store_.Read(hint.key, &object);
    if (!s.ok()) {
      if (s.IsNotFound()) engine_.Delete(hint.marker);
      continue;
    }
    if (RedirectHint(&hint)) SendHint(hint, object);
  }
  ScheduleHintScan();
}

// Reads the markers, a bounded number of them a scan, and counts them all.
std::vector<Handoff::Hint> Handoff::ReadHints() {
  constexpr size_t kMaxHintsPerScan = 1000;
  const std::string begin(1, storage::kHintSpace);
  std::vector<Hint> hints;
  uint64_t pending = 0;
  engine_.Scan(begin, storage::PrefixEnd(begin),
               [&](std::string_view k, std::string_view v) {
                 ++pending;
                 storage::ObjectKeyParts parts;
                 if (hints.size() >= kMaxHintsPerScan ||
                     !storage::DecodeObjectKey(k.substr(1), &parts)) {
                   return true;
                 }
                 hints.push_back(Hint{
                     std::string(k),
                     vnode::Key{parts.partition, std::move(parts.type),
                                std::move(parts.bucket), std::move(parts.key)},
                     DecodePrimaries(v)});
                 return true;
               });
  hints_pending_ = pending;
  return hints;
}

// A hint owed to this node itself is dropped, and one owed to a node that is
// no longer a member is owed to the key's holders now; the marker is
// rewritten if either happened. False: it is owed to no one and is gone.
bool Handoff::RedirectHint(Hint* hint) {
  std::vector<NodeName> owed_to;
  bool redirected = false;
  for (const NodeName& p : hint->primaries) {
    const membership::Member* m = cluster_.state().Find(p);
    bool gone = m == nullptr || m->status == membership::MemberStatus::kRemoved;
    if (p == cluster_.self() || gone) {
      redirected = true;
      if (!gone) continue;
      for (const NodeName& h : Holders(cluster_.current_ring(), hint->key)) {
        if (h != cluster_.self() && !Contains(owed_to, h)) {
          owed_to.push_back(h);
        }
      }
    } else if (!Contains(owed_to, p)) {
      owed_to.push_back(p);
    }
  }
  if (!redirected) return true;
  if (owed_to.empty()) {
    engine_.Delete(hint->marker);
    return false;
  }
  engine_.Put(hint->marker, EncodePrimaries(owed_to));
  hint->primaries = std::move(owed_to);
  return true;
}

void Handoff::SendHint(const Hint& hint, const object::Object& object) {
  buckets::BucketProps props;
  registry_.Props(hint.key.type, hint.key.bucket, &props);
  // A removed node hears no heartbeats and judges everyone down; it
  // still owes its hints, so it tries every primary.
  const bool removed = cluster_.removed();
  std::weak_ptr<bool> alive = alive_;
  for (const NodeName& primary : hint.primaries) {
    if (!removed && !cluster_.IsUp(primary)) continue;
    replicas_.Write(coord::Target{primary, true, "", true}, hint.key, object,
                    props.resolution(),
                    [this, alive, marker = hint.marker, key = hint.key, primary,
                     sent = object.Encode()](Status s) {
                      if (!alive.lock() || !*alive_ || !s.ok()) return;
                      HintDelivered(marker, key, primary, sent);
                    });
  }
}

// `primary` acknowledged the copy `sent`: it is owed the object no more,
// unless a write arrived while the copy was in flight (the hint stays, and
// the next scan sends again). Once no one is owed, the marker goes, and the
// stand-in copy with it unless this node is a real holder.
void Handoff::HintDelivered(const std::string& marker, const vnode::Key& key,
                            const NodeName& primary, const std::string& sent) {
  object::Object now;
  if (!store_.Read(key, &now).ok() || now.Encode() != sent) return;
  std::string value;
  if (!engine_.Get(marker, &value).ok()) return;
  std::vector<NodeName> left = DecodePrimaries(value);
  std::erase(left, primary);
  ++hints_delivered_;
  if (!left.empty()) {
    engine_.Put(marker, EncodePrimaries(left));
    return;
  }
  engine_.Delete(marker);
  if (hints_pending_ > 0) --hints_pending_;
  if (Contains(Holders(cluster_.current_ring(), key), cluster_.self()) ||
      Contains(Holders(cluster_.next_ring(), key), cluster_.self())) {
    return;
  }
  store_.Remove(key);
}

bool Handoff::idle() const {
  return hints_pending_ == 0 && !(transfer_ && transfer_->running()) &&
         !(cleanup_ && cleanup_->running()) &&
         cleaned_version_ == cluster_.state().version();
}

void Handoff::OnRingChange() {
  const auto& st = cluster_.state();
  if (st.pending()) {
    if (st.transfers_done().count(cluster_.self())) return;
    if (transfer_ && transfer_->running() &&
        transfer_version_ == st.version()) {
      return;
    }
    StartTransfer();
  } else {
    if (transfer_) transfer_->Stop();
    // Only a flip can leave objects here that belong elsewhere (and a fresh
    // start, which may follow an interrupted cleanup).
    if (st.version() == cleaned_version_) return;
    if (cleanup_ && cleanup_->running() && cleanup_version_ == st.version()) {
      return;
    }
    StartCleanup();
  }
}

void Handoff::Retry() {
  const auto& st = cluster_.state();
  if (st.pending()) {
    if (!st.transfers_done().count(cluster_.self())) StartTransfer();
  } else if (st.version() != cleaned_version_) {
    StartCleanup();
  }
}

void Handoff::StartTransfer() {
  if (transfer_) transfer_->Stop();
  if (cleanup_) cleanup_->Stop();
  const uint64_t version = cluster_.state().version();
  transfer_version_ = version;
  std::weak_ptr<bool> alive = alive_;
  auto action = [this, alive](const vnode::Key& key,
                              const object::Object& object, Sweep::Done done) {
    std::vector<NodeName> now = Holders(cluster_.current_ring(), key);
    std::vector<NodeName> receivers;
    for (const auto& n : Holders(cluster_.next_ring(), key)) {
      if (!Contains(now, n) && n != cluster_.self()) receivers.push_back(n);
    }
    if (receivers.empty()) return done(true);
    buckets::BucketProps props;
    registry_.Props(key.type, key.bucket, &props);
    auto left = std::make_shared<size_t>(receivers.size());
    auto ok = std::make_shared<bool>(true);
    for (const auto& r : receivers) {
      replicas_.Write(coord::Target{r, true, "", true}, key, object,
                      props.resolution(), [left, ok, done](Status s) {
                        *ok = *ok && s.ok();
                        if (--*left == 0) done(*ok);
                      });
    }
  };
  auto finished = [this, alive, version](bool ok) {
    if (!alive.lock() || !*alive_) return;
    if (ok) {
      cluster_.TransfersDone(version);
      return;
    }
    // Some receiver did not acknowledge: run the whole transfer again.
    env_.After(timing_.retry_ms, [this, alive] {
      if (alive.lock() && *alive_) Retry();
    });
  };
  transfer_ = std::make_shared<Sweep>(env_, engine_, timing_, action, finished);
  transfer_->Start();
}

void Handoff::StartCleanup() {
  if (cleanup_) cleanup_->Stop();
  cleanup_version_ = cluster_.state().version();
  std::weak_ptr<bool> alive = alive_;
  auto action = [this](const vnode::Key& key, const object::Object& object,
                       Sweep::Done done) {
    const auto& st = cluster_.state();
    if (st.pending()) return done(false);  // a new change: stop moving
    std::vector<NodeName> holders = Holders(cluster_.current_ring(), key);
    if (Contains(holders, cluster_.self())) return done(true);
    buckets::BucketProps props;
    registry_.Props(key.type, key.bucket, &props);
    auto left = std::make_shared<size_t>(holders.size());
    auto ok = std::make_shared<bool>(true);
    std::string sent = object.Encode();
    for (const auto& h : holders) {
      replicas_.Write(
          coord::Target{h, true, "", true}, key, object, props.resolution(),
          [this, left, ok, done, key, sent](Status s) {
            *ok = *ok && s.ok();
            if (--*left > 0) return;
            if (!*ok) return done(false);
            // Only drop the copy if no write arrived since it was sent.
            object::Object now;
            if (store_.Read(key, &now).ok() && now.Encode() == sent) {
              store_.Remove(key);
              engine_.Delete(HintKey(key));
            }
            done(true);
          });
    }
  };
  auto finished = [this, alive, version = cleanup_version_](bool ok) {
    if (!alive.lock() || !*alive_) return;
    if (ok) {
      cleaned_version_ = version;
      return;
    }
    env_.After(timing_.retry_ms, [this, alive] {
      if (alive.lock() && *alive_) Retry();
    });
  };
  cleanup_ = std::make_shared<Sweep>(env_, engine_, timing_, action, finished);
  cleanup_->Start();
}

}  // namespace causeway::replication::handoff
