#pragma once
// VersionVector: a causal context, one counter per actor; entries with
// counter 0 are never stored. It is the object's clock and the opaque
// `vclock` clients carry between a read and the next write.
//
// A context also carries a stamp: the newest write timestamp in the history
// it describes (zero when unknown). A write made with the context is stamped
// after it, so resolution by timestamp agrees with causality even at a
// coordinator that never held the values the context overwrites. The stamp
// is advisory: equality and Descends look at the entries only.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "replication/causal/dot.h"
#include "replication/causal/hlc.h"

namespace causeway::replication::causal {

class VersionVector {
 public:
  using Entry = std::pair<ActorId, uint64_t>;

  VersionVector() = default;

  uint64_t Get(ActorId actor) const;
  // True if the event `dot` is part of this history.
  bool Covers(const Dot& dot) const { return dot.counter <= Get(dot.actor); }
  // Raises the actor's entry to at least dot.counter.
  void Add(const Dot& dot);
  // Pointwise maximum.
  void Merge(const VersionVector& other);
  // True if every entry of `other` is <= the same entry here.
  bool Descends(const VersionVector& other) const;
  bool empty() const { return entries_.empty(); }
  // Sorted by actor, counters > 0.
  const std::vector<Entry>& entries() const { return entries_; }

  // The newest write timestamp in this history; Merge keeps the greater.
  const HlcTimestamp& stamp() const { return stamp_; }
  void set_stamp(HlcTimestamp stamp) { stamp_ = stamp; }

  bool operator==(const VersionVector& other) const {
    return entries_ == other.entries_;
  }

  // Compact, versioned binary form for clients (the `vclock` bytes): format
  // 1 without a stamp, format 2 with one.
  std::string Encode() const;
  // Decodes defensively: any malformed, truncated, oversized (more than
  // kMaxEntries entries), unsorted, zero-counter or maximum-counter (one
  // with no successor) input, or a format 2
  // with a zero stamp, is rejected with InvalidArgument and `out` is left
  // unchanged. Accepted input re-encodes to the same bytes.
  static Status Decode(std::string_view bytes, VersionVector* out);
  std::string ToString() const;

  static constexpr size_t kMaxEntries = 1024;

 private:
  // Entries sorted by actor, one per actor, every counter non-zero: what
  // every operation keeps true (asserted) and Decode checks.
  bool WellFormed() const;

  std::vector<Entry> entries_;
  HlcTimestamp stamp_;
};

}  // namespace causeway::replication::causal
