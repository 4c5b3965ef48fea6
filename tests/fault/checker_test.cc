// The history checkers on synthetic histories: each must accept a correct
// history and reject the violation it exists for (a lost element, a read of
// a value never written, nodes that disagree after healing, a lost durable
// write, too many siblings, a counter outside its bounds, a removed element
// that came back, a run that acknowledged nothing, a lost last-write-wins
// update, a fault that nothing confirms).

#include "tests/fault/checker.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace causeway::fault {
namespace {

Op Add(int process, const std::string& key, const std::string& element,
       Outcome outcome, int64_t invoke, int64_t complete, int siblings = 1) {
  Op op;
  op.process = process;
  op.kind = OpKind::kAdd;
  op.node = "node1@127.0.0.1";
  op.key = key;
  op.value = element;
  op.outcome = outcome;
  op.invoke_ms = invoke;
  op.complete_ms = complete;
  op.siblings = siblings;
  return op;
}

Op Write(int process, const std::string& key, const std::string& value,
         Outcome outcome, int64_t invoke, int64_t complete) {
  Op op;
  op.process = process;
  op.kind = OpKind::kWrite;
  op.node = "node2@127.0.0.1";
  op.key = key;
  op.value = value;
  op.outcome = outcome;
  op.invoke_ms = invoke;
  op.complete_ms = complete;
  return op;
}

Op Read(int process, const std::string& key, std::vector<std::string> values,
        int64_t invoke, int64_t complete) {
  Op op;
  op.process = process;
  op.kind = OpKind::kRead;
  op.node = "node3@127.0.0.1";
  op.key = key;
  op.values = std::move(values);
  op.siblings = static_cast<int>(op.values.size());
  op.outcome = Outcome::kOk;
  op.invoke_ms = invoke;
  op.complete_ms = complete;
  return op;
}

FinalRead Final(const std::string& node, const std::string& key,
                std::vector<std::string> values) {
  FinalRead f;
  f.node = node;
  f.key = key;
  f.ok = true;
  f.found = !values.empty();
  f.values = std::move(values);
  return f;
}

Op Increment(const std::string& key, int64_t amount, Outcome outcome,
             int64_t invoke = 0, int64_t complete = 1) {
  Op op = Write(0, key, "", outcome, invoke, complete);
  op.kind = OpKind::kIncrement;
  op.amount = amount;
  return op;
}

Op DtSetOp(OpKind kind, const std::string& key, const std::string& element,
           Outcome outcome, int64_t invoke, int64_t complete) {
  Op op = Write(1, key, element, outcome, invoke, complete);
  op.kind = kind;
  return op;
}

FinalRead CounterFinal(const std::string& node, const std::string& key,
                       int64_t value) {
  FinalRead f = Final(node, key, {});
  f.found = true;
  f.counter = value;
  return f;
}

bool Mentions(const Verdict& v, const std::string& text) {
  for (const auto& p : v.problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(SetCodec, RoundTripsAndMergesSiblings) {
  EXPECT_EQ(EncodeSet({"b", "a", "c"}), "a b c");
  EXPECT_EQ(DecodeSets({"a b", "b c", ""}),
            (std::set<std::string>{"a", "b", "c"}));
}

TEST(CheckSetGrowth, AcceptsAHistoryWhereEveryAcknowledgedElementSurvives) {
  std::vector<Op> ops = {Add(0, "s", "e1", Outcome::kOk, 0, 5),
                         Add(1, "s", "e2", Outcome::kOk, 1, 6, 2),
                         Add(0, "s", "e3", Outcome::kUnknown, 7, 20),
                         Add(1, "s", "e4", Outcome::kFail, 8, 9)};
  // e3 was unknown: it may or may not be there; both are fine.
  std::vector<FinalRead> finals = {Final("n1", "s", {"e1 e2 e3"}),
                                   Final("n2", "s", {"e1", "e2"})};
  Verdict v = CheckSetGrowth(ops, finals, 2);
  EXPECT_TRUE(v.ok) << ::testing::PrintToString(v.problems);
  EXPECT_EQ(v.stats["adds acknowledged"], 2);
  EXPECT_EQ(v.stats["adds unknown"], 1);
}

TEST(CheckSetGrowth, RejectsALostAcknowledgedElement) {
  std::vector<Op> ops = {Add(0, "s", "e1", Outcome::kOk, 0, 5),
                         Add(1, "s", "e2", Outcome::kOk, 1, 6)};
  // node2 lost e2; node1 still has it: one node missing it is enough.
  std::vector<FinalRead> finals = {Final("n1", "s", {"e1 e2"}),
                                   Final("n2", "s", {"e1"})};
  Verdict v = CheckSetGrowth(ops, finals, 2);
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_TRUE(Mentions(v, "lost: acknowledged add of 'e2'"));
  EXPECT_TRUE(Mentions(v, "through n2"));
}

TEST(CheckSetGrowth, NamesEveryNodeThatLostAnElementOnOneLine) {
  std::vector<Op> ops = {Add(0, "s", "e1", Outcome::kOk, 0, 5),
                         Add(1, "s", "e2", Outcome::kOk, 1, 6)};
  std::vector<FinalRead> finals = {Final("n1", "s", {"e1"}),
                                   Final("n2", "s", {"e1 e2"}),
                                   Final("n3", "s", {"e1"})};
  Verdict v = CheckSetGrowth(ops, finals, 2);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_TRUE(Mentions(v, "read through n1, n3"));
}

TEST(CheckSetGrowth, RejectsAnElementNobodyAdded) {
  std::vector<Op> ops = {Add(0, "s", "e1", Outcome::kOk, 0, 5)};
  Verdict v = CheckSetGrowth(ops, {Final("n1", "s", {"e1 ghost"})}, 1);
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "'ghost', which no client ever added"));
}

TEST(CheckSetGrowth, RejectsMissingOrFailedFinalReads) {
  std::vector<Op> ops = {Add(0, "s", "e1", Outcome::kOk, 0, 5)};
  EXPECT_FALSE(CheckSetGrowth(ops, {}, 1).ok);
  FinalRead failed;
  failed.node = "n1";
  failed.key = "s";
  failed.error = "timeout";
  Verdict v = CheckSetGrowth(ops, {failed}, 1);
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "failed: timeout"));
}

TEST(CheckSetGrowth, BoundsSiblingsByWritersPlusUnknownWrites) {
  // Two writers and no unknown write: three siblings cannot exist.
  std::vector<Op> ops = {Add(0, "s", "e1", Outcome::kOk, 0, 5, 1),
                         Add(1, "s", "e2", Outcome::kOk, 6, 9, 3)};
  Verdict v = CheckSetGrowth(ops, {Final("n1", "s", {"e1", "e2"})}, 2);
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "saw 3 siblings, more than the 2"));
  // One unknown write invoked before makes room for a third.
  ops.insert(ops.begin(), Add(0, "s", "e0", Outcome::kUnknown, 1, 2));
  EXPECT_TRUE(CheckSetGrowth(ops, {Final("n1", "s", {"e1", "e2"})}, 2).ok);
  // So does an acknowledged write whose read missed its writer's previous
  // one (a read across a partition), and only from when it was invoked.
  ops.erase(ops.begin());
  Op missed = Add(0, "s", "e3", Outcome::kOk, 10, 11);
  missed.read_missed_own_previous = true;
  ops.push_back(missed);
  const std::vector<FinalRead> all = {Final("n1", "s", {"e1", "e2", "e3"})};
  EXPECT_FALSE(CheckSetGrowth(ops, all, 2).ok);
  ops.back().invoke_ms = 3;
  EXPECT_TRUE(CheckSetGrowth(ops, all, 2).ok);
  // The final read is bounded too.
  Verdict f = CheckSetGrowth({Add(0, "s", "e1", Outcome::kOk, 0, 5)},
                             {Final("n1", "s", {"e1", "x", "y"})}, 1);
  EXPECT_FALSE(f.ok);
  EXPECT_TRUE(Mentions(f, "3 siblings, more than 1"));
}

TEST(CheckRegisters, AcceptsReadsOfWrittenValuesAndAConvergedEnd) {
  std::vector<Op> ops = {Write(0, "r", "a", Outcome::kOk, 0, 4),
                         Read(1, "r", {"a"}, 5, 6),
                         // An unknown write may be read: it may have landed.
                         Write(0, "r", "b", Outcome::kUnknown, 7, 30),
                         Read(1, "r", {"b"}, 10, 12), Read(1, "r", {}, 13, 14)};
  std::vector<FinalRead> finals = {Final("n1", "r", {"b"}),
                                   Final("n2", "r", {"b"})};
  Verdict v = CheckRegisters(ops, finals);
  EXPECT_TRUE(v.ok) << ::testing::PrintToString(v.problems);
  EXPECT_EQ(v.stats["registers converged"], 1);
}

TEST(CheckRegisters, RejectsAReadOfAValueNeverWritten) {
  std::vector<Op> ops = {Write(0, "r", "a", Outcome::kOk, 0, 4),
                         Read(1, "r", {"zzz"}, 5, 6)};
  Verdict v = CheckRegisters(ops, {Final("n1", "r", {"a"})});
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_TRUE(Mentions(v, "'zzz', which no client ever wrote"));
}

TEST(CheckRegisters, RejectsAReadFromTheFuture) {
  std::vector<Op> ops = {Read(1, "r", {"a"}, 0, 3),
                         Write(0, "r", "a", Outcome::kOk, 5, 9)};
  Verdict v = CheckRegisters(ops, {Final("n1", "r", {"a"})});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "invoked only at 5 ms"));
}

TEST(CheckRegisters, RejectsNodesThatDisagreeAfterHealing) {
  std::vector<Op> ops = {Write(0, "r", "a", Outcome::kOk, 0, 4),
                         Write(1, "r", "b", Outcome::kOk, 1, 5)};
  Verdict v =
      CheckRegisters(ops, {Final("n1", "r", {"a"}), Final("n2", "r", {"b"})});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "nodes disagree on register r"));
}

TEST(CheckRegisters, RejectsSiblingsAndAMissingFinalValue) {
  std::vector<Op> ops = {Write(0, "r", "a", Outcome::kOk, 0, 4),
                         Write(1, "r", "b", Outcome::kOk, 1, 5),
                         Read(2, "r", {"a", "b"}, 6, 7)};
  Verdict v = CheckRegisters(ops, {Final("n1", "r", {})});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "2 siblings from a last_write_wins bucket"));
  EXPECT_TRUE(Mentions(v, "finds no value after healing"));
}

TEST(CheckDurability, RejectsALostAcknowledgedWrite) {
  std::vector<Op> ops = {Write(0, "d1", "v1", Outcome::kOk, 0, 4),
                         Write(0, "d2", "v2", Outcome::kOk, 5, 8),
                         Write(0, "d3", "v3", Outcome::kUnknown, 9, 20)};
  std::vector<FinalRead> finals = {
      Final("n1", "d1", {"v1"}), Final("n1", "d2", {}), Final("n1", "d3", {})};
  Verdict v = CheckDurability(ops, finals);
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_TRUE(Mentions(v, "lost: acknowledged write of 'v2' to d2"));
  finals[1] = Final("n1", "d2", {"v2"});
  Verdict good = CheckDurability(ops, finals);
  EXPECT_TRUE(good.ok) << ::testing::PrintToString(good.problems);
  EXPECT_EQ(good.stats["acknowledged writes read back"], 2);
}

TEST(CheckDurability, RejectsAWriteOneNodesReadLacksOrAFailedRead) {
  // Each final read is made with r=all and notfound_ok=false: a replica
  // without the value makes that read come back without it.
  std::vector<Op> ops = {Write(0, "d1", "v1", Outcome::kOk, 0, 4)};
  Verdict v =
      CheckDurability(ops, {Final("n1", "d1", {"v1"}), Final("n2", "d1", {})});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "missing from the final read through n2"));
  FinalRead failed;
  failed.node = "n3";
  failed.key = "d1";
  failed.error = "r=3 not met";
  Verdict f = CheckDurability(ops, {Final("n1", "d1", {"v1"}), failed});
  EXPECT_FALSE(f.ok);
  EXPECT_TRUE(Mentions(f, "n3: r=3 not met"));
}

TEST(EmptyHistory, EveryCheckerRejectsARunThatAcknowledgedNothing) {
  const std::vector<Op> none;
  EXPECT_FALSE(CheckSetGrowth(none, {}, 3).ok);
  EXPECT_FALSE(CheckRegisters(none, {}).ok);
  EXPECT_FALSE(CheckDurability(none, {}).ok);
  EXPECT_FALSE(CheckCounters(none, {}).ok);
  EXPECT_FALSE(CheckDtSets(none, {}).ok);
  // Operations that all failed show nothing either.
  const std::vector<Op> failed = {Add(0, "s", "e1", Outcome::kFail, 0, 1),
                                  Write(1, "r", "a", Outcome::kUnknown, 0, 9)};
  EXPECT_FALSE(CheckSetGrowth(failed, {Final("n1", "s", {})}, 3).ok);
  EXPECT_FALSE(CheckRegisters(failed, {Final("n1", "r", {})}).ok);
  EXPECT_FALSE(CheckDurability(failed, {}).ok);
}

ProgressFloors Floors(int64_t per_workload, int64_t per_fault) {
  ProgressFloors f;
  f.workloads = {{"sets", {OpKind::kAdd}, per_workload},
                 {"registers", {OpKind::kRead, OpKind::kWrite}, per_workload}};
  f.min_acknowledged_per_fault = per_fault;
  return f;
}

TEST(CheckProgress, RejectsAnEmptyOrAllFailedHistory) {
  Verdict empty = CheckProgress({}, {}, Floors(2, 0));
  EXPECT_FALSE(empty.ok);
  EXPECT_TRUE(Mentions(empty, "sets: 0 operations acknowledged"));
  EXPECT_TRUE(Mentions(empty, "registers: 0 operations acknowledged"));
  const std::vector<Op> failed = {Add(0, "s", "e1", Outcome::kFail, 0, 1),
                                  Add(0, "s", "e2", Outcome::kUnknown, 2, 9),
                                  Write(1, "r", "a", Outcome::kFail, 0, 1)};
  EXPECT_FALSE(CheckProgress(failed, {}, Floors(1, 0)).ok);
  // A floor of 0 still asks for one acknowledged operation.
  EXPECT_FALSE(CheckProgress(failed, {}, Floors(0, 0)).ok);
  // No workload to judge is no pass either.
  EXPECT_FALSE(CheckProgress(failed, {}, ProgressFloors{}).ok);
}

TEST(CheckProgress, HoldsEachWorkloadAndEachFaultWindowToItsFloor) {
  std::vector<Op> ops;
  for (int i = 0; i < 10; ++i) {
    ops.push_back(Add(0, "s", "e" + std::to_string(i), Outcome::kOk, i * 100,
                      i * 100 + 50));
    ops.push_back(Write(1, "r", "v" + std::to_string(i), Outcome::kOk, i * 100,
                        i * 100 + 60));
  }
  // Completions at 50..960 ms: 10 in [0, 500], none in [2000, 3000].
  const std::vector<FaultEvent> events = {{0, 500, "partition"},
                                          {2000, 3000, "kill -9 node3"}};
  Verdict ok = CheckProgress(ops, {events[0]}, Floors(10, 10));
  EXPECT_TRUE(ok.ok) << ::testing::PrintToString(ok.problems);
  EXPECT_EQ(ok.stats["sets acknowledged"], 10);
  EXPECT_FALSE(CheckProgress(ops, {events[0]}, Floors(11, 10)).ok);
  Verdict quiet = CheckProgress(ops, events, Floors(10, 10));
  EXPECT_FALSE(quiet.ok);
  ASSERT_EQ(quiet.problems.size(), 1u);
  EXPECT_TRUE(Mentions(quiet, "fault 'kill -9 node3' (2000 to 3000 ms)"));
  EXPECT_TRUE(Mentions(quiet, "0 operations acknowledged"));
}

TEST(CheckNemesis, AcceptsFaultsTheNodesConfirmed) {
  const std::vector<FaultEvent> events = {{0, 10, "partition 1 / 2"},
                                          {20, 30, "drop, duplicate"}};
  const std::vector<FaultConfirmation> c = {
      {"partition 1 / 2", "dropped_partition_in+out", 120, {}},
      {"drop, duplicate", "dropped_random", 7, {}},
      {"drop, duplicate", "duplicated", 3, {}}};
  Verdict v = CheckNemesis(events, c);
  EXPECT_TRUE(v.ok) << ::testing::PrintToString(v.problems);
  EXPECT_EQ(v.stats["confirmations"], 3);
  // What each showed goes to the report.
  EXPECT_EQ(v.stats["drop, duplicate: duplicated"], 3);
}

TEST(CheckNemesis, RejectsASilentNemesis) {
  const std::vector<FaultEvent> events = {{0, 10, "partition 1 / 2"},
                                          {20, 30, "drop, duplicate"}};
  // Nothing at all confirms the partition.
  Verdict unconfirmed =
      CheckNemesis(events, {{"drop, duplicate", "dropped_random", 7, {}}});
  EXPECT_FALSE(unconfirmed.ok);
  EXPECT_TRUE(Mentions(unconfirmed, "'partition 1 / 2' has no confirmation"));
  // The counters did not move: the fault was requested but did nothing.
  Verdict still = CheckNemesis(
      events, {{"partition 1 / 2", "dropped_partition_in+out", 0, {}},
               {"drop, duplicate", "dropped_random", 7, {}}});
  EXPECT_FALSE(still.ok);
  EXPECT_TRUE(Mentions(still, "dropped_partition_in+out stayed at 0"));
  // The request failed, even though a counter moved (another fault's).
  Verdict refused =
      CheckNemesis(events, {{"partition 1 / 2",
                             "dropped_partition_in+out",
                             4,
                             {"node2 answered 404 to POST /faults/partition"}},
                            {"drop, duplicate", "dropped_random", 7, {}}});
  EXPECT_FALSE(refused.ok);
  EXPECT_TRUE(Mentions(refused, "answered 404"));
  // A run without faults tested no fault tolerance.
  EXPECT_FALSE(CheckNemesis({}, {}).ok);
}

TEST(CheckRegisters, RejectsALostAcknowledgedUpdate) {
  // 'b' was acknowledged long after 'a' was; the register ends on 'a'.
  std::vector<Op> ops = {Write(0, "r", "a", Outcome::kOk, 0, 10),
                         Write(1, "r", "b", Outcome::kOk, 3000, 3010)};
  Verdict v =
      CheckRegisters(ops, {Final("n1", "r", {"a"}), Final("n2", "r", {"a"})});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "lost update: register r reads 'a' through n1"));
  EXPECT_TRUE(Mentions(v, "write of 'b' to r by process 1"));
  Verdict good = CheckRegisters(ops, {Final("n1", "r", {"b"})});
  EXPECT_TRUE(good.ok) << ::testing::PrintToString(good.problems);
  EXPECT_EQ(good.stats["final values judged for lost updates"], 1);
}

TEST(CheckRegisters, NeverCallsALegalLastWriteWinsOutcomeALostUpdate) {
  const std::vector<FinalRead> ends_on_a = {Final("n1", "r", {"a"})};
  // Overlapping writes: either may carry the newer timestamp.
  EXPECT_TRUE(CheckRegisters({Write(0, "r", "a", Outcome::kOk, 0, 10),
                              Write(1, "r", "b", Outcome::kOk, 5, 15)},
                             ends_on_a)
                  .ok);
  // Invoked after 'a' completed, but within the margin for clocks.
  EXPECT_TRUE(
      CheckRegisters({Write(0, "r", "a", Outcome::kOk, 0, 10),
                      Write(1, "r", "b", Outcome::kOk, 10 + kLwwOrderMarginMs,
                            20 + kLwwOrderMarginMs)},
                     ends_on_a)
          .ok);
  // 'b' may never have been stored.
  EXPECT_TRUE(
      CheckRegisters({Write(0, "r", "a", Outcome::kOk, 0, 10),
                      Write(1, "r", "b", Outcome::kUnknown, 3000, 9000)},
                     ends_on_a)
          .ok);
  // 'a' was unknown: its timestamp may have been minted after 'b' (a
  // paused coordinator taking it up after the client gave up).
  EXPECT_TRUE(CheckRegisters({Write(0, "r", "a", Outcome::kUnknown, 0, 6000),
                              Write(1, "r", "b", Outcome::kOk, 7000, 7010)},
                             ends_on_a)
                  .ok);
  // A clock skew in force around 'b' may have given it an older timestamp,
  // and one that ended less than its size before may still count.
  const std::vector<Op> ordered = {
      Write(0, "r", "a", Outcome::kOk, 0, 10),
      Write(1, "r", "b", Outcome::kOk, 3000, 3010)};
  FaultEvent skew{2500, 2900, "node2's clock 5 s behind", -5000};
  EXPECT_TRUE(CheckRegisters(ordered, ends_on_a, {skew}).ok);
  skew.start_ms = 100;
  skew.end_ms = 200;
  EXPECT_TRUE(CheckRegisters(ordered, ends_on_a, {skew}).ok);
  // A fault without a skew exempts nothing.
  EXPECT_FALSE(
      CheckRegisters(ordered, ends_on_a, {{2500, 2900, "partition"}}).ok);
}

TEST(CheckRegisters, RejectsAValueWhoseWriteCertainlyFailed) {
  std::vector<Op> ops = {Write(0, "r", "a", Outcome::kOk, 0, 10),
                         Write(1, "r", "b", Outcome::kFail, 20, 21),
                         Read(2, "r", {"b"}, 30, 31)};
  Verdict v = CheckRegisters(ops, {Final("n1", "r", {"b"})});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "returned 'b', whose write certainly failed"));
  EXPECT_TRUE(Mentions(v, "comes from a write that certainly failed"));
}

TEST(CheckCounters,
     AcceptsAValueBetweenAcknowledgedAndAcknowledgedPlusUnknown) {
  // Acknowledged 2 + 3 = 5; the unknown 4 may or may not have landed; the
  // failed 100 certainly did not.
  std::vector<Op> ops = {Increment("c", 2, Outcome::kOk),
                         Increment("c", 3, Outcome::kOk),
                         Increment("c", 4, Outcome::kUnknown),
                         Increment("c", 100, Outcome::kFail)};
  for (int64_t value : {5, 9}) {
    Verdict v = CheckCounters(
        ops, {CounterFinal("n1", "c", value), CounterFinal("n2", "c", value)});
    EXPECT_TRUE(v.ok) << ::testing::PrintToString(v.problems);
    EXPECT_EQ(v.stats["increments acknowledged"], 2);
    EXPECT_EQ(v.stats["increments unknown"], 1);
    EXPECT_EQ(v.stats["increments failed"], 1);
    EXPECT_EQ(v.stats["counters converged"], 1);
  }
}

TEST(CheckCounters, RejectsAValueOutsideItsBounds) {
  std::vector<Op> ops = {Increment("c", 2, Outcome::kOk),
                         Increment("c", 3, Outcome::kOk),
                         Increment("c", 4, Outcome::kUnknown),
                         Increment("c", 100, Outcome::kFail)};
  Verdict low = CheckCounters(ops, {CounterFinal("n1", "c", 4)});
  EXPECT_FALSE(low.ok);
  EXPECT_TRUE(Mentions(low, "lost increments: counter c reads 4 through n1"));
  // The failed increment must not have been applied.
  Verdict high = CheckCounters(ops, {CounterFinal("n1", "c", 105)});
  EXPECT_FALSE(high.ok);
  EXPECT_TRUE(Mentions(high, "above the 9"));
  // A counter with acknowledged increments that no node finds was lost.
  EXPECT_FALSE(CheckCounters(ops, {Final("n1", "c", {})}).ok);
}

TEST(CheckCounters, RejectsNodesThatDisagreeAfterHealing) {
  std::vector<Op> ops = {Increment("c", 1, Outcome::kOk),
                         Increment("c", 1, Outcome::kUnknown)};
  Verdict v = CheckCounters(
      ops, {CounterFinal("n1", "c", 1), CounterFinal("n2", "c", 2)});
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_TRUE(Mentions(v, "nodes disagree on counter c: n1=1 n2=2"));
  EXPECT_EQ(v.stats["counters converged"], 0);
}

TEST(CheckCounters, RejectsARunWithoutAnAcknowledgedIncrement) {
  Verdict nothing = CheckCounters({}, {});
  EXPECT_FALSE(nothing.ok);
  EXPECT_TRUE(Mentions(nothing, "none of the increments was acknowledged"));
  Verdict all_unknown = CheckCounters({Increment("c", 1, Outcome::kUnknown)},
                                      {CounterFinal("n1", "c", 1)});
  EXPECT_FALSE(all_unknown.ok);
}

TEST(CheckCounters, RejectsMissingOrFailedFinalReads) {
  std::vector<Op> ops = {Increment("c", 1, Outcome::kOk)};
  Verdict none = CheckCounters(ops, {});
  EXPECT_FALSE(none.ok);
  EXPECT_TRUE(
      Mentions(none, "counter c has acknowledged updates but no final"));
  FinalRead failed;
  failed.node = "n1";
  failed.key = "c";
  failed.error = "timeout";
  Verdict v = CheckCounters(ops, {CounterFinal("n2", "c", 1), failed});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "final read of counter c through n1 failed"));
}

// e1 and e2 acknowledged, e2 then removed after a fetch; e3 unknown; e4
// refused by the server; a remove of e1 refused.
std::vector<Op> GoodDtSetHistory() {
  return {DtSetOp(OpKind::kDtAdd, "s", "e1", Outcome::kOk, 0, 5),
          DtSetOp(OpKind::kDtAdd, "s", "e2", Outcome::kOk, 1, 6),
          DtSetOp(OpKind::kDtAdd, "s", "e3", Outcome::kUnknown, 2, 30),
          DtSetOp(OpKind::kDtAdd, "s", "e4", Outcome::kFail, 3, 4),
          DtSetOp(OpKind::kDtRemove, "s", "e2", Outcome::kOk, 10, 12),
          DtSetOp(OpKind::kDtRemove, "s", "e1", Outcome::kFail, 13, 14)};
}

TEST(CheckDtSets, AcceptsAcknowledgedAddsPresentAndRemovedElementsGone) {
  for (auto e3 :
       {std::vector<std::string>{"e1", "e3"}, std::vector<std::string>{"e1"}}) {
    Verdict v = CheckDtSets(GoodDtSetHistory(),
                            {Final("n1", "s", e3), Final("n2", "s", e3)});
    EXPECT_TRUE(v.ok) << ::testing::PrintToString(v.problems);
    EXPECT_EQ(v.stats["adds acknowledged"], 2);
    EXPECT_EQ(v.stats["adds unknown"], 1);
    EXPECT_EQ(v.stats["adds failed"], 1);
    EXPECT_EQ(v.stats["removes acknowledged"], 1);
    EXPECT_EQ(v.stats["removes failed"], 1);
    EXPECT_EQ(v.stats["sets converged"], 1);
  }
}

TEST(CheckDtSets, RejectsALostAcknowledgedAdd) {
  // e1's only remove was refused: it must still be there.
  Verdict v = CheckDtSets(GoodDtSetHistory(),
                          {Final("n1", "s", {}), Final("n2", "s", {})});
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_TRUE(Mentions(v, "lost: acknowledged dt-add of 'e1'"));
  EXPECT_TRUE(Mentions(v, "read through n1, n2"));
}

TEST(CheckDtSets,
     ExcusesAMissingAddOnlyByARemoveIssuedAfterItsAcknowledgement) {
  std::vector<Op> ops = {
      DtSetOp(OpKind::kDtAdd, "s", "e1", Outcome::kOk, 0, 5),
      DtSetOp(OpKind::kDtAdd, "s", "e2", Outcome::kOk, 0, 5),
      // An unknown remove may have taken e2 away.
      DtSetOp(OpKind::kDtRemove, "s", "e2", Outcome::kUnknown, 6, 9)};
  EXPECT_TRUE(CheckDtSets(ops, {Final("n1", "s", {"e1"})}).ok);
  // A remove invoked before the add was acknowledged does not excuse it.
  ops[2].invoke_ms = 4;
  Verdict v = CheckDtSets(ops, {Final("n1", "s", {"e1"})});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "lost: acknowledged dt-add of 'e2'"));
}

TEST(CheckDtSets, RejectsAnElementNobodyAddedOrTheServerRefused) {
  Verdict v = CheckDtSets(GoodDtSetHistory(),
                          {Final("n1", "s", {"e1", "ghost", "e4"})});
  EXPECT_FALSE(v.ok);
  EXPECT_TRUE(Mentions(v, "'ghost', which no client ever added"));
  EXPECT_TRUE(Mentions(v, "'e4', which certainly was not added"));
}

TEST(CheckDtSets, RejectsAnAcknowledgedRemoveThatDidNotKeepItsElementAway) {
  Verdict v = CheckDtSets(GoodDtSetHistory(), {Final("n1", "s", {"e1", "e2"})});
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_TRUE(Mentions(v, "came back: acknowledged dt-remove of 'e2'"));
}

TEST(CheckDtSets, RejectsNodesThatDisagreeAfterHealing) {
  Verdict v = CheckDtSets(GoodDtSetHistory(), {Final("n1", "s", {"e1", "e3"}),
                                               Final("n2", "s", {"e1"})});
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_TRUE(Mentions(v, "nodes disagree on set s"));
  EXPECT_TRUE(Mentions(v, "n2=1 elements, lacking [e3]"));
}

TEST(CheckDtSets, RejectsARunWithoutAnAcknowledgedAddOrAFinalRead) {
  Verdict nothing = CheckDtSets({}, {});
  EXPECT_FALSE(nothing.ok);
  EXPECT_TRUE(Mentions(nothing, "none of the adds was acknowledged"));
  EXPECT_FALSE(
      CheckDtSets({DtSetOp(OpKind::kDtAdd, "s", "e", Outcome::kUnknown, 0, 1)},
                  {Final("n1", "s", {"e"})})
          .ok);
  Verdict unread = CheckDtSets(GoodDtSetHistory(), {});
  EXPECT_FALSE(unread.ok);
  EXPECT_TRUE(Mentions(unread, "set s has acknowledged updates but no final"));
}

}  // namespace
}  // namespace causeway::fault
