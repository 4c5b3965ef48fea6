// The laws every data type obeys, run over every case in the LawCases()
// registry (each type's test file registers its own; see law_cases.h).
//
// Histories are random: three replicas (one actor each) apply random ops,
// now and then merging another replica's state or an earlier delta, and
// every update's before, after and delta are kept. The laws:
//   (a) merge is commutative, associative and idempotent, with the empty
//       state as identity (Equal, Read, Context and the encoded bytes all
//       agree);
//   (b) merging an update's delta into the state before it gives the state
//       after it, and into any state that merged the before state gives
//       that state merged with the after state;
//   (c) every delta of a history, delivered to a fresh replica in any order
//       and with duplicates, converges to the join of the replicas;
//   (d) every state and delta decodes from its encoding to an equal state
//       that encodes to the same bytes;
//   (e) for every pair and triple of ops from the case's small universe, on
//       different actors, each concurrent with or having seen the earlier
//       ones, every delivery order of their deltas converges.
// A refused op must leave its state unchanged.
//
// LawCases() is defined here: a function-local static, so the registrars
// of other files may run in any order before main.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <numeric>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "replication/crdt/data_type.h"
#include "tests/unit/replication/crdt/law_cases.h"

namespace causeway::replication::crdt::testing {

std::vector<LawCase>& LawCases() {
  static std::vector<LawCase> cases;
  return cases;
}

// So that gtest names the case, not its bytes, in failures.
void PrintTo(const LawCase& c, std::ostream* os) { *os << c.name; }

namespace {

using State = std::unique_ptr<DataType>;

// Random-looking ids, as real actors are (and so encoded in full).
constexpr causal::ActorId kActors[] = {0x9e3779b97f4a7c15u, 0x1234u,
                                       0xc2b2ae3d27d4eb4fu};
constexpr int kSeeds = 12;
constexpr int kHistoryLength = 60;

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 64; ++i) {
    out.push_back(kDigits[static_cast<uint8_t>(bytes[i]) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(bytes[i]) & 15]);
  }
  if (bytes.size() > 64) out += "...(" + std::to_string(bytes.size()) + ")";
  return out;
}

::testing::AssertionResult Same(const DataType& a, const DataType& b) {
  const std::string ea = a.Encode();
  const std::string eb = b.Encode();
  if (!a.Equal(b) || !b.Equal(a)) {
    return ::testing::AssertionFailure()
           << "not Equal: " << Hex(ea) << " vs " << Hex(eb);
  }
  if (ea != eb) {
    return ::testing::AssertionFailure()
           << "Equal, encoded differently: " << Hex(ea) << " vs " << Hex(eb);
  }
  if (!(a.Read() == b.Read())) {
    return ::testing::AssertionFailure() << "Equal, read differently";
  }
  if (a.Context() != b.Context()) {
    return ::testing::AssertionFailure() << "Equal, contexts differ";
  }
  return ::testing::AssertionSuccess();
}

State Merged(const DataType& a, const DataType& b) {
  State out = a.Clone();
  out->Merge(b);
  return out;
}

// Applies `op` to `state` as `actor`; returns the delta, or null if the op
// was refused (and then checks that the state did not change).
State Apply(DataType* state, const Operation& op, causal::ActorId actor,
            uint64_t wall_ms) {
  const std::string before = state->Encode();
  UpdateArgs args;
  args.actor = actor;
  args.timestamp = causal::HlcTimestamp{wall_ms, 0};
  State delta;
  const Status s = state->Update(op, args, &delta);
  if (!s.ok()) {
    EXPECT_EQ(Hex(state->Encode()), Hex(before))
        << "a refused op changed the state: " << s.ToString();
    return nullptr;
  }
  EXPECT_NE(delta, nullptr);
  if (delta) {
    EXPECT_EQ(delta->tag(), state->tag());
  }
  return delta;
}

struct Step {
  State before;
  State after;
  State delta;
};

struct History {
  std::vector<State> replicas;
  std::vector<Step> steps;
};

class Laws : public ::testing::TestWithParam<LawCase> {
 protected:
  void SetUp() override {
    ASSERT_NE(NewDataType(GetParam().tag, GetParam().params), nullptr)
        << GetParam().name << ": the type has no implementation";
  }

  State Fresh() const { return NewDataType(GetParam().tag, GetParam().params); }

  History RandomHistory(uint64_t seed) const;
  State Join(const std::vector<State>& states) const {
    State out = Fresh();
    for (const State& s : states) out->Merge(*s);
    return out;
  }
  ::testing::AssertionResult RoundTrips(const DataType& state) const;
  ::testing::AssertionResult TupleConverges(
      const std::vector<const Operation*>& ops,
      const std::vector<uint32_t>& seen) const;
};

History Laws::RandomHistory(uint64_t seed) const {
  std::mt19937_64 rng(seed);
  History h;
  for (int i = 0; i < 3; ++i) h.replicas.push_back(Fresh());
  uint64_t wall_ms = 1000;
  for (int i = 0; i < kHistoryLength; ++i) {
    const size_t r = rng() % 3;
    DataType& replica = *h.replicas[r];
    const uint64_t roll = rng() % 10;
    if (roll < 2) {
      replica.Merge(*h.replicas[(r + 1 + rng() % 2) % 3]);
      continue;
    }
    if (roll < 3 && !h.steps.empty()) {
      replica.Merge(*h.steps[rng() % h.steps.size()].delta);
      continue;
    }
    const Operation op = GetParam().random_op(rng, replica);
    State before = replica.Clone();
    State delta = Apply(&replica, op, kActors[r], ++wall_ms);
    if (delta) {
      h.steps.push_back({std::move(before), replica.Clone(), std::move(delta)});
    }
  }
  return h;
}

// States of `h` to combine: the replicas, some deltas, some intermediate
// states and the empty state.
std::vector<const DataType*> Pool(const History& h, const DataType& empty,
                                  std::mt19937_64& rng) {
  std::vector<const DataType*> pool;
  for (const State& r : h.replicas) pool.push_back(r.get());
  for (int i = 0; i < 3 && !h.steps.empty(); ++i) {
    pool.push_back(h.steps[rng() % h.steps.size()].delta.get());
  }
  for (int i = 0; i < 2 && !h.steps.empty(); ++i) {
    pool.push_back(h.steps[rng() % h.steps.size()].after.get());
  }
  pool.push_back(&empty);
  return pool;
}

TEST_P(Laws, MergeIsCommutativeAssociativeIdempotent) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const History h = RandomHistory(seed);
    std::mt19937_64 rng(seed);
    const State empty = Fresh();
    const std::vector<const DataType*> pool = Pool(h, *empty, rng);
    for (const DataType* a : pool) {
      ASSERT_TRUE(Same(*Merged(*a, *a), *a)) << "idempotence";
      ASSERT_TRUE(Same(*Merged(*a, *empty), *a)) << "identity";
      ASSERT_TRUE(Same(*Merged(*empty, *a), *a)) << "identity";
      for (const DataType* b : pool) {
        ASSERT_TRUE(Same(*Merged(*a, *b), *Merged(*b, *a))) << "commutativity";
        const State ab = Merged(*a, *b);
        for (const DataType* c : pool) {
          ASSERT_TRUE(Same(*Merged(*ab, *c), *Merged(*a, *Merged(*b, *c))))
              << "associativity";
        }
      }
    }
  }
}

TEST_P(Laws, DeltaMergedIntoAnyStateThatSawTheBeforeGivesTheAfter) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const History h = RandomHistory(seed);
    // Most ops of a case apply; a history of refusals would test nothing.
    ASSERT_GE(h.steps.size(), size_t{kHistoryLength / 4});
    for (size_t i = 0; i < h.steps.size(); ++i) {
      SCOPED_TRACE("step " + std::to_string(i));
      const Step& step = h.steps[i];
      ASSERT_TRUE(Same(*Merged(*step.before, *step.delta), *step.after));
      for (const State& other : h.replicas) {
        const State seen = Merged(*other, *step.before);
        ASSERT_TRUE(
            Same(*Merged(*seen, *step.delta), *Merged(*seen, *step.after)));
      }
    }
  }
}

TEST_P(Laws, DeltasInAnyOrderWithDuplicatesConvergeToTheJoin) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const History h = RandomHistory(seed);
    const State join = Join(h.replicas);
    std::mt19937_64 rng(seed);
    for (int shuffle = 0; shuffle < 4; ++shuffle) {
      std::vector<const DataType*> deliveries;
      for (const Step& s : h.steps) deliveries.push_back(s.delta.get());
      for (size_t i = 0; i < h.steps.size() / 2; ++i) {
        deliveries.push_back(h.steps[rng() % h.steps.size()].delta.get());
      }
      std::shuffle(deliveries.begin(), deliveries.end(), rng);
      State replica = Fresh();
      for (const DataType* d : deliveries) replica->Merge(*d);
      ASSERT_TRUE(Same(*replica, *join)) << "shuffle " << shuffle;
    }
  }
}

::testing::AssertionResult Laws::RoundTrips(const DataType& state) const {
  const std::string bytes = state.Encode();
  State decoded;
  const Status s = DecodeDataType(GetParam().tag, bytes, &decoded);
  if (!s.ok()) {
    return ::testing::AssertionFailure()
           << s.ToString() << " decoding " << Hex(bytes);
  }
  if (decoded == nullptr || decoded->tag() != GetParam().tag) {
    return ::testing::AssertionFailure() << "decoded no state or another type";
  }
  return Same(*decoded, state);
}

TEST_P(Laws, EveryStateAndDeltaRoundTripsThroughItsEncoding) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const History h = RandomHistory(seed);
    ASSERT_TRUE(RoundTrips(*Fresh()));
    for (const State& r : h.replicas) ASSERT_TRUE(RoundTrips(*r));
    for (const Step& step : h.steps) {
      ASSERT_TRUE(RoundTrips(*step.before));
      ASSERT_TRUE(RoundTrips(*step.after));
      ASSERT_TRUE(RoundTrips(*step.delta));
    }
  }
}

// ops[i] runs on actor i, on a replica that first merged the deltas of the
// earlier ops whose bits are set in seen[i]. Every order of delivering the
// deltas to a fresh replica must give the join of the replicas.
::testing::AssertionResult Laws::TupleConverges(
    const std::vector<const Operation*>& ops,
    const std::vector<uint32_t>& seen) const {
  std::vector<State> replicas;
  std::vector<State> deltas(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    replicas.push_back(Fresh());
    for (size_t j = 0; j < i; ++j) {
      if ((seen[i] >> j & 1) && deltas[j]) replicas[i]->Merge(*deltas[j]);
    }
    deltas[i] = Apply(replicas[i].get(), *ops[i], kActors[i], 1000 + i);
  }
  std::erase(deltas, nullptr);
  const State join = Join(replicas);
  std::vector<size_t> order(deltas.size());
  std::iota(order.begin(), order.end(), 0);
  do {
    State replica = Fresh();
    for (size_t i : order) replica->Merge(*deltas[i]);
    ::testing::AssertionResult same = Same(*replica, *join);
    if (!same) return same;
  } while (std::next_permutation(order.begin(), order.end()));
  return ::testing::AssertionSuccess();
}

std::string Describe(const std::vector<size_t>& picks,
                     const std::vector<uint32_t>& seen) {
  std::string out = "universe ops";
  // Appended piecewise: GCC 12 warns (-Wrestrict) on "x" + std::to_string.
  for (size_t p : picks) out.append(" #").append(std::to_string(p));
  out += ", seen masks";
  for (uint32_t s : seen) out.append(" ").append(std::to_string(s));
  return out;
}

TEST_P(Laws, EverySmallHistoryConvergesInEveryDeliveryOrder) {
  const std::vector<Operation>& u = GetParam().small_universe;
  const size_t n = u.size();
  ASSERT_GT(n, 0u);
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = 0; b < n; ++b) {
      for (uint32_t s1 = 0; s1 < 2; ++s1) {
        const std::vector<uint32_t> seen = {0, s1};
        ASSERT_TRUE(TupleConverges({&u[a], &u[b]}, seen))
            << Describe({a, b}, seen);
      }
      for (size_t c = 0; c < n; ++c) {
        for (uint32_t s = 0; s < 8; ++s) {
          const std::vector<uint32_t> seen = {0, s & 1, s >> 1};
          ASSERT_TRUE(TupleConverges({&u[a], &u[b], &u[c]}, seen))
              << Describe({a, b, c}, seen);
        }
      }
    }
  }
}

std::string TestName(const ::testing::TestParamInfo<LawCase>& info) {
  std::string name = info.param.name;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Registered, Laws, ::testing::ValuesIn(LawCases()),
                         TestName);

TEST(LawCases, RegisteredCasesAreWellFormed) {
  std::set<std::string> names;
  for (const LawCase& c : LawCases()) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(c.name.empty());
    EXPECT_TRUE(names.insert(TestName({c, 0})).second) << "duplicate name";
    EXPECT_STRNE(TypeName(c.tag), "unknown");
    EXPECT_TRUE(c.random_op != nullptr);
    EXPECT_FALSE(c.small_universe.empty());
    const State fresh = NewDataType(c.tag, c.params);
    ASSERT_NE(fresh, nullptr);
    EXPECT_EQ(fresh->tag(), c.tag);
  }
}

std::set<TypeTag> RegisteredTags() {
  std::set<TypeTag> tags;
  for (const LawCase& c : LawCases()) tags.insert(c.tag);
  return tags;
}

// The types implemented so far (counter, hll, gset) have cases.
TEST(LawCases, ImplementedTypesHaveACase) {
  const std::set<TypeTag> tags = RegisteredTags();
  for (TypeTag tag : {TypeTag::kCounter, TypeTag::kHll, TypeTag::kGSet}) {
    EXPECT_TRUE(tags.count(tag)) << TypeName(tag) << " has no law case";
  }
}

// Every type must have a case. Fails until set and map register theirs.
TEST(LawCases, EveryTypeHasACase) {
  const std::set<TypeTag> tags = RegisteredTags();
  for (TypeTag tag : {TypeTag::kCounter, TypeTag::kSet, TypeTag::kMap,
                      TypeTag::kHll, TypeTag::kGSet}) {
    EXPECT_TRUE(tags.count(tag)) << TypeName(tag) << " has no law case";
  }
}

}  // namespace
}  // namespace causeway::replication::crdt::testing
