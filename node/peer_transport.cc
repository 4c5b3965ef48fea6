#include "node/peer_transport.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <deque>
#include <random>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "base/host_port.h"
#include "base/printable.h"

namespace causeway::node {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------
// Wire format.

namespace peer_wire {

namespace {

constexpr std::string_view kHelloMagic = "CWPH";
constexpr std::string_view kProofMagic = "CWPP";
constexpr std::string_view kMacLabel = "causeway-peer-v1";

void PutU16(std::string* out, size_t v) {
  out->push_back(static_cast<char>((v >> 8) & 0xff));
  out->push_back(static_cast<char>(v & 0xff));
}

// Reads a u16-length-prefixed string from `in` at `*pos`.
bool GetString(std::string_view in, size_t* pos, std::string* out) {
  if (in.size() - *pos < 2) return false;
  const size_t len = (size_t{static_cast<uint8_t>(in[*pos])} << 8) |
                     size_t{static_cast<uint8_t>(in[*pos + 1])};
  *pos += 2;
  if (in.size() - *pos < len) return false;
  out->assign(in.substr(*pos, len));
  *pos += len;
  return true;
}

}  // namespace

std::string EncodeHello(const Hello& hello) {
  std::string out(kHelloMagic);
  out.push_back(static_cast<char>(hello.version));
  // Names are bounded by kMaxNameBytes on decode; never emit what a peer
  // would have to refuse anyway.
  const size_t cluster_len = std::min(hello.cluster.size(), kMaxNameBytes);
  const size_t node_len = std::min(hello.node.size(), kMaxNameBytes);
  PutU16(&out, cluster_len);
  out.append(hello.cluster, 0, cluster_len);
  PutU16(&out, node_len);
  out.append(hello.node, 0, node_len);
  out.append(reinterpret_cast<const char*>(hello.nonce.data()),
             hello.nonce.size());
  return out;
}

Status DecodeHello(std::string_view body, Hello* hello) {
  if (body.size() < kHelloMagic.size() + 1 ||
      body.substr(0, kHelloMagic.size()) != kHelloMagic) {
    return Status::Corruption("not a Causeway peer hello");
  }
  size_t pos = kHelloMagic.size();
  hello->version = static_cast<uint8_t>(body[pos++]);
  if (hello->version < kVersion) {
    return Status::Corruption("unsupported peer protocol version " +
                              std::to_string(hello->version));
  }
  if (!GetString(body, &pos, &hello->cluster) ||
      !GetString(body, &pos, &hello->node)) {
    return Status::Corruption("truncated hello");
  }
  if (hello->cluster.size() > kMaxNameBytes ||
      hello->node.size() > kMaxNameBytes) {
    return Status::Corruption("name too long in hello");
  }
  if (hello->node.empty()) return Status::Corruption("hello names no node");
  if (body.size() - pos < kNonceBytes) {
    return Status::Corruption("truncated hello nonce");
  }
  std::copy_n(reinterpret_cast<const uint8_t*>(body.data() + pos), kNonceBytes,
              hello->nonce.begin());
  return Status::Ok();
}

std::string EncodeProof(std::string_view mac) {
  std::string out(kProofMagic);
  out.append(mac);
  return out;
}

Status DecodeProof(std::string_view body, std::string* mac) {
  if (body.size() != kProofMagic.size() + kMacBytes ||
      body.substr(0, kProofMagic.size()) != kProofMagic) {
    return Status::Corruption("not a Causeway peer proof");
  }
  mac->assign(body.substr(kProofMagic.size()));
  return Status::Ok();
}

std::string ComputeMac(std::string_view secret, Role prover_role,
                       std::string_view cluster, std::string_view prover,
                       std::string_view verifier,
                       const std::array<uint8_t, kNonceBytes>& prover_nonce,
                       const std::array<uint8_t, kNonceBytes>& verifier_nonce) {
  // Every variable-length part is length-prefixed, so no two different
  // (cluster, prover, verifier) triples feed the MAC the same bytes.
  std::string input(kMacLabel);
  input.push_back(static_cast<char>(prover_role));
  for (std::string_view part : {cluster, prover, verifier}) {
    part = part.substr(0, kMaxNameBytes);
    PutU16(&input, part.size());
    input.append(part);
  }
  input.append(reinterpret_cast<const char*>(prover_nonce.data()),
               prover_nonce.size());
  input.append(reinterpret_cast<const char*>(verifier_nonce.data()),
               verifier_nonce.size());

  static const unsigned char kEmptyKey = 0;
  const void* key = secret.empty() ? static_cast<const void*>(&kEmptyKey)
                                   : static_cast<const void*>(secret.data());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(),
           out, &out_len) == nullptr ||
      out_len != kMacBytes) {
    // Cannot happen with a working libcrypto; an empty MAC never verifies.
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

bool MacEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::array<char, 4> EncodeLength(uint32_t length) {
  return {static_cast<char>((length >> 24) & 0xff),
          static_cast<char>((length >> 16) & 0xff),
          static_cast<char>((length >> 8) & 0xff),
          static_cast<char>(length & 0xff)};
}

std::string Frame(std::string_view body) {
  const std::array<char, 4> header =
      EncodeLength(static_cast<uint32_t>(body.size()));
  std::string out(header.data(), header.size());
  out.append(body);
  return out;
}

void FrameDecoder::Feed(std::string_view bytes) {
  if (failed_) return;
  // Consumed bytes are dropped lazily, when they are the larger part.
  if (pos_ > 0 && pos_ >= buffer_.size() / 2) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

FrameDecoder::Result FrameDecoder::Next(std::string* frame) {
  if (failed_) return Result::kError;
  const size_t available = buffer_.size() - pos_;
  if (available < 4) return Result::kNeedMore;
  const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + pos_);
  const uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                          (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  if (length > max_) {
    failed_ = true;
    bad_length_ = length;
    buffer_.clear();
    buffer_.shrink_to_fit();
    pos_ = 0;
    return Result::kError;
  }
  if (available - 4 < length) {
    // The length is within the limit: make room for the whole frame once
    // rather than growing the buffer read by read.
    if (pos_ > 0) {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    buffer_.reserve(size_t{4} + length);
    return Result::kNeedMore;
  }
  frame->assign(buffer_, pos_ + 4, length);
  pos_ += size_t{4} + length;
  if (pos_ == buffer_.size()) {
    pos_ = 0;
    // One large frame should not pin its buffer for the connection's life.
    if (buffer_.capacity() > (size_t{1} << 20)) {
      std::string().swap(buffer_);
    } else {
      buffer_.clear();
    }
  }
  return Result::kFrame;
}

}  // namespace peer_wire

// ---------------------------------------------------------------------------
// The transport.

namespace {

using Clock = std::chrono::steady_clock;
using peer_wire::Role;

// Bytes asked of the socket per read.
constexpr size_t kReadChunk = 64 << 10;
// Messages handed to one connection, and written, at a time.
constexpr size_t kMaxWriteBatch = 64;
constexpr uint64_t kMaxWriteBatchBytes = 1 << 20;
// Pause before accepting again after an accept error (e.g. out of file
// descriptors), so the loop does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::chrono::milliseconds Ms(uint64_t ms) {
  // Clamp so that a huge setting cannot overflow the clock.
  return std::chrono::milliseconds(std::min<uint64_t>(ms, uint64_t{1} << 40));
}

// Names and cluster names come from unauthenticated peers: keep control
// characters and length out of the log.
constexpr size_t kMaxShownBytes = 80;

struct Outgoing {
  std::array<char, 4> header{};
  std::string body;
  Clock::time_point enqueued;
  bool payload = true;  // false: a handshake frame
};

Outgoing MakeOutgoing(std::string body, bool payload) {
  Outgoing item;
  item.header = peer_wire::EncodeLength(static_cast<uint32_t>(body.size()));
  item.body = std::move(body);
  item.enqueued = Clock::now();
  item.payload = payload;
  return item;
}

class Link;
struct Hub;

// One outbound peer: its queue survives the connections made to it.
struct Peer {
  enum class Phase { kIdle, kConnecting, kReady, kBackoff };

  explicit Peer(asio::io_context& io) : timer(io) {}

  std::string name;          // empty: keyed by address
  std::string address;       // HOST:PORT
  std::string learned_name;  // what the remote proved, for address-keyed
  Phase phase = Phase::kIdle;
  std::deque<Outgoing> queue;
  uint64_t queued_bytes = 0;
  std::shared_ptr<Link> link;  // while connecting or connected
  uint32_t failures = 0;       // consecutive, reset by a handshake
  Clock::time_point next_attempt{};
  asio::steady_timer timer;  // backoff
  bool reported_unreachable = false;
  std::string last_error;  // why the last attempt failed
  bool pump_posted = false;
};

const char* PhaseName(Peer::Phase phase) {
  switch (phase) {
    case Peer::Phase::kIdle:
      return "idle";
    case Peer::Phase::kConnecting:
      return "connecting";
    case Peer::Phase::kReady:
      return "connected";
    case Peer::Phase::kBackoff:
      return "backoff";
  }
  return "?";
}

enum class CloseKind {
  kConnectFailed,    // never reached the handshake
  kHandshakeFailed,  // connected, never authenticated
  kAfterReady,       // authenticated, then closed
};

// Everything connections, peers and the accept loop share. Held by
// shared_ptr so that handlers still queued on the io_context after the
// transport is gone find it alive (and stopped).
struct Hub : std::enable_shared_from_this<Hub> {
  Hub(asio::io_context& io_context, PeerTransportOptions o,
      PeerTransport::DeliverFn d)
      : io(io_context),
        options(std::move(o)),
        deliver(std::move(d)),
        acceptor(io_context),
        accept_retry(io_context),
        rng(std::random_device{}()) {}

  void Send(const std::string& to, const std::string& address,
            std::string payload);
  void Stop();

  std::shared_ptr<Peer> FindOrCreatePeer(const std::string& to,
                                         const std::string& address);
  void MaybeConnect(const std::shared_ptr<Peer>& peer);
  void Connect(const std::shared_ptr<Peer>& peer);
  void ArmBackoff(const std::shared_ptr<Peer>& peer);
  void Pump(Peer& peer);
  void PruneExpired(Peer& peer);
  void PopQueued(Peer& peer);
  uint64_t Jitter(uint64_t d);
  uint64_t BackoffMs(uint32_t failures);
  // Tells on_unreachable, from a fresh handler.
  void ReportUnreachable(const Peer& peer);

  // From links.
  void OnLinkReady(Link& link);
  void OnLinkDrained(Link& link);
  void OnLinkClosed(Link& link, CloseKind kind, const std::string& reason);

  void Accept();
  void OnAccept(const boost::system::error_code& ec, tcp::socket socket);

  asio::io_context& io;
  const PeerTransportOptions options;
  PeerTransport::DeliverFn deliver;
  PeerTransport::UnreachableFn on_unreachable;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::mt19937_64 rng;
  bool started = false;
  bool stopped = false;
  PeerTransportStats stats;
  uint64_t next_link_id = 1;
  uint32_t inbound_open = 0;  // accepted and not closed, authenticated or not
  std::unordered_map<uint64_t, std::weak_ptr<Link>> links;
  std::unordered_map<std::string, std::shared_ptr<Peer>> peers_by_name;
  std::unordered_map<std::string, std::shared_ptr<Peer>> peers_by_address;
};

// One TCP connection in either direction: connect (initiator), handshake,
// then frames in both directions. Kept alive by its own pending handlers;
// the hub and peers refer to it while it is open.
class Link : public std::enable_shared_from_this<Link> {
 public:
  enum class Phase { kConnecting, kAwaitHello, kAwaitProof, kReady, kClosed };

  Link(std::shared_ptr<Hub> hub, uint64_t id, Role role, std::string remote,
       std::string expected_name, std::weak_ptr<Peer> peer)
      : hub_(std::move(hub)),
        id_(id),
        role_(role),
        remote_(std::move(remote)),
        expected_name_(std::move(expected_name)),
        peer_(std::move(peer)),
        socket_(hub_->io),
        resolver_(hub_->io),
        timer_(hub_->io),
        write_timer_(hub_->io),
        decoder_(peer_wire::kMaxHandshakeFrameBytes) {}

  uint64_t id() const { return id_; }
  Role role() const { return role_; }
  const std::string& remote() const { return remote_; }
  const std::string& peer_name() const { return peer_name_; }
  const std::weak_ptr<Peer>& peer() const { return peer_; }
  bool ready() const { return phase_ == Phase::kReady; }
  // Ready for the next batch of payloads: at most one batch sits here, the
  // rest stays in the peer's bounded queue where expiry applies.
  bool CanTakeBatch() const { return phase_ == Phase::kReady && out_.empty(); }

  void Connect(const std::string& host, const std::string& port) {
    phase_ = Phase::kConnecting;
    auto self = shared_from_this();
    timer_.expires_after(Ms(hub_->options.connect_timeout_ms));
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

  void Accepted(tcp::socket socket) {
    socket_ = std::move(socket);
    StartHandshake();
  }

  // Takes payloads from the peer's queue.
  void WriteBatch(std::vector<Outgoing> batch) {
    for (Outgoing& item : batch) out_.push_back(std::move(item));
    StartWrite();
  }

  // Idempotent. `quiet` is for shutdown, which is not news.
  void Close(const std::string& reason, bool quiet = false) {
    if (phase_ == Phase::kClosed) return;
    const Phase was = phase_;
    phase_ = Phase::kClosed;
    boost::system::error_code ignored;
    timer_.cancel();
    write_timer_.cancel();
    resolver_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);

    PeerTransportStats& stats = hub_->stats;
    for (const Outgoing& item : out_) {
      if (item.payload) ++stats.dropped_in_flight;
    }
    // A write in flight still points into out_; it is cleared when that
    // write completes.
    if (!writing_) out_.clear();
    if (role_ == Role::kResponder && hub_->inbound_open > 0) {
      --hub_->inbound_open;
    }
    hub_->links.erase(id_);

    const char* direction = role_ == Role::kInitiator ? "to" : "from";
    CloseKind kind = CloseKind::kAfterReady;
    if (was == Phase::kConnecting) {
      kind = CloseKind::kConnectFailed;
      ++stats.connect_failures;
      // Logged by the hub, which knows whether this is news.
    } else if (was == Phase::kAwaitHello || was == Phase::kAwaitProof) {
      kind = CloseKind::kHandshakeFailed;
      ++stats.handshake_failures;
      if (!quiet) {
        spdlog::warn("peer: handshake {} {} failed: {}", direction, remote_,
                     reason);
      }
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
    hub_->OnLinkClosed(*this, kind, reason);
  }

 private:
  void StartHandshake() {
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
    phase_ = Phase::kAwaitHello;
    if (RAND_bytes(own_nonce_.data(), static_cast<int>(own_nonce_.size())) !=
        1) {
      Close("no randomness for a nonce");
      return;
    }
    peer_wire::Hello hello;
    hello.cluster = hub_->options.cluster_name;
    hello.node = hub_->options.node_name;
    hello.nonce = own_nonce_;
    Enqueue(peer_wire::EncodeHello(hello));

    auto self = shared_from_this();
    timer_.expires_after(Ms(hub_->options.handshake_timeout_ms));
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec && (self->phase_ == Phase::kAwaitHello ||
                  self->phase_ == Phase::kAwaitProof)) {
        self->Close("handshake timed out");
      }
    });
    Read();
  }

  void Enqueue(std::string handshake_frame) {
    out_.push_back(MakeOutgoing(std::move(handshake_frame), false));
    StartWrite();
  }

  void Read() {
    if (phase_ == Phase::kClosed) return;
    socket_.async_read_some(
        asio::buffer(read_buffer_),
        [self = shared_from_this()](const boost::system::error_code& ec,
                                    size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
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
            std::to_string(authenticated ? hub_->options.max_frame_bytes
                                         : peer_wire::kMaxHandshakeFrameBytes) +
            (authenticated ? "" : " before authentication");
        if (authenticated) {
          // Not routine like a peer going away: say it louder.
          ++hub_->stats.frames_rejected;
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

  void HandleFrame(std::string frame) {
    switch (phase_) {
      case Phase::kAwaitHello:
        OnHello(frame);
        return;
      case Phase::kAwaitProof:
        OnProof(frame);
        return;
      case Phase::kReady: {
        PeerTransportStats& stats = hub_->stats;
        ++stats.messages_received;
        stats.bytes_received += frame.size();
        if (hub_->stopped || !hub_->deliver) return;
        // The callback may Send, Stop or close this link; the caller's
        // loop checks the phase afterwards.
        hub_->deliver(peer_name_, frame);
        return;
      }
      case Phase::kConnecting:
      case Phase::kClosed:
        return;
    }
  }

  void OnHello(std::string_view frame) {
    peer_wire::Hello hello;
    Status s = peer_wire::DecodeHello(frame, &hello);
    if (!s.ok()) {
      Close("bad hello: " + s.message());
      return;
    }
    const PeerTransportOptions& o = hub_->options;
    if (hello.cluster != o.cluster_name) {
      Close("peer '" + Printable(hello.node, kMaxShownBytes) +
            "' is in cluster '" + Printable(hello.cluster, kMaxShownBytes) +
            "', not '" + o.cluster_name + "'");
      return;
    }
    if (hello.node == o.node_name) {
      Close("peer claims this node's own name '" +
            Printable(hello.node, kMaxShownBytes) + "'");
      return;
    }
    if (!expected_name_.empty() && hello.node != expected_name_) {
      Close("expected node '" + Printable(expected_name_, kMaxShownBytes) +
            "', found '" + Printable(hello.node, kMaxShownBytes) + "'");
      return;
    }
    if (hello.nonce == own_nonce_) {
      Close("peer echoed our nonce");
      return;
    }
    peer_name_ = hello.node;
    peer_nonce_ = hello.nonce;
    phase_ = Phase::kAwaitProof;
    Enqueue(peer_wire::EncodeProof(
        peer_wire::ComputeMac(o.secret, role_, o.cluster_name, o.node_name,
                              peer_name_, own_nonce_, peer_nonce_)));
  }

  void OnProof(std::string_view frame) {
    std::string mac;
    Status s = peer_wire::DecodeProof(frame, &mac);
    if (!s.ok()) {
      Close("bad proof: " + s.message());
      return;
    }
    const PeerTransportOptions& o = hub_->options;
    const Role peer_role =
        role_ == Role::kInitiator ? Role::kResponder : Role::kInitiator;
    const std::string expected =
        peer_wire::ComputeMac(o.secret, peer_role, o.cluster_name, peer_name_,
                              o.node_name, peer_nonce_, own_nonce_);
    if (!peer_wire::MacEquals(mac, expected)) {
      Close("peer '" + Printable(peer_name_, kMaxShownBytes) +
            "' failed to prove the cluster secret (secrets differ?)");
      return;
    }
    phase_ = Phase::kReady;
    decoder_.set_max_frame_bytes(o.max_frame_bytes);
    timer_.cancel();
    if (role_ == Role::kResponder) {
      ++hub_->stats.inbound_connections;
      last_received_ = Clock::now();
      ArmIdleTimer();
    } else {
      ++hub_->stats.connected_peers;
    }
    spdlog::info(
        "peer: authenticated {} {} ({})",
        role_ == Role::kInitiator ? "connection to" : "connection from",
        Printable(peer_name_, kMaxShownBytes), remote_);
    hub_->OnLinkReady(*this);
  }

  void ArmIdleTimer() {
    const auto idle = Ms(hub_->options.idle_timeout_ms);
    if (idle.count() == 0) return;
    const auto deadline = last_received_ + idle;
    timer_.expires_at(deadline);
    timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code& ec) {
          if (ec || self->phase_ != Phase::kReady) return;
          if (Clock::now() - self->last_received_ >=
              Ms(self->hub_->options.idle_timeout_ms)) {
            self->Close("nothing received for " +
                        std::to_string(self->hub_->options.idle_timeout_ms) +
                        " ms");
          } else {
            self->ArmIdleTimer();
          }
        });
  }

  // The one place bytes leave: fault injection (drop, delay) hooks in here
  // or in Hub::Send.
  void StartWrite() {
    if (writing_ || phase_ == Phase::kClosed || out_.empty()) return;
    if (hub_->options.before_send) hub_->options.before_send();
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
    write_timer_.expires_after(Ms(hub_->options.write_timeout_ms));
    write_timer_.async_wait(
        [self, sequence](const boost::system::error_code& ec) {
          if (!ec && self->writing_ && self->write_sequence_ == sequence) {
            self->Close("write stalled for " +
                        std::to_string(self->hub_->options.write_timeout_ms) +
                        " ms");
          }
        });
    asio::async_write(socket_, buffers,
                      [self, count](const boost::system::error_code& ec,
                                    size_t) { self->OnWrite(ec, count); });
  }

  void OnWrite(const boost::system::error_code& ec, size_t count) {
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
    PeerTransportStats& stats = hub_->stats;
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
      hub_->OnLinkDrained(*this);
    }
  }

  std::shared_ptr<Hub> hub_;
  const uint64_t id_;
  const Role role_;
  std::string remote_;  // for logs: the address dialled, or the endpoint
  const std::string expected_name_;  // outbound by name: who must answer
  const std::weak_ptr<Peer> peer_;   // outbound only

  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;  // connect, then handshake, then idle
  asio::steady_timer write_timer_;
  Phase phase_ = Phase::kAwaitHello;

  std::array<uint8_t, peer_wire::kNonceBytes> own_nonce_{};
  std::array<uint8_t, peer_wire::kNonceBytes> peer_nonce_{};
  std::string peer_name_;

  peer_wire::FrameDecoder decoder_;
  std::array<char, kReadChunk> read_buffer_;
  Clock::time_point last_received_{};

  std::deque<Outgoing> out_;
  bool writing_ = false;
  uint64_t write_sequence_ = 0;
};

// ----- Hub -----

std::shared_ptr<Peer> Hub::FindOrCreatePeer(const std::string& to,
                                            const std::string& address) {
  auto& map = to.empty() ? peers_by_address : peers_by_name;
  const std::string& key = to.empty() ? address : to;
  if (key.empty()) return nullptr;
  auto it = map.find(key);
  if (it != map.end()) {
    Peer& peer = *it->second;
    if (!to.empty() && !address.empty() && address != peer.address) {
      HostPort parsed;
      if (ParseHostPort(address, &parsed).ok()) {
        // The member moved. A live connection stays (the name was proved);
        // the next one dials the new address.
        spdlog::info("peer: {} is now at {} (was {})",
                     Printable(to, kMaxShownBytes),
                     Printable(address, kMaxShownBytes),
                     Printable(peer.address, kMaxShownBytes));
        peer.address = address;
      }
    }
    return it->second;
  }
  HostPort parsed;
  if (!ParseHostPort(address, &parsed).ok()) {
    spdlog::warn("peer: cannot send to '{}': bad address '{}'",
                 Printable(to, kMaxShownBytes),
                 Printable(address, kMaxShownBytes));
    return nullptr;
  }
  auto peer = std::make_shared<Peer>(io);
  peer->name = to;
  peer->address = address;
  map.emplace(key, peer);
  return peer;
}

void Hub::Send(const std::string& to, const std::string& address,
               std::string payload) {
  if (stopped) {
    ++stats.dropped_unroutable;
    return;
  }
  if (payload.size() > options.max_frame_bytes) {
    ++stats.dropped_too_large;
    return;
  }
  std::shared_ptr<Peer> peer = FindOrCreatePeer(to, address);
  if (!peer) {
    ++stats.dropped_unroutable;
    return;
  }
  PruneExpired(*peer);
  if (peer->queue.size() >= options.max_queue_messages ||
      peer->queued_bytes + payload.size() > options.max_queue_bytes) {
    ++stats.dropped_queue_full;
    return;
  }
  peer->queued_bytes += payload.size();
  ++stats.queued_messages;
  stats.queued_bytes += payload.size();
  peer->queue.push_back(MakeOutgoing(std::move(payload), true));
  switch (peer->phase) {
    case Peer::Phase::kReady:
      // Not at once: the messages the handlers ready now send to this peer
      // go out together in one write, and the peer reads them in one
      // wake-up. At one message per handler that costs nothing; under load
      // it saves a system call and a wake-up on both ends per message.
      if (!peer->pump_posted) {
        peer->pump_posted = true;
        asio::post(io, [hub = shared_from_this(), weak = std::weak_ptr(peer)] {
          std::shared_ptr<Peer> p = weak.lock();
          if (!p) return;
          p->pump_posted = false;
          hub->Pump(*p);
        });
      }
      break;
    case Peer::Phase::kIdle:
      MaybeConnect(peer);
      break;
    case Peer::Phase::kConnecting:
    case Peer::Phase::kBackoff:
      break;
  }
}

void Hub::ReportUnreachable(const Peer& peer) {
  if (!on_unreachable) return;
  asio::post(io, [hub = shared_from_this(), name = peer.name,
                  address = peer.address, reason = peer.last_error] {
    if (!hub->stopped && hub->on_unreachable) {
      hub->on_unreachable(name, address, reason);
    }
  });
}

void Hub::PopQueued(Peer& peer) {
  const uint64_t size = peer.queue.front().body.size();
  peer.queued_bytes -= size;
  --stats.queued_messages;
  stats.queued_bytes -= size;
  peer.queue.pop_front();
}

void Hub::PruneExpired(Peer& peer) {
  const Clock::time_point now = Clock::now();
  const auto ttl = Ms(options.queue_ttl_ms);
  while (!peer.queue.empty() && now - peer.queue.front().enqueued > ttl) {
    PopQueued(peer);
    ++stats.dropped_expired;
  }
}

void Hub::Pump(Peer& peer) {
  if (peer.phase != Peer::Phase::kReady || !peer.link ||
      !peer.link->CanTakeBatch()) {
    return;
  }
  PruneExpired(peer);
  if (peer.queue.empty()) return;
  std::vector<Outgoing> batch;
  uint64_t bytes = 0;
  while (!peer.queue.empty() && batch.size() < kMaxWriteBatch &&
         (batch.empty() || bytes < kMaxWriteBatchBytes)) {
    bytes += peer.queue.front().body.size();
    batch.push_back(std::move(peer.queue.front()));
    const uint64_t size = batch.back().body.size();
    peer.queued_bytes -= size;
    --stats.queued_messages;
    stats.queued_bytes -= size;
    peer.queue.pop_front();
  }
  peer.link->WriteBatch(std::move(batch));
}

uint64_t Hub::Jitter(uint64_t d) {
  if (d < 2) return d;
  std::uniform_int_distribution<uint64_t> pick(d / 2, d);
  return pick(rng);
}

uint64_t Hub::BackoffMs(uint32_t failures) {
  const uint64_t max = std::max<uint64_t>(options.reconnect_backoff_max_ms, 1);
  uint64_t d = std::max<uint64_t>(options.reconnect_backoff_min_ms, 1);
  for (uint32_t i = 1; i < failures && d < max; ++i) d *= 2;
  return Jitter(std::min(d, max));
}

void Hub::MaybeConnect(const std::shared_ptr<Peer>& peer) {
  if (Clock::now() >= peer->next_attempt) {
    Connect(peer);
  } else {
    ArmBackoff(peer);
  }
}

void Hub::ArmBackoff(const std::shared_ptr<Peer>& peer) {
  peer->phase = Peer::Phase::kBackoff;
  peer->timer.expires_at(peer->next_attempt);
  peer->timer.async_wait(
      [hub = shared_from_this(), peer](const boost::system::error_code& ec) {
        if (ec || hub->stopped || peer->phase != Peer::Phase::kBackoff) return;
        hub->PruneExpired(*peer);
        if (peer->queue.empty()) {
          // Nothing to say: connect when there is.
          peer->phase = Peer::Phase::kIdle;
          return;
        }
        hub->Connect(peer);
      });
}

void Hub::Connect(const std::shared_ptr<Peer>& peer) {
  HostPort target;
  // Checked when the address was recorded.
  ParseHostPort(peer->address, &target);
  peer->phase = Peer::Phase::kConnecting;
  ++stats.connects_attempted;
  const uint64_t id = next_link_id++;
  auto link = std::make_shared<Link>(shared_from_this(), id, Role::kInitiator,
                                     peer->address, peer->name, peer);
  links.emplace(id, link);
  peer->link = link;
  link->Connect(target.host, std::to_string(target.port));
}

void Hub::OnLinkReady(Link& link) {
  if (link.role() != Role::kInitiator) {
    // The peer just reached us, so it is up: if our own link to it waits
    // out a backoff from earlier failures (it was down, and is back), try
    // now rather than hold its messages for up to the backoff maximum.
    auto it = peers_by_name.find(link.peer_name());
    if (it == peers_by_name.end()) return;
    std::shared_ptr<Peer> peer = it->second;
    if (peer->phase != Peer::Phase::kBackoff) return;
    peer->next_attempt = Clock::now();
    PruneExpired(*peer);
    if (peer->queue.empty()) {
      peer->timer.cancel();
      peer->phase = Peer::Phase::kIdle;
      return;
    }
    peer->timer.cancel();  // its handler sees the phase change and returns
    Connect(peer);
    return;
  }
  std::shared_ptr<Peer> peer = link.peer().lock();
  if (!peer || peer->link.get() != &link) return;
  peer->phase = Peer::Phase::kReady;
  peer->failures = 0;
  peer->reported_unreachable = false;
  peer->learned_name = link.peer_name();
  Pump(*peer);
}

void Hub::OnLinkDrained(Link& link) {
  if (link.role() != Role::kInitiator) return;
  std::shared_ptr<Peer> peer = link.peer().lock();
  if (!peer || peer->link.get() != &link) return;
  Pump(*peer);
}

void Hub::OnLinkClosed(Link& link, CloseKind kind, const std::string& reason) {
  if (link.role() != Role::kInitiator) return;
  std::shared_ptr<Peer> peer = link.peer().lock();
  if (!peer || peer->link.get() != &link) return;
  peer->link.reset();
  if (stopped) return;
  uint64_t delay_ms;
  if (kind == CloseKind::kAfterReady) {
    peer->failures = 0;
    delay_ms = Jitter(options.reconnect_backoff_min_ms);
  } else {
    ++peer->failures;
    delay_ms = BackoffMs(peer->failures);
    peer->last_error = kind == CloseKind::kConnectFailed
                           ? reason
                           : "handshake failed: " + reason;
    ReportUnreachable(*peer);
    if (kind == CloseKind::kConnectFailed) {
      const std::string who =
          peer->name.empty() ? "seed" : Printable(peer->name, kMaxShownBytes);
      if (!peer->reported_unreachable) {
        peer->reported_unreachable = true;
        spdlog::warn("peer: cannot reach {} at {}: {}; retrying with backoff",
                     who, Printable(peer->address, kMaxShownBytes), reason);
      } else {
        spdlog::debug("peer: still cannot reach {} at {}: {}", who,
                      Printable(peer->address, kMaxShownBytes), reason);
      }
    }
  }
  peer->next_attempt = Clock::now() + Ms(delay_ms);
  PruneExpired(*peer);
  if (!peer->queue.empty()) {
    ArmBackoff(peer);
    return;
  }
  peer->phase = Peer::Phase::kIdle;
  if (kind == CloseKind::kAfterReady) {
    // Nothing pending and nothing to remember: forget the peer, so peers
    // that left the ring do not accumulate.
    auto& map = peer->name.empty() ? peers_by_address : peers_by_name;
    auto it = map.find(peer->name.empty() ? peer->address : peer->name);
    if (it != map.end() && it->second == peer) map.erase(it);
  }
}

void Hub::Accept() {
  acceptor.async_accept(
      [hub = shared_from_this()](const boost::system::error_code& ec,
                                 tcp::socket socket) {
        hub->OnAccept(ec, std::move(socket));
      });
}

void Hub::OnAccept(const boost::system::error_code& ec, tcp::socket socket) {
  if (stopped) return;
  if (ec) {
    spdlog::warn("peer: accept failed: {}", ec.message());
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait(
        [hub = shared_from_this()](const boost::system::error_code& e) {
          if (!e && !hub->stopped) hub->Accept();
        });
    return;
  }
  boost::system::error_code ignored;
  const tcp::endpoint endpoint = socket.remote_endpoint(ignored);
  const std::string remote =
      endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  if (inbound_open >= options.max_inbound_connections) {
    ++stats.connections_rejected;
    spdlog::warn("peer: refusing connection from {}: {} already open", remote,
                 inbound_open);
    socket.close(ignored);
  } else {
    ++stats.connections_accepted;
    ++inbound_open;
    const uint64_t id = next_link_id++;
    auto link = std::make_shared<Link>(shared_from_this(), id, Role::kResponder,
                                       remote, "", std::weak_ptr<Peer>());
    links.emplace(id, link);
    link->Accepted(std::move(socket));
  }
  Accept();
}

void Hub::Stop() {
  if (stopped) return;
  stopped = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  for (auto* map : {&peers_by_name, &peers_by_address}) {
    for (auto& [key, peer] : *map) {
      peer->timer.cancel();
      stats.dropped_unroutable += peer->queue.size();
      peer->queue.clear();
      peer->queued_bytes = 0;
    }
  }
  stats.queued_messages = 0;
  stats.queued_bytes = 0;
  // Close edits the map; close from a copy.
  auto open = std::move(links);
  links.clear();
  for (auto& [id, weak] : open) {
    if (auto link = weak.lock()) link->Close("transport stopped", true);
  }
  // Peers hold their links; dropping them breaks the hub <-> link cycle.
  peers_by_name.clear();
  peers_by_address.clear();
}

}  // namespace

// ---------------------------------------------------------------------------

struct PeerTransport::State {
  std::shared_ptr<Hub> hub;
};

PeerTransport::PeerTransport(asio::io_context& io, PeerTransportOptions options,
                             DeliverFn deliver)
    : state_(std::make_shared<State>()) {
  state_->hub =
      std::make_shared<Hub>(io, std::move(options), std::move(deliver));
}

PeerTransport::~PeerTransport() { Stop(); }

Status PeerTransport::Start() {
  Hub& hub = *state_->hub;
  if (hub.started) return Status::InvalidArgument("already started");
  if (hub.stopped) return Status::InvalidArgument("stopped");
  const PeerTransportOptions& o = hub.options;
  const std::string where = o.host + ":" + std::to_string(o.port);
  if (o.node_name.empty()) {
    return Status::InvalidArgument("peer transport needs a node name");
  }
  boost::system::error_code ec;
  tcp::resolver resolver(hub.io);
  auto endpoints = resolver.resolve(o.host, std::to_string(o.port),
                                    tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return Status::InvalidArgument("cannot resolve peer listen address " +
                                   where + ": " + ec.message());
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  hub.acceptor.open(endpoint.protocol(), ec);
  if (!ec) hub.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) hub.acceptor.bind(endpoint, ec);
  if (!ec) hub.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    hub.acceptor.close(ignored);
    return Status::IoError("cannot listen for peers on " + where + ": " +
                           ec.message());
  }
  hub.started = true;
  if (o.secret.empty()) {
    spdlog::warn(
        "peer: no cluster secret set; any process that can reach {}:{} and "
        "knows the cluster name can join",
        o.host, port());
  }
  hub.Accept();
  spdlog::info("peer: listening for peers on {}:{}", o.host, port());
  return Status::Ok();
}

uint16_t PeerTransport::port() const {
  boost::system::error_code ec;
  const tcp::endpoint endpoint = state_->hub->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void PeerTransport::Stop() { state_->hub->Stop(); }

void PeerTransport::OnUnreachable(UnreachableFn fn) {
  state_->hub->on_unreachable = std::move(fn);
}

void PeerTransport::Send(const replication::NodeName& to,
                         const std::string& address, std::string payload) {
  state_->hub->Send(to, address, std::move(payload));
}

PeerTransportStats PeerTransport::stats() const { return state_->hub->stats; }

std::vector<PeerView> PeerTransport::Peers() const {
  std::vector<PeerView> out;
  const Hub& hub = *state_->hub;
  for (const auto* map : {&hub.peers_by_name, &hub.peers_by_address}) {
    for (const auto& [key, peer] : *map) {
      PeerView view;
      view.name = peer->name.empty() ? peer->learned_name : peer->name;
      view.address = peer->address;
      view.state = PhaseName(peer->phase);
      view.queued_messages = peer->queue.size();
      view.queued_bytes = peer->queued_bytes;
      view.consecutive_failures = peer->failures;
      out.push_back(std::move(view));
    }
  }
  std::sort(out.begin(), out.end(), [](const PeerView& a, const PeerView& b) {
    return std::tie(a.name, a.address) < std::tie(b.name, b.address);
  });
  return out;
}

}  // namespace causeway::node
