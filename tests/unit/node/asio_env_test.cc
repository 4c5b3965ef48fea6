#include "node/asio_env.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <set>
#include <vector>

namespace causeway::node {
namespace {

TEST(AsioEnvTest, TimersFireInDeadlineOrder) {
  boost::asio::io_context io;
  AsioEnv env(io);
  std::vector<int> fired;
  for (int delay : {30, 5, 20, 0, 10, 25, 15}) {
    env.After(delay, [&fired, delay] { fired.push_back(delay); });
  }
  EXPECT_EQ(env.pending_timers(), 7u);
  io.run();
  EXPECT_EQ(fired, (std::vector<int>{0, 5, 10, 15, 20, 25, 30}));
  EXPECT_EQ(env.pending_timers(), 0u);
}

TEST(AsioEnvTest, ZeroDelayNeverRunsInline) {
  boost::asio::io_context io;
  AsioEnv env(io);
  bool fired = false;
  env.After(0, [&] { fired = true; });
  EXPECT_FALSE(fired);
  io.run();
  EXPECT_TRUE(fired);
}

TEST(AsioEnvTest, CancelledTimersNeverFire) {
  boost::asio::io_context io;
  AsioEnv env(io);
  std::vector<int> fired;
  replication::TimerId a = env.After(5, [&] { fired.push_back(1); });
  env.After(10, [&] { fired.push_back(2); });
  replication::TimerId c = env.After(15, [&] { fired.push_back(3); });
  env.Cancel(a);
  env.Cancel(c);
  env.Cancel(c);      // twice: harmless
  env.Cancel(12345);  // unknown: harmless
  EXPECT_EQ(env.pending_timers(), 1u);
  io.run();
  EXPECT_EQ(fired, (std::vector<int>{2}));
}

TEST(AsioEnvTest, ATimerCanCancelALaterOneThatIsAlreadyDue) {
  boost::asio::io_context io;
  AsioEnv env(io);
  std::vector<int> fired;
  replication::TimerId second = 0;
  env.After(1, [&] {
    fired.push_back(1);
    env.Cancel(second);
  });
  second = env.After(2, [&] { fired.push_back(2); });
  // Let both deadlines pass before the loop looks at the timers, so the
  // second is already queued as expired when the first cancels it.
  boost::asio::post(io, [] {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
    while (std::chrono::steady_clock::now() < until) {
    }
  });
  io.run();
  EXPECT_EQ(fired, (std::vector<int>{1}));
}

TEST(AsioEnvTest, TimersCanScheduleTimers) {
  boost::asio::io_context io;
  AsioEnv env(io);
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 5) env.After(1, tick);
  };
  env.After(1, tick);
  io.run();
  EXPECT_EQ(ticks, 5);
}

TEST(AsioEnvTest, CancelAllAndDestructionSilenceEverything) {
  boost::asio::io_context io;
  int fired = 0;
  {
    AsioEnv env(io);
    env.After(1, [&] { ++fired; });
    env.After(2, [&] { ++fired; });
    env.CancelAll();
    EXPECT_EQ(env.pending_timers(), 0u);
    env.After(3, [&] { ++fired; });
    // Destroyed with one timer pending: its handler stays queued in the
    // io_context and must find nothing to run.
  }
  io.run();
  EXPECT_EQ(fired, 0);
}

TEST(AsioEnvTest, ClocksAndRandom) {
  boost::asio::io_context io;
  AsioEnv env(io);
  const uint64_t m1 = env.MonotonicMillis();
  const uint64_t m2 = env.MonotonicMillis();
  EXPECT_LE(m1, m2);
  // After 2020-01-01 and before 2200: a real wall clock in milliseconds.
  EXPECT_GT(env.WallMillis(), 1577836800000u);
  EXPECT_LT(env.WallMillis(), 7258118400000u);
  std::set<uint64_t> values;
  for (int i = 0; i < 100; ++i) values.insert(env.Random());
  EXPECT_GT(values.size(), 95u);
  // Two envs are seeded independently.
  AsioEnv other(io);
  EXPECT_NE(env.Random(), other.Random());
}

TEST(AsioEnvTest, IdsAreUnique) {
  boost::asio::io_context io;
  AsioEnv env(io);
  std::set<replication::TimerId> ids;
  for (int i = 0; i < 100; ++i) ids.insert(env.After(1000, [] {}));
  EXPECT_EQ(ids.size(), 100u);
  env.CancelAll();
  io.run();
}

TEST(AsioEnvTest, AWallOffsetShiftsOnlyTheWallClock) {
  boost::asio::io_context io;
  AsioEnv env(io);
  EXPECT_EQ(env.wall_offset_millis(), 0);
  const uint64_t before = env.WallMillis();
  const uint64_t mono_before = env.MonotonicMillis();
  env.SetWallOffsetMillis(3600000);
  const uint64_t ahead = env.WallMillis();
  EXPECT_GE(ahead, before + 3600000);
  EXPECT_LT(env.MonotonicMillis(), mono_before + 3600000);
  env.SetWallOffsetMillis(-3600000);
  EXPECT_LT(env.WallMillis(), before);
  EXPECT_EQ(env.wall_offset_millis(), -3600000);
  // Never before 1970.
  env.SetWallOffsetMillis(-static_cast<int64_t>(before) - 1000000);
  EXPECT_EQ(env.WallMillis(), 0u);
  env.SetWallOffsetMillis(0);
  EXPECT_GE(env.WallMillis(), before);
}

}  // namespace
}  // namespace causeway::node
