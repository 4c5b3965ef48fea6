#pragma once
// AdminHttp: the node's small HTTP/1.1 server for operators and scripts,
// running on the node's io_context (so handlers run on the logic thread and
// may read node state directly). Routes are registered by exact path and
// method; a path with no route gets 404 whatever the method, a known path
// with a method it does not take gets 405. HEAD is answered for GET routes.
//
// Every connection is bounded: request headers and bodies have small size
// limits, an idle or slow connection is closed after a timeout, and the
// number of connections is capped. A malformed or oversized request gets an
// error reply and its connection is closed; other connections never notice.
// Keep-alive is supported. Beast stays out of this header.
//
// AddStatsRoutes installs the standard /ping, /stats and /metrics; other
// routes (cluster state, fault injection) are added with Handle(). The
// renderers at the end turn cluster and peer state into those pages.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "node/peer_transport.h"
#include "replication/core.h"

namespace boost::asio {
class io_context;
}

namespace causeway::node {

struct Stats;

struct AdminHttpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8098;  // 0 picks a free port
  // At the limit, a new connection closes the one that has waited longest
  // for a request; it is refused only when every connection is busy.
  uint32_t max_connections = 64;
  uint32_t max_header_bytes = 8 * 1024;
  uint32_t max_body_bytes = 64 * 1024;
  // A connection that sends nothing for this long (mid-request or between
  // keep-alive requests) is closed.
  uint32_t idle_timeout_ms = 30000;
  // Called before every write to a socket; a node flushes its storage log
  // here so that no reply goes out ahead of the writes it may report
  // (storage::Engine::FlushLog). Empty: nothing.
  std::function<void()> before_send;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string host;    // the Host header; empty if none
  std::string origin;  // the Origin header; empty if none
  std::string target;  // as sent: path and query
  std::string path;    // target up to '?'
  std::string query;   // after '?', undecoded; empty if none
  std::string body;
};

// Whether a request that changes something (any method but GET and HEAD)
// may run: its Host names this server (an IP literal, "localhost" or the
// configured listen host, with the port it listens on) and its Origin, if
// any, is "http://" and such a Host. A web page the operator visits can
// make the browser send a POST here, but not with these headers: a foreign
// page's Origin is its own, and a DNS-rebound name is not an IP literal.
bool MutationAllowed(const HttpRequest& request, const std::string& listen_host,
                     uint16_t port);

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class AdminHttp {
 public:
  AdminHttp(boost::asio::io_context& io, AdminHttpOptions options);
  // Stops the server if it is running.
  ~AdminHttp();
  AdminHttp(const AdminHttp&) = delete;
  AdminHttp& operator=(const AdminHttp&) = delete;

  // Registers (or replaces) the handler for `method` and exact `path`. Call
  // before Start() or from the logic thread.
  void Handle(const std::string& method, const std::string& path,
              HttpHandler handler);

  // Binds and starts accepting.
  Status Start();
  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;
  // Stops accepting and closes every connection. Idempotent.
  void Stop();
  size_t open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Parts of the node that keep counters of their own (the peer transport)
// and show them next to Stats.
struct StatsExtras {
  // Extra members of the /stats object: key -> a function returning the
  // member's JSON value, rendered after Stats' own members.
  std::map<std::string, std::function<std::string()>> json;
  // Appended to /metrics; complete Prometheus text (HELP, TYPE, samples).
  std::function<std::string()> prometheus;
};

// Installs GET /ping ("OK"), /stats (Stats::ToJson) and /metrics
// (Stats::ToPrometheus). `refresh`, if set, runs just before each render to
// fill in the values that live outside Stats (uptime, disk and RSS bytes).
// `stats` must outlive the server.
void AddStatsRoutes(AdminHttp& http, std::string node_name, Stats& stats,
                    std::function<void(Stats&)> refresh,
                    StatsExtras extras = {});

// The peer transport's counters and gauges as one JSON object (the "peer"
// member of /stats).
std::string PeerStatsJson(const PeerTransportStats& stats);
// The same as Prometheus families named causeway_peer_*, labelled with the
// node name.
std::string PeerStatsPrometheus(const PeerTransportStats& stats,
                                const std::string& node_name);

// What GET /cluster shows.
struct ClusterPage {
  replication::ClusterView view;
  std::string cluster_name;
  bool ready_to_exit = false;
  // Anti-entropy, rendered as in /stats; null when absent.
  std::optional<replication::aae::AaeStatus> aae;
  // Outbound peer connections; absent for a node without a peer transport.
  const std::vector<PeerView>* peers = nullptr;
};

// Anti-entropy as one JSON object (the "aae" member of /stats):
//   {"enabled", "exchanges", "exchanges_failed", "keys_repaired",
//    "tombstones_reaped", "bytes_sent", "bytes_received", "rebuilds_done",
//    "rebuilds_pending",
//    "partitions": [{"partition", "ready", "root", "exchanges",
//                    "keys_repaired",
//                    "tombstones_reaped", "last_exchange_ms_ago" (null:
//                    never), "last_peer", "last_error",
//                    "rebuild": null | {"phase", "keys_scanned",
//                                       "segments_done", "sum_at_start"}}]}
std::string AaeStatsJson(const replication::aae::AaeStatus& status);
// The totals as Prometheus families named causeway_aae_*, labelled with the
// node name.
std::string AaeStatsPrometheus(const replication::aae::AaeStatus& status,
                               const std::string& node_name);

// GET /cluster as one JSON object:
//   {"node", "cluster_name", "claimant", "ring_version", "ring_size",
//    "members": [{"name", "address", "status", "up", "last_heard_ms_ago",
//                 "partitions", "next_partitions"}],
//    "pending_transfers", "transfers_done": [names],
//    "handoff": {hints_pending, hints_delivered, transfer_running,
//                transfer_ring_version, transfer_keys_scanned,
//                transfer_keys_done, transfer_partition, cleanup_running,
//                cleanup_keys_done},
//    "owners": [name per partition], "next_owners": [same, or empty when
//    no change is pending], "ready_to_exit", "aae" (as in /stats, or null),
//    "peers": [{"name", "address", "state", "queued_messages",
//               "queued_bytes", "consecutive_failures"}] (or null)}
std::string ClusterJson(const ClusterPage& page);

}  // namespace causeway::node
