#include "replication/membership/ring_state.h"

#include <algorithm>
#include <tuple>

#include "proto/peer.pb.h"

namespace causeway::replication::membership {

const char* ToString(MemberStatus status) {
  switch (status) {
    case MemberStatus::kJoining:
      return "joining";
    case MemberStatus::kValid:
      return "valid";
    case MemberStatus::kLeaving:
      return "leaving";
    case MemberStatus::kRemoved:
      return "removed";
  }
  return "unknown";
}

RingState RingState::Founding(const Member& self, uint32_t ring_size) {
  RingState state;
  Member m = self;
  m.status = MemberStatus::kValid;
  m.version = std::max<uint64_t>(m.version, 1);
  state.members_[m.name] = m;
  state.owners_.assign(ring_size, m.name);
  state.version_ = 1;
  state.claimant_ = m.name;
  return state;
}

const Member* RingState::Find(const NodeName& name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second;
}

std::vector<NodeName> RingState::Active() const {
  std::vector<NodeName> out;
  for (const auto& [name, m] : members_) {
    if (m.status != MemberStatus::kRemoved) out.push_back(name);
  }
  return out;
}

std::vector<NodeName> RingState::Claimable() const {
  std::vector<NodeName> out;
  for (const auto& [name, m] : members_) {
    if (m.status == MemberStatus::kValid ||
        m.status == MemberStatus::kJoining) {
      out.push_back(name);
    }
  }
  return out;
}

bool RingState::Upsert(const Member& member) {
  auto it = members_.find(member.name);
  if (it != members_.end()) {
    const Member& old = it->second;
    // Newer version wins; on a tie the later status (they only advance).
    if (std::tie(member.version, member.status, member.address) <=
        std::tie(old.version, old.status, old.address)) {
      return false;
    }
  }
  members_[member.name] = member;
  ElectClaimant();
  return true;
}

void RingState::ElectClaimant() {
  // Computed, not gossiped as truth: every node elects the same claimant
  // from the same members. The gossiped field is informational.
  NodeName best;
  for (MemberStatus wanted : {MemberStatus::kValid, MemberStatus::kJoining}) {
    for (const auto& [name, m] : members_) {
      if (m.status == wanted) {
        best = name;
        break;
      }
    }
    if (!best.empty()) break;
  }
  claimant_ = best;
}

bool RingState::Merge(const RingState& other) {
  bool changed = false;
  for (const auto& [name, m] : other.members_) changed |= Upsert(m);

  // Ring part: the higher version wins whole. Equal versions come from the
  // same claimant step, so only the done-sets can differ: union them. Two
  // claimants racing to the same version are ordered by their content so
  // every node picks the same one.
  auto content = [](const RingState& s) {
    return std::tie(s.owners_, s.next_);
  };
  if (other.version_ > version_ ||
      (other.version_ == version_ && content(other) < content(*this) &&
       content(other) != content(*this))) {
    owners_ = other.owners_;
    next_ = other.next_;
    done_ = other.done_;
    version_ = other.version_;
    changed = true;
  }
  if (other.version_ == version_ && content(other) == content(*this)) {
    for (const auto& n : other.done_) changed |= done_.insert(n).second;
  }
  ElectClaimant();
  return changed;
}

bool RingState::StartClaim(const std::set<NodeName>& absent) {
  if (pending() || owners_.empty()) return false;
  bool changed = false;
  std::vector<NodeName> claimants;
  for (auto& [name, m] : members_) {
    if (m.status == MemberStatus::kJoining && !absent.count(name)) {
      m.status = MemberStatus::kValid;
      ++m.version;
      changed = true;
    }
    if (m.status == MemberStatus::kValid) claimants.push_back(name);
  }
  std::vector<NodeName> claim = Claim(owners_, claimants);
  if (claim != owners_) {
    next_ = std::move(claim);
    done_.clear();
    ++version_;
    changed = true;
  }
  ElectClaimant();
  return changed;
}

bool RingState::MarkTransfersDone(const NodeName& node) {
  if (!pending()) return false;
  return done_.insert(node).second;
}

bool RingState::FinishClaimIfDone() {
  bool changed = false;
  if (pending()) {
    // Only owners have data to move; a member that owns nothing now or
    // next (a joiner not admitted yet) has nothing to report.
    for (const NodeName& n : Active()) {
      const bool owns =
          std::find(owners_.begin(), owners_.end(), n) != owners_.end() ||
          std::find(next_.begin(), next_.end(), n) != next_.end();
      if (owns && !done_.count(n)) return false;
    }
    owners_ = std::move(next_);
    next_.clear();
    done_.clear();
    ++version_;
    changed = true;
  }
  // A leaving member that owns nothing (now or next) is gone.
  for (auto& [name, m] : members_) {
    if (m.status != MemberStatus::kLeaving) continue;
    bool owns =
        std::find(owners_.begin(), owners_.end(), name) != owners_.end() ||
        std::find(next_.begin(), next_.end(), name) != next_.end();
    if (!owns) {
      m.status = MemberStatus::kRemoved;
      ++m.version;
      changed = true;
    }
  }
  ElectClaimant();
  return changed;
}

void RingState::ToProto(peer::RingState* out) const {
  out->Clear();
  out->set_version(version_);
  out->set_claimant(claimant_);
  for (const auto& [name, m] : members_) {
    peer::Member* pm = out->add_members();
    pm->set_name(m.name);
    pm->set_address(m.address);
    pm->set_status(static_cast<uint32_t>(m.status));
    pm->set_version(m.version);
  }
  for (size_t i = 0; i < owners_.size(); ++i) {
    peer::Partition* p = out->add_partitions();
    p->set_owner(owners_[i]);
    if (pending()) p->set_next(next_[i]);
  }
  for (const auto& n : done_) out->add_transfers_done(n);
}

bool RingState::FromProto(const peer::RingState& in, RingState* out) {
  RingState s;
  s.version_ = in.version();
  for (const auto& pm : in.members()) {
    if (pm.name().empty() || pm.status() > 3) return false;
    s.members_[pm.name()] =
        Member{pm.name(), pm.address(), static_cast<MemberStatus>(pm.status()),
               pm.version()};
  }
  const size_t n = in.partitions_size();
  if (n == 0 || (n & (n - 1)) != 0 || n > (1u << 16)) return false;
  bool any_next = false;
  for (const auto& p : in.partitions()) {
    if (!s.members_.count(p.owner())) return false;
    s.owners_.push_back(p.owner());
    if (!p.next().empty()) {
      if (!s.members_.count(p.next())) return false;
      any_next = true;
    }
  }
  if (any_next) {
    for (const auto& p : in.partitions()) {
      if (p.next().empty()) return false;
      s.next_.push_back(p.next());
    }
  }
  for (const auto& d : in.transfers_done()) s.done_.insert(d);
  s.ElectClaimant();
  *out = std::move(s);
  return true;
}

std::vector<NodeName> Claim(const std::vector<NodeName>& owners,
                            std::vector<NodeName> members) {
  const size_t size = owners.size();
  if (members.empty() || size == 0) return owners;
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  const size_t m = members.size();

  std::map<NodeName, size_t> count;
  for (const auto& n : members) count[n] = 0;
  std::vector<NodeName> result(size);
  std::vector<size_t> unassigned;
  for (size_t i = 0; i < size; ++i) {
    if (count.count(owners[i])) {
      result[i] = owners[i];
      ++count[owners[i]];
    } else {
      unassigned.push_back(i);
    }
  }

  // Targets: the members holding most get the rounded-up quotas, so fewer
  // partitions move.
  std::vector<NodeName> by_count = members;
  // Ties go to the smaller name, so the order is total and deterministic.
  std::sort(by_count.begin(), by_count.end(),
            [&](const NodeName& a, const NodeName& b) {
              return std::tie(count[b], a) < std::tie(count[a], b);
            });
  std::map<NodeName, size_t> target;
  for (size_t i = 0; i < m; ++i) {
    target[by_count[i]] = size / m + (i < size % m ? 1 : 0);
  }

  // Over-full members release partitions: first those whose predecessor has
  // the same owner (that improves spread), then evenly spaced ones, then any.
  for (const auto& n : members) {
    auto release = [&](size_t k) {
      result[k].clear();
      unassigned.push_back(k);
      --count[n];
    };
    for (size_t k = 0; k < size && count[n] > target[n]; ++k) {
      if (result[k] == n && result[(k + size - 1) % size] == n) release(k);
    }
    if (count[n] > target[n]) {
      size_t stride = std::max<size_t>(1, count[n] / (count[n] - target[n]));
      size_t ordinal = 0;
      for (size_t k = 0; k < size && count[n] > target[n]; ++k) {
        if (result[k] != n) continue;
        if (ordinal++ % stride == 0) release(k);
      }
    }
    for (size_t k = 0; k < size && count[n] > target[n]; ++k) {
      if (result[k] == n) release(k);
    }
  }
  std::sort(unassigned.begin(), unassigned.end());

  // Fill: each free partition goes to the member with the largest deficit
  // that differs from its neighbours when possible; ties by name.
  for (size_t i : unassigned) {
    const NodeName& prev = result[(i + size - 1) % size];
    const NodeName& after = result[(i + 1) % size];
    NodeName best;
    bool best_spread = false;
    size_t best_deficit = 0;
    for (const auto& n : members) {
      if (count[n] >= target[n]) continue;
      size_t deficit = target[n] - count[n];
      bool spread = n != prev && n != after;
      if (best.empty() ||
          std::tie(spread, deficit) > std::tie(best_spread, best_deficit)) {
        best = n;
        best_spread = spread;
        best_deficit = deficit;
      }
    }
    result[i] = best;
    ++count[best];
  }
  return result;
}

}  // namespace causeway::replication::membership
