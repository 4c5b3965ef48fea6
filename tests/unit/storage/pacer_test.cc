#include "storage/pacer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace causeway::storage {
namespace {

using std::chrono::microseconds;
using Clock = Pacer::Clock;

// A clock the test moves by hand; a sleep moves it by the time slept.
struct FakeTime {
  Clock::time_point now{};
  std::vector<Clock::duration> sleeps;

  // Each sleep takes as long as asked plus `late`.
  Clock::duration late{0};

  Pacer MakePacer(Clock::duration slice, Clock::duration pause,
                  Clock::duration overrun = std::chrono::milliseconds(1)) {
    return Pacer(
        slice, pause, overrun, [this] { return now; },
        [this](Clock::duration d) {
          sleeps.push_back(d);
          now += d + late;
        });
  }
};

TEST(PacerTest, NoPauseWithinASlice) {
  FakeTime t;
  Pacer pacer = t.MakePacer(microseconds(500), microseconds(50));
  for (int i = 0; i < 49; ++i) {
    t.now += microseconds(10);
    pacer.Tick();
  }
  EXPECT_TRUE(t.sleeps.empty());
  EXPECT_EQ(pacer.pauses(), 0u);
}

TEST(PacerTest, PausesOnceASliceHasPassedThenStartsTheNext) {
  FakeTime t;
  Pacer pacer = t.MakePacer(microseconds(500), microseconds(50));
  t.now += microseconds(499);
  pacer.Tick();
  EXPECT_TRUE(t.sleeps.empty());
  t.now += microseconds(1);
  pacer.Tick();
  ASSERT_EQ(t.sleeps.size(), 1u);
  EXPECT_EQ(t.sleeps[0], microseconds(50));
  // The next slice starts after the pause: 499 us later is still inside it.
  t.now += microseconds(499);
  pacer.Tick();
  EXPECT_EQ(pacer.pauses(), 1u);
  t.now += microseconds(1);
  pacer.Tick();
  EXPECT_EQ(pacer.pauses(), 2u);
}

// Work that was held up (the thread preempted for a long time) pauses once
// at its next tick, not once for every slice that passed meanwhile.
TEST(PacerTest, ALongGapCostsOnePause) {
  FakeTime t;
  Pacer pacer = t.MakePacer(microseconds(500), microseconds(50));
  t.now += std::chrono::milliseconds(20);
  pacer.Tick();
  pacer.Tick();
  EXPECT_EQ(pacer.pauses(), 1u);
}

// Ticks spread over a long stretch of work pause about once per slice.
TEST(PacerTest, SteadyWorkPausesOncePerSlice) {
  FakeTime t;
  Pacer pacer = t.MakePacer(microseconds(500), microseconds(50));
  for (int i = 0; i < 10000; ++i) {  // 10000 units of 20 us of work
    t.now += microseconds(20);
    pacer.Tick();
  }
  // 200 ms of work in 500 us slices.
  EXPECT_EQ(pacer.pauses(), 400u);
  EXPECT_EQ(t.sleeps.size(), 400u);
}

// A pause that comes back late by more than the overrun (the CPUs were
// saturated) ends the pauses; one late by less does not.
TEST(PacerTest, AnOverrunEndsThePauses) {
  FakeTime t;
  Pacer pacer = t.MakePacer(microseconds(500), microseconds(50),
                            std::chrono::milliseconds(1));
  t.late = microseconds(900);  // 950 us in all: within the overrun
  t.now += microseconds(500);
  EXPECT_TRUE(pacer.Tick());
  EXPECT_FALSE(pacer.stopped());
  t.late = microseconds(1000);  // 1050 us
  t.now += microseconds(500);
  EXPECT_TRUE(pacer.Tick());
  EXPECT_TRUE(pacer.stopped());
  t.late = microseconds(0);
  for (int i = 0; i < 100; ++i) {
    t.now += microseconds(500);
    EXPECT_FALSE(pacer.Tick());
  }
  EXPECT_EQ(pacer.pauses(), 2u);
}

}  // namespace
}  // namespace causeway::storage
