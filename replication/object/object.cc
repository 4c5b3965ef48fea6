// Object: the dotted version vector set of object.h. What this file adds to
// the rules there, and why:
// - Merge is a join (commutative, associative, idempotent) for every
//   resolution as long as timestamps agree with causality: a write stamped
//   after everything it overwrites. Update enforces that for what the
//   coordinator holds, and for what a client's context covers but the
//   coordinator never received through the context's stamp (the newest
//   write in the history the client read; see version_vector.h). Without
//   it, kNewest let a value come back after a write that had read it
//   overwrote it. kKeepSiblings does not depend on timestamps.
// - The clock's stamp is the newest timestamp among the siblings: by the
//   rule above no write the clock covers is newer, so it needs no storage.
// - Merge never turns two replicas holding values into one holding none.
// Encode and Decode wrap the record codec (record_codec.h).
#include "replication/object/object.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "base/assert.h"
#include "replication/object/record_codec.h"

namespace causeway::replication::object {
namespace {

// Client contexts are hostile input. Capping what they can claim keeps every
// counter far from overflow (a wrapped counter would mint the empty dot), at
// no cost to honest clients, whose counters grow by one per write.
constexpr uint64_t kMaxContextCounter = uint64_t{1} << 62;

// A total order on sibling contents. Dots are unique by construction, so two
// replicas holding one dot with different contents means corruption
// somewhere; merge still has to pick the same survivor in every order.
auto ContentKey(const Sibling& s) {
  return std::tie(s.timestamp, s.deleted, s.value, s.meta.content_type,
                  s.meta.charset, s.meta.content_encoding, s.meta.usermeta,
                  s.meta.indexes);
}

bool LinkLess(const Link& a, const Link& b) {
  return std::tie(a.bucket, a.key, a.tag) < std::tie(b.bucket, b.key, b.tag);
}

bool ContentLess(const Sibling& a, const Sibling& b) {
  if (ContentKey(a) != ContentKey(b)) return ContentKey(a) < ContentKey(b);
  return std::lexicographical_compare(a.meta.links.begin(), a.meta.links.end(),
                                      b.meta.links.begin(), b.meta.links.end(),
                                      LinkLess);
}

// The winner among concurrent siblings when only one may stay: the newest
// timestamp, ties (same millisecond and logical count on two nodes) broken by
// dot so every replica picks the same one.
bool OlderThan(const Sibling& a, const Sibling& b) {
  return std::tie(a.timestamp, a.dot) < std::tie(b.timestamp, b.dot);
}

// The least timestamp after `t`, carrying into the milliseconds as the
// hybrid clock does.
HlcTimestamp Successor(HlcTimestamp t) {
  if (t.logical < 0xFFFF) return HlcTimestamp{t.wall_ms, t.logical + 1};
  if (t.wall_ms >= (uint64_t{1} << 48) - 1) return t;  // Pack's ceiling
  return HlcTimestamp{t.wall_ms + 1, 0};
}

VersionVector CappedContext(const VersionVector& context) {
  VersionVector capped;
  for (const auto& [actor, counter] : context.entries()) {
    capped.Add(Dot{actor, std::min(counter, kMaxContextCounter)});
  }
  return capped;
}

// Both sides' siblings, one per dot (the same survivor Merge picks).
std::vector<Sibling> UnionByDot(const std::vector<Sibling>& x,
                                const std::vector<Sibling>& y) {
  std::vector<Sibling> out;
  out.reserve(x.size() + y.size());
  auto a = x.begin();
  auto b = y.begin();
  while (a != x.end() || b != y.end()) {
    if (b == y.end() || (a != x.end() && a->dot < b->dot)) {
      out.push_back(*a++);
    } else if (a == x.end() || b->dot < a->dot) {
      out.push_back(*b++);
    } else {
      out.push_back(ContentLess(*a, *b) ? *b : *a);
      ++a;
      ++b;
    }
  }
  return out;
}

}  // namespace

bool Object::IsTombstone() const {
  return !siblings_.empty() &&
         std::all_of(siblings_.begin(), siblings_.end(),
                     [](const Sibling& s) { return s.deleted; });
}

std::vector<const Sibling*> Object::LiveSiblings() const {
  std::vector<const Sibling*> live;
  for (const Sibling& s : siblings_) {
    if (!s.deleted) live.push_back(&s);
  }
  return live;
}

Dot Object::Update(const VersionVector& context, Sibling content, ActorId actor,
                   Resolution resolution) {
  if (resolution == Resolution::kDataType) {
    return DeleteData(context, std::move(content), actor);
  }
  VersionVector capped = CappedContext(context);
  // The next counter is above anything this key has seen from the actor,
  // including what a client's context remembers: after a tombstone is
  // reaped the local clock restarts, and a reused dot would be mistaken for
  // an old write by replicas that still hold it.
  Dot dot{actor, std::max(clock_.Get(actor), capped.Get(actor)) + 1};
  content.dot = dot;

  auto overwritten = [&](const Sibling& s) {
    return resolution == Resolution::kLastWriteWins || capped.Covers(s.dot);
  };
  // A write is stamped after everything it overwrites here, even when the
  // coordinator's clock lags the writer of what it replaces. Resolution by
  // timestamp then agrees with causality, which is what makes merging under
  // kNewest and kLastWriteWins independent of delivery order. Under kNewest
  // it is also stamped after the concurrent siblings held here: the
  // coordinator has observed them, and a hybrid clock stamps an event after
  // everything observed, so a write never loses at its own coordinator to a
  // value stamped by a clock running ahead (it would be acknowledged and
  // gone).
  const bool after_all = resolution == Resolution::kNewest;
  if (context.stamp() != HlcTimestamp{} &&
      !(context.stamp() < content.timestamp)) {
    content.timestamp = Successor(context.stamp());
  }
  for (const Sibling& s : siblings_) {
    if ((after_all || overwritten(s)) && !(s.timestamp < content.timestamp)) {
      content.timestamp = Successor(s.timestamp);
    }
  }
  std::erase_if(siblings_, overwritten);
  auto pos = std::lower_bound(
      siblings_.begin(), siblings_.end(), dot,
      [](const Sibling& s, const Dot& d) { return s.dot < d; });
  siblings_.insert(pos, std::move(content));

  // Last-write-wins ignores contexts: the write claims to have seen only
  // what it replaced here, all of it stamped earlier. Were the context
  // joined in, it would claim writes held elsewhere that may carry later
  // stamps, and which value survives would depend on the merge order.
  if (resolution != Resolution::kLastWriteWins) clock_.Merge(capped);
  clock_.Add(dot);
  Resolve(resolution);
  CAUSEWAY_ASSERT(WellFormed());
  return dot;
}

Dot Object::DeleteData(const VersionVector& context, Sibling tombstone,
                       ActorId actor) {
  CAUSEWAY_ASSERT(tombstone.deleted);
  // The delete as an object of its own: what the client saw and one new
  // dot. Merging it in decides (datatype.cc) whether it wins here: only if
  // the client saw everything this replica's state holds.
  const VersionVector capped = CappedContext(context);
  const Dot dot{actor, std::max(clock_.Get(actor), capped.Get(actor)) + 1};
  tombstone.dot = dot;
  Object deleted;
  deleted.clock_ = capped;
  deleted.clock_.Add(dot);
  deleted.siblings_.push_back(std::move(tombstone));
  deleted.Restamp();
  MergeData(deleted);
  return dot;
}

void Object::Merge(const Object& other, Resolution resolution) {
  if (data_ != nullptr || other.data_ != nullptr) {
    MergeData(other);
    return;
  }
  if (&other == this) {
    Resolve(resolution);
    return;
  }
  // A sibling survives unless the other side has seen its dot and dropped
  // it, i.e. overwrote it. Both lists are sorted by dot: one linear pass.
  std::vector<Sibling> merged;
  merged.reserve(siblings_.size() + other.siblings_.size());
  auto a = siblings_.begin();
  auto b = other.siblings_.begin();
  while (a != siblings_.end() || b != other.siblings_.end()) {
    if (b == other.siblings_.end() ||
        (a != siblings_.end() && a->dot < b->dot)) {
      if (!other.clock_.Covers(a->dot)) merged.push_back(std::move(*a));
      ++a;
    } else if (a == siblings_.end() || b->dot < a->dot) {
      if (!clock_.Covers(b->dot)) merged.push_back(*b);
      ++b;
    } else {
      merged.push_back(ContentLess(*a, *b) ? *b : std::move(*a));
      ++a;
      ++b;
    }
  }
  if (merged.empty() && !(siblings_.empty() && other.siblings_.empty())) {
    // Each side claims to have overwritten everything the other holds. Honest
    // histories cannot do that (overwriting follows causality, which has no
    // cycles), but a forged client context or clocks that contradict
    // causality under a destructive resolution can. Losing the key is the
    // worst answer, so keep the union and let resolution pick.
    merged = UnionByDot(siblings_, other.siblings_);
  }
  siblings_ = std::move(merged);
  clock_.Merge(other.clock_);
  Resolve(resolution);
  CAUSEWAY_ASSERT(WellFormed());
}

bool Object::operator==(const Object& other) const {
  if (clock_ != other.clock_ || siblings_ != other.siblings_) return false;
  if (data_ == other.data_) return true;
  return data_ != nullptr && other.data_ != nullptr &&
         data_->Equal(*other.data_);
}

bool Object::WellFormed() const {
  if (data_ != nullptr && !siblings_.empty()) return false;
  for (size_t i = 0; i < siblings_.size(); ++i) {
    if (i > 0 && !(siblings_[i - 1].dot < siblings_[i].dot)) return false;
    if (!clock_.Covers(siblings_[i].dot)) return false;
  }
  return true;
}

bool Object::Descends(const Object& other) const {
  if (data_ != nullptr || other.data_ != nullptr) return DescendsData(other);
  if (!clock_.Descends(other.clock_)) return false;
  // Everything `other` holds is covered by our clock, so merging adds only
  // what we hold already. It changes something if it would swap a shared
  // sibling's content or drop one of ours that `other` overwrote, unless it
  // would drop all of ours, when Merge falls back to the union instead.
  bool all_survive = true;
  bool any_survives = false;
  auto b = other.siblings_.begin();
  for (const Sibling& s : siblings_) {
    while (b != other.siblings_.end() && b->dot < s.dot) ++b;
    if (b != other.siblings_.end() && b->dot == s.dot) {
      if (ContentLess(s, *b)) return false;
      any_survives = true;
    } else if (other.clock_.Covers(s.dot)) {
      all_survive = false;
    } else {
      any_survives = true;
    }
  }
  // With nothing of ours surviving, nothing of theirs is shared either, and
  // the union equals ours only if they hold nothing.
  if (!any_survives) return other.siblings_.empty();
  return all_survive;
}

void Object::Resolve(Resolution resolution) {
  if (resolution != Resolution::kKeepSiblings && siblings_.size() > 1) {
    auto newest =
        std::max_element(siblings_.begin(), siblings_.end(), OlderThan);
    Sibling keep = std::move(*newest);
    siblings_.clear();
    siblings_.push_back(std::move(keep));
  }
  Restamp();
}

void Object::Restamp() {
  HlcTimestamp newest;
  for (const Sibling& s : siblings_) newest = std::max(newest, s.timestamp);
  clock_.set_stamp(newest);
}

std::string Object::Encode(ActorId replica_actor) const {
  return EncodeRecord(clock_, siblings_, data_.get(), replica_actor);
}

Status Object::Decode(std::string_view bytes, Object* out,
                      ActorId* replica_actor) {
  Object obj;
  ActorId actor_of_copy = 0;
  Status s = DecodeRecord(bytes, &obj.clock_, &obj.siblings_, &obj.data_,
                          &actor_of_copy);
  if (!s.ok()) return s;
  obj.Restamp();
  *out = std::move(obj);
  if (replica_actor != nullptr) *replica_actor = actor_of_copy;
  return Status::Ok();
}

}  // namespace causeway::replication::object
