// The data-type rules of Object (Resolution::kDataType): states instead of
// siblings, updates that return deltas, deltas applied in each origin's
// order, and how a delete's tombstone meets a state.
//
// A tombstone and a state merge to the tombstone only when the tombstone's
// clock covers the state's: the delete saw every change the state holds.
// Otherwise some update the delete did not see is in the state, and the
// state stays, whole (a data type cannot take away just the deleted
// changes). This is Riak's rule for data types too: an update concurrent
// with a delete brings the value back. The rule depends only on the two
// clocks, so every replica decides the same way in any order.
#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "replication/object/object.h"

namespace causeway::replication::object {

crdt::DataType& Object::MutableData() {
  CAUSEWAY_ASSERT(data_ != nullptr);
  if (data_.use_count() > 1) data_ = data_->Clone();
  return *data_;
}

Status Object::UpdateData(crdt::TypeTag tag, const crdt::TypeParams& params,
                          const crdt::Operation& op, ActorId actor,
                          HlcTimestamp timestamp, const std::string* context,
                          Delta* delta) {
  CAUSEWAY_ASSERT(actor != 0);
  if (data_ != nullptr && data_->tag() != tag) {
    return Status::InvalidArgument(std::string("the key holds a ") +
                                   crdt::TypeName(data_->tag()) + ", not a " +
                                   crdt::TypeName(tag));
  }
  // A key without a state (new, or deleted) starts from an empty one; it
  // takes the place of the tombstone only once the update succeeded.
  std::shared_ptr<crdt::DataType> fresh;
  crdt::DataType* state = nullptr;
  if (data_ != nullptr) {
    state = &MutableData();
  } else {
    fresh = crdt::NewDataType(tag, params);
    state = fresh.get();
  }
  std::unique_ptr<crdt::DataType> change;
  Status s =
      state->Update(op, crdt::UpdateArgs{actor, timestamp, context}, &change);
  if (!s.ok()) return s;
  if (fresh != nullptr) {
    data_ = std::move(fresh);
    siblings_.clear();
  }
  const Dot dot{actor, clock_.Get(actor) + 1};
  clock_.Add(dot);
  Restamp();
  *delta = Delta{dot, std::move(change)};
  CAUSEWAY_ASSERT(WellFormed());
  return Status::Ok();
}

DeltaOrder Object::OrderOf(const causal::Dot& dot) const {
  const uint64_t next = clock_.Get(dot.actor) + 1;
  if (dot.counter < next) return DeltaOrder::kDuplicate;
  return dot.counter > next ? DeltaOrder::kEarly : DeltaOrder::kApplied;
}

Status Object::ApplyDelta(const Delta& delta, DeltaOrder* order) {
  CAUSEWAY_ASSERT(delta.state != nullptr && delta.dot.counter > 0);
  *order = OrderOf(delta.dot);
  if (*order != DeltaOrder::kApplied) return Status::Ok();
  if (data_ != nullptr && data_->tag() != delta.state->tag()) {
    return Status::InvalidArgument(
        std::string("a ") + crdt::TypeName(delta.state->tag()) +
        " change for a key holding a " + crdt::TypeName(data_->tag()));
  }
  if (data_ != nullptr) {
    MutableData().Merge(*delta.state);
  } else {
    // Merging into an empty state gives the delta itself.
    data_ = delta.state->Clone();
    siblings_.clear();
  }
  clock_.Add(delta.dot);
  Restamp();
  CAUSEWAY_ASSERT(WellFormed());
  return Status::Ok();
}

void Object::MergeData(const Object& other) {
  if (&other == this || other.empty()) return;
  if (empty()) {
    *this = other;  // shares the state until one side changes it
    return;
  }
  const bool live = data_ != nullptr;
  const bool other_live = other.data_ != nullptr;
  if (live && other_live) {
    if (data_->tag() != other.data_->tag()) {
      // One key with two types cannot come from honest replicas (a bucket
      // type's datatype is fixed). Every replica keeps the smaller tag, so
      // they still agree.
      if (other.data_->tag() < data_->tag()) data_ = other.data_;
    } else if (data_ != other.data_) {
      MutableData().Merge(*other.data_);
    }
  } else if (!live && !other_live) {
    Merge(other, Resolution::kKeepSiblings);  // tombstones, as siblings
    return;
  } else {
    const Object& tomb = live ? other : *this;
    const Object& state = live ? *this : other;
    if (tomb.clock_.Descends(state.clock_)) {
      std::vector<Sibling> kept = tomb.siblings_;
      data_.reset();
      siblings_ = std::move(kept);
    } else {
      std::shared_ptr<crdt::DataType> kept = state.data_;
      siblings_.clear();
      data_ = std::move(kept);
    }
  }
  clock_.Merge(other.clock_);
  Restamp();
  CAUSEWAY_ASSERT(WellFormed());
}

bool Object::DescendsData(const Object& other) const {
  if (!clock_.Descends(other.clock_)) return false;
  if (other.empty()) return true;
  CAUSEWAY_ASSERT(data_ != nullptr || other.data_ != nullptr);
  // A tombstone whose clock covers a state wins over it.
  if (data_ == nullptr) return true;
  if (other.data_ == nullptr) {
    // A tombstone merged into this state wins only with a clock that covers
    // ours; it covers no more than ours, so only an equal one.
    return !other.clock_.Descends(clock_);
  }
  if (data_->tag() != other.data_->tag()) {
    return data_->tag() < other.data_->tag();
  }
  if (data_ == other.data_) return true;
  std::unique_ptr<crdt::DataType> merged = data_->Clone();
  merged->Merge(*other.data_);
  return merged->Equal(*data_);
}

}  // namespace causeway::replication::object
