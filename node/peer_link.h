#pragma once
// Link: one TCP connection between two nodes, in either direction, inside
// the peer transport (node/peer_transport.h states what the transport as a
// whole promises; this header is for peer_transport.cc and peer_link.cc
// only, which is why it may include Asio).
//
// A link connects (when it is the initiator) or starts from an accepted
// socket, runs the handshake of node/peer_wire.h, then carries frames both
// ways: it reads frames and hands authenticated payloads to its owner, and
// writes the batches of payloads its owner gives it, one batch at a time.
// Timeouts bound every phase: connect, handshake, a stalled write, and
// (for inbound links) silence.
//
// Ownership: a link is kept alive by its own pending handlers and by the
// owner while it is open; it holds its owner alive in turn. Close() ends
// it for good and is the one place that reports the end, through
// LinkOwner::OnLinkClosed. Everything runs on the owner's io_context.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/log_limiter.h"
#include "node/peer_transport.h"
#include "node/peer_wire.h"

namespace causeway::node::peer_link {

using Clock = std::chrono::steady_clock;
using peer_wire::Role;

// Bytes asked of the socket per read.
inline constexpr size_t kReadChunk = 64 << 10;
// Messages handed to one connection, and written, at a time.
inline constexpr size_t kMaxWriteBatch = 64;
inline constexpr uint64_t kMaxWriteBatchBytes = 1 << 20;
// Names and cluster names come from unauthenticated peers: logs and
// reasons show at most this many bytes of them, escaped (base/printable.h).
inline constexpr size_t kMaxShownBytes = 80;
// Lines about inbound connections that fail or are refused (anyone who can
// reach the peer port can cause them) go out at most this often.
inline constexpr std::chrono::milliseconds kInboundLogInterval{1000};

// A setting in milliseconds as a duration, clamped so that a huge setting
// cannot overflow the clock.
std::chrono::milliseconds ClampedMs(uint64_t ms);

// One frame waiting to be written: its length header, its body, and when
// it was queued (for the queue's time to live).
struct Outgoing {
  std::array<char, 4> header{};
  std::string body;
  Clock::time_point enqueued;
  bool payload = true;  // false: a handshake frame
};
Outgoing MakeOutgoing(std::string body, bool payload);

// How a link ended, as its owner needs to know for backoff and reports.
enum class CloseKind {
  kConnectFailed,    // never reached the handshake
  kHandshakeFailed,  // connected, never authenticated
  kAfterReady,       // authenticated, then closed
};

// The owner's record of an outbound peer (peer_transport.cc); a link only
// holds it for the owner to find again.
struct Peer;
class Link;

// The part of the hub a link sees: its io_context, settings and counters,
// and the events it reports. All calls come from the io_context's thread.
class LinkOwner {
 public:
  LinkOwner(boost::asio::io_context& io_context, PeerTransportOptions o)
      : io(io_context), options(std::move(o)) {}

  // An authenticated payload from `from`, the name the peer proved. The
  // owner may Send, Stop or close the link from here.
  virtual void OnLinkPayload(const std::string& from,
                             std::string_view payload) = 0;
  // The handshake succeeded.
  virtual void OnLinkReady(Link& link) = 0;
  // An authenticated link wrote everything it was given.
  virtual void OnLinkDrained(Link& link) = 0;
  // The link closed; called once, as the last thing Link::Close does.
  virtual void OnLinkClosed(Link& link, CloseKind kind,
                            const std::string& reason) = 0;

  // Warns about an inbound connection, at most once per
  // kInboundLogInterval; the next line let through counts those held back.
  void WarnInbound(const std::string& message);

  boost::asio::io_context& io;
  const PeerTransportOptions options;
  PeerTransportStats stats;
  LogLimiter inbound_log{kInboundLogInterval};

 protected:
  ~LinkOwner() = default;
};

class Link : public std::enable_shared_from_this<Link> {
 public:
  enum class Phase {
    kConnecting,
    kAwaitHello,
    kAwaitChallenge,  // initiator only
    kAwaitProof,
    kReady,
    kClosed
  };

  // `remote` names the other end in logs. `expected_name`, for an outbound
  // link to a known member, is the name the peer must prove (empty: any);
  // `peer` is the owner's record for an outbound link (empty for inbound).
  Link(std::shared_ptr<LinkOwner> owner, uint64_t id, Role role,
       std::string remote, std::string expected_name, std::weak_ptr<Peer> peer);

  uint64_t id() const { return id_; }
  Role role() const { return role_; }
  const std::string& remote() const { return remote_; }
  const std::string& peer_name() const { return peer_name_; }
  const std::weak_ptr<Peer>& peer() const { return peer_; }
  bool ready() const { return phase_ == Phase::kReady; }
  bool InHandshake() const {
    return phase_ == Phase::kAwaitHello || phase_ == Phase::kAwaitChallenge ||
           phase_ == Phase::kAwaitProof;
  }
  // Ready for the next batch of payloads: at most one batch sits here, the
  // rest stays in the peer's bounded queue where expiry applies.
  bool CanTakeBatch() const { return phase_ == Phase::kReady && out_.empty(); }

  // Initiator: resolves and connects to host:port, then runs the handshake.
  void Connect(const std::string& host, const std::string& port);
  // Responder: runs the handshake on an accepted socket.
  void Accepted(boost::asio::ip::tcp::socket socket);
  // Takes payloads from the peer's queue. REQUIRES: CanTakeBatch().
  void WriteBatch(std::vector<Outgoing> batch);
  // Idempotent. `quiet` is for shutdown, which is not news.
  void Close(const std::string& reason, bool quiet = false);

 private:
  void StartHandshake();
  peer_wire::Hello OwnHello() const;
  void Enqueue(std::string handshake_frame);
  void Read();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void HandleFrame(std::string frame);
  void OnHello(std::string_view frame);
  void OnChallenge(std::string_view frame);
  void OnProof(std::string_view frame);
  // Why the peer's claimed cluster and name are unacceptable; empty if not.
  std::string CheckPeerNames(const std::string& cluster) const;
  // The MAC the peer's proof must carry.
  std::string ExpectedPeerMac() const;
  // Responder, once the caller's proof checked out: names this node and
  // proves the secret in turn.
  void SendWelcome();
  void BecomeReady();
  // Responder: true if an authenticated inbound connection still fits;
  // closes this link if not.
  bool AdmitInbound();
  void LogHandshakeFailure(const std::string& reason) const;
  void ArmIdleTimer();
  // The one place bytes leave: fault injection (drop, delay) hooks in here
  // or in the hub's Send.
  void StartWrite();
  void OnWrite(const boost::system::error_code& ec, size_t count);

  std::shared_ptr<LinkOwner> owner_;
  const uint64_t id_;
  const Role role_;
  std::string remote_;  // for logs: the address dialled, or the endpoint
  const std::string expected_name_;  // outbound by name: who must answer
  const std::weak_ptr<Peer> peer_;   // outbound only

  boost::asio::ip::tcp::socket socket_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;  // connect, then handshake, then idle
  boost::asio::steady_timer write_timer_;
  Phase phase_ = Phase::kAwaitHello;

  std::array<uint8_t, peer_wire::kNonceBytes> own_nonce_{};
  std::array<uint8_t, peer_wire::kNonceBytes> peer_nonce_{};
  std::string peer_name_;
  std::string peer_cluster_;  // responder: as the caller claimed it

  peer_wire::FrameDecoder decoder_;
  std::array<char, kReadChunk> read_buffer_;
  Clock::time_point last_received_{};

  std::deque<Outgoing> out_;
  bool writing_ = false;
  uint64_t write_sequence_ = 0;
};

}  // namespace causeway::node::peer_link
