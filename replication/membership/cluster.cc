#include "replication/membership/cluster.h"

#include <algorithm>
#include <utility>

#include "proto/peer.pb.h"
#include "storage/keys.h"

namespace causeway::replication::membership {
namespace {

constexpr std::string_view kRingKey = "ring";

// True if the engine holds any object or hint marker.
bool HoldsData(storage::Engine& engine) {
  bool any = false;
  auto found = [&any](std::string_view, std::string_view) {
    any = true;
    return false;
  };
  const std::string hints(1, storage::kHintSpace);
  engine.Scan(storage::ObjectSpaceBegin(), storage::ObjectSpaceEnd(), found);
  if (!any) engine.Scan(hints, storage::PrefixEnd(hints), found);
  return any;
}

// The silence after which a peer is suspect: never later than the
// failure detector's verdict.
uint64_t SuspectMs(const ClusterTiming& t) {
  return std::max<uint64_t>(1, std::min(t.suspect_after_ms, t.down_after_ms));
}

}  // namespace

Cluster::Cluster(Env& env, Messenger& messenger, storage::Engine& engine,
                 BucketRegistry& registry, security::SecurityRegistry& security,
                 Member self, uint32_t ring_size, ClusterTiming timing)
    : env_(env),
      messenger_(messenger),
      engine_(engine),
      registry_(registry),
      security_(security),
      self_(std::move(self)),
      ring_size_(ring_size),
      timing_(timing),
      // Four heartbeats per bound: a live peer that loses or delays one or
      // two is still heard from in time.
      heartbeat_ms_(
          std::clamp<uint64_t>(SuspectMs(timing) / 4, 1,
                               std::max<uint64_t>(timing.heartbeat_ms, 1))),
      watch_ms_(std::max<uint64_t>(SuspectMs(timing) / 8, 1)) {}

Status Cluster::Load() {
  std::string bytes;
  Status s = engine_.Get(storage::MetaKey(kRingKey), &bytes);
  if (!s.ok() && !s.IsNotFound()) return s;
  RingState loaded;
  peer::RingState proto;
  bool usable = s.ok() && proto.ParseFromString(bytes) &&
                RingState::FromProto(proto, &loaded);
  if (s.ok() && !usable) return Status::Corruption("node metadata: bad ring");
  const Member* me = usable ? loaded.Find(self_.name) : nullptr;
  // A node that left keeps its old cluster's ring while it still holds
  // data (it stopped before its cleanup finished): the cleanup sweep then
  // hands every object and hint to the key's owners, and the node exits.
  // Only with nothing left does it start over as a cluster of its own.
  const bool left_with_data = me != nullptr &&
                              me->status == MemberStatus::kRemoved &&
                              HoldsData(engine_);
  if (me == nullptr ||
      (me->status == MemberStatus::kRemoved && !left_with_data)) {
    // A fresh node, or one that left: it starts as its own cluster.
    state_ = RingState::Founding(self_, ring_size_);
  } else {
    state_ = std::move(loaded);
    if (me->address != self_.address) {
      Member moved = *me;
      moved.address = self_.address;
      ++moved.version;
      state_.Upsert(moved);
    }
  }
  current_ring_.emplace(state_.CurrentRing());
  next_ring_.emplace(state_.NextRing());
  Persist();
  return Status::Ok();
}

void Cluster::Start() {
  if (started_) return;
  started_ = true;
  const uint64_t now = env_.MonotonicMillis();
  for (const auto& name : state_.Active()) last_heard_[name] = now;
  last_watch_ = listening_since_ = now;
  env_.After(heartbeat_ms_, [this] { Heartbeat(); });
  env_.After(watch_ms_, [this] { Watch(); });
  env_.After(timing_.gossip_ms, [this] { GossipTick(); });
}

bool Cluster::IsUp(const NodeName& node) const {
  if (node == self_.name) return true;
  auto it = last_heard_.find(node);
  // Unknown peers are presumed alive until silence proves otherwise.
  if (it == last_heard_.end()) return true;
  return env_.MonotonicMillis() - it->second <= timing_.down_after_ms;
}

bool Cluster::IsLive(const NodeName& node) const {
  if (node == self_.name) return true;
  if (!IsUp(node)) return false;
  return Stalled() || SilentMs(node) <= SuspectMs(timing_);
}

uint64_t Cluster::SilentMs(const NodeName& node) const {
  auto it = last_heard_.find(node);
  if (node == self_.name || it == last_heard_.end()) return 0;
  const uint64_t now = env_.MonotonicMillis();
  return now - std::min(now, std::max(it->second, listening_since_));
}

bool Cluster::Stalled() const {
  // Overdue by a quarter of the bound: a busy loop that still turns every
  // few watches is not a stall.
  const uint64_t late = std::max(2 * watch_ms_, SuspectMs(timing_) / 4);
  return !started_ || env_.MonotonicMillis() - last_watch_ > late;
}

void Cluster::Watch() {
  if (Stalled()) listening_since_ = env_.MonotonicMillis();
  last_watch_ = env_.MonotonicMillis();
  std::vector<std::pair<NodeName, uint64_t>> turned;
  for (const auto& name : state_.Active()) {
    if (name == self_.name || suspected_.count(name) != 0) continue;
    const uint64_t silent = SilentMs(name);
    if (silent > SuspectMs(timing_)) {
      suspected_.insert(name);
      turned.emplace_back(name, silent);
    }
  }
  // After the scan: an observer's callbacks may send, and so touch state.
  for (const auto& [peer, silent] : turned) {
    for (const auto& fn : suspect_observers_) fn(peer, silent);
  }
  env_.After(watch_ms_, [this] { Watch(); });
}

std::string Cluster::AddressOf(const NodeName& node) const {
  const Member* m = state_.Find(node);
  return m ? m->address : std::string();
}

bool Cluster::removed() const {
  const Member* me = state_.Find(self_.name);
  return me != nullptr && me->status == MemberStatus::kRemoved;
}

std::vector<PeerView> Cluster::Peers() const {
  std::vector<PeerView> out;
  const uint64_t now = env_.MonotonicMillis();
  for (const auto& [name, m] : state_.members()) {
    auto it = last_heard_.find(name);
    uint64_t ago =
        (name == self_.name || it == last_heard_.end()) ? 0 : now - it->second;
    out.push_back(PeerView{m, IsUp(name), ago});
  }
  return out;
}

void Cluster::Heartbeat() {
  for (const auto& name : state_.Active()) {
    if (name == self_.name) continue;
    peer::Envelope m;
    m.mutable_heartbeat()->set_sent_ms(env_.MonotonicMillis());
    messenger_.Send(name, AddressOf(name), std::move(m));
  }
  env_.After(heartbeat_ms_, [this] { Heartbeat(); });
}

void Cluster::FillProps(
    google::protobuf::RepeatedPtrField<peer::PropsEntry>* out) const {
  for (const auto& r : registry_.Export()) {
    peer::PropsEntry* e = out->Add();
    e->set_type(r.type);
    e->set_bucket(r.bucket);
    e->set_timestamp(r.timestamp);
    e->set_patch(r.patch.Encode());
  }
}

void Cluster::MergeProps(
    const google::protobuf::RepeatedPtrField<peer::PropsEntry>& in) {
  for (const auto& e : in) {
    BucketRegistry::Record r;
    r.type = e.type();
    r.bucket = e.bucket();
    r.timestamp = e.timestamp();
    if (!buckets::BucketPropsPatch::Decode(e.patch(), &r.patch).ok()) continue;
    registry_.Merge(r);
  }
}

void Cluster::FillSecurity(
    google::protobuf::RepeatedPtrField<std::string>* out) const {
  for (const auto& r : security_.Export()) *out->Add() = r.Encode();
}

void Cluster::MergeSecurity(
    const google::protobuf::RepeatedPtrField<std::string>& in) {
  for (const auto& bytes : in) {
    security::Record r;
    // A record that does not decode is dropped; the rest still merge.
    if (!security::Record::Decode(bytes, &r).ok()) continue;
    security_.Merge(r);
  }
}

void Cluster::FillGossip(peer::Envelope* message) const {
  peer::Gossip* g = message->mutable_gossip();
  state_.ToProto(g->mutable_ring());
  FillProps(g->mutable_props());
  FillSecurity(g->mutable_security());
}

void Cluster::GossipNow() {
  std::vector<NodeName> peers, all;
  for (const auto& name : state_.Active()) {
    if (name == self_.name) continue;
    all.push_back(name);
    if (IsUp(name)) peers.push_back(name);
  }
  // With every peer looking down (as to a node that was removed and no
  // longer hears heartbeats), still try one: the answer may be news.
  if (peers.empty()) peers = std::move(all);
  if (peers.empty()) return;
  SendGossip(peers[env_.Random() % peers.size()]);
}

void Cluster::GossipToAll() {
  bool sent = false;
  for (const auto& name : state_.Active()) {
    if (name == self_.name || !IsUp(name)) continue;
    SendGossip(name);
    sent = true;
  }
  if (!sent) GossipNow();
}

void Cluster::SendGossip(const NodeName& to) {
  peer::Envelope m;
  FillGossip(&m);
  messenger_.Send(to, AddressOf(to), std::move(m));
}

void Cluster::GossipTick() {
  if (state_.claimant() == self_.name) ClaimantStep();
  GossipNow();
  // Also one member that looks down: it may be up but unable to tell us
  // (a joiner that never got its answer knows none of us), and a ring it
  // missed is what it needs to come back.
  std::vector<NodeName> down;
  for (const auto& name : state_.Active()) {
    if (name != self_.name && !IsUp(name)) down.push_back(name);
  }
  if (!down.empty()) SendGossip(down[env_.Random() % down.size()]);
  env_.After(timing_.gossip_ms, [this] { GossipTick(); });
}

void Cluster::ClaimantStep() {
  RingState next = state_;
  bool changed = next.FinishClaimIfDone();
  // Ownership only moves while every member that owns partitions can take
  // part in the transfer. A joining member that looks down is simply not
  // admitted yet, so it cannot hold up changes among the others.
  bool all_up = true;
  std::set<NodeName> absent_joiners;
  for (const auto& name : next.Active()) {
    if (IsUp(name)) continue;
    if (next.Find(name)->status == MemberStatus::kJoining) {
      absent_joiners.insert(name);
    } else {
      all_up = false;
    }
  }
  if (all_up) changed |= next.StartClaim(absent_joiners);
  if (changed) {
    Adopt(next);
    GossipNow();
  }
}

void Cluster::Adopt(const RingState& state) {
  if (state == state_) return;
  state_ = state;
  current_ring_.emplace(state_.CurrentRing());
  next_ring_.emplace(state_.NextRing());
  for (const auto& name : state_.Active()) {
    last_heard_.try_emplace(name, env_.MonotonicMillis());
  }
  Persist();
  if (on_change_) on_change_();
}

void Cluster::Persist() {
  peer::RingState proto;
  state_.ToProto(&proto);
  engine_.Put(storage::MetaKey(kRingKey), proto.SerializeAsString(),
              {.sync = true});
}

void Cluster::MergeGossip(const NodeName& from, const peer::Envelope& message) {
  const peer::Gossip& g = message.gossip();
  RingState incoming;
  if (g.has_ring() && RingState::FromProto(g.ring(), &incoming) &&
      incoming.size() == state_.size()) {
    const Member* listed = incoming.Find(self_.name);
    if (KnowsNoOtherNode() && listed != nullptr &&
        listed->status != MemberStatus::kRemoved &&
        incoming.Active().size() > 1) {
      // A cluster that counts this node as a member while it thinks itself
      // alone: its join answer was lost, or it restarted on a wiped data
      // directory. It takes the cluster's ring, as a join would. (Its own
      // one-node ring must not be merged in: equal versions of the two
      // could let this node's ownership of everything win.)
      MergeProps(g.props());
      MergeSecurity(g.security());
      state_ = RingState();
      Adopt(incoming);
      return;
    }
    RingState merged = state_;
    if (merged.Merge(incoming)) Adopt(merged);
    // Push-pull: a sender that lacks what we know hears it straight back.
    if (!(incoming == state_) && state_.Find(from) != nullptr) {
      SendGossip(from);
    }
  }
  MergeProps(g.props());
  MergeSecurity(g.security());
}

void Cluster::NoteHeard(const NodeName& from) {
  last_heard_[from] = env_.MonotonicMillis();
  suspected_.erase(from);
}

void Cluster::ServeHeartbeat(const NodeName&, const peer::Envelope&,
                             Messenger::Respond) {
  // Hearing from the peer at all is what counts (NoteHeard).
}

void Cluster::ServeGossip(const NodeName& from, const peer::Envelope& message,
                          Messenger::Respond) {
  MergeGossip(from, message);
}

void Cluster::ServeJoin(const NodeName&, const peer::Envelope& message,
                        Messenger::Respond) {
  const peer::Member& pm = message.join().member();
  Status s;
  const Member* known = state_.Find(pm.name());
  if (pm.name().empty() || pm.address().empty()) {
    s = Status::InvalidArgument("join request without a name or address");
  } else if (pm.name() == self_.name) {
    s = Status::InvalidArgument("a node cannot join itself");
  } else if (known != nullptr && known->status != MemberStatus::kRemoved) {
    // Already a member: a retried request, or a late or duplicated copy of
    // the one that made it a member. Changing nothing keeps a stale copy
    // from turning a leaving member back into a joining one.
  } else if (known != nullptr && pm.version() <= known->version) {
    // A member that left may join again, but only by proposing a member
    // version above its removal; an old request cannot undo the removal.
    s = Status::PreconditionFailed("node " + pm.name() +
                                   " left this cluster at member version " +
                                   std::to_string(known->version) +
                                   "; a new join must propose a later "
                                   "one");
  } else {
    RingState next = state_;
    next.Upsert(Member{pm.name(), pm.address(), MemberStatus::kJoining,
                       std::max<uint64_t>(pm.version(), 1)});
    Adopt(next);
    last_heard_[pm.name()] = env_.MonotonicMillis();
  }
  // Answered at the address the joiner gave: a node not yet a member has
  // none in this node's ring.
  peer::Envelope reply;
  reply.set_request_id(message.request_id());
  ToPeerResult(s, reply.mutable_join_reply()->mutable_result());
  state_.ToProto(reply.mutable_join_reply()->mutable_ring());
  FillProps(reply.mutable_join_reply()->mutable_props());
  FillSecurity(reply.mutable_join_reply()->mutable_security());
  messenger_.Send(pm.name(), pm.address(), std::move(reply));
  if (s.ok()) GossipNow();
}

bool Cluster::KnowsNoOtherNode() const {
  return state_.members().size() == 1 && state_.Find(self_.name) != nullptr;
}

void Cluster::Join(const std::string& seed_address,
                   std::function<void(Status)> done) {
  if (state_.Active().size() > 1) {
    done(Status::InvalidArgument(
        "this node is already in a cluster with other members"));
    return;
  }
  const Member* me = state_.Find(self_.name);
  RequestJoin(seed_address, me ? me->version : 1, /*may_retry=*/true,
              std::move(done));
}

void Cluster::RequestJoin(const std::string& seed_address, uint64_t version,
                          bool may_retry, std::function<void(Status)> done) {
  peer::Envelope m;
  peer::Member* pm = m.mutable_join()->mutable_member();
  pm->set_name(self_.name);
  pm->set_address(self_.address);
  pm->set_version(version);
  messenger_.Request(
      "", seed_address, std::move(m), timing_.request_timeout_ms,
      [this, done = std::move(done), seed_address, may_retry](
          Status s, const peer::Envelope* reply) {
        if (reply == nullptr) {
          done(Status::Unavailable(
              "no answer from seed " + seed_address + " (" + s.message() +
              "); if it did take the join, this node completes it when the "
              "cluster's gossip reaches it"));
          return;
        }
        RingState joined;
        const bool ring_ok =
            RingState::FromProto(reply->join_reply().ring(), &joined);
        const Member* was = ring_ok ? joined.Find(self_.name) : nullptr;
        if (s.code() == Status::Code::kPreconditionFailed && may_retry &&
            was != nullptr && was->status == MemberStatus::kRemoved) {
          // This node left that cluster before: join again, after the
          // removal.
          RequestJoin(seed_address, was->version + 1, false, std::move(done));
          return;
        }
        if (!s.ok()) return done(s);
        if (!ring_ok) {
          done(Status::Unavailable("seed sent a malformed ring"));
          return;
        }
        // Gossip may have completed the join before this answer came.
        if (state_.Active().size() > 1) return done(Status::Ok());
        MergeProps(reply->join_reply().props());
        MergeSecurity(reply->join_reply().security());
        // The joining node gives up its own one-node ring for the cluster's.
        state_ = RingState();
        Adopt(joined);
        done(Status::Ok());
      });
}

void Cluster::Leave(const NodeName& node, std::function<void(Status)> done) {
  const NodeName& name = node.empty() ? self_.name : node;
  const Member* m = state_.Find(name);
  if (m == nullptr || m->status == MemberStatus::kRemoved) {
    done(Status::NotFound("no member named " + name));
    return;
  }
  if (state_.Claimable().size() <= 1 && m->status != MemberStatus::kLeaving) {
    done(Status::InvalidArgument(
        "the last member of a cluster cannot leave it"));
    return;
  }
  if (m->status != MemberStatus::kLeaving) {
    RingState next = state_;
    Member leaving = *m;
    leaving.status = MemberStatus::kLeaving;
    ++leaving.version;
    next.Upsert(leaving);
    Adopt(next);
    GossipNow();
  }
  done(Status::Ok());
}

void Cluster::TransfersDone(uint64_t ring_version) {
  if (!state_.pending() || state_.version() != ring_version) return;
  RingState next = state_;
  if (next.MarkTransfersDone(self_.name)) {
    Adopt(next);
    GossipNow();
  }
}

}  // namespace causeway::replication::membership
