#include "replication/clock_guard.h"

#include <algorithm>

#include "proto/peer.pb.h"

namespace causeway::replication {
namespace {

uint64_t Distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

void ClockGuard::Stamp(peer::Envelope* message) {
  message->set_hlc(clock_.last().Pack());
  message->set_wall_ms(env_.WallMillis());
}

Status ClockGuard::Admit(const NodeName& from, const peer::Envelope& message) {
  const uint64_t now = env_.WallMillis();
  if (message.wall_ms() != 0) NotePeer(from, message.wall_ms(), now);
  if (message.hlc() == 0) return Status::Ok();
  return Check(causal::HlcTimestamp::Unpack(message.hlc()),
               "the clock of " + from);
}

Status ClockGuard::Check(causal::HlcTimestamp stamp, const std::string& what) {
  const uint64_t now = env_.WallMillis();
  if (clock_.Observe(stamp, now, max_offset_ms_)) return Status::Ok();
  const uint64_t lead = causal::HybridClock::Lead(stamp, now);
  ++refusals_;
  max_refused_lead_ms_ = std::max(max_refused_lead_ms_, lead);
  return Status::Unavailable(
      "clock offset: " + what + " leads this node's clock by " +
      std::to_string(lead) + " ms, beyond max_clock_offset_ms " +
      std::to_string(max_offset_ms_));
}

void ClockGuard::NotePeer(const NodeName& from, uint64_t wall_ms,
                          uint64_t now) {
  // The reading is as old as the message's flight, so a peer in step looks
  // a little behind; the bound is far above any flight time.
  beyond_[from] = Distance(wall_ms, now) > max_offset_ms_;
}

ClockStats ClockGuard::stats() const {
  ClockStats s;
  s.max_offset_ms = max_offset_ms_;
  s.refusals_total = refusals_;
  s.max_refused_lead_ms = max_refused_lead_ms_;
  s.peers_heard = beyond_.size();
  s.peers_beyond = static_cast<uint64_t>(
      std::count_if(beyond_.begin(), beyond_.end(),
                    [](const auto& entry) { return entry.second; }));
  s.suspect = s.peers_heard > 0 && 2 * s.peers_beyond > s.peers_heard;
  s.hlc_wall_ms = clock_.last().wall_ms;
  return s;
}

}  // namespace causeway::replication
