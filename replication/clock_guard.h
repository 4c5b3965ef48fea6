#pragma once
// ClockGuard: bounds how far another node's clock may drag this one. Every
// peer message carries its sender's HLC and physical reading (Envelope.hlc,
// .wall_ms). A timestamp leading this node's physical clock by more than
// max_offset_ms is refused: the clock does not advance to it, and the
// message carrying it fails (a request gets an error reply, a reply fails
// its request, a one-way message such as gossip is dropped). Each refusal
// is counted.
//
// The physical readings also tell this node whether its own clock is the
// odd one out: when most peers heard from lately read more than the bound
// away from it, it is `suspect`: the node reports it loudly and stops
// coordinating writes, which it would stamp from a clock its peers refuse.
// A reading is as old as its message's flight, so delay only makes a peer
// look behind; each peer's offset is the largest seen over a window, which
// one quick message in the window brings close to the truth.

#include <cstdint>
#include <map>
#include <string>

#include "base/status.h"
#include "replication/causal/clock_lease.h"
#include "replication/env.h"

namespace causeway::peer {
class Envelope;
}

namespace causeway::replication {

struct ClockStats {
  uint64_t max_offset_ms = 0;
  uint64_t refusals_total = 0;  // remote timestamps refused
  uint64_t peers_heard = 0;     // peers whose physical reading is known
  uint64_t peers_beyond = 0;    // of those, how many read beyond the bound
  // Most peers heard from read beyond the bound: this clock is suspect.
  bool suspect = false;
  // The largest lead of a refused timestamp, in ms (0: none refused).
  uint64_t max_refused_lead_ms = 0;
  uint64_t hlc_wall_ms = 0;  // this node's HLC now
};

class ClockGuard {
 public:
  // `env` and `clock` must outlive the guard.
  ClockGuard(Env& env, causal::ClockLease& clock, uint64_t max_offset_ms)
      : env_(env), clock_(clock), max_offset_ms_(max_offset_ms) {}

  // Stamps an outgoing message with this node's clocks.
  void Stamp(peer::Envelope* message);
  // Notes the sender's physical reading and observes its HLC; an error
  // naming the offset when the HLC leads beyond the bound.
  Status Admit(const NodeName& from, const peer::Envelope& message);
  // Refuses (counted) a timestamp a peer's message carries inside it, such
  // as an object's newest stamp, when it leads beyond the bound. `what`
  // names it in the error.
  Status Check(causal::HlcTimestamp stamp, const std::string& what);
  // An error when this node's clock is suspect: it must not stamp writes.
  Status CheckSelf() const;

  ClockStats stats() const;

 private:
  // A peer's clock minus ours, the largest over the current window and the
  // one before it.
  struct PeerClock {
    int64_t current = 0;
    int64_t previous = 0;
    uint64_t window_start_ms = 0;  // monotonic
    uint64_t heard_ms = 0;         // monotonic
  };
  static constexpr uint64_t kWindowMs = 5000;
  // Peers not heard from for this long no longer count.
  static constexpr uint64_t kForgetMs = 30000;

  void NotePeer(const NodeName& from, uint64_t wall_ms, uint64_t now);
  bool Beyond(const PeerClock& peer) const;

  Env& env_;
  causal::ClockLease& clock_;
  const uint64_t max_offset_ms_;
  uint64_t refusals_ = 0;
  uint64_t max_refused_lead_ms_ = 0;
  std::map<NodeName, PeerClock> peers_;
};

}  // namespace causeway::replication
