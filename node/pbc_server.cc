#include "node/pbc_server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "node/pbc_client_bounds.h"
#include "node/pbc_codec.h"
#include "node/pbc_handler.h"
#include "node/pbc_tls.h"
#include "node/stats.h"
#include "replication/core.h"

namespace causeway::node {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// Bytes asked of the socket per read.
constexpr size_t kReadChunk = 64 << 10;
// While this much output waits, no new request is read: a client that
// pipelines without reading its replies is slowed by TCP, not buffered.
constexpr size_t kPauseReadingBytes = 4 << 20;
// Output a connection may have pending before it is closed. Only a single
// reply stream (a large key listing to a client that does not read) can get
// here, since reading pauses long before.
constexpr size_t kMaxPendingOutput = 64 << 20;
// Frames handed to the kernel in one gathered write.
constexpr size_t kMaxWriteBatch = 64;
// After a fatal error reply, input is drained (and dropped) for at most this
// long and this many bytes before the socket is closed: closing with unread
// input makes the kernel send a reset, which can destroy the reply before
// the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 1 << 20;
// Pause before accepting again after an accept error (e.g. out of file
// descriptors), so the loop does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
// At most one log line per interval for each kind of bounded close; the
// next line says how many were held back.
constexpr auto kBoundsLogInterval = std::chrono::seconds(1);
// The TLS handshake's time limit when the frame deadline is off.
constexpr auto kDefaultHandshakeTime = std::chrono::seconds(10);

// The client's address as a source rule would name it: an IPv4 client of
// a dual-stack listener as plain IPv4.
std::string AddressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6())
        .to_string();
  }
  return address.to_string();
}

class Connection;

// Everything connections and the accept loop share. Held by shared_ptr so
// handlers still queued on the io_context after the server is gone find
// it alive (and closed).
struct Shared {
  Shared(asio::io_context& io, replication::NodeCore& core, Stats& s,
         PbcServerOptions o)
      : io(io),
        stats(s),
        options(std::move(o)),
        handler(core, s,
                PbcHandlerOptions{options.server_version,
                                  options.max_frame_bytes,
                                  {},
                                  options.admin_from_any_address,
                                  options.security}),
        acceptor(io),
        retry_timer(io),
        drain_timer(io),
        budget(options.buffer_budget_bytes),
        deadline_log(kBoundsLogInterval),
        budget_log(kBoundsLogInterval),
        tls_log(kBoundsLogInterval) {}

  // How long a client has to finish the TLS handshake.
  std::chrono::milliseconds HandshakeTime() const {
    if (options.frame_deadline_ms == 0) return kDefaultHandshakeTime;
    return std::chrono::milliseconds(options.frame_deadline_ms);
  }

  // A connection left the map: the drain may be complete.
  void FinishDrainIfIdle() {
    if (!draining || drain_done.empty()) return;
    // A connection destroyed without closing (its last holder dropped it)
    // must not hold the drain open.
    std::erase_if(connections,
                  [](const auto& entry) { return entry.second.expired(); });
    if (!connections.empty()) return;
    drain_timer.cancel();
    // Posted, so a caller that destroys the server from `done` does not do
    // so under a connection's feet.
    for (auto& done : drain_done) asio::post(io, std::move(done));
    drain_done.clear();
  }

  asio::io_context& io;
  Stats& stats;
  PbcServerOptions options;
  PbcHandler handler;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  asio::steady_timer drain_timer;
  bool accepting = false;
  bool stopped = false;
  bool draining = false;
  std::vector<std::function<void()>> drain_done;
  uint64_t next_connection_id = 1;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;
  // Partial-frame bytes held by all connections, and the log limiters of
  // the closes a client flood could cause.
  BufferBudget budget;
  LogLimiter deadline_log;
  LogLimiter budget_log;
  LogLimiter tls_log;
  // Set by PbcServer::Start() when TLS is configured.
  std::unique_ptr<ssl::context> tls_context;
};

// Logs `message` at info unless a line of its kind went out within the
// last interval; the next line that does go out counts the ones held back.
void LogLimited(LogLimiter& limiter, const std::string& message) {
  if (auto line = limiter.Line(std::chrono::steady_clock::now(), message)) {
    spdlog::info("pbc: {}", *line);
  }
}

// One client connection: reads frames, hands them to the handler one at a
// time, and writes replies in order from a bounded queue.
class Connection : public PbcResponder,
                   public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Shared> shared, tcp::socket socket, uint64_t id)
      : shared_(std::move(shared)),
        socket_(std::move(socket)),
        id_(id),
        decoder_(shared_->options.max_frame_bytes),
        linger_timer_(shared_->io),
        clock_(std::chrono::milliseconds(shared_->options.idle_timeout_ms),
               std::chrono::milliseconds(shared_->options.frame_deadline_ms),
               std::chrono::steady_clock::now()),
        bounds_timer_(shared_->io),
        handshake_timer_(shared_->io) {
    decoder_.set_admit([this](size_t bytes) { return Charge(bytes); });
  }

  ~Connection() override { Charge(0); }

  void Start() {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    const tcp::endpoint remote = socket_.remote_endpoint(ec);
    loopback_ = !ec && remote.address().is_loopback();
    if (!ec) session_.address = AddressText(remote.address());
    Pump();
    ArmBoundsTimer();
  }

  // PbcResponder.
  bool FromLoopback() const override { return loopback_; }
  Session& session() override { return session_; }

  TlsStart StartTls() override {
    if (tls_ || tls_pending_) return TlsStart::kAlreadyTls;
    if (!shared_->tls_context) return TlsStart::kNotConfigured;
    // Whatever was read after the request came in plain text; the client
    // was to wait for the answer before starting the handshake.
    if (decoder_.pending_frames() > 0 || decoder_.partial_bytes() > 0) {
      return TlsStart::kPipelined;
    }
    tls_pending_ = true;  // OnWrite starts the handshake after the answer
    return TlsStart::kStarted;
  }
  void Send(std::string frame) override {
    if (closed_) return;
    queued_bytes_ += frame.size();
    // A lone reply is let through whatever its size (it is built already);
    // only output piling up behind unread replies counts against the limit.
    if (queue_.size() > 0 && queued_bytes_ > kMaxPendingOutput) {
      spdlog::warn(
          "pbc: closing connection {}: over {} bytes of replies "
          "unread by the client",
          id_, kMaxPendingOutput);
      CloseNow();
      return;
    }
    queue_.push_back(std::move(frame));
    StartWrite();
  }

  void Close() override {
    if (closed_ || closing_) return;
    closing_ = true;
    if (queue_.empty() && !writing_) Linger();
  }

  void RequestDone() override {
    busy_ = false;
    clock_.Activity(std::chrono::steady_clock::now());
    ArmBoundsTimer();
    // Called from inside Pump when the core answered at once: Pump's loop
    // picks up the next frame, so the stack does not grow per request.
    if (!in_pump_) Pump();
  }

  // Closes the socket at once, dropping unsent output.
  void CloseNow() {
    if (closed_) return;
    closed_ = true;
    linger_timer_.cancel();
    bounds_timer_.cancel();
    handshake_timer_.cancel();
    Charge(0);
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    // A write in flight still points into the queue; it is freed with the
    // connection once that write has completed.
    if (!writing_) queue_.clear();
    queued_bytes_ = 0;
    if (shared_->stats.connections_open > 0) --shared_->stats.connections_open;
    shared_->connections.erase(id_);
    shared_->FinishDrainIfIdle();
  }

  // The server is shutting down gracefully: read no new request; close once
  // the one in flight (if any) has finished and its replies are written.
  void BeginDrain() {
    if (closed_ || draining_) return;
    draining_ = true;
    // Inside Pump (Drain called from a reply callback) the loop sees the
    // flag; a busy connection closes from RequestDone.
    if (!in_pump_ && !busy_) Close();
  }

 private:
  // Serves buffered frames one at a time, then reads more if allowed.
  void Pump() {
    if (in_pump_) return;
    in_pump_ = true;
    auto self = shared_from_this();  // Handle may end in CloseNow
    while (!closed_ && !closing_ && !busy_) {
      if (draining_) {
        // Frames already buffered were never started; they are dropped
        // with the connection, as if they had arrived after the close.
        Close();
        break;
      }
      Frame frame;
      if (decoder_.Next(&frame)) {
        busy_ = true;
        shared_->handler.Handle(std::move(frame), self);
        continue;
      }
      if (decoder_.error() == FrameDecoder::Error::kRefused) {
        CloseOverBudget();
      } else if (decoder_.failed()) {
        spdlog::info("pbc: connection {}: {}", id_, decoder_.ErrorMessage());
        shared_->handler.RejectStream(decoder_, *this);
      } else if (peer_done_) {
        // The client finished sending; answer what it sent, then close.
        Close();
      }
      break;
    }
    in_pump_ = false;
    MaybeRead();
  }

  void MaybeRead() {
    if (reading_) return;
    if (closed_ || closing_ || draining_ || busy_ || peer_done_ ||
        tls_pending_ || handshaking_ || decoder_.failed() ||
        decoder_.pending_frames() > 0 || queued_bytes_ > kPauseReadingBytes) {
      clock_.FrameDone();  // while the server is busy, the client is not late
      return;
    }
    // From here the server waits on the client: a frame begun must finish
    // within the deadline.
    if (decoder_.partial_bytes() > 0) {
      clock_.FrameWaiting(std::chrono::steady_clock::now());
      ArmBoundsTimer();
    }
    reading_ = true;
    ReadSome([self = shared_from_this()](const boost::system::error_code& ec,
                                         size_t n) { self->OnRead(ec, n); });
  }

  // Reads into read_buffer_, through TLS once the connection runs it.
  template <typename Handler>
  void ReadSome(Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(asio::buffer(read_buffer_),
                            std::forward<Handler>(handler));
    } else {
      socket_.async_read_some(asio::buffer(read_buffer_),
                              std::forward<Handler>(handler));
    }
  }

  // The server side of the TLS handshake, once the RpbStartTls answer has
  // gone out in plain text; nothing is read or written meanwhile.
  void BeginHandshake() {
    tls_pending_ = false;
    handshaking_ = true;
    tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_,
                                                       *shared_->tls_context);
    handshake_timer_.expires_after(shared_->HandshakeTime());
    handshake_timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code& ec) {
          if (!ec) self->OnHandshakeTimeout();
        });
    tls_->async_handshake(
        ssl::stream_base::server,
        [self = shared_from_this()](const boost::system::error_code& ec) {
          self->OnHandshake(ec);
        });
  }

  void OnHandshake(const boost::system::error_code& ec) {
    handshaking_ = false;
    handshake_timer_.cancel();
    if (closed_) return;
    if (ec) {
      if (!closing_) {
        ++shared_->stats.client_security.tls_handshake_failures;
        LogLimited(shared_->tls_log,
                   "closing connection " + std::to_string(id_) + " from " +
                       session_.address +
                       ": TLS handshake failed: " + ec.message());
      }
      CloseNow();
      return;
    }
    ++shared_->stats.client_security.tls_handshakes;
    session_.tls = true;
    session_.certificate_common_name =
        VerifiedCommonName(tls_->native_handle());
    clock_.Activity(std::chrono::steady_clock::now());
    ArmBoundsTimer();
    Pump();
  }

  void OnHandshakeTimeout() {
    if (!handshaking_ || closed_) return;
    ++shared_->stats.client_security.tls_handshake_failures;
    LogLimited(shared_->tls_log,
               "closing connection " + std::to_string(id_) + " from " +
                   session_.address +
                   ": the TLS handshake did not finish "
                   "within " +
                   std::to_string(shared_->HandshakeTime().count()) + " ms");
    CloseNow();  // the handshake completes with operation_aborted
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (lingering_) {
      // A read started before the close became the first discarding read.
      OnDiscarded(ec, n);
      return;
    }
    if (n > 0) OnBytes(n);
    if (ec) {
      // Over TLS a client that closes without close_notify reads as a
      // truncated stream: it is done sending all the same.
      if (ec != asio::error::eof && ec != ssl::error::stream_truncated) {
        CloseNow();
        return;
      }
      peer_done_ = true;
    }
    Pump();
  }

  // Feeds `n` bytes just read to the decoder and keeps the budget and the
  // frame clock in step with what it holds.
  void OnBytes(size_t n) {
    clock_.Activity(std::chrono::steady_clock::now());
    decoder_.Feed(std::string_view(read_buffer_.data(), n));
    if (decoder_.failed()) {
      // Pump answers it; what the broken stream held counts no longer.
      Charge(decoder_.error() == FrameDecoder::Error::kRefused
                 ? 0
                 : decoder_.partial_bytes());
      return;
    }
    // A frame completed: what follows is a new frame, timed from when the
    // server next waits for it.
    if (decoder_.pending_frames() > 0 || decoder_.partial_bytes() == 0) {
      clock_.FrameDone();
    }
    // Shrinks the charge to what is held now; growth here is at most a
    // next header's first bytes, which the admission of its body checks.
    Charge(decoder_.partial_bytes());
  }

  // Sets this connection's share of the buffer budget to `bytes`; false if
  // that would take all connections over the budget.
  bool Charge(size_t bytes) {
    bool ok = shared_->budget.Resize(&charged_, bytes);
    shared_->stats.buffered_bytes = shared_->budget.used();
    return ok;
  }

  void CloseOverBudget() {
    ++shared_->stats.connections_closed_budget;
    LogLimited(shared_->budget_log,
               "closing connection " + std::to_string(id_) +
                   ": its partial frame would take the bytes buffered for "
                   "all clients over the budget of " +
                   std::to_string(shared_->budget.limit()) + " bytes");
    Send(
        EncodeErrorFrame(pbc::ErrorCode::kUnavailable,
                         decoder_.ErrorMessage() + "; closing the connection"));
    Close();
  }

  // Sets the bounds timer for the next moment the connection may be idle
  // or late, unless it is set for earlier already.
  void ArmBoundsTimer() {
    if (closed_ || closing_) return;
    std::optional<std::chrono::steady_clock::time_point> next =
        clock_.NextCheck(busy_);
    if (!next || (bounds_armed_ && bounds_at_ <= *next)) return;
    bounds_armed_ = true;
    bounds_at_ = *next;
    bounds_timer_.expires_at(*next);
    bounds_timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code& ec) {
          if (ec != asio::error::operation_aborted) self->OnBoundsTimer();
        });
  }

  void OnBoundsTimer() {
    bounds_armed_ = false;
    // The handshake has its own time limit; OnHandshake re-arms.
    if (closed_ || closing_ || tls_pending_ || handshaking_) return;
    switch (clock_.Check(std::chrono::steady_clock::now(), busy_)) {
      case ConnectionClock::Expiry::kIdle:
        ++shared_->stats.connections_closed_idle;
        spdlog::debug("pbc: closing connection {}: idle for {} ms", id_,
                      shared_->options.idle_timeout_ms);
        Close();
        return;
      case ConnectionClock::Expiry::kFrameDeadline:
        ++shared_->stats.connections_closed_frame_deadline;
        LogLimited(shared_->deadline_log,
                   "closing connection " + std::to_string(id_) +
                       ": a frame did not arrive in full within " +
                       std::to_string(shared_->options.frame_deadline_ms) +
                       " ms");
        CloseNow();
        return;
      case ConnectionClock::Expiry::kNone:
        ArmBoundsTimer();
        return;
    }
  }

  void StartWrite() {
    if (writing_ || closed_ || queue_.empty()) return;
    if (shared_->options.before_send) shared_->options.before_send();
    writing_ = true;
    std::vector<asio::const_buffer> buffers;
    size_t count = std::min(queue_.size(), kMaxWriteBatch);
    buffers.reserve(count);
    // Deque elements stay put while more are appended at the back.
    for (size_t i = 0; i < count; ++i) {
      buffers.push_back(asio::buffer(queue_[i]));
    }
    auto done = [self = shared_from_this(), count](
                    const boost::system::error_code& ec, size_t) {
      self->OnWrite(ec, count);
    };
    if (tls_) {
      asio::async_write(*tls_, buffers, std::move(done));
    } else {
      asio::async_write(socket_, buffers, std::move(done));
    }
  }

  void OnWrite(const boost::system::error_code& ec, size_t count) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      CloseNow();
      return;
    }
    for (size_t i = 0; i < count; ++i) {
      queued_bytes_ -= queue_.front().size();
      queue_.pop_front();
    }
    clock_.Activity(std::chrono::steady_clock::now());
    if (queue_.empty() && closing_) {
      Linger();
      return;
    }
    if (queue_.empty() && tls_pending_) {
      BeginHandshake();  // the RpbStartTls answer is out
      return;
    }
    StartWrite();
    Pump();  // reading may have paused for output
  }

  // Output is flushed and the connection is to close: say so with a FIN,
  // then drop whatever the client still sends until it closes too (or the
  // time or byte budget runs out).
  void Linger() {
    if (closed_ || lingering_) return;
    // Mid-switch there is no stream to drain politely: the client is
    // talking TLS to a handshake that will not finish.
    if (tls_pending_ || handshaking_) {
      CloseNow();
      return;
    }
    lingering_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      CloseNow();
      return;
    }
    linger_timer_.expires_after(kLingerTime);
    linger_timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code& e) {
          if (!e) self->CloseNow();
        });
    // A read already in flight (an idle connection closed by a drain)
    // continues as the first discarding read when it completes.
    if (!reading_) DiscardInput();
  }

  void DiscardInput() {
    reading_ = true;
    ReadSome([self = shared_from_this()](const boost::system::error_code& ec,
                                         size_t n) {
      self->reading_ = false;
      if (self->closed_) return;
      self->OnDiscarded(ec, n);
    });
  }

  void OnDiscarded(const boost::system::error_code& ec, size_t n) {
    drained_ += n;
    if (ec || drained_ > kLingerMaxBytes) {
      CloseNow();
    } else {
      DiscardInput();
    }
  }

  std::shared_ptr<Shared> shared_;
  tcp::socket socket_;
  // Over socket_ once the client has switched (RpbStartTls); destroyed
  // before the socket it refers to.
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
  Session session_;
  const uint64_t id_;
  FrameDecoder decoder_;
  std::array<char, kReadChunk> read_buffer_;

  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  asio::steady_timer linger_timer_;
  size_t drained_ = 0;
  ConnectionClock clock_;
  asio::steady_timer bounds_timer_;
  asio::steady_timer handshake_timer_;
  bool bounds_armed_ = false;
  std::chrono::steady_clock::time_point bounds_at_;
  uint64_t charged_ = 0;  // this connection's share of the buffer budget

  bool reading_ = false;
  bool writing_ = false;
  bool busy_ = false;  // a request is with the handler
  bool in_pump_ = false;
  bool peer_done_ = false;  // the client shut down its sending side
  bool closing_ = false;    // close once output is flushed
  bool draining_ = false;   // the server is draining: no new requests
  bool lingering_ = false;
  bool closed_ = false;
  bool loopback_ = false;     // the client connected from a loopback address
  bool tls_pending_ = false;  // RpbStartTls answered; the answer is queued
  bool handshaking_ = false;
};

void Accept(const std::shared_ptr<Shared>& shared);

void OnAccept(const std::shared_ptr<Shared>& shared,
              const boost::system::error_code& ec, tcp::socket socket) {
  if (!shared->accepting) return;
  if (ec) {
    spdlog::warn("pbc: accept failed: {}", ec.message());
    shared->retry_timer.expires_after(kAcceptRetryDelay);
    shared->retry_timer.async_wait(
        [shared](const boost::system::error_code& e) {
          if (!e && shared->accepting) Accept(shared);
        });
    return;
  }
  Stats& stats = shared->stats;
  if (stats.connections_open >= shared->options.max_connections) {
    ++stats.connections_rejected;
    // A best-effort word to the client; a fresh socket's buffer takes it
    // without blocking, and if not, the close alone still says it.
    std::string frame = EncodeErrorFrame(
        pbc::ErrorCode::kUnavailable,
        "too many client connections (limit " +
            std::to_string(shared->options.max_connections) + ")");
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(frame), ignored);
    socket.close(ignored);
  } else {
    ++stats.connections_open;
    ++stats.connections_total;
    uint64_t id = shared->next_connection_id++;
    auto connection =
        std::make_shared<Connection>(shared, std::move(socket), id);
    shared->connections.emplace(id, connection);
    connection->Start();
  }
  Accept(shared);
}

void Accept(const std::shared_ptr<Shared>& shared) {
  shared->acceptor.async_accept(
      [shared](const boost::system::error_code& ec, tcp::socket socket) {
        OnAccept(shared, ec, std::move(socket));
      });
}

}  // namespace

class PbcServer::Impl {
 public:
  std::shared_ptr<Shared> shared;
  bool started = false;
};

PbcServer::PbcServer(asio::io_context& io, replication::NodeCore& core,
                     Stats& stats, PbcServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared = std::make_shared<Shared>(io, core, stats, std::move(options));
}

PbcServer::~PbcServer() { Stop(); }

Status PbcServer::Start() {
  Shared& s = *impl_->shared;
  if (impl_->started) return Status::InvalidArgument("already started");
  Status tls = MakeTlsContext(s.options, &s.tls_context);
  if (!tls.ok()) return tls;
  std::string where = s.options.host + ":" + std::to_string(s.options.port);
  boost::system::error_code ec;
  tcp::resolver resolver(s.io);
  auto endpoints =
      resolver.resolve(s.options.host, std::to_string(s.options.port),
                       tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return Status::InvalidArgument("cannot resolve client listen address " +
                                   where + ": " + ec.message());
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    return Status::IoError("cannot listen for clients on " + where + ": " +
                           ec.message());
  }
  impl_->started = true;
  s.accepting = true;
  Accept(impl_->shared);
  spdlog::info("pbc: listening for clients on {}:{}{}", s.options.host, port(),
               s.tls_context ? " (TLS on RpbStartTls)" : "");
  return Status::Ok();
}

uint16_t PbcServer::port() const {
  boost::system::error_code ec;
  tcp::endpoint endpoint = impl_->shared->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void PbcServer::Stop() {
  Shared& s = *impl_->shared;
  if (s.stopped) return;
  StopAccepting();
  s.stopped = true;
  s.drain_timer.cancel();
  // CloseNow edits the map; close from a copy.
  auto connections = std::move(s.connections);
  s.connections.clear();
  for (auto& [id, weak] : connections) {
    if (auto connection = weak.lock()) connection->CloseNow();
  }
  s.FinishDrainIfIdle();
}

void PbcServer::StopAccepting() {
  Shared& s = *impl_->shared;
  s.accepting = false;
  boost::system::error_code ignored;
  s.acceptor.close(ignored);
  s.retry_timer.cancel();
}

void PbcServer::Drain(std::function<void()> done) {
  Shared& s = *impl_->shared;
  StopAccepting();
  if (done) s.drain_done.push_back(std::move(done));
  if (s.draining || s.stopped) {
    s.draining = true;
    s.FinishDrainIfIdle();
    return;
  }
  s.draining = true;
  spdlog::info("pbc: draining {} client connection(s)", s.connections.size());
  s.drain_timer.expires_after(
      std::chrono::milliseconds(s.options.drain_timeout_ms));
  s.drain_timer.async_wait(
      [shared = impl_->shared](const boost::system::error_code& ec) {
        if (ec || shared->connections.empty()) return;
        spdlog::warn(
            "pbc: drain time limit reached; closing {} client connection(s) "
            "with requests still in flight",
            shared->connections.size());
        auto connections = shared->connections;
        for (auto& [id, weak] : connections) {
          if (auto connection = weak.lock()) connection->CloseNow();
        }
        // A connection that was already gone leaves its entry behind only if
        // it never closed; make sure the waiters hear the end either way.
        shared->connections.clear();
        shared->FinishDrainIfIdle();
      });
  // BeginDrain may close (and unregister) a connection at once.
  auto connections = s.connections;
  for (auto& [id, weak] : connections) {
    if (auto connection = weak.lock()) connection->BeginDrain();
  }
  s.FinishDrainIfIdle();
}

}  // namespace causeway::node
