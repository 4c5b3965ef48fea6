// Dot stores: the join of keyed stores and their encodings.
#include "replication/crdt/dot_store.h"

#include <limits>
#include <set>

#include "base/coding.h"
#include "base/printable.h"
#include "replication/crdt/data_type.h"

namespace causeway::replication::crdt {
namespace {

// Checks a set operation against the limits before anything changes.
Status CheckSetOp(const SetStore& state, const SetOp& op,
                  const RemoveScope& scope) {
  if (op.adds.size() + op.removes.size() > kMaxElementsPerOp) {
    return Status::InvalidArgument("a set operation names more than " +
                                   std::to_string(kMaxElementsPerOp) +
                                   " elements");
  }
  std::set<std::string_view> adds;
  size_t new_elements = 0;
  for (const std::string& e : op.adds) {
    if (e.size() > kMaxElementBytes) {
      return Status::InvalidArgument("a set element is longer than " +
                                     std::to_string(kMaxElementBytes) +
                                     " bytes");
    }
    if (adds.insert(e).second && state.count(e) == 0) ++new_elements;
  }
  if (state.size() + new_elements > kMaxSetElements) {
    return Status::InvalidArgument(
        "a set holds at most " + std::to_string(kMaxSetElements) + " elements");
  }
  for (const std::string& e : op.removes) {
    if (adds.count(e) > 0) {
      return Status::InvalidArgument("element '" + Printable(e) +
                                     "' is both added and removed");
    }
    auto it = state.find(e);
    if (it == state.end() || !scope.TakesAny(it->second)) {
      return Status::PreconditionFailed("not_present: " + Printable(e));
    }
  }
  return Status::Ok();
}

}  // namespace

Status RemoveScope::Make(const std::string* client_context,
                         const CausalContext& state, RemoveScope* out) {
  RemoveScope scope;
  if (client_context != nullptr) {
    CausalContext c;
    if (!CausalContext::Decode(*client_context, &c)) {
      return Status::InvalidArgument("the context is malformed");
    }
    if (!state.Covers(c)) {
      return Status::Unavailable(
          "the coordinating replica has not yet seen everything in the "
          "context; retry");
    }
    scope.client_ = std::move(c);
  }
  *out = std::move(scope);
  return Status::Ok();
}

Status SetDelta(const SetStore& state, const SetOp& op,
                const RemoveScope& scope, DotMinter* minter, SetStore* delta,
                CausalContext* delta_context) {
  Status s = CheckSetOp(state, op, scope);
  if (!s.ok()) return s;
  for (const std::string& e : op.adds) {
    if (delta->count(e) > 0) continue;  // named twice
    const Dot dot = minter->Next();
    (*delta)[e].emplace(dot, std::monostate{});
    delta_context->Add(dot);
    auto it = state.find(e);
    if (it != state.end()) TakeDots(it->second, RemoveScope(), delta_context);
  }
  for (const std::string& e : op.removes) {
    TakeDots(state.at(e), scope, delta_context);
  }
  return Status::Ok();
}

void JoinSetStores(SetStore* mine, const CausalContext& my_context,
                   const SetStore& theirs, const CausalContext& their_context) {
  JoinKeyed(
      mine, theirs,
      [&](DotSet* m, const DotSet& t) {
        JoinDots(m, my_context, t, their_context);
      },
      [](const DotSet& d) { return d.empty(); });
}

void CollectDots(const SetStore& store, CausalContext* into) {
  for (const auto& [element, dots] : store) {
    for (const auto& [dot, unused] : dots) into->Add(dot);
  }
}

void PutDot(std::string* out, const Dot& dot) {
  coding::PutFixed64(out, dot.actor);
  coding::PutVarint64(out, dot.counter);
}

bool GetDot(std::string_view* in, Dot* dot) {
  std::string_view rest = *in;
  Dot d;
  // Actor and counter are neither 0 nor the maximum: the causal context
  // reasons about an actor's successor and a counter's successor, which
  // the maximum does not have.
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (!coding::GetFixed64(&rest, &d.actor) ||
      !coding::GetCanonicalVarint64(&rest, &d.counter) || d.actor == 0 ||
      d.counter == 0 || d.actor == kMax || d.counter == kMax) {
    return false;
  }
  *dot = d;
  *in = rest;
  return true;
}

bool GetCount(std::string_view* in, size_t min_bytes, uint64_t* n) {
  std::string_view rest = *in;
  if (!coding::GetCanonicalVarint64(&rest, n) || *n > rest.size() / min_bytes) {
    return false;
  }
  *in = rest;
  return true;
}

void PutDotSet(std::string* out, const DotSet& dots) {
  coding::PutVarint64(out, dots.size());
  for (const auto& [dot, unused] : dots) PutDot(out, dot);
}

bool GetDotSet(std::string_view* in, const CausalContext& context,
               DotSet* dots) {
  uint64_t n = 0;
  if (!GetCount(in, kMinDotBytes, &n) || n == 0) return false;
  for (uint64_t i = 0; i < n; ++i) {
    Dot d;
    if (!GetDot(in, &d) || !context.Contains(d)) return false;
    if (!dots->empty() && !(dots->rbegin()->first < d)) return false;
    dots->emplace_hint(dots->end(), d, std::monostate{});
  }
  return true;
}

void PutSetStore(std::string* out, const SetStore& store) {
  coding::PutVarint64(out, store.size());
  for (const auto& [element, dots] : store) {
    coding::PutLengthPrefixedVarint(out, element);
    PutDotSet(out, dots);
  }
}

bool GetSetStore(std::string_view* in, const CausalContext& context,
                 SetStore* store) {
  uint64_t n = 0;
  // An element takes at least its length byte and one dot. No element
  // limit here: merges of concurrent adds may pass kMaxSetElements, and a
  // stored state must always decode.
  if (!GetCount(in, 1 + 1 + kMinDotBytes, &n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view element;
    if (!coding::GetLengthPrefixedVarint(in, &element) ||
        element.size() > kMaxElementBytes) {
      return false;
    }
    if (!store->empty() && !(store->rbegin()->first < element)) return false;
    auto it = store->emplace_hint(store->end(), std::string(element), DotSet());
    if (!GetDotSet(in, context, &it->second)) return false;
  }
  return true;
}

}  // namespace causeway::replication::crdt
