// The hub: the transport's peers (one bounded queue each, surviving the
// connections made to it), the links it opens and accepts, and the accept
// loop. One connection is node/peer_link.h; its bytes, node/peer_wire.h.

#include "node/peer_transport.h"

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
#include "node/peer_link.h"

namespace causeway::node {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace peer_link {

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

}  // namespace peer_link

namespace {

using peer_link::ClampedMs;
using peer_link::Clock;
using peer_link::CloseKind;
using peer_link::kMaxShownBytes;
using peer_link::kMaxWriteBatch;
using peer_link::kMaxWriteBatchBytes;
using peer_link::Link;
using peer_link::MakeOutgoing;
using peer_link::Outgoing;
using peer_link::Peer;
using peer_link::Role;

// Pause before accepting again after an accept error (e.g. out of file
// descriptors), so the loop does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

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

// Everything connections, peers and the accept loop share. Held by
// shared_ptr so that handlers still queued on the io_context after the
// transport is gone find it alive (and stopped). The io_context, options
// and stats are LinkOwner's, shared with the links.
struct Hub final : peer_link::LinkOwner, std::enable_shared_from_this<Hub> {
  Hub(asio::io_context& io_context, PeerTransportOptions o,
      PeerTransport::DeliverFn d)
      : LinkOwner(io_context, std::move(o)),
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
  // Removes the oldest queued message and returns it.
  Outgoing TakeQueued(Peer& peer);
  uint64_t Jitter(uint64_t d);
  uint64_t BackoffMs(uint32_t failures);
  // Tells on_unreachable, from a fresh handler.
  void ReportUnreachable(const Peer& peer);

  // peer_link::LinkOwner.
  void OnLinkPayload(const std::string& from,
                     std::string_view payload) override;
  void OnLinkReady(Link& link) override;
  void OnLinkDrained(Link& link) override;
  void OnLinkClosed(Link& link, CloseKind kind,
                    const std::string& reason) override;

  void Accept();
  void OnAccept(const boost::system::error_code& ec, tcp::socket socket);
  // Closes the oldest inbound connection still in its handshake; false if
  // there is none.
  bool CloseOldestUnauthenticated(const std::string& newcomer);

  PeerTransport::DeliverFn deliver;
  PeerTransport::UnreachableFn on_unreachable;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::mt19937_64 rng;
  bool started = false;
  bool stopped = false;
  uint64_t next_link_id = 1;
  std::unordered_map<uint64_t, std::weak_ptr<Link>> links;
  std::unordered_map<std::string, std::shared_ptr<Peer>> peers_by_name;
  std::unordered_map<std::string, std::shared_ptr<Peer>> peers_by_address;
};

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

Outgoing Hub::TakeQueued(Peer& peer) {
  Outgoing item = std::move(peer.queue.front());
  peer.queue.pop_front();
  const uint64_t size = item.body.size();
  peer.queued_bytes -= size;
  --stats.queued_messages;
  stats.queued_bytes -= size;
  return item;
}

void Hub::PruneExpired(Peer& peer) {
  const Clock::time_point now = Clock::now();
  const auto ttl = ClampedMs(options.queue_ttl_ms);
  while (!peer.queue.empty() && now - peer.queue.front().enqueued > ttl) {
    TakeQueued(peer);
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
    batch.push_back(TakeQueued(peer));
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

void Hub::OnLinkPayload(const std::string& from, std::string_view payload) {
  if (stopped || !deliver) return;
  deliver(from, payload);
}

void Hub::OnLinkClosed(Link& link, CloseKind kind, const std::string& reason) {
  links.erase(link.id());
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
  peer->next_attempt = Clock::now() + ClampedMs(delay_ms);
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
    WarnInbound("accept failed: " + ec.message());
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
  if (stats.unauthenticated_connections >= options.max_unauthenticated &&
      !CloseOldestUnauthenticated(remote)) {
    ++stats.unauthenticated_rejected;
    WarnInbound("refusing connection from " + remote + ": " +
                std::to_string(stats.unauthenticated_connections) +
                " unauthenticated connections already open");
    socket.close(ignored);
  } else {
    ++stats.connections_accepted;
    const uint64_t id = next_link_id++;
    auto link = std::make_shared<Link>(shared_from_this(), id, Role::kResponder,
                                       remote, "", std::weak_ptr<Peer>());
    links.emplace(id, link);
    link->Accepted(std::move(socket));
  }
  Accept();
}

// At the limit of connections still in their handshake, the oldest makes
// room: a real peer finishes its handshake within a round trip or two,
// while a flood's connections wait out the handshake deadline, so under a
// flood that keeps every slot full, refusing newcomers would lock real
// peers out for as long as it lasts, and evicting the oldest lets them in.
bool Hub::CloseOldestUnauthenticated(const std::string& newcomer) {
  std::shared_ptr<Link> oldest;
  for (auto& [id, weak] : links) {
    std::shared_ptr<Link> link = weak.lock();
    if (link && link->role() == Role::kResponder && link->InHandshake() &&
        (!oldest || link->id() < oldest->id())) {
      oldest = std::move(link);
    }
  }
  if (!oldest) return false;
  ++stats.unauthenticated_rejected;
  WarnInbound("closing unauthenticated connection from " + oldest->remote() +
              " to make room for " + newcomer + ": " +
              std::to_string(stats.unauthenticated_connections) +
              " unauthenticated connections open");
  oldest->Close("evicted by a newer unauthenticated connection",
                /*quiet=*/true);
  return true;
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
