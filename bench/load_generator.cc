#include "bench/load_generator.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "bench/latency_histogram.h"
#include "bench/pbc_frame.h"
#include "bench/resp.h"
#include "proto/riak.pb.h"

namespace causeway::bench {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using asio::awaitable;
using boost::system::error_code;

// Between attempts to reach a node that refused or timed out.
constexpr auto kReconnectDelay = std::chrono::milliseconds(100);
// The preload and the tally have no deadline; these stop a connection from
// retrying forever against a node that is down or failing every request.
constexpr int kPreloadMaxFailedConnects = 3;
constexpr int kPreloadMaxConsecutiveErrors = 10;
// Fetches of one key the tally makes before it counts the key as failed.
constexpr int kTallyAttempts = 3;

enum OpKind {
  kPut = 0,
  kGet = 1,
  kIncr = 2,
  kDtGet = 3,
  kSadd = 4,
  kOpKinds = 5
};

const char* OpName(int kind) {
  static constexpr const char* kNames[kOpKinds] = {"put", "get", "incr",
                                                   "dtget", "sadd"};
  return kNames[kind];
}

// The mix's weights in OpKind order.
std::array<uint32_t, kOpKinds> Weights(const OpMix& mix) {
  return {mix.put, mix.get, mix.incr, mix.dtget, mix.sadd};
}

// What the preload writes each key with: the mix's write.
int PreloadKind(const OpMix& mix) {
  if (mix.incr > 0) return kIncr;
  if (mix.sadd > 0) return kSadd;
  return kPut;
}

auto Redirect(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

// Errors propagate out of io_context::run rather than vanish: every expected
// failure is an error_code, so an exception here is a bug worth a crash.
void RethrowOnError(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

struct PhaseStats {
  LatencyHistogram latency[kOpKinds];
  std::atomic<uint64_t> errors[kOpKinds] = {};
  std::atomic<uint64_t> notfound[kOpKinds] = {};  // get and dtget
  std::atomic<uint64_t> connect_errors{0};

  OpStats Summarize(int kind) const {
    const LatencyHistogram& h = latency[kind];
    OpStats s;
    s.ops = h.count();
    s.errors = errors[kind].load();
    s.notfound = notfound[kind].load();
    s.p50_ms = h.ValueAtPercentile(50) / 1000.0;
    s.p95_ms = h.ValueAtPercentile(95) / 1000.0;
    s.p99_ms = h.ValueAtPercentile(99) / 1000.0;
    s.max_ms = h.max() / 1000.0;
    return s;
  }

  PhaseResult Summarize(double elapsed_seconds) const {
    PhaseResult r;
    r.elapsed_seconds = elapsed_seconds;
    r.put = Summarize(kPut);
    r.get = Summarize(kGet);
    r.incr = Summarize(kIncr);
    r.dtget = Summarize(kDtGet);
    r.sadd = Summarize(kSadd);
    r.connect_errors = connect_errors.load();
    return r;
  }
};

struct TallyStats {
  std::atomic<uint64_t> keys_read{0};
  std::atomic<uint64_t> keys_found{0};
  std::atomic<int64_t> counter_total{0};
  std::atomic<uint64_t> set_elements{0};
  std::atomic<uint64_t> errors{0};  // failed fetches and connects
};

// What every connection shares: fixed for the run except the preload and
// tally cursors and the error samples.
struct Shared {
  explicit Shared(const BenchConfig& c) : config(c) {}

  const BenchConfig& config;
  std::vector<tcp::resolver::results_type> endpoints;
  std::atomic<uint64_t> next_preload_key{0};
  std::atomic<uint64_t> next_tally_key{0};
  // The timed run's start (where pacing ticks are counted from) and end.
  Clock::time_point start;
  Clock::time_point deadline;

  std::mutex mu;
  std::vector<std::string> error_samples;  // guarded by mu

  void AddErrorSample(std::string message) {
    std::lock_guard<std::mutex> lock(mu);
    if (error_samples.size() >= config.max_error_samples) return;
    if (std::find(error_samples.begin(), error_samples.end(), message) !=
        error_samples.end()) {
      return;
    }
    error_samples.push_back(std::move(message));
  }
};

std::string NodeName(const NodeAddress& n) {
  return n.host + ":" + std::to_string(n.port);
}

// One client connection and its closed loop. All its handlers run on its own
// strand, so the loop and the watchdog never race even with two threads.
class Connection {
 public:
  Connection(asio::io_context& io, Shared& shared, size_t index)
      : shared_(shared),
        config_(shared.config),
        strand_(asio::make_strand(io)),
        socket_(strand_),
        watchdog_(strand_),
        backoff_(strand_),
        node_(index % shared.endpoints.size()),
        chooser_(config_.distribution, config_.keys,
                 config_.seed * 1000003 + index),
        rng_(config_.seed * 7919 + index),
        value_rng_(config_.seed * 104729 + index) {
    put_req_.set_bucket(config_.bucket);
    get_req_.set_bucket(config_.bucket);
    if (!config_.type.empty()) {
      put_req_.set_type(config_.type);
      get_req_.set_type(config_.type);
    }
    // Blind puts: no vclock, so every put is a fresh write.
    pbc::RpbContent* content = put_req_.mutable_content();
    content->mutable_value()->resize(config_.value_size);
    resp_value_.resize(config_.value_size);
    content->set_content_type("application/octet-stream");
    if (config_.w) put_req_.set_w(*config_.w);
    if (config_.dw) put_req_.set_dw(*config_.dw);
    if (config_.r) get_req_.set_r(*config_.r);

    // Data-type requests: no context (adds and increments need none), no
    // body in the reply.
    for (pbc::DtUpdateReq* req : {&incr_req_, &sadd_req_}) {
      req->set_bucket(config_.bucket);
      req->set_type(config_.type);
      if (config_.w) req->set_w(*config_.w);
      if (config_.dw) req->set_dw(*config_.dw);
    }
    incr_req_.mutable_op()->mutable_counter_op()->set_increment(1);
    sadd_req_.mutable_op()->mutable_set_op()->add_adds()->resize(
        config_.value_size);
    for (pbc::DtFetchReq* req : {&dtget_req_, &tally_req_}) {
      req->set_bucket(config_.bucket);
      req->set_type(config_.type);
      if (config_.r) req->set_r(*config_.r);
    }
    // A timed dtget asks for the context as a client about to update would;
    // the tally only needs the value.
    tally_req_.set_include_context(false);
  }

  void StartPreload(PhaseStats* stats) {
    Start([this, stats]() { return PreloadLoop(stats); });
  }
  void StartRun(PhaseStats* stats) {
    Start([this, stats]() { return RunLoop(stats); });
  }
  void StartTally(TallyStats* stats) {
    Start([this, stats]() { return TallyLoop(stats); });
  }

 private:
  enum class Outcome {
    kOk,
    kServerError,  // an error reply; the connection stays usable
    kFailed,       // I/O error, timeout or bad frame; the connection is closed
  };

  template <typename LoopFn>
  void Start(LoopFn loop) {
    done_ = false;
    io_deadline_ = Clock::time_point::max();
    asio::co_spawn(strand_, loop(), RethrowOnError);
    asio::co_spawn(strand_, Watchdog(), RethrowOnError);
  }

  void Finish(bool close) {
    done_ = true;
    watchdog_.cancel();
    if (close) Close();
  }

  // A closed socket has no I/O left to time out.
  void Close() {
    error_code ignored;
    socket_.close(ignored);
    DisarmWatchdog();
  }

  // Arming only moves a deadline the watchdog reads when it wakes; touching
  // the timer itself on every request would cost a cancelled wait each time.
  void ArmWatchdog() {
    timed_out_ = false;
    io_deadline_ =
        Clock::now() + std::chrono::milliseconds(config_.request_timeout_ms);
  }
  void DisarmWatchdog() { io_deadline_ = Clock::time_point::max(); }

  // Wakes at the pending I/O's deadline, or one timeout from now when idle
  // (any I/O started meanwhile has a later deadline, so none is missed), and
  // closes the socket if the I/O is still pending, which fails it.
  awaitable<void> Watchdog() {
    const auto timeout = std::chrono::milliseconds(config_.request_timeout_ms);
    while (!done_) {
      Clock::time_point now = Clock::now();
      if (io_deadline_ <= now) {
        timed_out_ = true;
        Close();
        io_deadline_ = Clock::time_point::max();
      }
      watchdog_.expires_at(std::min(io_deadline_, now + timeout));
      error_code ec;
      co_await watchdog_.async_wait(Redirect(ec));
    }
  }

  std::string IoErrorText(const char* what, const error_code& ec) const {
    if (timed_out_) {
      return std::string(what) + ": no reply within " +
             std::to_string(config_.request_timeout_ms) + " ms";
    }
    if (ec == asio::error::eof) {
      return std::string(what) + ": connection closed by server";
    }
    return std::string(what) + ": " + ec.message();
  }

  // A failed attempt adds one to `*failures`.
  awaitable<bool> Connect(std::atomic<uint64_t>* failures) {
    error_code ec;
    ArmWatchdog();
    co_await asio::async_connect(socket_, shared_.endpoints[node_],
                                 Redirect(ec));
    DisarmWatchdog();
    if (ec) {
      failures->fetch_add(1, std::memory_order_relaxed);
      shared_.AddErrorSample("connect " + NodeName(config_.nodes[node_]) +
                             ": " + (timed_out_ ? "timed out" : ec.message()));
      Close();
      co_return false;
    }
    socket_.set_option(tcp::no_delay(true), ec);
    co_return true;
  }

  awaitable<void> Sleep(Clock::duration d) {
    error_code ec;
    backoff_.expires_after(d);
    co_await backoff_.async_wait(Redirect(ec));
  }

  // Sends one request and reads its reply into `reply`.
  awaitable<Outcome> Call(pbc::Code code,
                          const google::protobuf::MessageLite& request,
                          pbc::Code expected,
                          google::protobuf::MessageLite* reply,
                          std::string* error) {
    EncodeFrame(code, request, &out_);
    error_code ec;
    ArmWatchdog();
    co_await asio::async_write(socket_, asio::buffer(out_), Redirect(ec));
    if (ec) {
      *error = IoErrorText("write", ec);
      Close();
      co_return Outcome::kFailed;
    }
    unsigned char header[pbc::kLengthPrefixBytes];
    co_await asio::async_read(socket_, asio::buffer(header), Redirect(ec));
    if (ec) {
      *error = IoErrorText("read", ec);
      Close();
      co_return Outcome::kFailed;
    }
    uint32_t length = 0;
    Status s = DecodeFrameLength(header, config_.max_frame_bytes, &length);
    if (!s.ok()) {
      *error = "malformed reply: " + s.message();
      Close();
      co_return Outcome::kFailed;
    }
    in_.resize(length);
    co_await asio::async_read(socket_, asio::buffer(in_), Redirect(ec));
    if (ec) {
      *error = IoErrorText("read", ec);
      Close();
      co_return Outcome::kFailed;
    }
    DisarmWatchdog();

    auto got = static_cast<uint8_t>(in_[0]);
    const char* body = in_.data() + 1;
    int body_size = static_cast<int>(length - 1);
    if (got == static_cast<uint8_t>(pbc::Code::kErrorResp)) {
      pbc::RpbErrorResp err;
      if (err.ParseFromArray(body, body_size)) {
        *error = "RpbErrorResp " + std::to_string(err.errcode()) + ": " +
                 err.errmsg();
      } else {
        *error = "unparseable RpbErrorResp";
      }
      co_return Outcome::kServerError;
    }
    if (got != static_cast<uint8_t>(expected)) {
      // The reply belongs to something else: the stream cannot be trusted.
      *error = "reply code " + std::to_string(got) + " to request code " +
               std::to_string(static_cast<int>(code)) + " (expected " +
               std::to_string(static_cast<int>(expected)) + ")";
      Close();
      co_return Outcome::kFailed;
    }
    if (!reply->ParseFromArray(body, body_size)) {
      // Framing is intact, so the connection stays.
      *error = "unparseable reply body for code " + std::to_string(got);
      co_return Outcome::kServerError;
    }
    co_return Outcome::kOk;
  }

  // New random bytes for every put. One value shared by all puts would let
  // the storage engine's block compression (Snappy in LevelDB) fold the
  // copies that land in the same block, and flatter the bytes on disk.
  void FillRandom(std::string* value) {
    char* p = value->data();
    size_t left = value->size();
    while (left > 0) {
      uint64_t word = value_rng_();
      size_t n = std::min(left, sizeof word);
      std::memcpy(p, &word, n);
      p += n;
      left -= n;
    }
  }

  // Returns true if the operation succeeded.
  // `start` is when its latency counts from: now, unless paced; paced, the
  // earlier of when it was sent and when it was due.
  awaitable<bool> DoOp(int kind, const std::string& key, PhaseStats* stats,
                       Clock::time_point start) {
    std::string error;
    Outcome outcome = Outcome::kFailed;
    bool notfound = false;
    if (config_.protocol == Protocol::kResp) {
      outcome = co_await RespCall(kind, key, &notfound, &error);
    } else {
      outcome = co_await PbcOp(kind, key, &notfound, &error);
    }
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      Clock::now() - start)
                      .count();
    if (outcome != Outcome::kOk) {
      stats->errors[kind].fetch_add(1, std::memory_order_relaxed);
      shared_.AddErrorSample(std::string(OpName(kind)) + ": " + error);
      co_return false;
    }
    if (notfound) stats->notfound[kind].fetch_add(1, std::memory_order_relaxed);
    stats->latency[kind].Record(
        static_cast<uint64_t>(std::max<int64_t>(micros, 0)));
    co_return true;
  }

  // One operation of `kind` over the Riak protocol; *notfound is set for a
  // get or dtget that found nothing.
  awaitable<Outcome> PbcOp(int kind, const std::string& key, bool* notfound,
                           std::string* error) {
    Outcome outcome = Outcome::kFailed;
    switch (kind) {
      case kPut:
        put_req_.set_key(key);
        FillRandom(put_req_.mutable_content()->mutable_value());
        outcome = co_await Call(pbc::Code::kPutReq, put_req_,
                                pbc::Code::kPutResp, &put_resp_, error);
        break;
      case kGet:
        get_req_.set_key(key);
        outcome = co_await Call(pbc::Code::kGetReq, get_req_,
                                pbc::Code::kGetResp, &get_resp_, error);
        break;
      case kIncr:
        incr_req_.set_key(key);
        outcome = co_await Call(pbc::Code::kDtUpdateReq, incr_req_,
                                pbc::Code::kDtUpdateResp, &update_resp_, error);
        break;
      case kSadd:
        sadd_req_.set_key(key);
        FillRandom(sadd_req_.mutable_op()->mutable_set_op()->mutable_adds(0));
        outcome = co_await Call(pbc::Code::kDtUpdateReq, sadd_req_,
                                pbc::Code::kDtUpdateResp, &update_resp_, error);
        break;
      case kDtGet:
        dtget_req_.set_key(key);
        outcome = co_await Call(pbc::Code::kDtFetchReq, dtget_req_,
                                pbc::Code::kDtFetchResp, &fetch_resp_, error);
        break;
    }
    *notfound = outcome == Outcome::kOk &&
                ((kind == kGet && get_resp_.content_size() == 0) ||
                 (kind == kDtGet && !fetch_resp_.has_value()));
    co_return outcome;
  }

  // A put as SET, a get as GET, of "bucket:key" over redis's protocol, with
  // the same write, read and timeout handling as Call. One request is
  // outstanding at a time, so bytes after its reply mean the stream is lost.
  awaitable<Outcome> RespCall(int kind, const std::string& key, bool* notfound,
                              std::string* error) {
    resp_key_.assign(config_.bucket).append(":").append(key);
    out_.clear();
    if (kind == kPut) {
      FillRandom(&resp_value_);
      resp::AppendCommand({"SET", resp_key_, resp_value_}, &out_);
    } else {
      resp::AppendCommand({"GET", resp_key_}, &out_);
    }
    error_code ec;
    ArmWatchdog();
    co_await asio::async_write(socket_, asio::buffer(out_), Redirect(ec));
    if (ec) {
      *error = IoErrorText("write", ec);
      Close();
      co_return Outcome::kFailed;
    }
    constexpr size_t kReadChunk = 16 << 10;
    resp::Reply reply;
    size_t consumed = 0;
    in_.clear();
    while (true) {
      std::string parse_error;
      resp::ParseResult parsed = resp::ParseReply(
          in_, config_.max_frame_bytes, &reply, &consumed, &parse_error);
      if (parsed == resp::ParseResult::kComplete) break;
      if (parsed == resp::ParseResult::kMalformed) {
        *error = "malformed reply: " + parse_error;
        Close();
        co_return Outcome::kFailed;
      }
      size_t had = in_.size();
      in_.resize(had + kReadChunk);
      size_t n = co_await socket_.async_read_some(
          asio::buffer(in_.data() + had, kReadChunk), Redirect(ec));
      in_.resize(had + n);
      if (ec) {
        *error = IoErrorText("read", ec);
        Close();
        co_return Outcome::kFailed;
      }
    }
    DisarmWatchdog();
    if (consumed != in_.size()) {
      *error = "bytes after the reply to one request";
      Close();
      co_return Outcome::kFailed;
    }
    using Kind = resp::Reply::Kind;
    if (reply.kind == Kind::kError) {
      *error = "redis error: " + reply.text;
      co_return Outcome::kServerError;
    }
    if (kind == kPut && reply.kind == Kind::kSimple && reply.text == "OK") {
      co_return Outcome::kOk;
    }
    if (kind == kGet &&
        (reply.kind == Kind::kBulk || reply.kind == Kind::kNil)) {
      *notfound = reply.kind == Kind::kNil;
      co_return Outcome::kOk;
    }
    *error = std::string("unexpected reply to ") + OpName(kind);
    Close();
    co_return Outcome::kFailed;
  }

  awaitable<void> PreloadLoop(PhaseStats* stats) {
    const int kind = PreloadKind(config_.mix);
    int failed_connects = 0;
    int consecutive_errors = 0;
    while (true) {
      if (!socket_.is_open()) {
        if (!co_await Connect(&stats->connect_errors)) {
          if (++failed_connects >= kPreloadMaxFailedConnects) break;
          co_await Sleep(kReconnectDelay);
          continue;
        }
        failed_connects = 0;
      }
      uint64_t index = shared_.next_preload_key.fetch_add(1);
      if (index >= config_.keys) break;
      if (co_await DoOp(kind, KeyName(index), stats, Clock::now())) {
        consecutive_errors = 0;
      } else if (++consecutive_errors >= kPreloadMaxConsecutiveErrors) {
        break;
      }
    }
    Finish(/*close=*/false);
  }

  // Fetches every key the shared cursor hands out, each until it is answered
  // (at most kTallyAttempts times), and adds up what the keys hold.
  awaitable<void> TallyLoop(TallyStats* stats) {
    int failed_connects = 0;
    int consecutive_failed_keys = 0;
    while (failed_connects < kPreloadMaxFailedConnects &&
           consecutive_failed_keys < kPreloadMaxConsecutiveErrors) {
      uint64_t index = shared_.next_tally_key.fetch_add(1);
      if (index >= config_.keys) break;
      tally_req_.set_key(KeyName(index));
      bool answered = false;
      for (int attempt = 0; attempt < kTallyAttempts && !answered; ++attempt) {
        if (!socket_.is_open()) {
          if (!co_await Connect(&stats->errors)) {
            if (++failed_connects >= kPreloadMaxFailedConnects) break;
            co_await Sleep(kReconnectDelay);
            continue;
          }
          failed_connects = 0;
        }
        std::string error;
        Outcome outcome =
            co_await Call(pbc::Code::kDtFetchReq, tally_req_,
                          pbc::Code::kDtFetchResp, &fetch_resp_, &error);
        if (outcome != Outcome::kOk) {
          stats->errors.fetch_add(1, std::memory_order_relaxed);
          shared_.AddErrorSample("tally: " + error);
          continue;
        }
        answered = true;
        stats->keys_read.fetch_add(1, std::memory_order_relaxed);
        if (fetch_resp_.has_value()) {
          const pbc::DtValue& v = fetch_resp_.value();
          stats->keys_found.fetch_add(1, std::memory_order_relaxed);
          stats->counter_total.fetch_add(v.counter_value(),
                                         std::memory_order_relaxed);
          stats->set_elements.fetch_add(
              static_cast<uint64_t>(v.set_value_size()),
              std::memory_order_relaxed);
        }
      }
      consecutive_failed_keys = answered ? 0 : consecutive_failed_keys + 1;
    }
    Finish(/*close=*/false);
  }

  awaitable<void> RunLoop(PhaseStats* stats) {
    const Clock::time_point deadline = shared_.deadline;
    const std::array<uint32_t, kOpKinds> weights = Weights(config_.mix);
    const uint64_t total_weight = config_.mix.total();
    // Paced: this connection's share of the rate, its first request at a
    // random point of the first interval so connections do not move in step.
    Clock::duration interval{0};
    if (config_.rate > 0) {
      interval = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(config_.connections / config_.rate));
    }
    const std::chrono::microseconds tick{config_.pace_tick_us};
    Clock::time_point due = Clock::now();
    if (interval.count() > 0) due += interval * (rng_() % 1000) / 1000;
    while (Clock::now() < deadline) {
      if (!socket_.is_open()) {
        if (!co_await Connect(&stats->connect_errors)) {
          co_await Sleep(std::min<Clock::duration>(kReconnectDelay,
                                                   deadline - Clock::now()));
          continue;
        }
      }
      Clock::time_point start = Clock::now();
      if (interval.count() > 0) {
        if (due >= deadline) break;
        const Clock::time_point release =
            PacedRelease(due, shared_.start, tick);
        if (start < release) {
          co_await Sleep(release - start);
          start = Clock::now();
        }
        start = std::min(start, due);
        due += interval;
      }
      uint64_t pick = rng_() % total_weight;
      int kind = 0;
      while (pick >= weights[kind]) pick -= weights[kind++];
      co_await DoOp(kind, KeyName(chooser_.Next()), stats, start);
    }
    Finish(/*close=*/true);
  }

  Shared& shared_;
  const BenchConfig& config_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  asio::steady_timer watchdog_;
  asio::steady_timer backoff_;
  const size_t node_;
  KeyChooser chooser_;
  std::mt19937_64 rng_;
  std::mt19937_64 value_rng_;
  bool done_ = false;
  bool timed_out_ = false;
  Clock::time_point io_deadline_ = Clock::time_point::max();

  // Reused for every request: only the key (and a put's value bytes, a
  // sadd's element) change.
  pbc::RpbPutReq put_req_;
  pbc::RpbGetReq get_req_;
  pbc::DtUpdateReq incr_req_;
  pbc::DtUpdateReq sadd_req_;
  pbc::DtFetchReq dtget_req_;
  pbc::DtFetchReq tally_req_;
  pbc::RpbPutResp put_resp_;
  pbc::RpbGetResp get_resp_;
  pbc::DtUpdateResp update_resp_;
  pbc::DtFetchResp fetch_resp_;
  std::string out_;
  std::string in_;
  // RESP: the redis key and a put's value, reused.
  std::string resp_key_;
  std::string resp_value_;
};

// Runs the io_context on `threads` threads (the caller's among them) until
// every connection's loop has finished.
double RunToCompletion(asio::io_context& io, uint32_t threads) {
  Clock::time_point start = Clock::now();
  std::vector<std::thread> extra;
  for (uint32_t i = 1; i < threads; ++i) {
    extra.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (std::thread& t : extra) t.join();
  io.restart();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

Status RunBench(const BenchConfig& config, BenchResult* result) {
  Status s = CheckConfig(config);
  if (!s.ok()) return s;

  asio::io_context io;
  Shared shared(config);
  tcp::resolver resolver(io);
  for (const NodeAddress& node : config.nodes) {
    error_code ec;
    auto endpoints = resolver.resolve(node.host, std::to_string(node.port), ec);
    if (ec || endpoints.empty()) {
      return Status::InvalidArgument("cannot resolve " + NodeName(node) + ": " +
                                     ec.message());
    }
    shared.endpoints.push_back(std::move(endpoints));
  }
  std::vector<std::unique_ptr<Connection>> connections;
  connections.reserve(config.connections);
  for (uint32_t i = 0; i < config.connections; ++i) {
    connections.push_back(std::make_unique<Connection>(io, shared, i));
  }

  BenchResult out;
  if (config.preload) {
    PhaseStats stats;
    for (auto& c : connections) c->StartPreload(&stats);
    double elapsed = RunToCompletion(io, config.threads);
    out.preload = stats.Summarize(elapsed);
  }

  PhaseStats stats;
  shared.start = Clock::now();
  shared.deadline = shared.start +
                    std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(config.duration_seconds));
  for (auto& c : connections) c->StartRun(&stats);
  double elapsed = RunToCompletion(io, config.threads);
  out.run = stats.Summarize(elapsed);

  if (config.tally) {
    TallyStats tally;
    for (auto& c : connections) c->StartTally(&tally);
    TallyResult t;
    t.elapsed_seconds = RunToCompletion(io, config.threads);
    t.keys_read = tally.keys_read.load();
    t.keys_found = tally.keys_found.load();
    t.keys_failed = config.keys - t.keys_read;
    t.counter_total = tally.counter_total.load();
    t.set_elements = tally.set_elements.load();
    t.errors = tally.errors.load();
    out.tally = t;
  }
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    out.error_samples = shared.error_samples;
  }
  *result = std::move(out);
  return Status::Ok();
}

}  // namespace causeway::bench
