#include "node/admin_http.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "base/printable.h"
#include "node/json.h"
#include "node/prometheus.h"
#include "node/stats.h"

namespace causeway::node {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class Session;

// How long a closing connection may keep sending before we hang up on it,
// and how much of it we read meanwhile (see Session::Linger).
constexpr std::chrono::milliseconds kLingerTimeout{2000};
constexpr size_t kLingerMaxBytes = 1 << 20;

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() ==
         http::make_error_code(http::error::bad_target).category();
}

// The listening side: routes, acceptor and the set of open sessions. Held
// by AdminHttp and by every operation in flight, so it outlives both.
struct Server : std::enable_shared_from_this<Server> {
  Server(net::io_context& io_context, AdminHttpOptions opts)
      : io(io_context),
        options(std::move(opts)),
        acceptor(io_context),
        retry_timer(io_context) {}

  void Accept();
  void OnAccept(const beast::error_code& ec, tcp::socket socket);
  // At the connection limit: closes the session that has waited longest
  // for a request (none being answered), so idle or dribbling clients
  // cannot lock out /ping; false if every session is busy.
  bool CloseIdlest();

  // Finds the handler for a request. `allow` receives the methods the path
  // accepts when the answer is 405.
  HttpResponse Dispatch(const HttpRequest& request, std::string* allow);

  net::io_context& io;
  AdminHttpOptions options;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  bool running = false;
  uint16_t bound_port = 0;
  // path -> method -> handler
  std::map<std::string, std::map<std::string, HttpHandler>> routes;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
};

// One client connection: read a request, answer it, repeat while the client
// keeps the connection alive. Owned by the completion handlers in flight
// (shared_from_this); the server only keeps a weak reference to close it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Server> server, tcp::socket socket)
      : server_(std::move(server)),
        stream_(std::move(socket)),
        buffer_(server_->options.max_header_bytes + 4096) {}

  ~Session() { server_->sessions.erase(this); }

  void Start() {
    server_->sessions.emplace(this, weak_from_this());
    ReadRequest();
  }

  // Since when the session waits for a request; empty while it answers.
  std::optional<std::chrono::steady_clock::time_point> idle_since;

  void Close() {
    idle_since.reset();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  std::chrono::milliseconds IdleTimeout() const {
    return std::chrono::milliseconds(server_->options.idle_timeout_ms);
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(server_->options.max_header_bytes);
    parser_->body_limit(server_->options.max_body_bytes);
    stream_.expires_after(IdleTimeout());
    idle_since = std::chrono::steady_clock::now();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const beast::error_code& ec,
                                                 size_t) { self->OnRead(ec); });
  }

  void OnRead(const beast::error_code& ec) {
    idle_since.reset();
    if (ec) {
      if (ec == http::error::end_of_stream ||
          ec == http::error::partial_message || !IsHttpParseError(ec)) {
        // The client went away, timed out, or we are stopping.
        Close();
        return;
      }
      unsigned status = 400;
      std::string body = "bad request: " + ec.message();
      if (ec == http::error::header_limit ||
          ec == http::error::buffer_overflow) {
        status = 431;
        body = "request header too large";
      } else if (ec == http::error::body_limit) {
        status = 413;
        body = "request body too large";
      }
      SendError(status, std::move(body));
      return;
    }

    const http::request<http::string_body>& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    request.body = message.body();
    request.host = std::string(message[http::field::host]);
    request.origin = std::string(message[http::field::origin]);

    std::string allow;
    HttpResponse reply = server_->Dispatch(request, &allow);

    response_ = {};
    response_.version(message.version());
    response_.result(reply.status);
    response_.set(http::field::server, "causeway");
    response_.set(http::field::content_type, reply.content_type);
    if (!allow.empty()) response_.set(http::field::allow, allow);
    response_.keep_alive(message.keep_alive());
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    // HEAD: the headers of the GET reply, Content-Length included, no body.
    if (message.method() == http::verb::head) response_.body().clear();
    Write(/*close_after=*/!message.keep_alive());
  }

  void SendError(unsigned status, std::string body) {
    response_ = {};
    response_.version(11);
    response_.result(status);
    response_.set(http::field::server, "causeway");
    response_.set(http::field::content_type, "text/plain; charset=utf-8");
    response_.keep_alive(false);
    response_.body() = std::move(body);
    response_.prepare_payload();
    Write(/*close_after=*/true);
  }

  void Write(bool close_after) {
    if (server_->options.before_send) server_->options.before_send();
    stream_.expires_after(IdleTimeout());
    http::async_write(stream_, response_,
                      [self = shared_from_this(), close_after](
                          const beast::error_code& ec, size_t) {
                        if (ec) {
                          self->Close();
                        } else if (close_after) {
                          self->Linger();
                        } else {
                          self->ReadRequest();
                        }
                      });
  }

  // Closing a socket that still has unread input makes the kernel send a
  // reset, which can destroy the reply we just wrote before the client reads
  // it. So: stop sending, then read and drop whatever the client still sends
  // (bounded in time and bytes), then close.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTimeout);
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(
        net::buffer(drain_),
        [self = shared_from_this()](const beast::error_code& ec, size_t n) {
          self->drained_ += n;
          if (ec || self->drained_ > kLingerMaxBytes) {
            self->Close();
          } else {
            self->DrainSome();
          }
        });
  }

  std::shared_ptr<Server> server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::array<char, 4096> drain_;
  size_t drained_ = 0;
};

HttpResponse TextResponse(unsigned status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

struct AdminHttp::Impl : Server {
  using Server::Server;
};

void Server::Accept() {
  acceptor.async_accept(io,
                        [self = shared_from_this()](const beast::error_code& ec,
                                                    tcp::socket socket) {
                          self->OnAccept(ec, std::move(socket));
                        });
}

void Server::OnAccept(const beast::error_code& ec, tcp::socket socket) {
  if (!running) return;
  if (ec) {
    // Out of descriptors and the like: try again shortly rather than spin.
    spdlog::warn("admin http: accept failed: {}", ec.message());
    retry_timer.expires_after(std::chrono::milliseconds(100));
    retry_timer.async_wait(
        [self = shared_from_this()](const beast::error_code& wait_ec) {
          if (!wait_ec && self->running) self->Accept();
        });
    return;
  }
  if (sessions.size() >= options.max_connections && !CloseIdlest()) {
    beast::error_code ignored;
    socket.close(ignored);
  } else {
    std::make_shared<Session>(shared_from_this(), std::move(socket))->Start();
  }
  Accept();
}

bool Server::CloseIdlest() {
  std::shared_ptr<Session> idlest;
  for (auto& [ptr, weak] : sessions) {
    std::shared_ptr<Session> s = weak.lock();
    if (s && s->idle_since && (!idlest || s->idle_since < idlest->idle_since)) {
      idlest = std::move(s);
    }
  }
  if (!idlest) return false;
  idlest->Close();
  return true;
}

HttpResponse Server::Dispatch(const HttpRequest& request, std::string* allow) {
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  if (method != "GET" && !MutationAllowed(request, options.host, bound_port)) {
    spdlog::warn("admin http: refused {} {} with Host '{}' and Origin '{}'",
                 request.method, request.path, Printable(request.host),
                 Printable(request.origin));
    return TextResponse(403, "forbidden: Host or Origin names another site");
  }
  auto path = routes.find(request.path);
  if (path != routes.end()) {
    auto handler = path->second.find(method);
    if (handler != path->second.end()) {
      try {
        return handler->second(request);
      } catch (const std::exception& e) {
        spdlog::error("admin http: {} {} failed: {}", request.method,
                      request.path, e.what());
        return TextResponse(500, "internal error");
      }
    }
    for (const auto& [m, h] : path->second) {
      if (!allow->empty()) allow->append(", ");
      allow->append(m);
      if (m == "GET") allow->append(", HEAD");
    }
    return TextResponse(405, "method not allowed");
  }
  // Whatever the method: a path that is not served does not exist (so
  // /faults/* on a node without fault injection is 404 to a POST as well).
  return TextResponse(404, "not found");
}

namespace {

bool IsIpLiteral(std::string_view name) {
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    return name.find_first_not_of("0123456789abcdefABCDEF:.", 1) ==
           name.size() - 1;
  }
  return !name.empty() &&
         name.find_first_not_of("0123456789.") == std::string_view::npos;
}

// "NAME" or "NAME:PORT" naming this server.
bool OwnAuthority(std::string_view authority, const std::string& listen_host,
                  uint16_t port) {
  std::string_view name = authority;
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.back() != ']') {
    if (authority.substr(colon + 1) != std::to_string(port)) return false;
    name = authority.substr(0, colon);
  }
  return IsIpLiteral(name) || name == "localhost" || name == listen_host;
}

}  // namespace

bool MutationAllowed(const HttpRequest& request, const std::string& listen_host,
                     uint16_t port) {
  if (!OwnAuthority(request.host, listen_host, port)) return false;
  if (request.origin.empty()) return true;
  constexpr std::string_view kScheme = "http://";
  const std::string_view origin = request.origin;
  return origin.substr(0, kScheme.size()) == kScheme &&
         OwnAuthority(origin.substr(kScheme.size()), listen_host, port);
}

AdminHttp::AdminHttp(net::io_context& io, AdminHttpOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

AdminHttp::~AdminHttp() { Stop(); }

void AdminHttp::Handle(const std::string& method, const std::string& path,
                       HttpHandler handler) {
  impl_->routes[path][method] = std::move(handler);
}

Status AdminHttp::Start() {
  if (impl_->running) return Status::InvalidArgument("admin http: started");
  const AdminHttpOptions& o = impl_->options;
  const std::string where = o.host + ":" + std::to_string(o.port);
  beast::error_code ec;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve(
      o.host, std::to_string(o.port),
      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Status::InvalidArgument("admin http: cannot resolve '" + o.host +
                                   "': " + ec.message());
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return Status::IoError("admin http: cannot listen on " + where + ": " +
                           ec.message());
  }
  impl_->bound_port = acceptor.local_endpoint(ec).port();
  impl_->running = true;
  impl_->Accept();
  return Status::Ok();
}

uint16_t AdminHttp::port() const { return impl_->bound_port; }

void AdminHttp::Stop() {
  if (!impl_->running) return;
  impl_->running = false;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->retry_timer.cancel();
  // Closing ends each session's pending operation; the session then drops
  // itself. Copy first: closing edits the map.
  std::vector<std::shared_ptr<Session>> open;
  for (auto& [ptr, weak] : impl_->sessions) {
    if (auto s = weak.lock()) open.push_back(std::move(s));
  }
  for (auto& s : open) s->Close();
}

size_t AdminHttp::open_connections() const { return impl_->sessions.size(); }

namespace {

// Renders the extra members into the object Stats::ToJson made.
std::string WithExtras(std::string object, const StatsExtras& extras) {
  if (extras.json.empty() || object.empty() || object.back() != '}') {
    return object;
  }
  object.pop_back();
  bool empty_object = object.size() == 1;  // just "{"
  for (const auto& [key, render] : extras.json) {
    if (!empty_object) object.push_back(',');
    empty_object = false;
    AppendJsonString(&object, key);
    object.push_back(':');
    object += render ? render() : std::string("null");
  }
  object.push_back('}');
  return object;
}

}  // namespace

void AddStatsRoutes(AdminHttp& http, std::string node_name, Stats& stats,
                    std::function<void(Stats&)> refresh, StatsExtras extras) {
  auto name = std::make_shared<const std::string>(std::move(node_name));
  auto fill = std::make_shared<std::function<void(Stats&)>>(std::move(refresh));
  auto more = std::make_shared<const StatsExtras>(std::move(extras));
  http.Handle("GET", "/ping",
              [](const HttpRequest&) { return TextResponse(200, "OK"); });
  http.Handle("GET", "/stats", [name, fill, more, &stats](const HttpRequest&) {
    if (*fill) (*fill)(stats);
    HttpResponse r;
    r.content_type = "application/json";
    r.body = WithExtras(stats.ToJson(*name), *more);
    return r;
  });
  http.Handle("GET", "/metrics",
              [name, fill, more, &stats](const HttpRequest&) {
                if (*fill) (*fill)(stats);
                HttpResponse r;
                r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                r.body = stats.ToPrometheus(*name);
                if (more->prometheus) r.body += more->prometheus();
                return r;
              });
}

namespace {

// One number shown in /stats (`json`, when the caller renders JSON from
// the list) and /metrics (`metric`, one sample).
struct Figure {
  const char* json;
  const char* metric;
  const char* help;
  bool counter;
  uint64_t value;
};

// The peer transport's figures, in the order both renderings use.
std::vector<Figure> PeerFigures(const PeerTransportStats& s) {
  return {
      {"messages_sent", "causeway_peer_messages_sent_total",
       "Messages sent to peers.", true, s.messages_sent},
      {"bytes_sent", "causeway_peer_bytes_sent_total",
       "Payload bytes sent to peers.", true, s.bytes_sent},
      {"messages_received", "causeway_peer_messages_received_total",
       "Messages received from peers.", true, s.messages_received},
      {"bytes_received", "causeway_peer_bytes_received_total",
       "Payload bytes received from peers.", true, s.bytes_received},
      {"dropped", "causeway_peer_dropped_total",
       "Messages to peers dropped, for any reason.", true, s.dropped()},
      {"dropped_queue_full", "causeway_peer_dropped_queue_full_total",
       "Messages dropped because a peer's queue was full.", true,
       s.dropped_queue_full},
      {"dropped_expired", "causeway_peer_dropped_expired_total",
       "Messages dropped after waiting too long for a peer.", true,
       s.dropped_expired},
      {"dropped_too_large", "causeway_peer_dropped_too_large_total",
       "Messages dropped for being over the frame limit.", true,
       s.dropped_too_large},
      {"dropped_unroutable", "causeway_peer_dropped_unroutable_total",
       "Messages dropped for want of a peer address.", true,
       s.dropped_unroutable},
      {"dropped_in_flight", "causeway_peer_dropped_in_flight_total",
       "Messages lost with a connection that failed while sending them.", true,
       s.dropped_in_flight},
      {"connects_attempted", "causeway_peer_connects_attempted_total",
       "Outbound peer connections attempted.", true, s.connects_attempted},
      {"connect_failures", "causeway_peer_connect_failures_total",
       "Outbound peer connections that failed to connect.", true,
       s.connect_failures},
      {"handshake_failures", "causeway_peer_handshake_failures_total",
       "Peer connections refused or failed during the handshake.", true,
       s.handshake_failures},
      {"connections_accepted", "causeway_peer_connections_accepted_total",
       "Inbound peer connections accepted.", true, s.connections_accepted},
      {"connections_rejected", "causeway_peer_connections_rejected_total",
       "Authenticated inbound peer connections refused over the limit.", true,
       s.connections_rejected},
      {"unauthenticated_rejected",
       "causeway_peer_unauthenticated_rejected_total",
       "Inbound peer connections refused over the unauthenticated limit.", true,
       s.unauthenticated_rejected},
      {"handshake_timeouts", "causeway_peer_handshake_timeouts_total",
       "Peer connections closed for not finishing the handshake in time.", true,
       s.handshake_timeouts},
      {"frames_rejected", "causeway_peer_frames_rejected_total",
       "Peer frames over the size limit.", true, s.frames_rejected},
      {"connected_peers", "causeway_peer_connected",
       "Authenticated outbound peer connections.", false, s.connected_peers},
      {"inbound_connections", "causeway_peer_inbound_connections",
       "Authenticated inbound peer connections.", false, s.inbound_connections},
      {"unauthenticated_connections",
       "causeway_peer_unauthenticated_connections",
       "Inbound peer connections still in the handshake.", false,
       s.unauthenticated_connections},
      {"queued_messages", "causeway_peer_queued_messages",
       "Messages waiting in peer queues.", false, s.queued_messages},
      {"queued_bytes", "causeway_peer_queued_bytes",
       "Payload bytes waiting in peer queues.", false, s.queued_bytes},
  };
}

}  // namespace

std::string PeerStatsJson(const PeerTransportStats& stats) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  for (const Figure& f : PeerFigures(stats)) {
    w.Key(f.json);
    w.Uint(f.value);
  }
  w.EndObject();
  return out;
}

namespace {

// Families of one sample each, labelled with the node name.
std::string FiguresPrometheus(const std::vector<Figure>& figures,
                              const std::string& node_name) {
  std::string out;
  PrometheusWriter w(&out, node_name);
  for (const Figure& f : figures) {
    if (f.counter) {
      w.Counter(f.metric, f.help, f.value);
    } else {
      w.Gauge(f.metric, f.help, f.value);
    }
  }
  return out;
}

}  // namespace

std::string PeerStatsPrometheus(const PeerTransportStats& stats,
                                const std::string& node_name) {
  return FiguresPrometheus(PeerFigures(stats), node_name);
}

std::string AaeStatsPrometheus(const replication::aae::AaeStatus& a,
                               const std::string& node_name) {
  uint64_t not_ready = 0;
  for (const auto& p : a.partitions) not_ready += !p.ready;
  return FiguresPrometheus(
      {{"", "causeway_aae_exchanges_total",
        "Anti-entropy exchanges this node started that completed.", true,
        a.exchanges},
       {"", "causeway_aae_exchanges_failed_total",
        "Anti-entropy exchanges this node started that failed.", true,
        a.exchanges_failed},
       {"", "causeway_aae_keys_repaired_total",
        "Keys repaired by anti-entropy.", true, a.keys_repaired},
       {"", "causeway_aae_tombstones_reaped_total", "Tombstones reaped.", true,
        a.tombstones_reaped},
       {"", "causeway_aae_bytes_sent_total",
        "Bytes of anti-entropy messages sent.", true, a.bytes_sent},
       {"", "causeway_aae_bytes_received_total",
        "Bytes of anti-entropy messages received.", true, a.bytes_received},
       {"", "causeway_aae_rebuilds_total", "Hash tree rebuilds finished.", true,
        a.rebuilds_done},
       {"", "causeway_aae_rebuilds_pending",
        "Partitions awaiting a tree rebuild or the index sum at start.", false,
        a.rebuilds_pending},
       {"", "causeway_aae_partitions_not_ready",
        "Partitions whose tree is not ready for exchanges.", false, not_ready}},
      node_name);
}

std::string AaeStatsJson(const replication::aae::AaeStatus& a) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("enabled");
  w.Bool(a.enabled);
  w.Key("exchanges");
  w.Uint(a.exchanges);
  w.Key("exchanges_failed");
  w.Uint(a.exchanges_failed);
  w.Key("keys_repaired");
  w.Uint(a.keys_repaired);
  w.Key("tombstones_reaped");
  w.Uint(a.tombstones_reaped);
  w.Key("bytes_sent");
  w.Uint(a.bytes_sent);
  w.Key("bytes_received");
  w.Uint(a.bytes_received);
  w.Key("rebuilds_done");
  w.Uint(a.rebuilds_done);
  w.Key("rebuilds_pending");
  w.Uint(a.rebuilds_pending);
  w.Key("partitions");
  w.BeginArray();
  for (const auto& p : a.partitions) {
    w.BeginObject();
    w.Key("partition");
    w.Uint(p.partition);
    w.Key("ready");
    w.Bool(p.ready);
    w.Key("root");
    w.Uint(p.root);
    w.Key("exchanges");
    w.Uint(p.exchanges);
    w.Key("keys_repaired");
    w.Uint(p.keys_repaired);
    w.Key("tombstones_reaped");
    w.Uint(p.tombstones_reaped);
    w.Key("last_exchange_ms_ago");
    if (p.last_exchange_wall_ms == 0) {
      w.Null();
    } else {
      w.Uint(a.now_wall_ms > p.last_exchange_wall_ms
                 ? a.now_wall_ms - p.last_exchange_wall_ms
                 : 0);
    }
    w.Key("last_peer");
    w.String(p.last_peer);
    w.Key("last_error");
    w.String(p.last_error);
    w.Key("rebuild");
    if (!p.rebuild) {
      w.Null();
    } else {
      w.BeginObject();
      w.Key("phase");
      w.Uint(static_cast<uint64_t>(p.rebuild->phase));
      w.Key("keys_scanned");
      w.Uint(p.rebuild->keys_scanned);
      w.Key("segments_done");
      w.Uint(p.rebuild->segments_done);
      w.Key("sum_at_start");
      w.Bool(p.rebuild->sum_at_start);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

namespace {

void WriteMembers(JsonWriter& w,
                  const std::vector<replication::MemberView>& members) {
  w.BeginArray();
  for (const replication::MemberView& m : members) {
    w.BeginObject();
    w.Key("name");
    w.String(m.name);
    w.Key("address");
    w.String(m.address);
    w.Key("status");
    w.String(m.status);
    w.Key("up");
    w.Bool(m.up);
    w.Key("last_heard_ms_ago");
    w.Uint(m.last_heard_ms_ago);
    w.Key("partitions");
    w.Uint(m.partitions);
    w.Key("next_partitions");
    w.Uint(m.next_partitions);
    w.EndObject();
  }
  w.EndArray();
}

void WriteHandoff(JsonWriter& w,
                  const replication::handoff::HandoffProgress& h) {
  w.BeginObject();
  w.Key("hints_pending");
  w.Uint(h.hints_pending);
  w.Key("hints_delivered");
  w.Uint(h.hints_delivered);
  w.Key("transfer_running");
  w.Bool(h.transfer_running);
  w.Key("transfer_ring_version");
  w.Uint(h.transfer_ring_version);
  w.Key("transfer_keys_scanned");
  w.Uint(h.transfer_keys_scanned);
  w.Key("transfer_keys_done");
  w.Uint(h.transfer_keys_done);
  w.Key("transfer_partition");
  w.Uint(h.transfer_partition);
  w.Key("cleanup_running");
  w.Bool(h.cleanup_running);
  w.Key("cleanup_keys_done");
  w.Uint(h.cleanup_keys_done);
  w.EndObject();
}

// The outbound peers, or null for a node without a peer transport.
void WritePeers(JsonWriter& w, const std::vector<PeerView>* peers) {
  if (peers == nullptr) {
    w.Null();
    return;
  }
  w.BeginArray();
  for (const PeerView& p : *peers) {
    w.BeginObject();
    w.Key("name");
    w.String(p.name);
    w.Key("address");
    w.String(p.address);
    w.Key("state");
    w.String(p.state);
    w.Key("queued_messages");
    w.Uint(p.queued_messages);
    w.Key("queued_bytes");
    w.Uint(p.queued_bytes);
    w.Key("consecutive_failures");
    w.Uint(p.consecutive_failures);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string ClusterJson(const ClusterPage& page) {
  const replication::ClusterView& v = page.view;
  std::string out;
  out.reserve(1024 + 32 * v.owners.size());
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("node");
  w.String(v.self);
  w.Key("cluster_name");
  w.String(page.cluster_name);
  w.Key("claimant");
  w.String(v.claimant);
  w.Key("ring_version");
  w.Uint(v.ring_version);
  w.Key("ring_size");
  w.Uint(v.ring_size);
  w.Key("members");
  WriteMembers(w, v.members);
  w.Key("pending_transfers");
  w.Uint(v.pending_transfers);
  w.Key("transfers_done");
  w.Strings(v.transfers_done);
  w.Key("handoff");
  WriteHandoff(w, v.handoff);
  w.Key("owners");
  w.Strings(v.owners);
  w.Key("next_owners");
  w.Strings(v.next_owners);
  w.Key("ready_to_exit");
  w.Bool(page.ready_to_exit);
  w.Key("aae");
  if (page.aae) {
    w.Raw(AaeStatsJson(*page.aae));
  } else {
    w.Null();
  }
  w.Key("peers");
  WritePeers(w, page.peers);
  w.EndObject();
  return out;
}

}  // namespace causeway::node
