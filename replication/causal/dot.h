#pragma once
// A dot names one write: the actor that minted it and that actor's counter.
// Actors are random 64-bit ids of one replica's copy of one key (see
// vnode::VnodeStore::Coordinate), so a node that lost or dropped its copy
// never reuses an old dot.

#include <compare>
#include <cstdint>
#include <string>

namespace causeway::replication::causal {

using ActorId = uint64_t;

struct Dot {
  ActorId actor = 0;
  uint64_t counter = 0;  // >= 1 for a real dot

  auto operator<=>(const Dot&) const = default;
  std::string ToString() const;
};

}  // namespace causeway::replication::causal
