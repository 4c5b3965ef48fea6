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
      if (core->ReadyToExit()) {
        spdlog::info("{}: left the cluster; exiting", options.name);
        Shutdown();
        return;
      }
      WatchForExit();
    });
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

  NodeOptions options;
  net::io_context io{1};
  // Set when shutdown begins: no new work (operator actions, exit checks).
  bool stopping = false;
  // Set once the clients have drained: peer messages are dropped from then
  // on, as the core is about to close. Until then they still flow, because
  // a request in flight may be waiting for replicas to answer.
  bool closing = false;

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
  const NodeOptions& o = m.options;

  Status s = SetUpLogging(o);
  if (!s.ok()) return s;

  // The pointers in Impl name objects of this frame; no path out of it may
  // leave them set.
  struct ForgetOnExit {
    Impl& m;
    ~ForgetOnExit() {
      m.signals = nullptr;
      m.pbc = nullptr;
      m.http = nullptr;
      m.transport = nullptr;
      m.faults = nullptr;
      m.exit_timer = nullptr;
      m.core = nullptr;
      m.env = nullptr;
    }
  } forget{m};

  // Before anything slow: a SIGTERM that arrives while the node starts is
  // then a graceful stop once the loop runs, not the default death.
  std::optional<net::signal_set> signals;
  if (handle_signals) {
    signals.emplace(m.io, SIGINT, SIGTERM);
    signals->async_wait(
        [&m](const boost::system::error_code& wait_ec, int signal) {
          if (wait_ec) return;
          spdlog::info("{}: received signal {}", m.options.name, signal);
          m.Shutdown();
        });
    m.signals = &*signals;
  }

  // Read before anything is opened: a node that cannot prove itself to its
  // peers must not start half a cluster member.
  std::string secret;
  if (!o.no_peer) {
    std::string warning;
    s = ReadClusterSecret(o.cluster_secret_file, &secret, &warning);
    if (!s.ok()) return s;
    if (!warning.empty()) spdlog::warn("{}: {}", o.name, warning);
  }

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
  // Declared before the engine, which counts into it until it is closed.
  storage::LevelDbOptions::Counters engine_counters;
  engine_options.counters = &engine_counters;
  std::unique_ptr<storage::Engine> engine;
  spdlog::info("{}: memtable of {} KiB", o.name,
               engine_options.write_buffer_bytes >> 10);
  s = storage::OpenLevelDb(db_dir, engine_options, &engine);
  if (!s.ok()) {
    return Status::IoError("cannot open database in '" + db_dir +
                           "': " + s.ToString());
  }
  // The log records of the writes one turn of the loop made reach the OS
  // together, before anything leaves the node: every transport calls this
  // before it writes to a socket, so no reply reports a write a crash of
  // this process could lose. If the log cannot be written, writes already
  // counted as stored are not in it: the node stops before saying so.
  const std::function<void()> before_send = [engine = engine.get(),
                                             name = o.name] {
    Status flushed = engine->FlushLog();
    if (flushed.ok()) return;
    spdlog::critical("{}: cannot write the storage log ({}); stopping", name,
                     flushed.ToString());
    spdlog::shutdown();
    std::abort();
  };

  AsioEnv env(m.io);
  const uint64_t started_ms = env.MonotonicMillis();
  replication::NodeConfig config = ToNodeConfig(o);

  // Declared before the transport so that it outlives every delivery.
  std::optional<FaultPolicy> faults;
  if (o.enable_fault_injection) {
    const uint64_t seed = std::random_device{}();
    faults.emplace(o.name, seed);
    m.faults = &*faults;
    spdlog::warn(
        "{}: *** FAULT INJECTION IS ENABLED (--enable-fault-injection) ***: "
        "POST /faults/* on the admin port drops, delays, duplicates and "
        "reorders peer messages, partitions the cluster and skews the clock. "
        "Never run a production node like this. Fault seed {}",
        o.name, seed);
  }

  // Bound before the core exists, because the core records the address
  // peers reach it at (which port 0 settles only now). Nothing is delivered
  // until the loop runs, and by then m.core is set.
  std::optional<PeerTransport> transport;
  if (!o.no_peer) {
    PeerTransportOptions peer_options =
        ToPeerTransportOptions(o, std::move(secret));
    peer_options.before_send = before_send;
    transport.emplace(
        m.io, std::move(peer_options),
        [&m](const std::string& from, std::string_view payload) {
          if (m.core != nullptr && !m.closing &&
              (m.faults == nullptr || m.faults->AllowDelivery(from))) {
            m.core->OnPeerMessage(from, payload);
          }
        });
    transport->OnUnreachable([&m](const std::string& name,
                                  const std::string& address,
                                  const std::string& reason) {
      if (m.core != nullptr && !m.closing) {
        m.core->OnPeerUnreachable(name, address, reason);
      }
    });
    s = transport->Start();
    if (!s.ok()) {
      spdlog::error("{}: cannot start: {}", o.name, s.ToString());
      transport->Stop();
      m.io.poll();  // let the cancelled accept unwind while its owner lives
      return s;
    }
    config.peer_address = PeerAddress(o, transport->port());
  }
  const std::string peer_address = config.peer_address;

  // With fault injection the core sends through the faults, which forward
  // to the transport (delayed copies wait in env timers). Declared before
  // the core, which keeps a pointer to it.
  std::optional<FaultyNetwork> faulty;
  if (transport && faults) faulty.emplace(*faults, *transport, env);

  replication::NodeCore core(env, *engine, std::move(config));
  s = core.Open();
  if (!s.ok()) {
    if (transport) transport->Stop();
    m.io.poll();
    return Status::IoError("cannot open node state: " + s.ToString());
  }
  if (faulty) {
    core.AttachNetwork(&*faulty);
  } else if (transport) {
    core.AttachNetwork(&*transport);
  }

  Stats stats;
  PbcServerOptions pbc_options = ToPbcServerOptions(o);
  pbc_options.before_send = before_send;
  PbcServer pbc(m.io, core, stats, std::move(pbc_options));
  AdminHttpOptions http_options;
  http_options.host = o.http_host;
  http_options.port = o.http_port;
  http_options.before_send = before_send;
  AdminHttp http(m.io, http_options);
  storage::Engine* engine_ptr = engine.get();
  PeerTransport* transport_ptr = transport ? &*transport : nullptr;
  StatsExtras extras;
  extras.json["aae"] = [&core] { return AaeStatsJson(core.AaeView()); };
  if (transport_ptr != nullptr) {
    extras.json["peer"] = [transport_ptr] {
      return PeerStatsJson(transport_ptr->stats());
    };
  }
  extras.prometheus = [&core, transport_ptr, name = o.name] {
    std::string out = AaeStatsPrometheus(core.AaeView(), name);
    if (transport_ptr != nullptr) {
      out += PeerStatsPrometheus(transport_ptr->stats(), name);
    }
    return out;
  };
  AddStatsRoutes(
      http, o.name, stats,
      [&env, &core, engine_ptr, &engine_counters, started_ms](Stats& st) {
        st.uptime_seconds = (env.MonotonicMillis() - started_ms) / 1000;
        st.disk_bytes = engine_ptr->ApproximateDiskBytes();
        st.rss_bytes = ReadProcessRssBytes();
        const auto& cache = core.ObjectCacheView();
        st.object_cache = {cache.bytes(), cache.size(), cache.hits(),
                           cache.misses()};
        st.storage = {engine_counters.writer_stalls.load(),
                      engine_counters.background_raises.load()};
      },
      std::move(extras));
  http.Handle("GET", "/cluster", [&core, transport_ptr](const HttpRequest&) {
    std::vector<PeerView> peers;
    ClusterPage page;
    page.view = core.View();
    page.cluster_name = core.config().cluster_name;
    page.ready_to_exit = core.ReadyToExit();
    page.aae = core.AaeView();
    if (transport_ptr != nullptr) {
      peers = transport_ptr->Peers();
      page.peers = &peers;
    }
    HttpResponse r;
    r.content_type = "application/json";
    r.body = ClusterJson(page);
    return r;
  });

  if (faults) {
    AddFaultRoutes(http, *faults, [&env](int64_t skew_ms) {
      env.SetWallOffsetMillis(skew_ms);
    });
  }

  // From here on a failure must still close the core, so that its persisted
  // state (the HLC high-water mark) is written.
  s = pbc.Start();
  if (s.ok()) {
    s = http.Start();
    if (s.ok() && !o.ports_file.empty()) {
      s = WritePortsFile(o.ports_file, pbc.port(), http.port(),
                         transport ? transport->port() : 0);
    }
    if (!s.ok()) {
      http.Stop();
      pbc.Stop();
    }
  }
  if (!s.ok()) {
    spdlog::error("{}: cannot start: {}", o.name, s.ToString());
    if (transport) transport->Stop();
    core.Close();
    env.CancelAll();
    m.io.poll();  // let the cancelled accepts unwind while their owners live
    return s;
  }

  net::steady_timer exit_timer(m.io);
  m.pbc = &pbc;
  m.http = &http;
  m.transport = transport_ptr;
  m.exit_timer = &exit_timer;
  m.core = &core;
  m.env = &env;

  // Heartbeats, gossip and handoff begin only now, when nothing above can
  // fail any more and leave their timers behind.
  core.Start();
  m.WatchForExit();

  std::string peers_text = "no peer port (standalone)";
  if (transport) {
    const std::string bound =
        o.peer_host + ":" + std::to_string(transport->port());
    peers_text = "peers on " + bound +
                 (bound == peer_address ? "" : " as " + peer_address) +
                 " (cluster " + o.cluster_name + ")";
  }
  spdlog::info(
      "{}: serving clients on {}:{}, admin http on {}:{}, {}, data in {}, "
      "ring size {}",
      o.name, o.pb_host, pbc.port(), o.http_host, http.port(), peers_text,
      o.data_dir, o.ring_size);
  m.io.run();

  // Let cancelled operations unwind while the objects they refer to still
  // exist; after that nothing below may run again.
  m.io.restart();
  m.io.run_for(kDrainTimeout);
  spdlog::info("{}: stopped", o.name);
  return Status::Ok();
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
