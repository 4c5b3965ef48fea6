#pragma once
// CausalContext: the set of dots a set or map state has observed, kept as a
// version vector (every dot of an actor up to a counter) plus a dot cloud
// (observed dots past a gap, as deltas bring them). Add compacts: a cloud
// dot that extends its actor's contiguous run moves into the vector, so
// equal sets of dots always have one representation (and one encoding).
//
// The observed-remove types (set.cc, map.cc) keep one context each: a dot in
// the context but not in the state's entries was written and then removed,
// which is why those types need no tombstones.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "replication/causal/dot.h"

namespace causeway::replication::crdt {

using causal::ActorId;
using causal::Dot;

class CausalContext {
 public:
  bool Contains(const Dot& dot) const;
  // REQUIRES: dot.actor != 0 and dot.counter >= 1.
  void Add(const Dot& dot);
  void Merge(const CausalContext& other);
  // Holds every dot of `other` (conservatively: a run of `other` past this
  // context's run counts as not held, even if the cloud holds it).
  bool Covers(const CausalContext& other) const;
  // The highest counter of `actor` this context holds (0: none).
  uint64_t Max(ActorId actor) const;
  bool empty() const { return vector_.empty() && cloud_.empty(); }
  // Some actor's dots are observed past a gap: a replica that applies each
  // origin's changes in order never has one.
  bool HasGaps() const { return !cloud_.empty(); }
  bool operator==(const CausalContext&) const = default;

  // Canonical bytes: equal contexts encode equally.
  void EncodeTo(std::string* out) const;
  std::string Encode() const;
  // Reads a context from the front of `*in`; false (nothing consumed) for
  // malformed or non-canonical input.
  static bool DecodeFrom(std::string_view* in, CausalContext* out);
  // A whole-string context, as a client sends back.
  static bool Decode(std::string_view bytes, CausalContext* out);

 private:
  // Moves cloud dots that extend an actor's run into the vector.
  void Compact();
  bool WellFormed() const;

  std::map<ActorId, uint64_t> vector_;  // counters >= 1
  std::set<Dot> cloud_;                 // none covered by vector_
};

// Mints the dots of one update, one actor: the first is one past the
// highest the context holds, so a dot is never minted twice (the context
// holds every dot the state ever saw, removed ones included).
class DotMinter {
 public:
  DotMinter(const CausalContext& context, ActorId actor)
      : actor_(actor), last_(context.Max(actor)) {}
  Dot Next() { return Dot{actor_, ++last_}; }

 private:
  ActorId actor_;
  uint64_t last_;
};

}  // namespace causeway::replication::crdt
