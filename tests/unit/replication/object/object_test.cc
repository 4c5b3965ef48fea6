#include "replication/object/object.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "proto/records.pb.h"
#include "tests/unit/replication/object/world.h"

namespace causeway::replication::object {
namespace {

using testing::Merged;
using testing::RandomContent;
using testing::Rng;
using testing::World;

constexpr Resolution kAllResolutions[] = {
    Resolution::kKeepSiblings, Resolution::kNewest, Resolution::kLastWriteWins};

Sibling Content(std::string value, uint64_t wall_ms, bool deleted = false) {
  Sibling s;
  s.value = std::move(value);
  s.timestamp = HlcTimestamp{wall_ms, 0};
  s.deleted = deleted;
  return s;
}

std::vector<std::string> Values(const Object& o) {
  std::vector<std::string> v;
  for (const Sibling& s : o.siblings()) v.push_back(s.value);
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<Dot> Dots(const Object& o) {
  std::vector<Dot> d;
  for (const Sibling& s : o.siblings()) d.push_back(s.dot);
  return d;
}

void ExpectWellFormed(const Object& o) {
  for (size_t i = 0; i < o.siblings().size(); ++i) {
    const Dot& d = o.siblings()[i].dot;
    EXPECT_GT(d.counter, 0u);
    EXPECT_TRUE(o.clock().Covers(d));
    if (i > 0) {
      EXPECT_LT(o.siblings()[i - 1].dot, d);
    }
  }
}

const char* Name(Resolution r) {
  switch (r) {
    case Resolution::kKeepSiblings:
      return "keep-siblings";
    case Resolution::kNewest:
      return "newest";
    case Resolution::kLastWriteWins:
      return "lww";
  }
  return "?";
}

// --- Update -------------------------------------------------------------

TEST(ObjectTest, NewObjectIsEmptyAndNotATombstone) {
  Object o;
  EXPECT_TRUE(o.empty());
  EXPECT_FALSE(o.IsTombstone());
  EXPECT_TRUE(o.LiveSiblings().empty());
  EXPECT_TRUE(o.clock().empty());
}

TEST(ObjectTest, UpdateMintsTheNextDotForTheActor) {
  Object o;
  Sibling c = Content("v1", 10);
  c.dot = Dot{999, 999};  // ignored
  Dot d1 = o.Update({}, c, 7, Resolution::kKeepSiblings);
  EXPECT_EQ(d1, (Dot{7, 1}));
  ASSERT_EQ(o.siblings().size(), 1u);
  EXPECT_EQ(o.siblings()[0].dot, d1);
  EXPECT_EQ(o.siblings()[0].value, "v1");
  EXPECT_EQ(o.siblings()[0].timestamp, (HlcTimestamp{10, 0}));
  EXPECT_EQ(o.clock().Get(7), 1u);

  // Read-modify-write replaces; another actor continues the same history.
  Dot d2 = o.Update(o.clock(), Content("v2", 11), 7, Resolution::kKeepSiblings);
  EXPECT_EQ(d2, (Dot{7, 2}));
  Dot d3 = o.Update(o.clock(), Content("v3", 12), 3, Resolution::kKeepSiblings);
  EXPECT_EQ(d3, (Dot{3, 1}));
  EXPECT_EQ(Values(o), std::vector<std::string>{"v3"});
  EXPECT_EQ(o.clock().Get(7), 2u);
  EXPECT_EQ(o.clock().Get(3), 1u);

  // A blind write is concurrent with everything: a sibling.
  o.Update({}, Content("v4", 13), 7, Resolution::kKeepSiblings);
  EXPECT_EQ(Values(o), (std::vector<std::string>{"v3", "v4"}));
  ExpectWellFormed(o);
}

TEST(ObjectTest, UpdateMintsAboveWhatTheContextRemembers) {
  // After a key is reaped the local clock starts over, but a client may
  // still hold a context from before; its dots must not be reused.
  Object o;
  VersionVector old_context;
  old_context.Add(Dot{7, 10});
  Dot d = o.Update(old_context, Content("v", 1), 7, Resolution::kKeepSiblings);
  EXPECT_EQ(d, (Dot{7, 11}));
  EXPECT_EQ(o.clock().Get(7), 11u);
}

TEST(ObjectTest, HostileContextCannotOverflowCounters) {
  Object o;
  VersionVector forged;
  forged.Add(Dot{7, ~uint64_t{0}});
  forged.Add(Dot{8, ~uint64_t{0}});
  for (int i = 0; i < 3; ++i) {
    Dot d = o.Update(forged, Content("v", 1), 7, Resolution::kKeepSiblings);
    EXPECT_GT(d.counter, 0u);
    EXPECT_LT(d.counter, ~uint64_t{0});
  }
  ExpectWellFormed(o);
  Object back;
  ASSERT_TRUE(Object::Decode(o.Encode(), &back).ok());
  EXPECT_EQ(back, o);
}

// A write drops exactly the siblings its context covers and keeps the rest.
TEST(ObjectTest, ContextDropsExactlyTheSiblingsItCovers) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    World w(seed, {Resolution::kKeepSiblings, 3, false});
    w.Run(30);
    Rng& rng = w.rng();
    Object before = w.object(static_cast<int>(rng() % w.replicas()));
    // A context mixing some sibling dots (not others), earlier counters and
    // actors the object never saw.
    VersionVector context;
    for (const Sibling& s : before.siblings()) {
      switch (rng() % 3) {
        case 0:
          context.Add(s.dot);
          break;
        case 1:
          context.Add(Dot{s.dot.actor, s.dot.counter - 1});
          break;
        default:
          break;
      }
    }
    if (rng() % 2) context.Add(Dot{rng(), 1 + rng() % 5});
    ActorId actor = rng() % 2 ? w.actor(0) : rng();

    Object after = before;
    Dot d = after.Update(context, RandomContent(rng), actor,
                         Resolution::kKeepSiblings);

    std::vector<Dot> expected;
    for (const Sibling& s : before.siblings()) {
      if (!context.Covers(s.dot)) expected.push_back(s.dot);
    }
    expected.push_back(d);
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(Dots(after), expected);
    EXPECT_EQ(d.actor, actor);
    EXPECT_EQ(d.counter,
              std::max(before.clock().Get(actor), context.Get(actor)) + 1);
    VersionVector clock = before.clock();
    clock.Merge(context);
    clock.Add(d);
    EXPECT_EQ(after.clock(), clock);
    // Kept siblings are untouched.
    for (const Sibling& s : before.siblings()) {
      if (context.Covers(s.dot)) continue;
      auto it = std::find_if(after.siblings().begin(), after.siblings().end(),
                             [&](const Sibling& x) { return x.dot == s.dot; });
      ASSERT_NE(it, after.siblings().end());
      EXPECT_EQ(*it, s);
    }
    ExpectWellFormed(after);
  }
}

// --- Merge laws -----------------------------------------------------------

void CheckLaws(const std::vector<Object>& states, Resolution r, Rng& rng,
               int triples) {
  ASSERT_FALSE(states.empty());
  for (int i = 0; i < triples; ++i) {
    const Object& x = states[rng() % states.size()];
    const Object& y = states[rng() % states.size()];
    const Object& z = states[rng() % states.size()];
    Object xy = Merged(x, y, r);
    ASSERT_EQ(xy, Merged(y, x, r)) << "commutativity, " << Name(r);
    ASSERT_EQ(Merged(xy, z, r), Merged(x, Merged(y, z, r), r))
        << "associativity, " << Name(r);
    ASSERT_EQ(Merged(x, x, r), x) << "idempotence, " << Name(r);
    ASSERT_EQ(Merged(xy, x, r), xy) << "absorption, " << Name(r);
    ExpectWellFormed(xy);
    if (r != Resolution::kKeepSiblings) {
      ASSERT_LE(xy.siblings().size(), 1u);
    }
  }
}

class MergeLawsTest : public ::testing::TestWithParam<Resolution> {};

TEST_P(MergeLawsTest, MergeIsAJoinOverRandomHistories) {
  Resolution r = GetParam();
  for (uint64_t seed = 0; seed < 200; ++seed) {
    World w(seed, {r, 2 + static_cast<int>(seed % 3), true});
    w.Run(40);
    CheckLaws(w.snapshots(), r, w.rng(), 200);
  }
}

// A re-delivered state (the same write or replica state arriving again,
// from anywhere, after anything) changes nothing.
TEST_P(MergeLawsTest, RedeliveryIsANoOp) {
  Resolution r = GetParam();
  for (uint64_t seed = 0; seed < 200; ++seed) {
    World w(seed, {r, 3, true});
    w.Run(40);
    const auto& s = w.snapshots();
    Rng& rng = w.rng();
    for (int i = 0; i < 100; ++i) {
      const Object& delivered = s[rng() % s.size()];
      Object receiver = Merged(s[rng() % s.size()], delivered, r);
      Object again = Merged(receiver, delivered, r);
      ASSERT_EQ(again, receiver);
      ASSERT_TRUE(receiver.Descends(delivered));
    }
  }
}

// A replica's later state already holds everything of its earlier states:
// an old state arriving late never replaces what superseded it.
TEST_P(MergeLawsTest, StaleStateNeverReplacesNewer) {
  Resolution r = GetParam();
  for (uint64_t seed = 0; seed < 200; ++seed) {
    World w(seed, {r, 3, true});
    w.Run(40);
    for (int rep = 0; rep < w.replicas(); ++rep) {
      const auto& h = w.history(rep);
      for (size_t i = 0; i < h.size(); ++i) {
        for (size_t j = i; j < h.size(); ++j) {
          ASSERT_EQ(Merged(h[j], h[i], r), h[j]) << Name(r);
          ASSERT_TRUE(h[j].Descends(h[i]));
        }
      }
    }
  }
}

TEST_P(MergeLawsTest, DescendsMeansMergeChangesNothing) {
  Resolution r = GetParam();
  int descends = 0, not_descends = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    World w(seed, {r, 3, true});
    w.Run(40);
    const auto& s = w.snapshots();
    Rng& rng = w.rng();
    for (int i = 0; i < 100; ++i) {
      const Object& x = s[rng() % s.size()];
      const Object& y = s[rng() % s.size()];
      bool d = x.Descends(y);
      ASSERT_EQ(d, Merged(x, y, r) == x);
      ++(d ? descends : not_descends);
    }
  }
  // Both answers must actually occur for the check to mean anything.
  EXPECT_GT(descends, 1000);
  EXPECT_GT(not_descends, 1000);
}

INSTANTIATE_TEST_SUITE_P(AllResolutions, MergeLawsTest,
                         ::testing::ValuesIn(kAllResolutions),
                         [](const auto& info) {
                           switch (info.param) {
                             case Resolution::kKeepSiblings:
                               return std::string("KeepSiblings");
                             case Resolution::kNewest:
                               return std::string("Newest");
                             default:
                               return std::string("LastWriteWins");
                           }
                         });

// Keeping siblings resolves nothing, so the laws cannot depend on the
// timestamps: random ones, ties and all, must do.
TEST(ObjectTest, KeepSiblingsMergeIsAJoinWhateverTheTimestamps) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    World w(seed, {Resolution::kKeepSiblings, 3, false});
    w.Run(40);
    CheckLaws(w.snapshots(), Resolution::kKeepSiblings, w.rng(), 200);
  }
}

// With random timestamps, resolving by timestamp can only agree with
// causality if a write is stamped after what it overwrites. Update makes sure
// of that for everything the coordinator holds, so when clients read where
// they write, the laws hold however wrong the clocks are. Last-write-wins
// ignores contexts altogether, so for it reads may come from anywhere.
TEST_P(MergeLawsTest, MergeIsAJoinWithArbitraryClocksWhenReadsAreLocal) {
  Resolution r = GetParam();
  bool remote_reads = r == Resolution::kLastWriteWins;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    World w(seed, {r, 3, /*causal_clocks=*/false, remote_reads});
    w.Run(40);
    CheckLaws(w.snapshots(), r, w.rng(), 200);
  }
}

TEST(ObjectTest, AWriteIsStampedAfterWhatItOverwrites) {
  for (Resolution r : kAllResolutions) {
    Object o;
    o.Update({}, Content("old", 100), 1, r);
    // The coordinator's clock lags: 50 < 100.
    o.Update(o.clock(), Content("new", 50), 2, r);
    ASSERT_EQ(Values(o), std::vector<std::string>{"new"}) << Name(r);
    EXPECT_EQ(o.siblings()[0].timestamp, (HlcTimestamp{100, 1}));
    // A concurrent sibling stamped between the two cannot win against it.
    Object other;
    other.Update({}, Content("between", 75), 3, r);
    if (r != Resolution::kKeepSiblings) {
      EXPECT_EQ(Values(Merged(o, other, r)), std::vector<std::string>{"new"});
      EXPECT_EQ(Values(Merged(other, o, r)), std::vector<std::string>{"new"});
    }
  }
  // A blind write overwrites nothing, so keeps its own stamp.
  Object o;
  o.Update({}, Content("old", 100), 1, Resolution::kKeepSiblings);
  o.Update({}, Content("blind", 50), 2, Resolution::kKeepSiblings);
  EXPECT_EQ(o.siblings()[1].timestamp, (HlcTimestamp{50, 0}));
  // The logical part carries into the milliseconds.
  Object p;
  Sibling top = Content("top", 7);
  top.timestamp.logical = 0xFFFF;
  p.Update({}, top, 1, Resolution::kNewest);
  p.Update(p.clock(), Content("next", 1), 1, Resolution::kNewest);
  EXPECT_EQ(p.siblings()[0].timestamp, (HlcTimestamp{8, 0}));
}

// Every history of up to four operations on two replicas, each checked on
// every pair and triple of the states it went through.
TEST(ObjectTest, ExhaustiveSmallHistories) {
  constexpr int kOps = 8;
  constexpr int kLength = 4;
  constexpr ActorId kA = 0xA, kB = 0xB;
  for (Resolution r : kAllResolutions) {
    int sequences = 0;
    for (int len = 1; len <= kLength; ++len) {
      int total = 1;
      for (int i = 0; i < len; ++i) total *= kOps;
      for (int code = 0; code < total; ++code) {
        Object a, b;
        std::vector<Object> seen = {a};
        uint64_t tick = 0;
        int c = code;
        for (int step = 0; step < len; ++step, c /= kOps) {
          // One global clock: every write is stamped after all earlier ones.
          Sibling v = Content("s" + std::to_string(step), ++tick);
          switch (c % kOps) {
            case 0:
              a.Update(a.clock(), v, kA, r);
              break;
            case 1:
              a.Update({}, v, kA, r);
              break;
            case 2:
              b.Update(b.clock(), v, kB, r);
              break;
            case 3:
              b.Update({}, v, kB, r);
              break;
            case 4:
              b.Merge(a, r);
              break;
            case 5:
              a.Merge(b, r);
              break;
            case 6:
              v.deleted = true;
              a.Update(a.clock(), v, kA, r);
              break;
            default:
              a.Update(b.clock(), v, kA, r);  // client read from b
              break;
          }
          for (const Object* o : {&a, &b}) {
            if (std::find(seen.begin(), seen.end(), *o) == seen.end()) {
              seen.push_back(*o);
            }
          }
        }
        ++sequences;
        for (const Object& x : seen) {
          ASSERT_EQ(Merged(x, x, r), x);
          for (const Object& y : seen) {
            Object xy = Merged(x, y, r);
            ASSERT_EQ(xy, Merged(y, x, r)) << Name(r) << " code " << code;
            ASSERT_EQ(x.Descends(y), xy == x);
            for (const Object& z : seen) {
              ASSERT_EQ(Merged(xy, z, r), Merged(x, Merged(y, z, r), r))
                  << Name(r) << " code " << code;
            }
          }
        }
      }
    }
    EXPECT_EQ(sequences, 8 + 64 + 512 + 4096);
  }
}

// --- Concurrency bounds -----------------------------------------------------

// K clients each loop read -> write-with-what-it-read, interleaved at
// random. However they interleave, each client has at most one sibling
// standing (its latest write), so never more than K siblings.
TEST(ObjectTest, InterleavedReadModifyWriteLeavesAtMostKSiblings) {
  for (int k = 1; k <= 6; ++k) {
    size_t most = 0;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      Rng rng(seed * 31 + k);
      Object o;
      std::vector<std::optional<VersionVector>> read(k);
      for (int step = 0; step < 300; ++step) {
        int c = static_cast<int>(rng() % k);
        if (!read[c]) {
          read[c] = o.clock();
          continue;
        }
        Sibling v = Content("client" + std::to_string(c), step);
        // The write may be coordinated by any of three replicas' actors.
        o.Update(*read[c], v, 100 + rng() % 3, Resolution::kKeepSiblings);
        read[c].reset();
        ASSERT_LE(o.siblings().size(), static_cast<size_t>(k));
        std::set<std::string> owners;
        for (const Sibling& s : o.siblings()) {
          ASSERT_TRUE(owners.insert(s.value).second)
              << "two siblings from one client";
        }
        most = std::max(most, o.siblings().size());
      }
    }
    // The bound is reached, so it is the bound that holds, not luck.
    EXPECT_EQ(most, static_cast<size_t>(k));
  }
}

// --- Resolution -------------------------------------------------------------

TEST(ObjectTest, NewestKeepsTheGreatestTimestampAmongConcurrentWrites) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Rng rng(seed);
    int n = 2 + static_cast<int>(rng() % 5);
    std::vector<Object> replicas(n);
    std::vector<Sibling> written;
    for (int i = 0; i < n; ++i) {
      Sibling v = Content("w" + std::to_string(i), rng() % 4);
      v.timestamp.logical = static_cast<uint32_t>(rng() % 2);
      v.dot =
          replicas[i].Update({}, v, 1000 + rng() % 1000, Resolution::kNewest);
      written.push_back(v);
    }
    const Sibling& newest = *std::max_element(
        written.begin(), written.end(), [](const Sibling& a, const Sibling& b) {
          return std::tie(a.timestamp, a.dot) < std::tie(b.timestamp, b.dot);
        });
    for (Resolution r : {Resolution::kNewest, Resolution::kLastWriteWins}) {
      std::vector<int> order(n);
      for (int i = 0; i < n; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng);
      Object merged;
      for (int i : order) merged.Merge(replicas[i], r);
      ASSERT_EQ(merged.siblings().size(), 1u);
      EXPECT_EQ(merged.siblings()[0].value, newest.value);
      EXPECT_EQ(merged.siblings()[0].dot, newest.dot);
    }
    Object all;
    for (const Object& o : replicas) all.Merge(o, Resolution::kKeepSiblings);
    EXPECT_EQ(all.siblings().size(), static_cast<size_t>(n));
  }
}

TEST(ObjectTest, NewestBreaksTimestampTiesByDot) {
  Object a, b;
  a.Update({}, Content("from-1", 50), 1, Resolution::kNewest);
  b.Update({}, Content("from-2", 50), 2, Resolution::kNewest);
  EXPECT_EQ(Values(Merged(a, b, Resolution::kNewest)),
            std::vector<std::string>{"from-2"});
  EXPECT_EQ(Values(Merged(b, a, Resolution::kNewest)),
            std::vector<std::string>{"from-2"});
}

TEST(ObjectTest, NewestUpdateWinsAtItsCoordinatorWhateverItsClock) {
  // Found by random_sim_test: a blind write coordinated on a node whose
  // clock lags a sibling it holds was acknowledged, then resolved away on
  // the spot. The coordinator has observed that sibling, so its write is
  // stamped after it, as a hybrid clock would.
  Object o;
  o.Update({}, Content("ahead", 100), 1, Resolution::kNewest);
  Dot d = o.Update({}, Content("lagging", 90), 2, Resolution::kNewest);
  EXPECT_EQ(Values(o), std::vector<std::string>{"lagging"});
  EXPECT_EQ(o.siblings()[0].dot, d);
  EXPECT_EQ(o.siblings()[0].timestamp, (HlcTimestamp{100, 1}));
  EXPECT_TRUE(o.clock().Covers(Dot{1, 1}));
  // A concurrent sibling stamped later that the coordinator has not seen
  // still wins where the two meet.
  Object elsewhere;
  elsewhere.Update({}, Content("later", 120), 3, Resolution::kNewest);
  EXPECT_EQ(Values(Merged(o, elsewhere, Resolution::kNewest)),
            std::vector<std::string>{"later"});
  EXPECT_EQ(Values(Merged(elsewhere, o, Resolution::kNewest)),
            std::vector<std::string>{"later"});
}

// Found by random_sim_test (seed 455): under kNewest, a value came back
// after a write that had read it overwrote it. The write was coordinated on
// a node that never held the value and whose clock lagged, so it was
// stamped before the value it replaced; a concurrent write stamped between
// the two then beat it, and where the two histories met, each side had
// dropped the other's survivor and the fallback union let the overwritten
// value win. The context's stamp makes the write later than what it read.
TEST(ObjectTest, AWriteIsStampedAfterWhatItsContextRead) {
  Object read;  // the replica the client read from
  read.Update({}, Content("read", 100), 1, Resolution::kNewest);
  const VersionVector context = read.clock();
  EXPECT_EQ(context.stamp(), (HlcTimestamp{100, 0}));

  Object coordinator;  // holds nothing of the key; its clock lags
  coordinator.Update(context, Content("overwrite", 50), 2, Resolution::kNewest);
  ASSERT_EQ(Values(coordinator), std::vector<std::string>{"overwrite"});
  EXPECT_EQ(coordinator.siblings()[0].timestamp, (HlcTimestamp{100, 1}));

  Object between;  // a concurrent write stamped between the two
  between.Update({}, Content("between", 75), 3, Resolution::kNewest);
  for (Resolution r : {Resolution::kNewest, Resolution::kLastWriteWins}) {
    // Two replicas that each saw part of the story, then every way of
    // bringing them together.
    Object left = Merged(coordinator, between, r);
    Object right = Merged(read, between, r);
    for (const Object& o : {Merged(left, right, r), Merged(right, left, r),
                            Merged(Merged(right, coordinator, r), between, r),
                            Merged(Merged(between, right, r), left, r)}) {
      EXPECT_EQ(Values(o), std::vector<std::string>{"overwrite"}) << Name(r);
    }
  }
}

TEST(ObjectTest, TheClockStampIsTheNewestSiblingAndSurvivesARecord) {
  Object o;
  EXPECT_EQ(o.clock().stamp(), HlcTimestamp{});
  o.Update({}, Content("a", 70), 1, Resolution::kKeepSiblings);
  o.Update({}, Content("b", 40), 2, Resolution::kKeepSiblings);
  EXPECT_EQ(o.clock().stamp(), (HlcTimestamp{70, 0}));
  Object decoded;
  ASSERT_TRUE(Object::Decode(o.Encode(), &decoded).ok());
  EXPECT_EQ(decoded.clock().stamp(), (HlcTimestamp{70, 0}));
  // The stamp reaches the client in the vclock bytes.
  VersionVector vclock;
  ASSERT_TRUE(VersionVector::Decode(o.clock().Encode(), &vclock).ok());
  EXPECT_EQ(vclock.stamp(), (HlcTimestamp{70, 0}));
  // A delete with that context is stamped after both values.
  o.Update(vclock, Content("", 10, /*deleted=*/true), 3,
           Resolution::kKeepSiblings);
  ASSERT_TRUE(o.IsTombstone());
  EXPECT_EQ(o.siblings()[0].timestamp, (HlcTimestamp{70, 1}));
  EXPECT_EQ(o.clock().stamp(), (HlcTimestamp{70, 1}));
}

TEST(ObjectTest, LastWriteWinsReplacesOutrightRegardlessOfContext) {
  Rng rng(9);
  for (int i = 0; i < 200; ++i) {
    Object o;
    for (int j = 0; j < 4; ++j) {
      Sibling v = RandomContent(rng);
      v.timestamp = HlcTimestamp{500 + rng() % 100, 0};
      o.Update({}, v, 10 + rng() % 3, Resolution::kKeepSiblings);
    }
    VersionVector context;
    if (rng() % 2) context = o.clock();
    // A write held elsewhere, which the client saw.
    Dot elsewhere{99, 1 + rng() % 5};
    if (rng() % 2) context.Add(elsewhere);
    VersionVector clock_before = o.clock();
    // Whatever the context, and even when the writer's clock lags the
    // siblings it replaces and its actor sorts first.
    Sibling v = Content("lww", rng() % 2 ? 0 : 1000);
    Dot d = o.Update(context, v, 1, Resolution::kLastWriteWins);
    ASSERT_EQ(o.siblings().size(), 1u);
    EXPECT_EQ(o.siblings()[0].value, "lww");
    EXPECT_EQ(o.siblings()[0].dot, d);
    // Contexts are ignored: the clock gains only the new dot.
    VersionVector expected = clock_before;
    expected.Add(d);
    EXPECT_EQ(o.clock(), expected);
    EXPECT_FALSE(o.clock().Covers(elsewhere));
    ExpectWellFormed(o);
  }
}

TEST(ObjectTest, LastWriteWinsMergeKeepsTheNewestTimestamp) {
  Object a, b;
  a.Update({}, Content("early", 100), 9, Resolution::kLastWriteWins);
  b.Update({}, Content("late", 200), 1, Resolution::kLastWriteWins);
  EXPECT_EQ(Values(Merged(a, b, Resolution::kLastWriteWins)),
            std::vector<std::string>{"late"});
  EXPECT_EQ(Values(Merged(b, a, Resolution::kLastWriteWins)),
            std::vector<std::string>{"late"});
}

// --- Descends ---------------------------------------------------------------

TEST(ObjectTest, DescendsNeedsMoreThanADominatingClock) {
  // y overwrote s1; x still holds s1 yet its clock covers all of y's,
  // because x's second write came with a context naming y's write alone.
  Object y;
  y.Update({}, Content("s1", 1), 1, Resolution::kKeepSiblings);        // (1,1)
  y.Update(y.clock(), Content("w", 2), 2, Resolution::kKeepSiblings);  // (2,1)
  Object x;
  x.Update({}, Content("s1", 1), 1, Resolution::kKeepSiblings);  // (1,1)
  VersionVector only_w;
  only_w.Add(Dot{2, 1});
  x.Update(only_w, Content("s2", 3), 1, Resolution::kKeepSiblings);  // (1,2)
  ASSERT_TRUE(x.clock().Descends(y.clock()));
  EXPECT_FALSE(x.Descends(y));
  EXPECT_NE(Merged(x, y, Resolution::kKeepSiblings), x);
  EXPECT_EQ(Values(Merged(x, y, Resolution::kKeepSiblings)),
            std::vector<std::string>{"s2"});
}

TEST(ObjectTest, DescendsAgreesWithMergeForAClockWithoutSiblings) {
  // Only a decoded record can hold a clock and no siblings.
  Object full;
  full.Update({}, Content("v", 1), 1, Resolution::kKeepSiblings);
  std::string bytes = full.Encode();
  records::ObjectRecord rec;
  ASSERT_TRUE(rec.ParseFromString(bytes));
  rec.clear_siblings();
  rec.clear_checksum();
  Object bare;
  ASSERT_TRUE(Object::Decode(testing::Seal(rec), &bare).ok());
  ASSERT_TRUE(bare.empty());
  for (Resolution r : kAllResolutions) {
    EXPECT_EQ(bare.Descends(full), Merged(bare, full, r) == bare);
    EXPECT_EQ(full.Descends(bare), Merged(full, bare, r) == full);
    EXPECT_FALSE(Merged(bare, full, r).empty());  // the value is not lost
  }
}

// --- Tombstones -------------------------------------------------------------

TEST(ObjectTest, DeleteWithFullContextLeavesATombstone) {
  for (Resolution r : kAllResolutions) {
    Object o;
    o.Update({}, Content("a", 1), 1, Resolution::kKeepSiblings);
    o.Update({}, Content("b", 2), 2, Resolution::kKeepSiblings);
    o.Update(o.clock(), Content("", 3, /*deleted=*/true), 1, r);
    EXPECT_TRUE(o.IsTombstone()) << Name(r);
    EXPECT_FALSE(o.empty());
    EXPECT_TRUE(o.LiveSiblings().empty());
    ASSERT_EQ(o.siblings().size(), 1u);
    EXPECT_TRUE(o.siblings()[0].deleted);
  }
}

TEST(ObjectTest, DeleteWithPartialContextKeepsWhatItDidNotSee) {
  Object o;
  o.Update({}, Content("a", 1), 1, Resolution::kKeepSiblings);
  VersionVector saw_a = o.clock();
  o.Update({}, Content("b", 2), 2, Resolution::kKeepSiblings);
  o.Update(saw_a, Content("", 3, true), 1, Resolution::kKeepSiblings);
  EXPECT_FALSE(o.IsTombstone());
  auto live = o.LiveSiblings();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0]->value, "b");
  EXPECT_EQ(o.siblings().size(), 2u);  // b and the tombstone
}

TEST(ObjectTest, ConcurrentWriteSurvivesADelete) {
  // Replica A deletes what it has; replica B takes a write A never saw.
  Object base;
  base.Update({}, Content("v1", 1), 1, Resolution::kKeepSiblings);
  Object a = base, b = base;
  a.Update(a.clock(), Content("", 5, true), 1, Resolution::kKeepSiblings);
  b.Update(b.clock(), Content("v2", 4), 2, Resolution::kKeepSiblings);
  ASSERT_TRUE(a.IsTombstone());
  for (const Object& m : {Merged(a, b, Resolution::kKeepSiblings),
                          Merged(b, a, Resolution::kKeepSiblings)}) {
    EXPECT_FALSE(m.IsTombstone());
    auto live = m.LiveSiblings();
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0]->value, "v2");
  }
  // With one value allowed the newer of the two wins: here the delete.
  EXPECT_TRUE(Merged(a, b, Resolution::kNewest).IsTombstone());
  // A later write with the merged context brings the key back.
  Object m = Merged(a, b, Resolution::kKeepSiblings);
  m.Update(m.clock(), Content("v3", 6), 1, Resolution::kKeepSiblings);
  EXPECT_EQ(Values(m), std::vector<std::string>{"v3"});
}

TEST(ObjectTest, LiveSiblingsAreTheUndeletedOnesInDotOrder) {
  Object o;
  o.Update({}, Content("x", 1), 3, Resolution::kKeepSiblings);
  o.Update({}, Content("", 2, true), 2, Resolution::kKeepSiblings);
  o.Update({}, Content("y", 3), 1, Resolution::kKeepSiblings);
  auto live = o.LiveSiblings();
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0]->value, "y");  // actor 1 sorts first
  EXPECT_EQ(live[1]->value, "x");
  EXPECT_FALSE(o.IsTombstone());
}

// --- Robustness -------------------------------------------------------------

TEST(ObjectTest, ForgedContextCannotMakeAMergeLoseTheKey) {
  // A client forges a context claiming a future write of replica 2. Later
  // each replica holds a value the other claims to have overwritten.
  for (Resolution r : kAllResolutions) {
    VersionVector forged;
    forged.Add(Dot{2, 100});
    Object a;
    a.Update(forged, Content("a", 1), 1, r);
    Object b;
    b.Update({}, Content("seed", 1), 1, Resolution::kKeepSiblings);  // (1,1)
    b.Update(b.clock(), Content("b", 2), 2, r);                      // (2,1)
    Object ab = Merged(a, b, r), ba = Merged(b, a, r);
    EXPECT_EQ(ab, ba);
    EXPECT_FALSE(ab.empty()) << Name(r);
    EXPECT_FALSE(ab.LiveSiblings().empty());
    ExpectWellFormed(ab);
  }
}

TEST(ObjectTest, ConflictingContentsForOneDotMergeTheSameEitherWay) {
  // Dots are unique by construction; if corruption breaks that, replicas
  // must still converge on one content rather than swap forever.
  for (Resolution r : kAllResolutions) {
    Object x, y;
    x.Update({}, Content("x", 5), 1, r);
    y.Update({}, Content("y", 5), 1, r);
    ASSERT_EQ(x.siblings()[0].dot, y.siblings()[0].dot);
    Object xy = Merged(x, y, r), yx = Merged(y, x, r);
    EXPECT_EQ(xy, yx);
    EXPECT_EQ(xy.siblings().size(), 1u);
    EXPECT_EQ(x.Descends(y), Merged(x, y, r) == x);
    EXPECT_EQ(y.Descends(x), Merged(y, x, r) == y);
    EXPECT_NE(x.Descends(y), y.Descends(x));
  }
}

TEST(ObjectTest, SelfMergeIsANoOp) {
  for (Resolution r : kAllResolutions) {
    World w(5, {r, 3, true});
    w.Run(30);
    Object o = w.object(0);
    Object before = o;
    o.Merge(o, r);
    EXPECT_EQ(o, before);
  }
}

}  // namespace
}  // namespace causeway::replication::object
