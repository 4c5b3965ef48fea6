#include "node/asio_env.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <random>
#include <unordered_map>
#include <utility>

namespace causeway::node {

// Shared with the wait handlers through weak pointers, so a handler that
// runs after the AsioEnv is gone (cancelled, or already queued when the env
// was destroyed) finds nothing and does nothing.
struct AsioEnv::State {
  struct Pending {
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::function<void()> fn;
  };

  explicit State(boost::asio::io_context& io_context)
      : io(io_context), rng(SeedFromDevice()) {}

  // Actor ids and request ids come from this generator, and an actor id
  // shared by two replicas would make their writes indistinguishable: seed
  // all 64 bits of state from the device rather than one 32-bit word.
  static std::mt19937_64 SeedFromDevice() {
    std::random_device device;
    std::seed_seq seq{device(), device(), device(), device(),
                      device(), device(), device(), device()};
    return std::mt19937_64(seq);
  }

  boost::asio::io_context& io;
  std::mt19937_64 rng;
  replication::TimerId next_id = 1;
  int64_t wall_offset_ms = 0;
  std::unordered_map<replication::TimerId, Pending> timers;
};

AsioEnv::AsioEnv(boost::asio::io_context& io)
    : state_(std::make_shared<State>(io)) {}

AsioEnv::~AsioEnv() { CancelAll(); }

uint64_t AsioEnv::MonotonicMillis() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
          .count());
}

uint64_t AsioEnv::WallMillis() {
  using namespace std::chrono;
  const auto ms =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch())
          .count() +
      state_->wall_offset_ms;
  // A clock set before 1970 is not something the HLC can use; report 0 and
  // let the logical part carry it.
  return ms < 0 ? 0 : static_cast<uint64_t>(ms);
}

void AsioEnv::SetWallOffsetMillis(int64_t offset_ms) {
  state_->wall_offset_ms = offset_ms;
}

int64_t AsioEnv::wall_offset_millis() const { return state_->wall_offset_ms; }

replication::TimerId AsioEnv::After(uint64_t delay_ms,
                                    std::function<void()> fn) {
  const replication::TimerId id = state_->next_id++;
  auto timer = std::make_unique<boost::asio::steady_timer>(state_->io);
  // Clamp so that a huge delay cannot overflow the clock's representation.
  constexpr uint64_t kMaxDelayMs = uint64_t{1} << 40;  // ~35 years
  timer->expires_after(
      std::chrono::milliseconds(std::min(delay_ms, kMaxDelayMs)));
  boost::asio::steady_timer& timer_ref = *timer;
  state_->timers.emplace(id, State::Pending{std::move(timer), std::move(fn)});
  std::weak_ptr<State> weak = state_;
  timer_ref.async_wait([weak, id](const boost::system::error_code& ec) {
    std::shared_ptr<State> state = weak.lock();
    if (!state) return;
    auto it = state->timers.find(id);
    // Cancel() erases the entry, which also covers a timer that expired and
    // was queued before it was cancelled (its error code is then success).
    if (it == state->timers.end()) return;
    std::function<void()> fn = std::move(it->second.fn);
    state->timers.erase(it);
    if (ec) return;
    fn();
  });
  return id;
}

void AsioEnv::Cancel(replication::TimerId id) {
  auto it = state_->timers.find(id);
  if (it == state_->timers.end()) return;
  it->second.timer->cancel();
  state_->timers.erase(it);
}

uint64_t AsioEnv::Random() { return state_->rng(); }

void AsioEnv::CancelAll() {
  for (auto& [id, pending] : state_->timers) pending.timer->cancel();
  state_->timers.clear();
}

size_t AsioEnv::pending_timers() const { return state_->timers.size(); }

}  // namespace causeway::node
