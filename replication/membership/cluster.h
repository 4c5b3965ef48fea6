#pragma once
// Cluster: this node's part in membership. It holds the gossiped RingState
// (persisted, so a restart rejoins with what it knew), judges which peers are
// alive from heartbeats, gossips the ring, bucket properties and security
// records to a random live peer every second, runs the claimant's steps when
// this node is the claimant, and handles join and leave requests.
//
// Failure detection is local and deliberately simple: every member sends a
// heartbeat to every other at least four times per `suspect_after_ms`
// (every 250 ms by default); a peer not heard from for `down_after_ms`
// (default 3 s) is down. A killed node is thus down everywhere within about
// 3.5 s, while a stall shorter than the threshold (a long GC pause) never
// marks it down. Any message counts as a heartbeat.
//
// Requests cannot wait for that verdict. A peer not heard from for
// `suspect_after_ms` (default 1 s) is suspect: requests stop choosing it
// (IsLive), and the observers given to OnPeerSuspect learn of it once per
// silence, so requests already waiting on it can fail over or fail at
// once. A peer whose messages keep arriving, however slowly it answers,
// is never suspect. Silence is only counted while this node was itself
// running: after a stall of its own loop, peers' messages may be waiting
// unread, so no one is judged until it has listened for the bound again.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "replication/bucket_registry.h"
#include "replication/env.h"
#include "replication/membership/ring_state.h"
#include "replication/messenger.h"
#include "replication/security/security_registry.h"
#include "storage/engine.h"

namespace causeway::peer {
class Envelope;
class PropsEntry;
}  // namespace causeway::peer
namespace google::protobuf {
template <typename T>
class RepeatedPtrField;
}

namespace causeway::replication::membership {

struct ClusterTiming {
  // At most; the cluster sends them at least four times per
  // suspect_after_ms, so that a live peer is never silent for that long.
  uint64_t heartbeat_ms = 250;
  uint64_t suspect_after_ms = 1000;
  uint64_t down_after_ms = 3000;
  uint64_t gossip_ms = 1000;
  uint64_t request_timeout_ms = 5000;
};

struct PeerView {
  Member member;
  bool up;
  uint64_t last_heard_ms_ago;  // 0 for self
};

class Cluster {
 public:
  Cluster(Env& env, Messenger& messenger, storage::Engine& engine,
          BucketRegistry& registry, security::SecurityRegistry& security,
          Member self, uint32_t ring_size, ClusterTiming timing);

  // Loads the persisted ring, or founds a one-node cluster.
  Status Load();
  // Starts heartbeats and gossip.
  void Start();

  const NodeName& self() const { return self_.name; }
  const RingState& state() const { return state_; }
  // The rings as of the current state, kept built (requests use them).
  const ring::Ring& current_ring() const { return *current_ring_; }
  const ring::Ring& next_ring() const { return *next_ring_; }
  // The failure detector's verdict: heard from within down_after_ms.
  bool IsUp(const NodeName& node) const;
  // Fit to be asked by a new request: heard from within suspect_after_ms
  // (or down_after_ms, if shorter). This node is always live.
  bool IsLive(const NodeName& node) const;
  // Runs `fn` (peer, milliseconds of silence) each time a peer that was
  // live turns suspect. Observers run on the logic thread, in the order
  // they were added, and may send.
  using SuspectObserver =
      std::function<void(const NodeName& peer, uint64_t silent_ms)>;
  void OnPeerSuspect(SuspectObserver fn) {
    suspect_observers_.push_back(std::move(fn));
  }
  // The heartbeat interval in force (ClusterTiming::heartbeat_ms, capped).
  uint64_t heartbeat_ms() const { return heartbeat_ms_; }
  std::string AddressOf(const NodeName& node) const;
  std::vector<PeerView> Peers() const;
  bool removed() const;

  // Any message from `from` counts as a heartbeat.
  void NoteHeard(const NodeName& from);
  // The peer messages this class answers (rows of the Messenger's table).
  void ServeHeartbeat(const NodeName& from, const peer::Envelope& message,
                      Messenger::Respond respond);
  void ServeGossip(const NodeName& from, const peer::Envelope& message,
                   Messenger::Respond respond);
  // Answers a join request (which may be a late or duplicated copy).
  void ServeJoin(const NodeName& from, const peer::Envelope& message,
                 Messenger::Respond respond);

  // Joins the cluster that the node at `seed_address` belongs to. If the
  // answer is lost, the join may still have been recorded there; the node
  // then completes it when the cluster's gossip reaches it (MergeGossip).
  void Join(const std::string& seed_address, std::function<void(Status)> done);
  // Asks for `node` (this node when empty) to leave.
  void Leave(const NodeName& node, std::function<void(Status)> done);

  // This node finished moving its data for the pending change.
  void TransfersDone(uint64_t ring_version);
  // Something about the ring changed (owners or pending); listeners (the
  // handoff manager) re-plan.
  void OnRingChange(std::function<void()> fn) { on_change_ = std::move(fn); }
  // Gossips to one random live peer now (after a local change).
  void GossipNow();
  // Gossips to every live peer now: for changes that requests depend on at
  // once (bucket properties), which one-peer-a-second gossip would take
  // several seconds to spread through a larger cluster.
  void GossipToAll();

 private:
  void Heartbeat();
  // Looks for peers that turned suspect since the last look.
  void Watch();
  // How long `node` has been silent, counting only time this node was
  // listening; 0 for this node and peers it has no record of.
  uint64_t SilentMs(const NodeName& node) const;
  // True while the watch is overdue: this node's loop has stalled, and
  // silence measured now would be its own, not its peers'.
  bool Stalled() const;
  void GossipTick();
  void Adopt(const RingState& state);  // after a local or merged change
  void ClaimantStep();
  void Persist();
  void FillGossip(peer::Envelope* message) const;
  void FillProps(
      google::protobuf::RepeatedPtrField<peer::PropsEntry>* out) const;
  void MergeProps(
      const google::protobuf::RepeatedPtrField<peer::PropsEntry>& in);
  // Security records travel with the bucket properties.
  void FillSecurity(google::protobuf::RepeatedPtrField<std::string>* out) const;
  void MergeSecurity(const google::protobuf::RepeatedPtrField<std::string>& in);
  void MergeGossip(const NodeName& from, const peer::Envelope& message);
  void RequestJoin(const std::string& seed_address, uint64_t version,
                   bool may_retry, std::function<void(Status)> done);
  // True while this node knows of no other node at all: it never joined a
  // cluster, or started over after leaving one or losing its data.
  bool KnowsNoOtherNode() const;
  void SendGossip(const NodeName& to);

  Env& env_;
  Messenger& messenger_;
  storage::Engine& engine_;
  BucketRegistry& registry_;
  security::SecurityRegistry& security_;
  Member self_;
  uint32_t ring_size_;
  ClusterTiming timing_;
  RingState state_;
  std::optional<ring::Ring> current_ring_, next_ring_;
  std::map<NodeName, uint64_t> last_heard_;  // monotonic ms
  const uint64_t heartbeat_ms_;
  const uint64_t watch_ms_;
  uint64_t last_watch_ = 0;       // when Watch last ran
  uint64_t listening_since_ = 0;  // the end of this node's last stall
  // Peers reported suspect and not heard from since.
  std::set<NodeName> suspected_;
  std::vector<SuspectObserver> suspect_observers_;
  std::function<void()> on_change_;
  bool started_ = false;
};

}  // namespace causeway::replication::membership
