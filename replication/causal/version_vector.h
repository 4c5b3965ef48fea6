#pragma once
// VersionVector: a causal context, one counter per actor; entries with
// counter 0 are never stored. It is the object's clock and the opaque
// `vclock` clients carry between a read and the next write.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "replication/causal/dot.h"
#include "storage/status.h"

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

  bool operator==(const VersionVector&) const = default;

  // Compact, versioned binary form for clients (the `vclock` bytes).
  std::string Encode() const;
  // Decodes defensively: any malformed, truncated, oversized (more than
  // kMaxEntries entries), unsorted or zero-counter input is rejected with
  // InvalidArgument and `out` is left unchanged.
  static Status Decode(std::string_view bytes, VersionVector* out);
  std::string ToString() const;

  static constexpr size_t kMaxEntries = 1024;

 private:
  std::vector<Entry> entries_;
};

}  // namespace causeway::replication::causal
