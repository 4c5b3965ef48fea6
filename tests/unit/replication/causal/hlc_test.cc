#include "replication/causal/hlc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <random>
#include <vector>

#include "replication/causal/clock_lease.h"

namespace causeway::replication::causal {
namespace {

using Rng = std::mt19937_64;
constexpr uint32_t kMaxLogical = 0xFFFF;
constexpr uint64_t kMaxWall = (uint64_t{1} << 48) - 1;

// A physical clock that mostly creeps forward, sometimes stalls, and now and
// then jumps back (NTP step, VM migration) or ahead.
uint64_t NextReading(Rng& rng, uint64_t phys) {
  switch (rng() % 10) {
    case 0:
      return phys > 5000 ? phys - rng() % 5000 : 0;  // backwards jump
    case 1:
      return phys + rng() % 10000;  // forward jump
    case 2:
    case 3:
      return phys;  // same millisecond
    default:
      return phys + rng() % 3;
  }
}

TEST(HlcTimestampTest, PackIsTheTupleOrderExhaustiveSmall) {
  std::vector<HlcTimestamp> ts;
  for (uint64_t w :
       {uint64_t{0}, uint64_t{1}, uint64_t{2}, kMaxWall - 1, kMaxWall}) {
    for (uint32_t l : {0u, 1u, 0xFFFEu, kMaxLogical}) ts.push_back({w, l});
  }
  for (const auto& a : ts) {
    EXPECT_EQ(HlcTimestamp::Unpack(a.Pack()), a);
    for (const auto& b : ts) {
      EXPECT_EQ(a < b, a.Pack() < b.Pack()) << a.ToString() << b.ToString();
      EXPECT_EQ(a == b, a.Pack() == b.Pack());
    }
  }
}

TEST(HlcTimestampTest, PackIsTheTupleOrderRandom) {
  Rng rng(1);
  for (int i = 0; i < 100000; ++i) {
    HlcTimestamp a{rng() & kMaxWall, static_cast<uint32_t>(rng() & 0xFFFF)};
    HlcTimestamp b = a;
    // Often share the wall so the logical part decides.
    if (rng() % 2)
      b.logical = static_cast<uint32_t>(rng() & 0xFFFF);
    else
      b.wall_ms = rng() & kMaxWall;
    EXPECT_EQ(a < b, a.Pack() < b.Pack());
    EXPECT_EQ(HlcTimestamp::Unpack(a.Pack()), a);
    EXPECT_EQ(HlcTimestamp::Unpack(b.Pack()), b);
  }
}

TEST(HlcTimestampTest, PackLayout) {
  EXPECT_EQ((HlcTimestamp{1, 2}).Pack(), (uint64_t{1} << 16) | 2);
  EXPECT_EQ((HlcTimestamp{1700000000000, 7}).ToString(), "1700000000000.7");
}

TEST(HlcTimestampTest, OutOfRangePartsClampInsteadOfBleeding) {
  // A logical count past 16 bits must not carry into the milliseconds.
  EXPECT_EQ((HlcTimestamp{5, 0x10000}).Pack(),
            (HlcTimestamp{5, 0xFFFF}).Pack());
  EXPECT_LT((HlcTimestamp{5, 0x10000}).Pack(), (HlcTimestamp{6, 0}).Pack());
  EXPECT_EQ((HlcTimestamp{~uint64_t{0}, 0}).Pack() >> 16, kMaxWall);
}

TEST(HybridClockTest, NowFollowsThePhysicalClockWhenItAdvances) {
  HybridClock c;
  EXPECT_EQ(c.Now(100), (HlcTimestamp{100, 0}));
  EXPECT_EQ(c.Now(100), (HlcTimestamp{100, 1}));
  EXPECT_EQ(c.Now(100), (HlcTimestamp{100, 2}));
  EXPECT_EQ(c.Now(101), (HlcTimestamp{101, 0}));
  EXPECT_EQ(c.Now(50), (HlcTimestamp{101, 1}));  // physical went back
  EXPECT_EQ(c.last(), (HlcTimestamp{101, 1}));
}

TEST(HybridClockTest, NowIsStrictlyMonotonicUnderRandomReadings) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rng rng(seed);
    HybridClock c;
    uint64_t phys = 1700000000000 + rng() % 1000;
    uint64_t max_phys = 0;
    HlcTimestamp prev = c.last();
    for (int i = 0; i < 5000; ++i) {
      phys = NextReading(rng, phys);
      max_phys = std::max(max_phys, phys);
      HlcTimestamp t = c.Now(phys);
      ASSERT_LT(prev, t);
      ASSERT_GE(t.wall_ms, phys);
      // Never runs ahead of the physical clock: too few events per
      // millisecond here to exhaust the logical part.
      ASSERT_EQ(t.wall_ms, max_phys);
      ASSERT_LE(t.logical, kMaxLogical);
      prev = t;
    }
  }
}

TEST(HybridClockTest, ObserveFollowsThePaperCases) {
  HybridClock c;
  c.Now(100);  // last = 100.0
  // Remote ahead: adopt its wall, bump its logical.
  EXPECT_EQ(c.Observe({200, 5}, 150), (HlcTimestamp{200, 6}));
  // All three share the wall: max logical + 1.
  EXPECT_EQ(c.Observe({200, 9}, 200), (HlcTimestamp{200, 10}));
  // Remote behind, local wall wins: local logical + 1.
  EXPECT_EQ(c.Observe({100, 50}, 190), (HlcTimestamp{200, 11}));
  // Physical ahead of both: logical resets.
  EXPECT_EQ(c.Observe({210, 3}, 300), (HlcTimestamp{300, 0}));
}

// Nodes with skewed physical clocks exchange messages with random delay and
// reordering. Every receive must be stamped after the send it saw, and each
// node's own stamps must increase; together these give causality.
TEST(HybridClockTest, ObserveRespectsCausalityAcrossNodes) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    Rng rng(seed);
    constexpr int kNodes = 5;
    std::vector<HybridClock> clocks(kNodes);
    std::vector<int64_t> skew(kNodes);
    std::vector<HlcTimestamp> last(kNodes);
    for (auto& s : skew) s = static_cast<int64_t>(rng() % 2000) - 1000;
    struct Message {
      int to;
      HlcTimestamp stamp;
    };
    std::deque<Message> in_flight;
    uint64_t now = 1700000000000;
    for (int step = 0; step < 20000; ++step) {
      now += rng() % 3;
      int node = static_cast<int>(rng() % kNodes);
      uint64_t phys = now + skew[node];
      if (rng() % 50 == 0) skew[node] -= static_cast<int64_t>(rng() % 500);
      HlcTimestamp t;
      if (!in_flight.empty() && rng() % 2) {
        size_t pick = rng() % in_flight.size();
        Message m = in_flight[pick];
        in_flight.erase(in_flight.begin() + pick);
        phys = now + skew[m.to];
        t = clocks[m.to].Observe(m.stamp, phys);
        ASSERT_LT(m.stamp, t);
        node = m.to;
      } else {
        t = clocks[node].Now(phys);
        in_flight.push_back(Message{static_cast<int>(rng() % kNodes), t});
      }
      ASSERT_LT(last[node], t);
      ASSERT_GE(t.wall_ms, phys);
      last[node] = t;
    }
  }
}

TEST(HybridClockTest, LogicalOverflowAdvancesTheWall) {
  HybridClock c;
  HlcTimestamp prev = c.Now(1000);
  for (uint32_t i = 1; i <= kMaxLogical; ++i) {
    HlcTimestamp t = c.Now(1000);
    ASSERT_EQ(t, (HlcTimestamp{1000, i}));
    prev = t;
  }
  HlcTimestamp t = c.Now(1000);
  EXPECT_EQ(t, (HlcTimestamp{1001, 0}));
  EXPECT_LT(prev.Pack(), t.Pack());
  // The borrowed millisecond is not given back when physical time catches up.
  EXPECT_EQ(c.Now(1001), (HlcTimestamp{1001, 1}));
  EXPECT_EQ(c.Now(1002), (HlcTimestamp{1002, 0}));
}

TEST(HybridClockTest, ObserveOverflowAdvancesTheWall) {
  HybridClock c;
  EXPECT_EQ(c.Observe({500, kMaxLogical}, 400), (HlcTimestamp{501, 0}));
  HybridClock d;
  d.Now(500);
  EXPECT_EQ(d.Observe({500, kMaxLogical}, 500), (HlcTimestamp{501, 0}));
  // A hostile logical part far beyond 16 bits neither wraps nor goes back.
  HybridClock e;
  HlcTimestamp remote{700, std::numeric_limits<uint32_t>::max()};
  HlcTimestamp t = e.Observe(remote, 10);
  EXPECT_EQ(t, (HlcTimestamp{701, 0}));
  EXPECT_LT(remote, t);
}

TEST(HybridClockTest, SaturatesAtTheTopOfTheRangeInsteadOfWrapping) {
  HybridClock c;
  HlcTimestamp t = c.Observe({~uint64_t{0}, 0}, 10);
  EXPECT_EQ(t, (HlcTimestamp{kMaxWall, kMaxLogical}));
  EXPECT_EQ(c.Now(20), t);
  HybridClock d;
  EXPECT_EQ(d.Observe({kMaxWall, kMaxLogical}, 10),
            (HlcTimestamp{kMaxWall, kMaxLogical}));
}

TEST(HybridClockTest, RestoreNeverRewinds) {
  HybridClock c;
  c.Restore({5000, 3});
  EXPECT_EQ(c.Now(100), (HlcTimestamp{5000, 4}));
  c.Restore({10, 0});
  EXPECT_EQ(c.last(), (HlcTimestamp{5000, 4}));
  EXPECT_EQ(c.Now(6000), (HlcTimestamp{6000, 0}));
}

TEST(HybridClockBoundTest, RefusesARemoteLeadingBeyondTheOffset) {
  HybridClock c;
  c.Now(1000);
  EXPECT_EQ(c.ObserveWithin({1501, 0}, 1000, 500), std::nullopt);
  // Refused: the clock stays where it was.
  EXPECT_EQ(c.last(), (HlcTimestamp{1000, 0}));
  EXPECT_EQ(c.Now(1000), (HlcTimestamp{1000, 1}));
}

TEST(HybridClockBoundTest, AdmitsALeadUpToTheOffsetAndAnyPast) {
  HybridClock c;
  c.Now(1000);
  EXPECT_EQ(c.ObserveWithin({1500, 7}, 1000, 500), (HlcTimestamp{1500, 8}));
  // Stamps behind physical time are never refused, however old.
  EXPECT_EQ(c.ObserveWithin({3, 0}, 1000, 500), (HlcTimestamp{1500, 9}));
}

TEST(HybridClockBoundTest, LeadIsMeasuredFromPhysicalTime) {
  EXPECT_EQ(HybridClock::Lead({1600, 0}, 1000), 600u);
  EXPECT_EQ(HybridClock::Lead({900, 0}, 1000), 0u);
  // A clock already ahead of physical time (it observed an admitted lead)
  // does not widen what it admits: the bound is from physical time.
  HybridClock c;
  c.ObserveWithin({1500, 0}, 1000, 500);
  EXPECT_EQ(c.ObserveWithin({1900, 0}, 1000, 500), std::nullopt);
}

TEST(ClockLeaseTest, MarkLeadsByTheLeaseGiven) {
  std::vector<uint64_t> marks;
  ClockLease lease(
      [&marks](uint64_t mark) {
        marks.push_back(mark);
        return Status::Ok();
      },
      250);
  lease.Issue(1000);
  lease.Issue(1100);  // under the mark: nothing written
  lease.Issue(1300);
  EXPECT_EQ(marks, (std::vector<uint64_t>{1250, 1550}));
}

}  // namespace
}  // namespace causeway::replication::causal
