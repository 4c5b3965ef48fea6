#include "replication/vnode/delta_applier.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "storage/keys.h"

namespace causeway::replication::vnode {

DeltaApplier::DeltaApplier(Env& env, VnodeStore& store, FetchState fetch,
                           DeltaBufferLimits limits, bool sync)
    : env_(env),
      store_(store),
      fetch_(std::move(fetch)),
      limits_(limits),
      sync_(sync),
      alive_(std::make_shared<bool>(true)) {}

DeltaApplier::~DeltaApplier() {
  *alive_ = false;
  if (timer_ != 0) env_.Cancel(timer_);
}

void DeltaApplier::Apply(const NodeName& from, const Key& key,
                         object::Delta delta, size_t bytes,
                         std::function<void(Status)> done) {
  object::DeltaOrder order;
  Status s = store_.ApplyDelta(key, delta, sync_, &order);
  if (!s.ok()) return done(s);
  const SlotId id{
      storage::EncodeObjectKey(key.partition, key.type, key.bucket, key.key),
      delta.dot.actor};
  switch (order) {
    case object::DeltaOrder::kApplied:
      ++stats_.applied;
      done(Status::Ok());
      if (slots_.count(id) > 0) Drain(id);
      return;
    case object::DeltaOrder::kDuplicate:
      ++stats_.duplicates;
      return done(Status::Ok());
    case object::DeltaOrder::kEarly:
      break;
  }
  if (stats_.buffered >= limits_.max_deltas ||
      stats_.buffered_bytes + bytes > limits_.max_bytes) {
    ++stats_.overflows;
    // The full state brings this change too; the sender is told now, so it
    // does not wait on a delta this replica could not hold.
    Slot& slot = slots_[id];
    slot.from = from;
    slot.key = key;
    Fetch(id);
    return done(Status::Unavailable("delta reorder buffer full"));
  }
  Buffer(id, from, key,
         Waiting{std::move(delta), bytes,
                 env_.MonotonicMillis() + limits_.timeout_ms, std::move(done)});
}

void DeltaApplier::Buffer(const SlotId& id, const NodeName& from,
                          const Key& key, Waiting waiting) {
  Slot& slot = slots_[id];
  slot.from = from;
  slot.key = key;
  const uint64_t seq = waiting.delta.dot.counter;
  auto [it, fresh] = slot.waiting.try_emplace(seq);
  if (!fresh) {
    // The same delta again before the first copy was applied: both wait.
    auto first = std::move(it->second.done);
    it->second.done = [first = std::move(first),
                       second = std::move(waiting.done)](Status s) {
      first(s);
      second(s);
    };
    return;
  }
  it->second = std::move(waiting);
  ++stats_.buffered;
  stats_.buffered_bytes += it->second.bytes;
  stats_.buffered_high_water =
      std::max(stats_.buffered_high_water, stats_.buffered);
  CAUSEWAY_ASSERT(stats_.buffered <= limits_.max_deltas);
  ArmTimer();
}

void DeltaApplier::Unbuffer(const Waiting& w) {
  CAUSEWAY_ASSERT(stats_.buffered > 0 && stats_.buffered_bytes >= w.bytes);
  --stats_.buffered;
  stats_.buffered_bytes -= w.bytes;
}

void DeltaApplier::Drain(const SlotId& id) {
  auto slot_it = slots_.find(id);
  if (slot_it == slots_.end()) return;
  Slot& slot = slot_it->second;
  while (!slot.waiting.empty()) {
    auto first = slot.waiting.begin();
    object::DeltaOrder order;
    Status s = store_.ApplyDelta(slot.key, first->second.delta, sync_, &order);
    if (s.ok() && order == object::DeltaOrder::kEarly) break;
    Waiting w = std::move(first->second);
    slot.waiting.erase(first);
    Unbuffer(w);
    if (s.ok()) {
      ++(order == object::DeltaOrder::kApplied ? stats_.applied
                                               : stats_.duplicates);
    }
    w.done(s);
  }
  if (slot.waiting.empty() && !slot.fetching) slots_.erase(slot_it);
}

void DeltaApplier::Fetch(const SlotId& id) {
  Slot& slot = slots_.at(id);
  if (slot.fetching) return;
  slot.fetching = true;
  ++stats_.full_state_fetches;
  std::weak_ptr<bool> alive = alive_;
  // Copies: the answer may come at once and drop the slot.
  const NodeName from = slot.from;
  const Key key = slot.key;
  fetch_(from, key, [this, alive, id](Status s, object::Object state) {
    if (auto a = alive.lock(); a && *a) Fetched(id, std::move(s), state);
  });
}

void DeltaApplier::Fetched(const SlotId& id, Status s,
                           const object::Object& state) {
  auto slot_it = slots_.find(id);
  if (slot_it == slots_.end()) return;
  Slot& slot = slot_it->second;
  slot.fetching = false;
  if (s.ok()) {
    s = store_.Merge(slot.key, state, object::Resolution::kDataType, sync_,
                     nullptr);
  }
  // Whatever is now in order is applied; a failed fetch fails the rest.
  Drain(id);
  slot_it = slots_.find(id);
  if (slot_it == slots_.end()) return;
  if (s.ok()) {
    // Deltas that arrived after the fetch was answered get a full timeout.
    const uint64_t deadline = env_.MonotonicMillis() + limits_.timeout_ms;
    for (auto& [seq, w] : slot_it->second.waiting) {
      w.deadline_ms = std::max(w.deadline_ms, deadline);
    }
    return;
  }
  ++stats_.full_state_failures;
  std::map<uint64_t, Waiting> failed = std::move(slot_it->second.waiting);
  slots_.erase(slot_it);
  for (auto& [seq, w] : failed) {
    Unbuffer(w);
    w.done(
        Status::Unavailable("an earlier change is missing and the full "
                            "state could not be fetched: " +
                            s.ToString()));
  }
}

void DeltaApplier::ArmTimer() {
  if (timer_ != 0 || slots_.empty()) return;
  const uint64_t tick = std::max<uint64_t>(10, limits_.timeout_ms / 4);
  std::weak_ptr<bool> alive = alive_;
  timer_ = env_.After(tick, [this, alive] {
    if (auto a = alive.lock(); !a || !*a) return;
    timer_ = 0;
    Sweep();
    ArmTimer();
  });
}

void DeltaApplier::Sweep() {
  const uint64_t now = env_.MonotonicMillis();
  std::vector<SlotId> late;
  for (auto& [id, slot] : slots_) {
    if (slot.fetching) continue;
    for (const auto& [seq, w] : slot.waiting) {
      if (w.deadline_ms <= now) {
        late.push_back(id);
        break;
      }
    }
  }
  for (const SlotId& id : late) {
    for (const auto& [seq, w] : slots_.at(id).waiting) {
      stats_.timeouts += w.deadline_ms <= now;
    }
    Fetch(id);
  }
}

}  // namespace causeway::replication::vnode
