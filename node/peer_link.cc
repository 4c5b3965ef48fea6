#include "node/peer_link.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <utility>

#include "base/printable.h"

namespace causeway::node::peer_link {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::chrono::milliseconds ClampedMs(uint64_t ms) {
  // Clamp so that a huge setting cannot overflow the clock.
  return std::chrono::milliseconds(std::min<uint64_t>(ms, uint64_t{1} << 40));
}

Outgoing MakeOutgoing(std::string body, bool payload) {
  Outgoing item;
  item.header = peer_wire::EncodeLength(static_cast<uint32_t>(body.size()));
  item.body = std::move(body);
  item.enqueued = Clock::now();
  item.payload = payload;
  return item;
}

void LinkOwner::WarnInbound(const std::string& message) {
  if (auto line = inbound_log.Line(Clock::now(), message)) {
    spdlog::warn("peer: {}", *line);
  }
}

Link::Link(std::shared_ptr<LinkOwner> owner, uint64_t id, Role role,
           std::string remote, std::string expected_name,
           std::weak_ptr<Peer> peer)
    : owner_(std::move(owner)),
      id_(id),
      role_(role),
      remote_(std::move(remote)),
      expected_name_(std::move(expected_name)),
      peer_(std::move(peer)),
      socket_(owner_->io),
      resolver_(owner_->io),
      timer_(owner_->io),
      write_timer_(owner_->io),
      decoder_(peer_wire::kMaxHandshakeFrameBytes) {}

void Link::Connect(const std::string& host, const std::string& port) {
  phase_ = Phase::kConnecting;
  auto self = shared_from_this();
  timer_.expires_after(ClampedMs(owner_->options.connect_timeout_ms));
  timer_.async_wait([self](const boost::system::error_code& ec) {
    if (!ec && self->phase_ == Phase::kConnecting) {
      self->Close("connect timed out");
    }
  });
  resolver_.async_resolve(
      host, port,
      [self](const boost::system::error_code& ec,
             const tcp::resolver::results_type& results) {
        if (self->phase_ != Phase::kConnecting) return;
        if (ec) {
          self->Close("cannot resolve: " + ec.message());
          return;
        }
        asio::async_connect(
            self->socket_, results,
            [self](const boost::system::error_code& e, const tcp::endpoint&) {
              if (self->phase_ != Phase::kConnecting) return;
              if (e) {
                self->Close("cannot connect: " + e.message());
                return;
              }
              self->StartHandshake();
            });
      });
}

void Link::Accepted(tcp::socket socket) {
  socket_ = std::move(socket);
  ++owner_->stats.unauthenticated_connections;
  StartHandshake();
}

void Link::WriteBatch(std::vector<Outgoing> batch) {
  for (Outgoing& item : batch) out_.push_back(std::move(item));
  StartWrite();
}

void Link::Close(const std::string& reason, bool quiet) {
  if (phase_ == Phase::kClosed) return;
  const Phase was = phase_;
  phase_ = Phase::kClosed;
  boost::system::error_code ignored;
  timer_.cancel();
  write_timer_.cancel();
  resolver_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);

  PeerTransportStats& stats = owner_->stats;
  for (const Outgoing& item : out_) {
    if (item.payload) ++stats.dropped_in_flight;
  }
  // A write in flight still points into out_; it is cleared when that
  // write completes.
  if (!writing_) out_.clear();

  const char* direction = role_ == Role::kInitiator ? "to" : "from";
  CloseKind kind = CloseKind::kAfterReady;
  if (was == Phase::kConnecting) {
    kind = CloseKind::kConnectFailed;
    ++stats.connect_failures;
    // Logged by the hub, which knows whether this is news.
  } else if (was != Phase::kReady) {
    kind = CloseKind::kHandshakeFailed;
    ++stats.handshake_failures;
    if (role_ == Role::kResponder) --stats.unauthenticated_connections;
    if (!quiet) LogHandshakeFailure(reason);
  } else {
    if (role_ == Role::kInitiator) {
      if (stats.connected_peers > 0) --stats.connected_peers;
    } else if (stats.inbound_connections > 0) {
      --stats.inbound_connections;
    }
    if (!quiet) {
      spdlog::info("peer: connection {} {} ({}) closed: {}", direction,
                   Printable(peer_name_, kMaxShownBytes), remote_, reason);
    }
  }
  owner_->OnLinkClosed(*this, kind, reason);
}

void Link::LogHandshakeFailure(const std::string& reason) const {
  if (role_ == Role::kResponder) {
    owner_->WarnInbound("handshake from " + remote_ + " failed: " + reason);
  } else {
    spdlog::warn("peer: handshake to {} failed: {}", remote_, reason);
  }
}

void Link::StartHandshake() {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  if (role_ == Role::kInitiator) {
    tcp::endpoint endpoint = socket_.remote_endpoint(ec);
    if (!ec) {
      std::string resolved = endpoint.address().to_string() + ":" +
                             std::to_string(endpoint.port());
      if (resolved != remote_) remote_ += " = " + resolved;
    }
  }
  if (RAND_bytes(own_nonce_.data(), static_cast<int>(own_nonce_.size())) != 1) {
    phase_ = Phase::kAwaitHello;  // a handshake failure, counted as one
    Close("no randomness for a nonce");
    return;
  }
  // The caller speaks first; the side that accepted waits for its hello
  // and names nothing before the caller's proof.
  if (role_ == Role::kInitiator) {
    phase_ = Phase::kAwaitChallenge;
    Enqueue(peer_wire::EncodeHello(OwnHello()));
  } else {
    phase_ = Phase::kAwaitHello;
  }

  auto self = shared_from_this();
  timer_.expires_after(ClampedMs(owner_->options.handshake_timeout_ms));
  timer_.async_wait([self](const boost::system::error_code& ec) {
    if (!ec && self->InHandshake()) {
      ++self->owner_->stats.handshake_timeouts;
      self->Close("handshake timed out");
    }
  });
  Read();
}

peer_wire::Hello Link::OwnHello() const {
  peer_wire::Hello hello;
  hello.cluster = owner_->options.cluster_name;
  hello.node = owner_->options.node_name;
  hello.nonce = own_nonce_;
  return hello;
}
void Link::Enqueue(std::string handshake_frame) {
  out_.push_back(MakeOutgoing(std::move(handshake_frame), false));
  StartWrite();
}

void Link::Read() {
  if (phase_ == Phase::kClosed) return;
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const boost::system::error_code& ec,
                                  size_t n) { self->OnRead(ec, n); });
}

void Link::OnRead(const boost::system::error_code& ec, size_t n) {
  if (phase_ == Phase::kClosed) return;
  if (n > 0) {
    decoder_.Feed(std::string_view(read_buffer_.data(), n));
    last_received_ = Clock::now();
  }
  std::string frame;
  while (phase_ != Phase::kClosed) {
    const auto result = decoder_.Next(&frame);
    if (result == peer_wire::FrameDecoder::Result::kNeedMore) break;
    if (result == peer_wire::FrameDecoder::Result::kError) {
      const bool authenticated = phase_ == Phase::kReady;
      const std::string reason =
          "frame of " + std::to_string(decoder_.bad_length()) +
          " bytes is over the limit of " +
          std::to_string(authenticated ? owner_->options.max_frame_bytes
                                       : peer_wire::kMaxHandshakeFrameBytes) +
          (authenticated ? "" : " before authentication");
      if (authenticated) {
        // Not routine like a peer going away: say it louder.
        ++owner_->stats.frames_rejected;
        spdlog::warn("peer: closing connection with {} ({}): {}",
                     Printable(peer_name_, kMaxShownBytes), remote_, reason);
        Close(reason, /*quiet=*/true);
      } else {
        Close(reason);  // a handshake failure, logged as one
      }
      return;
    }
    HandleFrame(std::move(frame));
  }
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    Close(ec == asio::error::eof ? std::string("closed by the peer")
                                 : ec.message());
    return;
  }
  Read();
}

void Link::HandleFrame(std::string frame) {
  switch (phase_) {
    case Phase::kAwaitHello:
      OnHello(frame);
      return;
    case Phase::kAwaitChallenge:
      OnChallenge(frame);
      return;
    case Phase::kAwaitProof:
      OnProof(frame);
      return;
    case Phase::kReady: {
      PeerTransportStats& stats = owner_->stats;
      ++stats.messages_received;
      stats.bytes_received += frame.size();
      // The owner may Send, Stop or close this link; the caller's loop
      // checks the phase afterwards.
      owner_->OnLinkPayload(peer_name_, frame);
      return;
    }
    case Phase::kConnecting:
    case Phase::kClosed:
      return;
  }
}

void Link::OnHello(std::string_view frame) {
  peer_wire::Hello hello;
  Status s = peer_wire::DecodeHello(frame, &hello);
  if (!s.ok()) {
    Close("bad hello: " + s.message());
    return;
  }
  peer_name_ = hello.node;
  if (role_ == Role::kResponder) {
    // Checked only once the caller has proved the secret (OnProof): until
    // then every caller gets the same challenge, whatever it claims.
    peer_cluster_ = hello.cluster;
    peer_nonce_ = hello.nonce;
    phase_ = Phase::kAwaitProof;
    Enqueue(peer_wire::EncodeChallenge(own_nonce_));
    return;
  }
  const std::string problem = CheckPeerNames(hello.cluster);
  if (!problem.empty()) {
    Close(problem);
    return;
  }
  if (hello.nonce != peer_nonce_) {
    Close("peer's hello does not repeat its challenge");
    return;
  }
  phase_ = Phase::kAwaitProof;
}

void Link::OnChallenge(std::string_view frame) {
  Status s = peer_wire::DecodeChallenge(frame, &peer_nonce_);
  if (!s.ok()) {
    Close("bad challenge: " + s.message());
    return;
  }
  if (peer_nonce_ == own_nonce_) {
    Close("peer echoed our nonce");
    return;
  }
  // The responder's name is not known yet: the proof names no verifier.
  const PeerTransportOptions& o = owner_->options;
  phase_ = Phase::kAwaitHello;
  Enqueue(peer_wire::EncodeProof(
      peer_wire::ComputeMac(o.secret, role_, o.cluster_name, o.node_name, "",
                            own_nonce_, peer_nonce_)));
}

std::string Link::CheckPeerNames(const std::string& cluster) const {
  const PeerTransportOptions& o = owner_->options;
  if (cluster != o.cluster_name) {
    return "peer '" + Printable(peer_name_, kMaxShownBytes) +
           "' is in cluster '" + Printable(cluster, kMaxShownBytes) +
           "', not '" + o.cluster_name + "'";
  }
  if (peer_name_ == o.node_name) {
    return "peer claims this node's own name '" +
           Printable(peer_name_, kMaxShownBytes) + "'";
  }
  if (!expected_name_.empty() && peer_name_ != expected_name_) {
    return "expected node '" + Printable(expected_name_, kMaxShownBytes) +
           "', found '" + Printable(peer_name_, kMaxShownBytes) + "'";
  }
  return std::string();
}

std::string Link::ExpectedPeerMac() const {
  const PeerTransportOptions& o = owner_->options;
  // The initiator proves itself before it knows whom it talks to.
  const bool peer_initiated = role_ == Role::kResponder;
  return peer_wire::ComputeMac(
      o.secret, peer_initiated ? Role::kInitiator : Role::kResponder,
      o.cluster_name, peer_name_, peer_initiated ? "" : o.node_name,
      peer_nonce_, own_nonce_);
}

void Link::OnProof(std::string_view frame) {
  std::string mac;
  Status s = peer_wire::DecodeProof(frame, &mac);
  if (!s.ok()) {
    Close("bad proof: " + s.message());
    return;
  }
  if (role_ == Role::kResponder) {
    // Whatever is wrong, the caller learns nothing but the close.
    const std::string problem = CheckPeerNames(peer_cluster_);
    if (!problem.empty()) {
      Close(problem);
      return;
    }
  }
  if (!peer_wire::MacEquals(mac, ExpectedPeerMac())) {
    Close("peer '" + Printable(peer_name_, kMaxShownBytes) +
          "' failed to prove the cluster secret (secrets differ?)");
    return;
  }
  if (role_ == Role::kResponder) {
    if (!AdmitInbound()) return;
    SendWelcome();
  }
  BecomeReady();
}

void Link::SendWelcome() {
  const PeerTransportOptions& o = owner_->options;
  Enqueue(peer_wire::EncodeHello(OwnHello()));
  Enqueue(peer_wire::EncodeProof(
      peer_wire::ComputeMac(o.secret, role_, o.cluster_name, o.node_name,
                            peer_name_, own_nonce_, peer_nonce_)));
}

void Link::BecomeReady() {
  phase_ = Phase::kReady;
  decoder_.set_max_frame_bytes(owner_->options.max_frame_bytes);
  timer_.cancel();
  PeerTransportStats& stats = owner_->stats;
  if (role_ == Role::kResponder) {
    --stats.unauthenticated_connections;
    ++stats.inbound_connections;
    last_received_ = Clock::now();
    ArmIdleTimer();
  } else {
    ++stats.connected_peers;
  }
  spdlog::info("peer: authenticated {} {} ({})",
               role_ == Role::kInitiator ? "connection to" : "connection from",
               Printable(peer_name_, kMaxShownBytes), remote_);
  owner_->OnLinkReady(*this);
}
bool Link::AdmitInbound() {
  PeerTransportStats& stats = owner_->stats;
  const uint32_t limit = owner_->options.max_inbound_connections;
  if (stats.inbound_connections < limit) return true;
  ++stats.connections_rejected;
  Close("already " + std::to_string(stats.inbound_connections) +
        " authenticated inbound connections (max_inbound_connections)");
  return false;
}

void Link::ArmIdleTimer() {
  const auto idle = ClampedMs(owner_->options.idle_timeout_ms);
  if (idle.count() == 0) return;
  const auto deadline = last_received_ + idle;
  timer_.expires_at(deadline);
  timer_.async_wait(
      [self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->phase_ != Phase::kReady) return;
        if (Clock::now() - self->last_received_ >=
            ClampedMs(self->owner_->options.idle_timeout_ms)) {
          self->Close("nothing received for " +
                      std::to_string(self->owner_->options.idle_timeout_ms) +
                      " ms");
        } else {
          self->ArmIdleTimer();
        }
      });
}

void Link::StartWrite() {
  if (writing_ || phase_ == Phase::kClosed || out_.empty()) return;
  if (owner_->options.before_send) owner_->options.before_send();
  writing_ = true;
  const size_t count = std::min(out_.size(), kMaxWriteBatch);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(2 * count);
  // Deque elements stay put while more are appended at the back.
  for (size_t i = 0; i < count; ++i) {
    buffers.push_back(asio::buffer(out_[i].header));
    if (!out_[i].body.empty()) buffers.push_back(asio::buffer(out_[i].body));
  }
  const uint64_t sequence = ++write_sequence_;
  auto self = shared_from_this();
  write_timer_.expires_after(ClampedMs(owner_->options.write_timeout_ms));
  write_timer_.async_wait(
      [self, sequence](const boost::system::error_code& ec) {
        if (!ec && self->writing_ && self->write_sequence_ == sequence) {
          self->Close("write stalled for " +
                      std::to_string(self->owner_->options.write_timeout_ms) +
                      " ms");
        }
      });
  asio::async_write(socket_, buffers,
                    [self, count](const boost::system::error_code& ec, size_t) {
                      self->OnWrite(ec, count);
                    });
}

void Link::OnWrite(const boost::system::error_code& ec, size_t count) {
  writing_ = false;
  if (phase_ == Phase::kClosed) {
    out_.clear();
    return;
  }
  write_timer_.cancel();
  if (ec) {
    Close("write failed: " + ec.message());
    return;
  }
  PeerTransportStats& stats = owner_->stats;
  for (size_t i = 0; i < count; ++i) {
    if (out_.front().payload) {
      ++stats.messages_sent;
      stats.bytes_sent += out_.front().body.size();
    }
    out_.pop_front();
  }
  if (!out_.empty()) {
    StartWrite();
  } else if (phase_ == Phase::kReady) {
    owner_->OnLinkDrained(*this);
  }
}
}  // namespace causeway::node::peer_link
