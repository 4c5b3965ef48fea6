#pragma once
// Dot stores: what the observed-remove types (set.cc, map.cc) keep beside
// their causal context. Every write mints a dot and stores its payload under
// it; a remove takes dots away. Joining two stores needs no tombstones: a
// dot survives if both sides hold it, or if one side holds it and the other
// has never observed it (a dot the other side observed and no longer holds
// was removed there). This is the join of "Delta State Replicated Data
// Types" (Almeida, Shoker, Baquero, 2018), section 7, used by every type.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "replication/crdt/causal_context.h"
#include "replication/crdt/operation.h"

namespace causeway::replication::crdt {

// Dots to payloads; a plain set of dots has no payload.
template <typename V>
using DotMap = std::map<Dot, V>;
using DotSet = DotMap<std::monostate>;

// Joins `theirs` (observed through `their_context`) into `mine` (observed
// through `my_context`). Call before merging the contexts.
template <typename V>
void JoinDots(DotMap<V>* mine, const CausalContext& my_context,
              const DotMap<V>& theirs, const CausalContext& their_context) {
  for (auto it = mine->begin(); it != mine->end();) {
    if (theirs.count(it->first) == 0 && their_context.Contains(it->first)) {
      it = mine->erase(it);
    } else {
      ++it;
    }
  }
  // A dot names one write, so both sides hold the same payload under it.
  for (const auto& [dot, payload] : theirs) {
    if (!my_context.Contains(dot)) mine->emplace(dot, payload);
  }
}

// Stores keyed by something (set elements, map fields), each key holding a
// store of its own: the join is key by key, and keys left empty go.
// `join_one(mine, theirs)` joins one key's stores (`theirs` may be an empty
// one) and `is_empty` tells an empty store.
template <typename K, typename S, typename JoinOne, typename IsEmpty>
void JoinKeyed(std::map<K, S>* mine, const std::map<K, S>& theirs,
               JoinOne join_one, IsEmpty is_empty) {
  static const S kEmpty{};
  for (auto it = mine->begin(); it != mine->end();) {
    if (theirs.count(it->first) == 0) join_one(&it->second, kEmpty);
    it = is_empty(it->second) ? mine->erase(it) : std::next(it);
  }
  for (const auto& [key, store] : theirs) {
    auto [it, added] = mine->try_emplace(key);
    join_one(&it->second, store);
    if (is_empty(it->second)) mine->erase(it);
  }
}

// Elements to the dots of their adds.
using SetStore = std::map<std::string, DotSet>;

void JoinSetStores(SetStore* mine, const CausalContext& my_context,
                   const SetStore& theirs, const CausalContext& their_context);

// Every dot of a store, for removes that take what they observed.
void CollectDots(const SetStore& store, CausalContext* into);

// What a remove takes: with the context a client read, the dots it names;
// without one, everything the state holds (the state stands for what the
// client saw). A concurrent add's dot is in neither, so it survives.
class RemoveScope {
 public:
  // InvalidArgument for a malformed client context; Unavailable when the
  // state has not yet observed all of it (this replica is behind the one the
  // client read; a remove here could miss adds the client saw, so the client
  // retries once the replicas have caught up).
  static Status Make(const std::string* client_context,
                     const CausalContext& state, RemoveScope* out);
  bool Takes(const Dot& dot) const {
    return !client_ || client_->Contains(dot);
  }
  template <typename V>
  bool TakesAny(const DotMap<V>& dots) const {
    for (const auto& [dot, unused] : dots) {
      if (Takes(dot)) return true;
    }
    return false;
  }

 private:
  std::optional<CausalContext> client_;
};

// Adds to `into` the dots of `dots` that `scope` takes.
template <typename V>
void TakeDots(const DotMap<V>& dots, const RemoveScope& scope,
              CausalContext* into) {
  for (const auto& [dot, unused] : dots) {
    if (scope.Takes(dot)) into->Add(dot);
  }
}

// The delta of a set operation on `state`: each add mints one dot and
// replaces the element's observed dots; each remove takes what the scope
// observed of the element. Refused, with nothing written to the delta: over
// the limits of data_type.h or an element both added and removed
// (InvalidArgument); a remove of an element the state does not hold, or
// whose adds the client's context has not seen (PreconditionFailed
// "not_present: ELEMENT").
Status SetDelta(const SetStore& state, const SetOp& op,
                const RemoveScope& scope, DotMinter* minter, SetStore* delta,
                CausalContext* delta_context);

// Encoding pieces shared by set and map: a dot is fixed64 actor then varint
// counter, neither 0 nor 2^64-1. Decoders take untrusted bytes and check
// order and limits.
inline constexpr size_t kMinDotBytes = 9;  // fixed64 actor, 1-byte varint
void PutDot(std::string* out, const Dot& dot);
bool GetDot(std::string_view* in, Dot* dot);
void PutDotSet(std::string* out, const DotSet& dots);
// A non-empty set of dots, strictly increasing, each in `context`.
bool GetDotSet(std::string_view* in, const CausalContext& context,
               DotSet* dots);
void PutSetStore(std::string* out, const SetStore& store);
bool GetSetStore(std::string_view* in, const CausalContext& context,
                 SetStore* store);
// A varint count of entries of at least `min_bytes` each, checked against
// what is left of the input.
bool GetCount(std::string_view* in, size_t min_bytes, uint64_t* n);

}  // namespace causeway::replication::crdt
