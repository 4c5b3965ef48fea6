// Encoding: version byte 1, then the vector (varint count, then fixed64
// actor and varint counter, actors increasing), then the cloud (varint
// count, then dots in order). Decoding checks the canonical form, so a
// context that decodes re-encodes to the same bytes.
#include "replication/crdt/causal_context.h"

#include <algorithm>
#include <iterator>

#include "base/assert.h"
#include "base/coding.h"
#include "replication/crdt/dot_store.h"

namespace causeway::replication::crdt {
namespace {

constexpr char kVersion = 1;

}  // namespace

bool CausalContext::Contains(const Dot& dot) const {
  auto it = vector_.find(dot.actor);
  if (it != vector_.end() && dot.counter <= it->second) return true;
  return cloud_.count(dot) > 0;
}

bool CausalContext::Covers(const CausalContext& other) const {
  for (const auto& [actor, counter] : other.vector_) {
    auto it = vector_.find(actor);
    if (it == vector_.end() || it->second < counter) return false;
  }
  for (const Dot& d : other.cloud_) {
    if (!Contains(d)) return false;
  }
  return true;
}

uint64_t CausalContext::Max(ActorId actor) const {
  uint64_t max = 0;
  auto it = vector_.find(actor);
  if (it != vector_.end()) max = it->second;
  auto c = cloud_.lower_bound(Dot{actor + 1, 0});
  if (c != cloud_.begin() && std::prev(c)->actor == actor) {
    max = std::max(max, std::prev(c)->counter);
  }
  return max;
}

void CausalContext::Add(const Dot& dot) {
  CAUSEWAY_ASSERT(dot.actor != 0 && dot.counter >= 1);
  if (Contains(dot)) return;
  cloud_.insert(dot);
  Compact();
}

void CausalContext::Merge(const CausalContext& other) {
  for (const auto& [actor, counter] : other.vector_) {
    uint64_t& mine = vector_[actor];
    mine = std::max(mine, counter);
  }
  cloud_.insert(other.cloud_.begin(), other.cloud_.end());
  Compact();
}

void CausalContext::Compact() {
  for (auto it = cloud_.begin(); it != cloud_.end();) {
    auto v = vector_.find(it->actor);
    const uint64_t run = v == vector_.end() ? 0 : v->second;
    if (it->counter <= run) {
      it = cloud_.erase(it);
    } else if (it->counter == run + 1) {
      vector_[it->actor] = it->counter;
      it = cloud_.erase(it);
    } else {
      ++it;
    }
  }
  CAUSEWAY_ASSERT(WellFormed());
}

bool CausalContext::WellFormed() const {
  for (const auto& [actor, counter] : vector_) {
    if (actor == 0 || counter == 0) return false;
  }
  // A cloud dot lies past a gap in its actor's run (else it is compacted).
  for (const Dot& d : cloud_) {
    auto v = vector_.find(d.actor);
    const uint64_t run = v == vector_.end() ? 0 : v->second;
    if (d.actor == 0 || d.counter <= run + 1) return false;
  }
  return true;
}

void CausalContext::EncodeTo(std::string* out) const {
  out->push_back(kVersion);
  coding::PutVarint64(out, vector_.size());
  for (const auto& [actor, counter] : vector_) PutDot(out, {actor, counter});
  coding::PutVarint64(out, cloud_.size());
  for (const Dot& d : cloud_) PutDot(out, d);
}

std::string CausalContext::Encode() const {
  std::string out;
  EncodeTo(&out);
  return out;
}

bool CausalContext::DecodeFrom(std::string_view* in, CausalContext* out) {
  std::string_view rest = *in;
  if (rest.empty() || rest[0] != kVersion) return false;
  rest.remove_prefix(1);
  CausalContext c;
  uint64_t n = 0;
  if (!GetCount(&rest, kMinDotBytes, &n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    Dot d;
    if (!GetDot(&rest, &d)) return false;
    if (!c.vector_.empty() && c.vector_.rbegin()->first >= d.actor) {
      return false;
    }
    c.vector_.emplace_hint(c.vector_.end(), d.actor, d.counter);
  }
  if (!GetCount(&rest, kMinDotBytes, &n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    Dot d;
    if (!GetDot(&rest, &d)) return false;
    if (!c.cloud_.empty() && !(*c.cloud_.rbegin() < d)) return false;
    c.cloud_.insert(c.cloud_.end(), d);
  }
  if (!c.WellFormed()) return false;
  *out = std::move(c);
  *in = rest;
  return true;
}

bool CausalContext::Decode(std::string_view bytes, CausalContext* out) {
  CausalContext c;
  if (!DecodeFrom(&bytes, &c) || !bytes.empty()) return false;
  *out = std::move(c);
  return true;
}

}  // namespace causeway::replication::crdt
