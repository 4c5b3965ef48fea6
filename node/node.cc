#include "node/node.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <system_error>
#include <utility>
#include <vector>

#include "node/admin_http.h"
#include "node/asio_env.h"
#include "node/faults.h"
#include "node/json.h"
#include "node/pbc_server.h"
#include "node/peer_transport.h"
#include "node/security_gate_impl.h"
#include "node/stats.h"
#include "replication/core.h"
#include "storage/engine.h"

namespace causeway::node {

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {

// How long shutdown waits for cancelled operations to unwind before the
// objects they refer to are destroyed.
constexpr std::chrono::seconds kDrainTimeout{2};

// How often a running node asks the core whether it has left its cluster
// and may exit.
constexpr std::chrono::milliseconds kExitCheckInterval{500};
constexpr uint64_t kClockWarnMs = 60000;

}  // namespace

struct Node::Impl {
  explicit Impl(NodeOptions opts) : options(std::move(opts)) {}

  // Runs on the logic thread. First half of a graceful shutdown: stop taking
  // new clients and new work, then let the client connections drain (the
  // requests in flight finish and their replies are written) while the peer
  // transport still runs, since a request may be waiting on replicas.
  void Shutdown() {
    // Handlers run only inside Run()'s loop, when the servers are set.
    if (stopping || pbc == nullptr) return;
    stopping = true;
    spdlog::info("{}: shutting down", options.name);
    if (signals != nullptr) {
      boost::system::error_code ignored;
      signals->cancel(ignored);
    }
    if (exit_timer != nullptr) exit_timer->cancel();
    pbc->StopAccepting();
    // The drain is bounded by PbcServerOptions::drain_timeout_ms; `done` is
    // posted, so the loop must (and does) keep running until then.
    pbc->Drain([this] { AfterDrain(); });
  }

  // Second half: no client is left, so nothing more can reach the core but
  // peers; stop them too, then close the core once queued handlers ran.
  void AfterDrain() {
    if (pbc == nullptr || closing) return;
    closing = true;
    spdlog::info("{}: client connections drained", options.name);
    http->Stop();
    // Before the core closes: no peer message may reach it afterwards.
    if (transport != nullptr) transport->Stop();
    net::post(io, [this] { Finish(); });
  }

  // A node that has left its cluster has nothing left to serve: once the
  // core says its data is handed off, it stops by itself.
  void WatchForExit() {
    exit_timer->expires_after(kExitCheckInterval);
    exit_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping || core == nullptr) return;
      WarnAboutClock();
      if (core->ReadyToExit()) {
        spdlog::info("{}: left the cluster; exiting", options.name);
        Shutdown();
        return;
      }
      WatchForExit();
    });
  }

  // A clock beyond the bound is loud, but at most one line a minute: when
  // this node's clock is suspect, or when it refused peers' timestamps.
  void WarnAboutClock() {
    const replication::ClockStats c = core->ClockView();
    const uint64_t now = env->MonotonicMillis();
    const bool refused = c.refusals_total > clock_refusals_logged;
    if (!(c.suspect || refused) ||
        (clock_warned_ms != 0 && now - clock_warned_ms < kClockWarnMs)) {
      return;
    }
    clock_warned_ms = now;
    clock_refusals_logged = c.refusals_total;
    if (c.suspect) {
      spdlog::warn(
          "{}: this node's clock reads more than max_clock_offset_ms ({} ms) "
          "away from {} of {} peers; it is probably wrong (check time "
          "sync): peers refuse its timestamps",
          options.name, c.max_offset_ms, c.peers_beyond, c.peers_heard);
    } else {
      spdlog::warn(
          "{}: refused {} peer timestamps so far, leading this node's clock "
          "by up to {} ms (max_clock_offset_ms {}): a peer's clock runs "
          "ahead",
          options.name, c.refusals_total, c.max_refused_lead_ms,
          c.max_offset_ms);
    }
  }

  // Runs `action` on the logic thread once the node serves, handing it
  // `done`; answers `done` with Unavailable instead when the node is
  // stopping (or never started).
  using Action =
      std::function<void(replication::NodeCore&, std::function<void(Status)>)>;
  void OnLogicThread(Action action, std::function<void(Status)> done) {
    if (!done) done = [](Status) {};
    net::post(io, [this, action = std::move(action),
                   done = std::move(done)]() mutable {
      if (stopping || core == nullptr) {
        done(Status::Unavailable("the node is not serving"));
        return;
      }
      action(*core, std::move(done));
    });
  }

  void Finish() {
    core->Close();
    env->CancelAll();
    io.stop();
  }

  // What Run() builds, in the order it builds it. Members are destroyed in
  // reverse, so every part outlives the parts that refer to it; the whole
  // lives in Run()'s frame.
  struct Parts {
    std::optional<net::signal_set> signals;
    std::string secret;  // moved into the transport's options
    // Declared before the engine, which counts into it until it is closed.
    storage::LevelDbOptions::Counters engine_counters;
    std::unique_ptr<storage::Engine> engine;
    std::function<void()> before_send;  // flushes the engine's log
    std::optional<AsioEnv> env;
    uint64_t started_ms = 0;
    // Declared before the transport so that it outlives every delivery.
    std::optional<FaultPolicy> faults;
    std::optional<PeerTransport> transport;
    // Declared before the core, which keeps a pointer to it.
    std::optional<FaultyNetwork> faulty;
    std::optional<replication::NodeCore> core;
    // Riak's security model over the core's state; the client server
    // keeps a pointer to it.
    std::optional<ClusterSecurityGate> security;
    Stats stats;
    std::optional<PbcServer> pbc;
    std::optional<AdminHttp> http;
    std::optional<net::steady_timer> exit_timer;
  };

  // The steps of Run(), in order. A step that fails has undone what it
  // started; the parts are freed when Run() returns.
  void HandleSignals(Parts& p);
  Status ReadSecret(Parts& p);
  Status OpenStorage(Parts& p);
  void EnableFaults(Parts& p);
  Status StartTransport(Parts& p, replication::NodeConfig* config);
  Status OpenCore(Parts& p, replication::NodeConfig config);
  void MakeServers(Parts& p);
  void AddStatsPages(Parts& p);
  void AddClusterPage(Parts& p);
  Status StartServers(Parts& p);
  void Serve(Parts& p);
  // Sets the pointers below for the loop's handlers.
  void Publish(Parts& p);
  // Clears them: no path out of Run() may leave them set.
  void Forget();

  NodeOptions options;
  net::io_context io{1};
  // Set when shutdown begins: no new work (operator actions, exit checks).
  bool stopping = false;
  // Set once the clients have drained: peer messages are dropped from then
  // on, as the core is about to close. Until then they still flow, because
  // a request in flight may be waiting for replicas to answer.
  bool closing = false;
  // WarnAboutClock's rate limit.
  uint64_t clock_warned_ms = 0;
  uint64_t clock_refusals_logged = 0;

  // Set while Run() serves; owned by Run()'s frame.
  net::signal_set* signals = nullptr;
  PbcServer* pbc = nullptr;
  AdminHttp* http = nullptr;
  PeerTransport* transport = nullptr;  // null with no_peer
  FaultPolicy* faults = nullptr;       // null unless fault injection is on
  net::steady_timer* exit_timer = nullptr;
  replication::NodeCore* core = nullptr;
  AsioEnv* env = nullptr;
};

Node::Node(NodeOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Node::~Node() = default;

void Node::RequestStop() {
  Impl* impl = impl_.get();
  net::post(impl->io, [impl] { impl->Shutdown(); });
}

void Node::Join(std::string seed_address, std::function<void(Status)> done) {
  impl_->OnLogicThread(
      [seed = std::move(seed_address)](replication::NodeCore& core,
                                       std::function<void(Status)> answer) {
        core.Join(seed, std::move(answer));
      },
      std::move(done));
}

void Node::Leave(std::string node, std::function<void(Status)> done) {
  impl_->OnLogicThread(
      [node = std::move(node)](replication::NodeCore& core,
                               std::function<void(Status)> answer) {
        core.Leave(node, std::move(answer));
      },
      std::move(done));
}

Status Node::Run(bool handle_signals) {
  Impl& m = *impl_;
  Status s = SetUpLogging(m.options);
  if (!s.ok()) return s;
  struct ForgetOnExit {
    Impl& m;
    ~ForgetOnExit() { m.Forget(); }
  } forget{m};
  Impl::Parts p;
  if (handle_signals) m.HandleSignals(p);
  s = m.ReadSecret(p);
  if (s.ok()) s = m.OpenStorage(p);
  if (!s.ok()) return s;
  p.env.emplace(m.io);
  p.started_ms = p.env->MonotonicMillis();
  replication::NodeConfig config = ToNodeConfig(m.options);
  m.EnableFaults(p);
  s = m.StartTransport(p, &config);
  if (s.ok()) s = m.OpenCore(p, std::move(config));
  if (!s.ok()) return s;
  m.MakeServers(p);
  m.AddStatsPages(p);
  m.AddClusterPage(p);
  if (p.faults) {
    AddFaultRoutes(*p.http, *p.faults, [env = &*p.env](int64_t skew_ms) {
      env->SetWallOffsetMillis(skew_ms);
    });
  }
  s = m.StartServers(p);
  if (!s.ok()) return s;
  m.Serve(p);
  return Status::Ok();
}

// Before anything slow: a SIGTERM that arrives while the node starts is
// then a graceful stop once the loop runs, not the default death.
void Node::Impl::HandleSignals(Parts& p) {
  p.signals.emplace(io, SIGINT, SIGTERM);
  p.signals->async_wait(
      [this](const boost::system::error_code& wait_ec, int signal) {
        if (wait_ec) return;
        spdlog::info("{}: received signal {}", options.name, signal);
        Shutdown();
      });
  signals = &*p.signals;
}

// Read before anything is opened: a node that cannot prove itself to its
// peers must not start half a cluster member.
Status Node::Impl::ReadSecret(Parts& p) {
  if (options.no_peer) return Status::Ok();
  std::string warning;
  Status s =
      ReadClusterSecret(options.cluster_secret_file, &p.secret, &warning);
  if (!s.ok()) return s;
  if (!warning.empty()) spdlog::warn("{}: {}", options.name, warning);
  return Status::Ok();
}

Status Node::Impl::OpenStorage(Parts& p) {
  const NodeOptions& o = options;
  std::error_code ec;
  fs::create_directories(o.data_dir, ec);
  if (ec) {
    return Status::IoError("cannot create data dir '" + o.data_dir +
                           "': " + ec.message());
  }
  const std::string db_dir = (fs::path(o.data_dir) / "db").string();
  std::mt19937_64 rng(std::random_device{}());
  storage::LevelDbOptions engine_options =
      ToLevelDbOptions(o, std::uniform_real_distribution<double>(0, 1)(rng));
  engine_options.counters = &p.engine_counters;
  spdlog::info("{}: memtable of {} KiB", o.name,
               engine_options.write_buffer_bytes >> 10);
  Status s = storage::OpenLevelDb(db_dir, engine_options, &p.engine);
  if (!s.ok()) {
    return Status::IoError("cannot open database in '" + db_dir +
                           "': " + s.ToString());
  }
  // The log records of the writes one turn of the loop made reach the OS
  // together, before anything leaves the node: every transport calls this
  // before it writes to a socket, so no reply reports a write a crash of
  // this process could lose. If the log cannot be written, writes already
  // counted as stored are not in it: the node stops before saying so.
  p.before_send = [engine = p.engine.get(), name = o.name] {
    Status flushed = engine->FlushLog();
    if (flushed.ok()) return;
    spdlog::critical("{}: cannot write the storage log ({}); stopping", name,
                     flushed.ToString());
    spdlog::shutdown();
    std::abort();
  };
  return Status::Ok();
}

void Node::Impl::EnableFaults(Parts& p) {
  if (!options.enable_fault_injection) return;
  const uint64_t seed = std::random_device{}();
  p.faults.emplace(options.name, seed);
  faults = &*p.faults;
  spdlog::warn(
      "{}: *** FAULT INJECTION IS ENABLED (--enable-fault-injection) ***: "
      "POST /faults/* on the admin port drops, delays, duplicates and "
      "reorders peer messages, partitions the cluster and skews the clock. "
      "Never run a production node like this. Fault seed {}",
      options.name, seed);
}

// Bound before the core exists, because the core records the address peers
// reach it at (which port 0 settles only now). Nothing is delivered until
// the loop runs, and by then `core` is set.
Status Node::Impl::StartTransport(Parts& p, replication::NodeConfig* config) {
  if (options.no_peer) return Status::Ok();
  PeerTransportOptions peer_options =
      ToPeerTransportOptions(options, std::move(p.secret));
  peer_options.before_send = p.before_send;
  p.transport.emplace(
      io, std::move(peer_options),
      [this](const std::string& from, std::string_view payload) {
        if (core != nullptr && !closing &&
            (faults == nullptr || faults->AllowDelivery(from))) {
          core->OnPeerMessage(from, payload);
        }
      });
  p.transport->OnUnreachable([this](const std::string& name,
                                    const std::string& address,
                                    const std::string& reason) {
    if (core != nullptr && !closing) {
      core->OnPeerUnreachable(name, address, reason);
    }
  });
  Status s = p.transport->Start();
  if (!s.ok()) {
    spdlog::error("{}: cannot start: {}", options.name, s.ToString());
    p.transport->Stop();
    io.poll();  // let the cancelled accept unwind while its owner lives
    return s;
  }
  config->peer_address = PeerAddress(options, p.transport->port());
  return Status::Ok();
}

// With fault injection the core sends through the faults, which forward to
// the transport (delayed copies wait in env timers).
Status Node::Impl::OpenCore(Parts& p, replication::NodeConfig config) {
  if (p.transport && p.faults)
    p.faulty.emplace(*p.faults, *p.transport, *p.env);
  p.core.emplace(*p.env, *p.engine, std::move(config));
  Status s = p.core->Open();
  if (!s.ok()) {
    if (p.transport) p.transport->Stop();
    io.poll();
    return Status::IoError("cannot open node state: " + s.ToString());
  }
  if (p.faulty) {
    p.core->AttachNetwork(&*p.faulty);
  } else if (p.transport) {
    p.core->AttachNetwork(&*p.transport);
  }
  return Status::Ok();
}

void Node::Impl::MakeServers(Parts& p) {
  PbcServerOptions pbc_options = ToPbcServerOptions(options);
  pbc_options.before_send = p.before_send;
  p.security.emplace(p.core->SecurityView());
  pbc_options.security = &*p.security;
  p.pbc.emplace(io, *p.core, p.stats, std::move(pbc_options));
  AdminHttpOptions http_options;
  http_options.host = options.http_host;
  http_options.port = options.http_port;
  http_options.before_send = p.before_send;
  p.http.emplace(io, http_options);
}

// /ping, /stats and /metrics: the node's Stats, refreshed with what lives
// elsewhere, plus the anti-entropy and peer transport figures.
void Node::Impl::AddStatsPages(Parts& p) {
  replication::NodeCore* node_core = &*p.core;
  PeerTransport* transport_ptr = p.transport ? &*p.transport : nullptr;
  StatsExtras extras;
  extras.json["aae"] = [node_core] {
    return AaeStatsJson(node_core->AaeView());
  };
  if (transport_ptr != nullptr) {
    extras.json["peer"] = [transport_ptr] {
      return PeerStatsJson(transport_ptr->stats());
    };
  }
  extras.prometheus = [node_core, transport_ptr, name = options.name] {
    std::string out = AaeStatsPrometheus(node_core->AaeView(), name);
    if (transport_ptr != nullptr) {
      out += PeerStatsPrometheus(transport_ptr->stats(), name);
    }
    return out;
  };
  AddStatsRoutes(
      *p.http, options.name, p.stats,
      [env = &*p.env, node_core, engine = p.engine.get(),
       counters = &p.engine_counters, started_ms = p.started_ms](Stats& st) {
        st.uptime_seconds = (env->MonotonicMillis() - started_ms) / 1000;
        st.disk_bytes = engine->ApproximateDiskBytes();
        st.rss_bytes = ReadProcessRssBytes();
        const auto& cache = node_core->ObjectCacheView();
        st.object_cache = {cache.bytes(), cache.size(), cache.hits(),
                           cache.misses()};
        const auto& d = node_core->DeltaView();
        st.deltas = {d.sent,
                     d.sent_bytes,
                     d.applied,
                     d.duplicates,
                     d.buffered,
                     d.buffered_bytes,
                     d.buffered_high_water,
                     d.timeouts,
                     d.overflows,
                     d.full_state_fetches,
                     d.full_state_failures};
        const replication::ClockStats c = node_core->ClockView();
        st.clock = {c.max_offset_ms, c.refusals_total, c.max_refused_lead_ms,
                    c.peers_heard,   c.peers_beyond,   c.suspect};
        st.storage = {counters->writer_stalls.load(),
                      counters->background_raises.load()};
      },
      std::move(extras));
}

void Node::Impl::AddClusterPage(Parts& p) {
  replication::NodeCore* node_core = &*p.core;
  PeerTransport* transport_ptr = p.transport ? &*p.transport : nullptr;
  p.http->Handle("GET", "/cluster",
                 [node_core, transport_ptr](const HttpRequest&) {
                   std::vector<PeerView> peers;
                   ClusterPage page;
                   page.view = node_core->View();
                   page.cluster_name = node_core->config().cluster_name;
                   page.ready_to_exit = node_core->ReadyToExit();
                   page.aae = node_core->AaeView();
                   if (transport_ptr != nullptr) {
                     peers = transport_ptr->Peers();
                     page.peers = &peers;
                   }
                   HttpResponse r;
                   r.content_type = "application/json";
                   r.body = ClusterJson(page);
                   return r;
                 });
}

// From here on a failure must still close the core, so that its persisted
// state (the HLC high-water mark) is written.
Status Node::Impl::StartServers(Parts& p) {
  Status s = p.pbc->Start();
  if (s.ok()) {
    s = p.http->Start();
    if (s.ok() && !options.ports_file.empty()) {
      s = WritePortsFile(options.ports_file, p.pbc->port(), p.http->port(),
                         p.transport ? p.transport->port() : 0);
    }
    if (!s.ok()) {
      p.http->Stop();
      p.pbc->Stop();
    }
  }
  if (s.ok()) return s;
  spdlog::error("{}: cannot start: {}", options.name, s.ToString());
  if (p.transport) p.transport->Stop();
  p.core->Close();
  p.env->CancelAll();
  io.poll();  // let the cancelled accepts unwind while their owners live
  return s;
}

// Runs the loop until a graceful shutdown has finished, then lets cancelled
// operations unwind while the objects they refer to still exist; after that
// nothing may run again.
void Node::Impl::Serve(Parts& p) {
  p.exit_timer.emplace(io);
  Publish(p);
  // Heartbeats, gossip and handoff begin only now, when nothing above can
  // fail any more and leave their timers behind.
  p.core->Start();
  WatchForExit();
  const NodeOptions& o = options;
  std::string peers_text = "no peer port (standalone)";
  if (p.transport) {
    const std::string bound =
        o.peer_host + ":" + std::to_string(p.transport->port());
    const std::string& advertised = p.core->config().peer_address;
    peers_text = "peers on " + bound +
                 (bound == advertised ? "" : " as " + advertised) +
                 " (cluster " + o.cluster_name + ")";
  }
  spdlog::info(
      "{}: serving clients on {}:{}, admin http on {}:{}, {}, data in {}, "
      "ring size {}",
      o.name, o.pb_host, p.pbc->port(), o.http_host, p.http->port(), peers_text,
      o.data_dir, o.ring_size);
  io.run();
  io.restart();
  io.run_for(kDrainTimeout);
  spdlog::info("{}: stopped", o.name);
}

void Node::Impl::Publish(Parts& p) {
  pbc = &*p.pbc;
  http = &*p.http;
  transport = p.transport ? &*p.transport : nullptr;
  exit_timer = &*p.exit_timer;
  core = &*p.core;
  env = &*p.env;
}

void Node::Impl::Forget() {
  signals = nullptr;
  pbc = nullptr;
  http = nullptr;
  transport = nullptr;
  faults = nullptr;
  exit_timer = nullptr;
  core = nullptr;
  env = nullptr;
}

Status SetUpLogging(const NodeOptions& options) {
  const spdlog::level::level_enum level =
      spdlog::level::from_str(options.log_level);
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (options.log_file.empty()) {
      logger = std::make_shared<spdlog::logger>(
          "causewayd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
      logger = std::make_shared<spdlog::logger>(
          "causewayd", std::make_shared<spdlog::sinks::basic_file_sink_mt>(
                           options.log_file, /*truncate=*/false));
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument("cannot open log file '" + options.log_file +
                                   "': " + e.what());
  }
  logger->set_level(level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  // Operators and tests tail the log; do not sit on what matters.
  logger->flush_on(spdlog::level::info);
  // spdlog's free functions log through a raw pointer to the default
  // logger. Another thread (a second node in a test process) may be inside
  // such a call while this one replaces the logger, so replaced loggers are
  // kept for the life of the process; a process replaces it once or twice.
  static std::mutex retired_mutex;
  static std::vector<std::shared_ptr<spdlog::logger>> retired;
  {
    std::lock_guard<std::mutex> lock(retired_mutex);
    if (auto old = spdlog::default_logger()) retired.push_back(std::move(old));
  }
  spdlog::set_default_logger(std::move(logger));
  return Status::Ok();
}

Status WritePortsFile(const std::string& path, uint16_t pb_port,
                      uint16_t http_port, uint16_t peer_port) {
  std::string json;
  JsonWriter w(&json);
  w.BeginObject();
  w.Key("pb");
  w.Uint(pb_port);
  w.Key("http");
  w.Uint(http_port);
  if (peer_port != 0) {
    w.Key("peer");
    w.Uint(peer_port);
  }
  w.EndObject();
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << json << "\n";
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      return Status::IoError("cannot write ports file '" + temp + "'");
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return Status::IoError("cannot rename '" + temp + "' to '" + path +
                           "': " + ec.message());
  }
  return Status::Ok();
}

uint64_t ReadProcessRssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  const long page = ::sysconf(_SC_PAGESIZE);
  return page > 0 ? resident_pages * static_cast<uint64_t>(page) : 0;
}

}  // namespace causeway::node
