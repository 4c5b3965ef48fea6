#include "replication/membership/cluster.h"

#include "proto/peer.pb.h"
#include "storage/keys.h"

namespace causeway::replication::membership {
namespace {

constexpr std::string_view kRingKey = "ring";

}  // namespace

Cluster::Cluster(Env& env, Messenger& messenger, storage::Engine& engine,
                 BucketRegistry& registry, Member self, uint32_t ring_size,
                 ClusterTiming timing)
    : env_(env),
      messenger_(messenger),
      engine_(engine),
      registry_(registry),
      self_(std::move(self)),
      ring_size_(ring_size),
      timing_(timing) {}

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
  if (me == nullptr || me->status == MemberStatus::kRemoved) {
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
  env_.After(timing_.heartbeat_ms, [this] { Heartbeat(); });
  env_.After(timing_.gossip_ms, [this] { GossipTick(); });
}

bool Cluster::IsUp(const NodeName& node) const {
  if (node == self_.name) return true;
  auto it = last_heard_.find(node);
  // Unknown peers are presumed alive until silence proves otherwise.
  if (it == last_heard_.end()) return true;
  return env_.MonotonicMillis() - it->second <= timing_.down_after_ms;
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
  env_.After(timing_.heartbeat_ms, [this] { Heartbeat(); });
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

void Cluster::FillGossip(peer::Envelope* message) const {
  peer::Gossip* g = message->mutable_gossip();
  state_.ToProto(g->mutable_ring());
  FillProps(g->mutable_props());
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

void Cluster::SendGossip(const NodeName& to) {
  peer::Envelope m;
  FillGossip(&m);
  messenger_.Send(to, AddressOf(to), std::move(m));
}

void Cluster::GossipTick() {
  if (state_.claimant() == self_.name) ClaimantStep();
  GossipNow();
  env_.After(timing_.gossip_ms, [this] { GossipTick(); });
}

void Cluster::ClaimantStep() {
  RingState next = state_;
  bool changed = next.FinishClaimIfDone();
  // Ownership only moves while every member can take part in the transfer.
  bool all_up = true;
  for (const auto& name : next.Active()) all_up = all_up && IsUp(name);
  if (all_up) changed |= next.StartClaim();
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
    RingState merged = state_;
    if (merged.Merge(incoming)) Adopt(merged);
    // Push-pull: a sender that lacks what we know hears it straight back.
    if (!(incoming == state_) && state_.Find(from) != nullptr) {
      SendGossip(from);
    }
  }
  MergeProps(g.props());
}

bool Cluster::OnMessage(const NodeName& from, const peer::Envelope& message) {
  last_heard_[from] = env_.MonotonicMillis();
  switch (message.body_case()) {
    case peer::Envelope::kHeartbeat:
      return true;
    case peer::Envelope::kGossip:
      MergeGossip(from, message);
      return true;
    case peer::Envelope::kJoin: {
      const peer::Member& pm = message.join().member();
      peer::Envelope reply;
      reply.set_request_id(message.request_id());
      Status s;
      if (pm.name().empty() || pm.address().empty()) {
        s = Status::InvalidArgument("join request without a name or address");
      } else if (pm.name() == self_.name) {
        s = Status::InvalidArgument("a node cannot join itself");
      } else {
        const Member* known = state_.Find(pm.name());
        RingState next = state_;
        Member m{pm.name(), pm.address(), MemberStatus::kJoining,
                 known ? known->version + 1 : 1};
        next.Upsert(m);
        Adopt(next);
        last_heard_[pm.name()] = env_.MonotonicMillis();
      }
      ToPeerResult(s, reply.mutable_join_reply()->mutable_result());
      state_.ToProto(reply.mutable_join_reply()->mutable_ring());
      FillProps(reply.mutable_join_reply()->mutable_props());
      messenger_.Send(pm.name(), pm.address(), std::move(reply));
      if (s.ok()) GossipNow();
      return true;
    }
    default:
      return false;
  }
}

void Cluster::Join(const std::string& seed_address,
                   std::function<void(Status)> done) {
  if (state_.Active().size() > 1) {
    done(Status::InvalidArgument(
        "this node is already in a cluster with other members"));
    return;
  }
  peer::Envelope m;
  peer::Member* pm = m.mutable_join()->mutable_member();
  pm->set_name(self_.name);
  pm->set_address(self_.address);
  messenger_.Request(
      "", seed_address, std::move(m), timing_.request_timeout_ms,
      [this, done = std::move(done), seed_address](
          Status s, const peer::Envelope* reply) {
        if (!s.ok()) {
          done(Status::Unavailable("no answer from seed " + seed_address +
                                   ": " + s.message()));
          return;
        }
        if (!reply->has_join_reply()) {
          done(Status::Unavailable("unexpected reply from seed"));
          return;
        }
        s = FromPeerResult(reply->join_reply().result());
        if (!s.ok()) return done(s);
        RingState joined;
        if (!RingState::FromProto(reply->join_reply().ring(), &joined)) {
          done(Status::Unavailable("seed sent a malformed ring"));
          return;
        }
        MergeProps(reply->join_reply().props());
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
