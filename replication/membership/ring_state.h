#pragma once
// RingState: the cluster's shared view of who is a member and who owns each
// partition, spread by gossip. Every node holds a copy; copies merge
// deterministically (Merge is commutative, associative and idempotent), so
// all nodes converge on one state once gossip has passed between them.
//
// Ownership changes are made by one node only, the claimant (the smallest
// name among valid members), and each change bumps the ring version; a copy
// with a higher version wins. Member entries carry their own versions, so a
// join or leave can be recorded by any node and still merge cleanly.
//
// A change of owners happens in two steps so that no read ever lands on a
// node that has not received its data yet: the claimant first sets `next`
// owners; each member moves the data the new owners need (see
// transfer_plan.h) and records that it is done; when every member is done,
// the claimant makes `next` the owners.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "replication/env.h"
#include "replication/ring/ring.h"

namespace causeway::peer {
class RingState;
}

namespace causeway::replication::membership {

enum class MemberStatus : uint32_t {
  kJoining = 0,  // accepted, owns nothing yet
  kValid = 1,    // a full member
  kLeaving = 2,  // handing its partitions off
  kRemoved = 3,  // gone; kept so the removal wins over stale copies
};
const char* ToString(MemberStatus status);

struct Member {
  NodeName name;
  std::string address;  // peer HOST:PORT
  MemberStatus status = MemberStatus::kJoining;
  uint64_t version = 0;
  bool operator==(const Member&) const = default;
};

class RingState {
 public:
  RingState() = default;
  // A one-member cluster owning every partition.
  static RingState Founding(const Member& self, uint32_t ring_size);

  uint64_t version() const { return version_; }
  const NodeName& claimant() const { return claimant_; }
  const std::map<NodeName, Member>& members() const { return members_; }
  const std::vector<NodeName>& owners() const { return owners_; }
  const std::vector<NodeName>& next() const { return next_; }
  const std::set<NodeName>& transfers_done() const { return done_; }
  uint32_t size() const { return static_cast<uint32_t>(owners_.size()); }

  bool pending() const { return !next_.empty(); }
  const Member* Find(const NodeName& name) const;
  // Members that own or will own partitions: joining, valid, leaving.
  std::vector<NodeName> Active() const;
  // Members that should own partitions after the next claim.
  std::vector<NodeName> Claimable() const;

  ring::Ring CurrentRing() const { return ring::Ring(owners_); }
  // The ring after the pending change (the current one if none).
  ring::Ring NextRing() const {
    return ring::Ring(pending() ? next_ : owners_);
  }

  // Records a member entry if it is newer than what is known.
  bool Upsert(const Member& member);
  // Folds another copy in; true if anything changed.
  bool Merge(const RingState& other);

  // Claimant steps; each returns true if it changed the state. Only the
  // claimant calls them, so ownership has a single writer.
  // Admits joining members (except those in `absent`, which stay joining
  // and get nothing) and starts a transfer towards the claim.
  bool StartClaim(const std::set<NodeName>& absent = {});
  // Records that `node` finished moving data for the pending change.
  bool MarkTransfersDone(const NodeName& node);
  // When every member that owns partitions now or next is done, makes
  // `next` the owners, and removes leaving members that no longer own
  // anything.
  bool FinishClaimIfDone();

  bool operator==(const RingState&) const = default;

  void ToProto(peer::RingState* out) const;
  // Rejects inconsistent input (sizes, unknown owners) with false.
  static bool FromProto(const peer::RingState& in, RingState* out);

 private:
  void ElectClaimant();

  uint64_t version_ = 0;
  NodeName claimant_;
  std::map<NodeName, Member> members_;
  std::vector<NodeName> owners_;
  std::vector<NodeName> next_;  // empty when no change is pending
  std::set<NodeName> done_;
};

// Balanced, deterministic reassignment of partitions to `members` that moves
// as few partitions as it can: each member ends with floor(size/m) or
// ceil(size/m) partitions; partitions of departed members and the surplus of
// over-full members go to the emptiest members, spaced around the ring so
// consecutive partitions tend to have different owners.
std::vector<NodeName> Claim(const std::vector<NodeName>& owners,
                            std::vector<NodeName> members);

}  // namespace causeway::replication::membership
