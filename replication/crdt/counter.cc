// counter: the PN-counter. Each actor keeps two cumulative totals, P (what
// it added) and N (what it subtracted); merge takes the per-actor maximum of
// each, and the value is sum(P) - sum(N).
//
// Non-obvious choices:
// - Totals are uint64 and only grow. An increment that would wrap an
//   actor's total is refused rather than wrapped, because a wrapped total
//   would look smaller and lose to the old one in a merge.
// - The value is computed in uint64 and converted to int64 (modular), so a
//   sum beyond the int64 range wraps instead of being undefined behaviour.
// - An entry with P = N = 0 carries nothing; it is never stored, and the
//   decoder refuses it, so every state has exactly one encoding.
// - Actors are random 64-bit ids, so they are encoded fixed64 (a varint of
//   a random id would take 9 or 10 bytes).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/assert.h"
#include "base/coding.h"
#include "replication/crdt/types.h"

namespace causeway::replication::crdt {
namespace {

constexpr uint8_t kFormatVersion = 1;
// An entry is at least an 8-byte actor and two one-byte varints.
constexpr size_t kMinEntryBytes = 10;

struct Entry {
  causal::ActorId actor = 0;
  uint64_t p = 0;  // cumulative increments
  uint64_t n = 0;  // cumulative decrements (as a positive amount)
  bool operator==(const Entry&) const = default;
};

// Sorted by actor, strictly; no entry has p == n == 0.
using Entries = std::vector<Entry>;

Entries MergeEntries(const Entries& a, const Entries& b) {
  Entries out;
  out.reserve(a.size() + b.size());
  auto x = a.begin();
  auto y = b.begin();
  while (x != a.end() || y != b.end()) {
    if (y == b.end() || (x != a.end() && x->actor < y->actor)) {
      out.push_back(*x++);
    } else if (x == a.end() || y->actor < x->actor) {
      out.push_back(*y++);
    } else {
      out.push_back({x->actor, std::max(x->p, y->p), std::max(x->n, y->n)});
      ++x;
      ++y;
    }
  }
  return out;
}

bool WellFormed(const Entries& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.actor == 0 || (e.p == 0 && e.n == 0)) return false;
    if (i > 0 && !(entries[i - 1].actor < e.actor)) return false;
  }
  return true;
}

class Counter final : public DataType {
 public:
  Counter() = default;
  explicit Counter(Entries entries) : entries_(std::move(entries)) {
    CAUSEWAY_ASSERT(WellFormed(entries_));
  }

  TypeTag tag() const override { return TypeTag::kCounter; }
  std::unique_ptr<DataType> Clone() const override {
    return std::make_unique<Counter>(*this);
  }

  Status Update(const Operation& op, const UpdateArgs& args,
                std::unique_ptr<DataType>* delta) override;

  void Merge(const DataType& other) override {
    CAUSEWAY_ASSERT(other.tag() == tag());
    const auto& o = static_cast<const Counter&>(other);
    entries_ = MergeEntries(entries_, o.entries_);
    CAUSEWAY_ASSERT(WellFormed(entries_));
  }

  bool Equal(const DataType& other) const override {
    if (other.tag() != tag()) return false;
    return entries_ == static_cast<const Counter&>(other).entries_;
  }

  Value Read() const override;
  std::string Context() const override { return std::string(); }
  std::string Encode() const override;

 private:
  Entries entries_;
};

Status Counter::Update(const Operation& op, const UpdateArgs& args,
                       std::unique_ptr<DataType>* delta) {
  CAUSEWAY_ASSERT(args.actor != 0);
  const auto* counter_op = std::get_if<CounterOp>(&op);
  if (counter_op == nullptr) {
    return Status::InvalidArgument("counter: not a counter operation");
  }
  const int64_t increment = counter_op->increment;
  if (increment == std::numeric_limits<int64_t>::min()) {
    return Status::InvalidArgument("counter: increment out of range");
  }
  // |increment| fits: INT64_MIN is refused above.
  const uint64_t amount = increment < 0
                              ? uint64_t{0} - static_cast<uint64_t>(increment)
                              : static_cast<uint64_t>(increment);
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), args.actor,
      [](const Entry& e, causal::ActorId a) { return e.actor < a; });
  Entry updated{args.actor, 0, 0};
  if (it != entries_.end() && it->actor == args.actor) updated = *it;
  uint64_t& total = increment < 0 ? updated.n : updated.p;
  if (total > std::numeric_limits<uint64_t>::max() - amount) {
    return Status::InvalidArgument("counter: actor's total would overflow");
  }
  total += amount;
  Entries delta_entries;
  if (updated.p != 0 || updated.n != 0) {
    if (it != entries_.end() && it->actor == args.actor) {
      *it = updated;
    } else {
      entries_.insert(it, updated);
    }
    delta_entries.push_back(updated);
  }
  *delta = std::make_unique<Counter>(std::move(delta_entries));
  return Status::Ok();
}

Value Counter::Read() const {
  uint64_t sum = 0;
  for (const Entry& e : entries_) sum += e.p - e.n;  // modular
  Value value;
  value.type = TypeTag::kCounter;
  value.counter = static_cast<int64_t>(sum);
  return value;
}

std::string Counter::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  coding::PutVarint64(&out, entries_.size());
  for (const Entry& e : entries_) {
    coding::PutFixed64(&out, e.actor);
    coding::PutVarint64(&out, e.p);
    coding::PutVarint64(&out, e.n);
  }
  return out;
}

// Reads the entries after the version byte; false on anything malformed.
bool DecodeEntries(std::string_view in, Entries* out) {
  uint64_t count = 0;
  if (!coding::GetCanonicalVarint64(&in, &count)) return false;
  if (count > in.size() / kMinEntryBytes) return false;
  Entries entries;
  entries.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Entry e;
    if (!coding::GetFixed64(&in, &e.actor) ||
        !coding::GetCanonicalVarint64(&in, &e.p) ||
        !coding::GetCanonicalVarint64(&in, &e.n)) {
      return false;
    }
    entries.push_back(e);
  }
  if (!in.empty() || !WellFormed(entries)) return false;
  *out = std::move(entries);
  return true;
}

}  // namespace

std::unique_ptr<DataType> NewCounter() { return std::make_unique<Counter>(); }

Status DecodeCounter(std::string_view bytes, std::unique_ptr<DataType>* out) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kFormatVersion) {
    return Status::Corruption("counter: unknown format version");
  }
  Entries entries;
  if (!DecodeEntries(bytes.substr(1), &entries)) {
    return Status::Corruption("counter: malformed state");
  }
  *out = std::make_unique<Counter>(std::move(entries));
  return Status::Ok();
}

}  // namespace causeway::replication::crdt
