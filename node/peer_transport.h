#pragma once
// PeerTransport: the node process's replication::Network, authenticated TCP
// between Causeway nodes on the node's one io_context (the logic thread; no
// locks, nothing here may be touched from another thread).
//
// Promises:
// - Every connection, in both directions, completes a mutual handshake before
//   a single payload byte is read or written: each side names its cluster and
//   node and proves that it holds the shared cluster secret (HMAC-SHA256 over
//   the names, both nonces and its role, compared in constant time). The side
//   that accepted sends only a nonce until the caller's proof checks out, so
//   the peer port names neither cluster nor node to a stranger. Wrong
//   cluster, bad proof, an unexpected name or a timeout closes the connection
//   with a warning naming the remote address and the reason (for inbound
//   connections, at most a line a second, counting the rest).
// - Inbound connections still in the handshake are limited apart from
//   authenticated ones (max_unauthenticated, max_inbound_connections): a
//   flood of strangers is refused without using up the room of real peers,
//   and each stranger is closed after handshake_timeout_ms.
// - Frames are a 4-byte big-endian length and that many bytes. A length over
//   the limit closes the connection before anything is allocated for it;
//   until a connection is authenticated the limit is a few KiB.
// - Send() never blocks and never grows memory without bound: each peer has
//   one outbound queue, bounded in bytes and in messages; over the bound, or
//   older than the queue TTL while the peer cannot be reached, a message is
//   dropped and counted. The core copes (timeouts, retries, idempotent
//   merges). Outbound connections are made on demand, one per peer name (per
//   address when the name is not known yet, as when joining through a seed),
//   and remade after failures with jittered exponential backoff; an
//   authenticated inbound connection from the peer ends that backoff (the
//   peer is up).
// - Authenticated payloads from any connection are handed to the deliver
//   callback with the name the peer proved, in the order they arrived on that
//   connection.
//
// Ownership: the caller owns the io_context, which must outlive the
// transport and be run for anything to happen. The transport owns its
// sockets, timers and queues; Stop() (also run by the destructor) closes
// them all, and no callback runs after it. After Stop(), Send() drops.
//
// The handshake authenticates peers; it does not encrypt or sign the frames
// that follow. A network that can rewrite TCP streams between nodes can
// still inject frames on an authenticated connection: run the peer port on a
// trusted network or under TLS/WireGuard.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replication/network.h"

namespace boost::asio {
class io_context;
}

namespace causeway::node {

struct PeerTransportOptions {
  // Where to listen; port 0 picks a free port (see PeerTransport::port()).
  std::string host = "127.0.0.1";
  uint16_t port = 8099;
  // This node's name as the ring knows it, and its cluster's name. A peer
  // naming another cluster, or claiming this node's name, is refused.
  std::string node_name = "causeway@127.0.0.1";
  std::string cluster_name = "causeway";
  // Shared by every node of the cluster; arbitrary bytes. Empty works (every
  // node must then have it empty) but authenticates nothing; Start() warns.
  std::string secret;

  uint64_t connect_timeout_ms = 3000;  // resolve + TCP connect
  // Connected to authenticated, both directions; an inbound connection
  // still unauthenticated then is closed.
  uint64_t handshake_timeout_ms = 2000;
  // A write that has not completed after this long means the peer stopped
  // reading or vanished without a reset: the connection is remade.
  uint64_t write_timeout_ms = 10000;
  // An inbound connection that has carried nothing for this long is closed.
  // The core sends heartbeats four times a second, so only a connection whose
  // other end is gone or has moved on to another connection goes quiet.
  uint64_t idle_timeout_ms = 30000;

  // Called before every write to a socket; a node flushes its storage log
  // here so that no reply goes out ahead of the writes it may report
  // (storage::Engine::FlushLog). Empty: nothing.
  std::function<void()> before_send;

  uint32_t max_frame_bytes = 64u << 20;
  // Per peer. A message that does not fit is dropped.
  uint64_t max_queue_bytes = 16u << 20;
  uint32_t max_queue_messages = 8192;
  // Queued messages older than this are dropped instead of sent: the core
  // has given up on them by then.
  uint64_t queue_ttl_ms = 5000;

  // Reconnect delays: the n-th consecutive failure waits a random time in
  // [d/2, d] with d = min(backoff_min * 2^(n-1), backoff_max).
  uint64_t reconnect_backoff_min_ms = 100;
  uint64_t reconnect_backoff_max_ms = 5000;

  // Authenticated inbound connections, at most. Connections still in the
  // handshake are counted apart, against max_unauthenticated, so callers
  // that have proved nothing can never use up the room of real peers. One
  // more authenticated connection is refused; one more in the handshake
  // closes the oldest still in its handshake (a flood cannot hold the
  // slots against real peers, whose handshakes finish within round trips).
  uint32_t max_inbound_connections = 256;
  uint32_t max_unauthenticated = 32;
};

// Counters since construction, and a few gauges (current values).
struct PeerTransportStats {
  uint64_t messages_sent = 0;  // payloads handed to the kernel
  uint64_t bytes_sent = 0;     // payload bytes, framing excluded
  uint64_t messages_received = 0;
  uint64_t bytes_received = 0;

  // Dropped messages, by reason.
  uint64_t dropped_queue_full = 0;  // over the byte or message bound
  uint64_t dropped_expired = 0;     // older than queue_ttl_ms
  uint64_t dropped_too_large = 0;   // payload over max_frame_bytes
  uint64_t dropped_unroutable = 0;  // neither name nor address, or stopped
  uint64_t dropped_in_flight = 0;   // being written when the connection died
  uint64_t dropped() const {
    return dropped_queue_full + dropped_expired + dropped_too_large +
           dropped_unroutable + dropped_in_flight;
  }

  uint64_t connects_attempted = 0;
  uint64_t connect_failures = 0;  // resolve, connect or timeout
  uint64_t handshake_failures = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;      // authenticated, over the limit
  uint64_t unauthenticated_rejected = 0;  // refused or evicted over
                                          // max_unauthenticated
  uint64_t handshake_timeouts = 0;        // also in handshake_failures
  uint64_t frames_rejected = 0;           // authenticated frame over the limit

  // Gauges.
  uint64_t connected_peers = 0;      // authenticated outbound connections
  uint64_t inbound_connections = 0;  // authenticated inbound connections
  uint64_t unauthenticated_connections = 0;  // inbound, in the handshake
  uint64_t queued_messages = 0;
  uint64_t queued_bytes = 0;
};

// One outbound peer, for the admin pages.
struct PeerView {
  std::string name;  // empty for a peer known only by address
  std::string address;
  std::string state;  // idle, connecting, connected, backoff
  uint64_t queued_messages = 0;
  uint64_t queued_bytes = 0;
  uint32_t consecutive_failures = 0;
};

class PeerTransport : public replication::Network {
 public:
  using DeliverFn =
      std::function<void(const std::string& from, std::string_view payload)>;
  // Told each time an attempt to reach a peer fails (connect or handshake),
  // so whoever waits on it need not wait for a timeout. Not told for
  // messages queued while the transport backs off: the peer may be back,
  // and the next attempt will tell. `name` is empty for a peer known by
  // address only. Runs from the io_context, never inside Send().
  using UnreachableFn =
      std::function<void(const std::string& name, const std::string& address,
                         const std::string& reason)>;

  // `deliver` gets every authenticated payload (normally bound to
  // NodeCore::OnPeerMessage); it may call Send() and Stop().
  PeerTransport(boost::asio::io_context& io, PeerTransportOptions options,
                DeliverFn deliver);
  ~PeerTransport() override;
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds and starts accepting. Send() works without it (outbound only).
  Status Start();
  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;
  // Closes the listener and every connection and drops every queue.
  void Stop();
  void OnUnreachable(UnreachableFn fn);

  // replication::Network. `to` may be empty (then `address` keys the
  // connection and the peer may have any name); `address` is HOST:PORT and
  // may be empty only for a peer already known by name.
  void Send(const replication::NodeName& to, const std::string& address,
            std::string payload) override;

  PeerTransportStats stats() const;
  std::vector<PeerView> Peers() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace causeway::node
