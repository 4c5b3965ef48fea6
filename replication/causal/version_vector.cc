#include "replication/causal/version_vector.h"

#include <algorithm>
#include <iterator>
#include <limits>

#include "base/assert.h"
#include "base/coding.h"

namespace causeway::replication::causal {
namespace {

constexpr uint8_t kFormatVersion = 1;
// Format 1 followed by the stamp (HlcTimestamp::Pack, nonzero) as a varint.
constexpr uint8_t kStampedFormatVersion = 2;
}  // namespace

uint64_t VersionVector::Get(ActorId actor) const {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), actor,
                       [](const Entry& e, ActorId a) { return e.first < a; });
  return it != entries_.end() && it->first == actor ? it->second : 0;
}

void VersionVector::Add(const Dot& dot) {
  if (dot.counter == 0) return;  // the empty event; never stored
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), dot.actor,
                       [](const Entry& e, ActorId a) { return e.first < a; });
  if (it != entries_.end() && it->first == dot.actor) {
    it->second = std::max(it->second, dot.counter);
  } else {
    it = entries_.insert(it, Entry{dot.actor, dot.counter});
  }
  // Sorted by actor, one entry each: the neighbours bound the new entry.
  CAUSEWAY_ASSERT(it == entries_.begin() || std::prev(it)->first < it->first);
  CAUSEWAY_ASSERT(std::next(it) == entries_.end() ||
                  it->first < std::next(it)->first);
}

void VersionVector::Merge(const VersionVector& other) {
  stamp_ = std::max(stamp_, other.stamp_);
  if (other.entries_.empty()) return;
  std::vector<Entry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() ||
        (a != entries_.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == entries_.end() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, std::max(a->second, b->second));
      ++a;
      ++b;
    }
  }
  entries_ = std::move(merged);
  CAUSEWAY_ASSERT(WellFormed());
}

bool VersionVector::WellFormed() const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].second == 0) return false;
    if (i > 0 && !(entries_[i - 1].first < entries_[i].first)) return false;
  }
  return true;
}

bool VersionVector::Descends(const VersionVector& other) const {
  // Both sides are sorted, so one pass suffices.
  auto a = entries_.begin();
  for (const Entry& e : other.entries_) {
    while (a != entries_.end() && a->first < e.first) ++a;
    if (a == entries_.end() || a->first != e.first || a->second < e.second) {
      return false;
    }
  }
  return true;
}

std::string VersionVector::Encode() const {
  std::string out;
  const bool stamped = stamp_ != HlcTimestamp{};
  out.reserve(2 + entries_.size() * 6 + (stamped ? 9 : 0));
  out.push_back(
      static_cast<char>(stamped ? kStampedFormatVersion : kFormatVersion));
  coding::PutVarint64(&out, entries_.size());
  for (const Entry& e : entries_) {
    coding::PutVarint64(&out, e.first);
    coding::PutVarint64(&out, e.second);
  }
  if (stamped) coding::PutVarint64(&out, stamp_.Pack());
  return out;
}

// Varints are read in their shortest form only, so every accepted input
// re-encodes to the same bytes and two encodings of one clock can never
// compare unequal.
Status VersionVector::Decode(std::string_view bytes, VersionVector* out) {
  // A blind write carries no vclock at all.
  if (bytes.empty()) {
    *out = VersionVector();
    return Status::Ok();
  }
  const uint8_t format = static_cast<uint8_t>(bytes[0]);
  if (format != kFormatVersion && format != kStampedFormatVersion) {
    return Status::InvalidArgument("vclock: unknown format version");
  }
  bytes.remove_prefix(1);
  uint64_t count;
  if (!coding::GetCanonicalVarint64(&bytes, &count)) {
    return Status::InvalidArgument("vclock: bad entry count");
  }
  if (count > kMaxEntries) {
    return Status::InvalidArgument("vclock: too many entries");
  }
  // Each entry takes at least two bytes; checking before reserving keeps a
  // lying count from allocating anything.
  if (count > bytes.size() / 2) {
    return Status::InvalidArgument("vclock: truncated");
  }
  std::vector<Entry> entries;
  entries.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Entry e;
    if (!coding::GetCanonicalVarint64(&bytes, &e.first) ||
        !coding::GetCanonicalVarint64(&bytes, &e.second)) {
      return Status::InvalidArgument("vclock: truncated or malformed entry");
    }
    if (e.second == 0) {
      return Status::InvalidArgument("vclock: zero counter");
    }
    // The next event of an actor is its counter plus one: a counter with
    // no successor could only wrap (no real clock gets near it).
    if (e.second == std::numeric_limits<uint64_t>::max()) {
      return Status::InvalidArgument("vclock: counter at its maximum");
    }
    if (!entries.empty() && entries.back().first >= e.first) {
      return Status::InvalidArgument("vclock: actors unsorted or repeated");
    }
    entries.push_back(e);
  }
  HlcTimestamp stamp;
  if (format == kStampedFormatVersion) {
    uint64_t packed;
    if (!coding::GetCanonicalVarint64(&bytes, &packed)) {
      return Status::InvalidArgument("vclock: truncated or malformed stamp");
    }
    // A zero stamp is written as format 1; accepting it here would give one
    // context two encodings.
    if (packed == 0) return Status::InvalidArgument("vclock: zero stamp");
    stamp = HlcTimestamp::Unpack(packed);
  }
  if (!bytes.empty()) {
    return Status::InvalidArgument("vclock: trailing bytes");
  }
  out->entries_ = std::move(entries);
  out->stamp_ = stamp;
  return Status::Ok();
}

std::string VersionVector::ToString() const {
  std::string s = "{";
  for (const Entry& e : entries_) {
    if (s.size() > 1) s += ", ";
    s += Dot{e.first, e.second}.ToString();
  }
  s += "}";
  if (stamp_ != HlcTimestamp{}) s += "@" + stamp_.ToString();
  return s;
}

}  // namespace causeway::replication::causal
