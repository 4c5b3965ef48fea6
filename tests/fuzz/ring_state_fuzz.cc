// Target "ring_state": the cluster state a node reads back from disk at
// start (Cluster::Load: a peer::RingState message, then
// membership::RingState::FromProto), the same decoder gossip uses.
// Promises checked: a refused state leaves the output alone; an accepted
// one has a power-of-two ring whose owners (and pending owners) are known
// members, survives ToProto/serialize/parse/FromProto unchanged, builds its
// current and next rings with preference lists of distinct members, and
// merging a copy of itself changes nothing.

#include <set>
#include <string>

#include "proto/peer.pb.h"
#include "replication/membership/ring_state.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::membership::Member;
using replication::membership::MemberStatus;
using replication::membership::RingState;

void CheckRing(const replication::ring::Ring& ring, const RingState& state) {
  FUZZ_CHECK(ring.size() == state.size());
  for (uint32_t p : {0u, ring.size() / 2, ring.size() - 1}) {
    FUZZ_CHECK(state.Find(ring.Owner(p)) != nullptr);
    const auto list = ring.Preflist(p, 3);
    FUZZ_CHECK(!list.empty() && list.size() <= 3);
    std::set<replication::NodeName> distinct;
    for (const auto& m : list) {
      FUZZ_CHECK(state.Find(m.node) != nullptr);
      FUZZ_CHECK(distinct.insert(m.node).second);
    }
  }
}

void FuzzRingState(const uint8_t* data, size_t size) {
  peer::RingState proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return;

  const RingState sentinel = RingState::Founding(
      Member{"causeway@sentinel", "127.0.0.1:1", MemberStatus::kValid, 1}, 4);
  RingState state = sentinel;
  if (!RingState::FromProto(proto, &state)) {
    FUZZ_CHECK(state == sentinel);
    return;
  }
  const uint32_t n = state.size();
  FUZZ_CHECK(n > 0 && (n & (n - 1)) == 0);
  for (const auto& owner : state.owners()) {
    FUZZ_CHECK(state.Find(owner) != nullptr);
  }
  if (state.pending()) {
    FUZZ_CHECK(state.next().size() == n);
    for (const auto& owner : state.next()) {
      FUZZ_CHECK(state.Find(owner) != nullptr);
    }
  }
  for (const auto& [name, member] : state.members()) {
    FUZZ_CHECK(!name.empty() && member.name == name);
  }

  peer::RingState out;
  state.ToProto(&out);
  peer::RingState reparsed;
  FUZZ_CHECK(reparsed.ParseFromString(out.SerializeAsString()));
  RingState again;
  FUZZ_CHECK(RingState::FromProto(reparsed, &again));
  FUZZ_CHECK(again == state);

  CheckRing(state.CurrentRing(), state);
  CheckRing(state.NextRing(), state);
  (void)state.Active();
  (void)state.Claimable();

  RingState merged = state;
  FUZZ_CHECK(!merged.Merge(again));
  FUZZ_CHECK(merged == state);
}

const Registration kRegistration("ring_state", &FuzzRingState);

}  // namespace
}  // namespace causeway::fuzz
