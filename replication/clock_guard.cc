#include "replication/clock_guard.h"

#include <algorithm>

#include "proto/peer.pb.h"

namespace causeway::replication {
namespace {

uint64_t Magnitude(int64_t v) {
  return v < 0 ? uint64_t{0} - static_cast<uint64_t>(v)
               : static_cast<uint64_t>(v);
}

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

Status ClockGuard::CheckSelf() const {
  const ClockStats s = stats();
  if (!s.suspect) return Status::Ok();
  return Status::Unavailable(
      "clock offset: this node's clock reads more than max_clock_offset_ms " +
      std::to_string(max_offset_ms_) + " away from " +
      std::to_string(s.peers_beyond) + " of " + std::to_string(s.peers_heard) +
      " peers; it coordinates no writes until its clock is fixed");
}

void ClockGuard::NotePeer(const NodeName& from, uint64_t wall_ms,
                          uint64_t now) {
  const int64_t offset =
      static_cast<int64_t>(wall_ms) - static_cast<int64_t>(now);
  const uint64_t mono = env_.MonotonicMillis();
  auto [it, fresh] = peers_.try_emplace(from);
  PeerClock& p = it->second;
  if (fresh || mono - p.heard_ms >= kWindowMs) {
    p = PeerClock{offset, offset, mono, mono};
  } else if (mono - p.window_start_ms >= kWindowMs) {
    p = PeerClock{offset, p.current, mono, mono};
  } else {
    p.current = std::max(p.current, offset);
    p.heard_ms = mono;
  }
}

bool ClockGuard::Beyond(const PeerClock& peer) const {
  return Magnitude(std::max(peer.current, peer.previous)) > max_offset_ms_;
}

ClockStats ClockGuard::stats() const {
  ClockStats s;
  s.max_offset_ms = max_offset_ms_;
  s.refusals_total = refusals_;
  s.max_refused_lead_ms = max_refused_lead_ms_;
  const uint64_t mono = env_.MonotonicMillis();
  for (const auto& [name, peer] : peers_) {
    if (mono - peer.heard_ms >= kForgetMs) continue;
    ++s.peers_heard;
    if (Beyond(peer)) ++s.peers_beyond;
  }
  s.suspect = s.peers_heard > 0 && 2 * s.peers_beyond > s.peers_heard;
  s.hlc_wall_ms = clock_.last().wall_ms;
  return s;
}

}  // namespace causeway::replication
