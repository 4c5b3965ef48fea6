#include "tests/fault/checker.h"

#include <algorithm>
#include <functional>
#include <sstream>

namespace causeway::fault {

namespace {

// Groups the final reads by key.
std::map<std::string, std::vector<const FinalRead*>> ByKey(
    const std::vector<FinalRead>& finals) {
  std::map<std::string, std::vector<const FinalRead*>> out;
  for (const FinalRead& f : finals) out[f.key].push_back(&f);
  return out;
}

std::string Describe(const Op& op) {
  std::ostringstream s;
  s << OpKindName(op.kind) << " of '" << op.value << "' to " << op.key
    << " by process " << op.process << " through " << op.node << " ("
    << OutcomeName(op.outcome) << ", invoked at " << op.invoke_ms
    << " ms, completed at " << op.complete_ms << " ms)";
  return s.str();
}

// "a, b, c".
std::string JoinNodes(const std::vector<std::string>& nodes) {
  std::string out;
  for (const std::string& n : nodes) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Fails `v` when the final read `f` of a `what` ("set", "counter") did not
// succeed; true then.
bool ReadFailed(const std::string& what, const FinalRead& f, Verdict* v) {
  if (f.ok) return false;
  v->Fail("final read of " + what + " " + f.key + " through " + f.node +
          " failed: " + f.error);
  return true;
}

// Fails `v` for every key in `keys` that has no final read.
void RequireFinalReads(
    const std::string& what, const std::set<std::string>& keys,
    const std::map<std::string, std::vector<const FinalRead*>>& by_key,
    Verdict* v) {
  for (const std::string& key : keys) {
    if (by_key.find(key) == by_key.end()) {
      v->Fail(what + " " + key + " has acknowledged updates but no final read");
    }
  }
}

// Fails `v` when the successful final reads of one key answer differently;
// `answer` renders what a read returned, equal renderings meaning equal
// answers. True when every read succeeded and all agree (converged).
bool CheckAgreement(const std::string& what, const std::string& key,
                    const std::vector<const FinalRead*>& reads,
                    const std::function<std::string(const FinalRead&)>& answer,
                    Verdict* v) {
  std::set<std::string> answers;
  std::string list;
  bool all_ok = true;
  for (const FinalRead* f : reads) {
    all_ok = all_ok && f->ok;
    const std::string a = f->ok ? answer(*f) : "(failed)";
    if (f->ok) answers.insert(a);
    list += " " + f->node + "=" + a;
  }
  if (answers.size() > 1) {
    v->Fail("after healing the nodes disagree on " + what + " " + key + ":" +
            list);
    return false;
  }
  return all_ok;
}

// Counts an operation of `what` ("adds") under its outcome in v->stats.
void Count(const std::string& what, Outcome o, Verdict* v) {
  const char* word = o == Outcome::kOk     ? " acknowledged"
                     : o == Outcome::kFail ? " failed"
                                           : " unknown";
  ++v->stats[what + word];
}

// Starts the counts of `what` at zero, so that the report shows them.
void StartCounts(const std::string& what, Verdict* v) {
  for (const char* word : {" acknowledged", " failed", " unknown"}) {
    v->stats[what + word] = 0;
  }
}

// A run in which nothing of `what` was acknowledged shows nothing.
void RequireSome(const std::string& what, Verdict* v) {
  if (v->stats[what + " acknowledged"] == 0) {
    v->Fail("none of the " + what +
            " was acknowledged: the run shows nothing (was the cluster "
            "down the whole time?)");
  }
}

}  // namespace

std::string EncodeSet(const std::set<std::string>& elements) {
  std::string out;
  for (const std::string& e : elements) {
    if (!out.empty()) out.push_back(' ');
    out += e;
  }
  return out;
}

std::set<std::string> DecodeSets(const std::vector<std::string>& siblings) {
  std::set<std::string> out;
  for (const std::string& v : siblings) {
    std::istringstream in(v);
    std::string e;
    while (in >> e) out.insert(e);
  }
  return out;
}

Verdict CheckSetGrowth(const std::vector<Op>& ops,
                       const std::vector<FinalRead>& finals, int writers) {
  Verdict v;
  v.name = "set growth (allow_mult, read-merge-write)";
  std::map<std::string, std::vector<const Op*>> acked;  // by key
  std::map<std::string, std::set<std::string>> attempted;
  // Unknown adds, and adds whose read missed their writer's previous one,
  // per key, for the sibling bound.
  std::map<std::string, std::vector<int64_t>> unknown_invokes;
  std::map<std::string, std::vector<int64_t>> missed_invokes;
  int64_t n_ok = 0, n_fail = 0, n_unknown = 0;
  int max_siblings = 0;
  for (const Op& op : ops) {
    if (op.kind != OpKind::kAdd) continue;
    attempted[op.key].insert(op.value);
    if (op.read_missed_own_previous) {
      missed_invokes[op.key].push_back(op.invoke_ms);
    }
    switch (op.outcome) {
      case Outcome::kOk:
        ++n_ok;
        acked[op.key].push_back(&op);
        break;
      case Outcome::kFail:
        ++n_fail;
        break;
      case Outcome::kUnknown:
        ++n_unknown;
        unknown_invokes[op.key].push_back(op.invoke_ms);
        break;
    }
  }
  // A sibling exists only for a write some client made: at most one per
  // writer whose latest write was concurrent with the others, plus one per
  // write that may have been stored on some replicas without being
  // acknowledged (its writer then moved on without covering it), plus one
  // per write whose read did not see its writer's previous one (a read on
  // the other side of a partition: the write cannot cover what it did not
  // see).
  auto bound_at = [&](const std::string& key, int64_t t) {
    int64_t extra = 0;
    for (int64_t invoked : unknown_invokes[key]) extra += invoked <= t;
    for (int64_t invoked : missed_invokes[key]) extra += invoked <= t;
    return writers + extra;
  };
  for (const Op& op : ops) {
    if (op.kind != OpKind::kAdd) continue;
    max_siblings = std::max(max_siblings, op.siblings);
    const int64_t bound = bound_at(op.key, op.complete_ms);
    if (op.siblings > bound) {
      v.Fail("the read before " + Describe(op) + " saw " +
             std::to_string(op.siblings) + " siblings, more than the " +
             std::to_string(bound) + " that can exist");
    }
  }
  const auto finals_by_key = ByKey(finals);
  for (const auto& [key, ops_for_key] : acked) {
    if (finals_by_key.find(key) == finals_by_key.end()) {
      v.Fail("set " + key + " has " + std::to_string(ops_for_key.size()) +
             " acknowledged adds but no final read");
    }
  }
  int64_t final_elements = 0;
  // One line per lost element, naming every node whose final value lacks it.
  std::map<const Op*, std::vector<std::string>> missing_on;
  for (const auto& [key, reads] : finals_by_key) {
    for (const FinalRead* f : reads) {
      if (ReadFailed("set", *f, &v)) continue;
      max_siblings = std::max(max_siblings, static_cast<int>(f->values.size()));
      const int64_t bound = bound_at(key, INT64_MAX);
      if (static_cast<int64_t>(f->values.size()) > bound) {
        v.Fail("final read of set " + key + " through " + f->node + " has " +
               std::to_string(f->values.size()) + " siblings, more than " +
               std::to_string(bound));
      }
      const std::set<std::string> elements = DecodeSets(f->values);
      final_elements = std::max<int64_t>(final_elements, elements.size());
      for (const Op* op : acked[key]) {
        if (elements.count(op->value) == 0) missing_on[op].push_back(f->node);
      }
      for (const std::string& e : elements) {
        if (attempted[key].count(e) == 0) {
          v.Fail("final value of set " + key + " through " + f->node +
                 " holds '" + e + "', which no client ever added");
        }
      }
    }
  }
  for (const auto& [op, nodes] : missing_on) {
    v.Fail("lost: acknowledged " + Describe(*op) +
           " is missing from the final value read through " + JoinNodes(nodes));
  }
  if (n_ok == 0) {
    v.Fail(
        "no add was acknowledged: the run shows nothing (was the cluster "
        "down the whole time?)");
  }
  v.stats["adds acknowledged"] = n_ok;
  v.stats["adds failed"] = n_fail;
  v.stats["adds unknown"] = n_unknown;
  v.stats["most siblings seen"] = max_siblings;
  v.stats["largest final set"] = final_elements;
  v.stats["final reads"] = static_cast<int64_t>(finals.size());
  return v;
}

namespace {

// True when the real time [from, to] comes close enough to a clock skew of
// `events` that timestamp order need not follow real-time order there.
bool NearClockSkew(const std::vector<FaultEvent>& events, int64_t from,
                   int64_t to) {
  for (const FaultEvent& e : events) {
    if (e.clock_skew_ms == 0) continue;
    const int64_t skew =
        e.clock_skew_ms < 0 ? -e.clock_skew_ms : e.clock_skew_ms;
    const int64_t until = e.end_ms + skew + kLwwOrderMarginMs;
    if (to >= e.start_ms - kLwwOrderMarginMs && from <= until) return true;
  }
  return false;
}

// Lost updates of a last_write_wins register.
//
// Such a bucket keeps, of the writes it stored, the one with the newest
// hybrid logical clock timestamp. The coordinating node mints it while the
// write is in progress: after the client invoked it and, for an
// acknowledged write, before the client saw the acknowledgement. A write
// whose outcome is unknown may be minted at any time after its invocation
// (a paused node can take it up long after the client gave up), so nothing
// is ever known to come after it.
//
// Rule: a final value (read after healing) written by the acknowledged
// write W is a lost update when an acknowledged write B of the same key was
// invoked more than kLwwOrderMarginMs after W completed, and neither ran
// near a clock skew (NearClockSkew). Why that outcome is never legal: the
// nodes of a fault run share one machine clock and a hybrid logical clock
// runs ahead of it by at most the clock offset the nodes accept, which is
// below the margin; so B's timestamp is newer than W's. B was acknowledged,
// so it was stored, and the register must end with the newest stored
// timestamp: B's or a newer one, never W's. Writes concurrent with B (those
// overlapping it, and unknown ones) may beat B, but then they replace W as
// well, so the rule holds whatever they did. A final value whose write was
// not acknowledged is never judged by this rule.
void CheckLostUpdates(const std::vector<const Op*>& writes, const FinalRead& f,
                      const std::vector<FaultEvent>& events, Verdict* v) {
  int64_t& judged = v->stats["final values judged for lost updates"];
  if (!f.ok || f.values.size() != 1) return;
  const Op* w = nullptr;
  for (const Op* op : writes) {
    if (op->value == f.values[0]) w = op;
  }
  if (w == nullptr || w->outcome != Outcome::kOk ||
      NearClockSkew(events, w->invoke_ms, w->complete_ms)) {
    return;
  }
  ++judged;
  const Op* latest = nullptr;  // the latest such B, to name in the report
  for (const Op* b : writes) {
    if (b->outcome != Outcome::kOk ||
        b->invoke_ms <= w->complete_ms + kLwwOrderMarginMs ||
        NearClockSkew(events, b->invoke_ms, b->complete_ms)) {
      continue;
    }
    if (latest == nullptr || b->invoke_ms > latest->invoke_ms) latest = b;
  }
  if (latest == nullptr) return;
  v->Fail("lost update: register " + f.key + " reads '" + w->value +
          "' through " + f.node + " after healing, from " + Describe(*w) +
          ", although the acknowledged " + Describe(*latest) +
          " was invoked after it completed and must have won");
}

}  // namespace

Verdict CheckRegisters(const std::vector<Op>& ops,
                       const std::vector<FinalRead>& finals,
                       const std::vector<FaultEvent>& events) {
  Verdict v;
  v.name = "registers (last_write_wins)";
  // Earliest invocation of a write of each value, per key.
  std::map<std::string, std::map<std::string, int64_t>> written;
  // Values whose every write certainly failed.
  std::map<std::string, std::set<std::string>> only_failed;
  std::map<std::string, std::vector<const Op*>> writes;  // by key
  std::set<std::string> acked_keys;
  int64_t writes_ok = 0, writes_other = 0, reads_ok = 0, reads_other = 0;
  for (const Op& op : ops) {
    if (op.kind != OpKind::kWrite) continue;
    writes[op.key].push_back(&op);
    auto [it, fresh] = written[op.key].emplace(op.value, op.invoke_ms);
    if (!fresh) it->second = std::min(it->second, op.invoke_ms);
    if (op.outcome == Outcome::kFail) {
      if (fresh) only_failed[op.key].insert(op.value);
    } else {
      only_failed[op.key].erase(op.value);
    }
    if (op.outcome == Outcome::kOk) {
      ++writes_ok;
      acked_keys.insert(op.key);
    } else {
      ++writes_other;
    }
  }
  if (writes_ok == 0) {
    v.Fail(
        "no register write was acknowledged: the run shows nothing (was the "
        "cluster down the whole time?)");
  }
  auto certainly_failed = [&](const std::string& key,
                              const std::string& value) {
    auto it = only_failed.find(key);
    return it != only_failed.end() && it->second.count(value) != 0;
  };
  for (const Op& op : ops) {
    if (op.kind != OpKind::kRead) continue;
    if (op.outcome != Outcome::kOk) {
      ++reads_other;
      continue;
    }
    ++reads_ok;
    if (op.values.size() > 1) {
      v.Fail("read of " + op.key + " by process " + std::to_string(op.process) +
             " through " + op.node + " at " + std::to_string(op.complete_ms) +
             " ms returned " + std::to_string(op.values.size()) +
             " siblings from a last_write_wins bucket");
    }
    for (const std::string& value : op.values) {
      auto& w = written[op.key];
      auto it = w.find(value);
      if (it == w.end()) {
        v.Fail("read of " + op.key + " by process " +
               std::to_string(op.process) + " through " + op.node + " at " +
               std::to_string(op.complete_ms) + " ms returned '" + value +
               "', which no client ever wrote");
      } else if (it->second > op.complete_ms) {
        v.Fail("read of " + op.key + " completed at " +
               std::to_string(op.complete_ms) + " ms returned '" + value +
               "', whose first write was invoked only at " +
               std::to_string(it->second) + " ms");
      } else if (certainly_failed(op.key, value)) {
        v.Fail("read of " + op.key + " completed at " +
               std::to_string(op.complete_ms) + " ms returned '" + value +
               "', whose write certainly failed (it never reached a node)");
      }
    }
  }
  const auto finals_by_key = ByKey(finals);
  RequireFinalReads("register", acked_keys, finals_by_key, &v);
  int64_t converged = 0;
  for (const auto& [key, reads] : finals_by_key) {
    for (const FinalRead* f : reads) {
      if (ReadFailed("register", *f, &v)) continue;
      if (!f->found && acked_keys.count(key) != 0) {
        v.Fail("register " + key + " was written successfully, but " + f->node +
               " finds no value after healing");
      }
      if (f->values.size() > 1) {
        v.Fail("final read of register " + key + " through " + f->node +
               " has " + std::to_string(f->values.size()) + " siblings");
      }
      for (const std::string& value : f->values) {
        if (written[key].count(value) == 0) {
          v.Fail("final value '" + value + "' of register " + key +
                 " through " + f->node + " was never written");
        } else if (certainly_failed(key, value)) {
          v.Fail("final value '" + value + "' of register " + key +
                 " through " + f->node +
                 " comes from a write that certainly failed");
        }
      }
      CheckLostUpdates(writes[key], *f, events, &v);
    }
    auto siblings = [](const FinalRead& f) {
      std::string list;
      for (const std::string& value : f.values) {
        list += (list.empty() ? "" : ",") + value;
      }
      return "[" + list + "]";
    };
    if (CheckAgreement("register", key, reads, siblings, &v)) ++converged;
  }
  v.stats["writes acknowledged"] = writes_ok;
  v.stats["writes failed or unknown"] = writes_other;
  v.stats["reads ok"] = reads_ok;
  v.stats["reads failed or unknown"] = reads_other;
  v.stats["registers converged"] = converged;
  v.stats["final reads"] = static_cast<int64_t>(finals.size());
  return v;
}

Verdict CheckDurability(const std::vector<Op>& ops,
                        const std::vector<FinalRead>& finals) {
  Verdict v;
  v.name = "durability (dw=all, kill -9)";
  std::map<std::string, std::vector<const FinalRead*>> by_key = ByKey(finals);
  int64_t acked = 0, other = 0, present = 0;
  for (const Op& op : ops) {
    if (op.kind != OpKind::kWrite) continue;
    if (op.outcome != Outcome::kOk) {
      ++other;
      continue;
    }
    ++acked;
    auto it = by_key.find(op.key);
    if (it == by_key.end()) {
      v.Fail("lost: acknowledged " + Describe(op) + " has no final read");
      continue;
    }
    // Every final read must hold it: each is made with r=all and
    // notfound_ok=false, so a replica that lost its copy makes it miss.
    std::vector<std::string> missing;
    std::string failed;
    for (const FinalRead* f : it->second) {
      if (!f->ok) {
        failed += " " + f->node + ": " + f->error + ";";
      } else if (std::find(f->values.begin(), f->values.end(), op.value) ==
                 f->values.end()) {
        missing.push_back(f->node);
      }
    }
    if (!missing.empty()) {
      v.Fail("lost: acknowledged " + Describe(op) +
             " is missing from the final read through " + JoinNodes(missing));
    }
    if (!failed.empty()) {
      v.Fail("final read of " + op.key + " failed:" + failed);
    }
    if (missing.empty() && failed.empty()) ++present;
  }
  if (acked == 0) {
    v.Fail(
        "no durable write was acknowledged: the run shows nothing (was the "
        "cluster down the whole time?)");
  }
  v.stats["writes acknowledged"] = acked;
  v.stats["writes failed or unknown"] = other;
  v.stats["acknowledged writes read back"] = present;
  v.stats["final reads"] = static_cast<int64_t>(finals.size());
  return v;
}

namespace {

// Bounds on one counter's value from its increments.
struct CounterBounds {
  int64_t low = 0;   // acknowledged, plus the unknown decrements
  int64_t high = 0;  // acknowledged, plus the unknown increments
  int64_t acked = 0;
};

std::string CounterAnswer(const FinalRead& f) {
  return f.found ? std::to_string(f.counter) : "absent";
}

}  // namespace

Verdict CheckCounters(const std::vector<Op>& ops,
                      const std::vector<FinalRead>& finals) {
  Verdict v;
  v.name = "counters (data type)";
  StartCounts("increments", &v);
  std::map<std::string, CounterBounds> bounds;
  std::set<std::string> acked_keys;
  int64_t unknown_amount = 0;
  for (const Op& op : ops) {
    if (op.kind != OpKind::kIncrement) continue;
    Count("increments", op.outcome, &v);
    CounterBounds& b = bounds[op.key];
    if (op.outcome == Outcome::kOk) {
      b.acked += op.amount;
      acked_keys.insert(op.key);
    } else if (op.outcome == Outcome::kUnknown) {
      (op.amount < 0 ? b.low : b.high) += op.amount;
      unknown_amount += op.amount < 0 ? -op.amount : op.amount;
    }
  }
  RequireSome("increments", &v);
  const auto finals_by_key = ByKey(finals);
  RequireFinalReads("counter", acked_keys, finals_by_key, &v);
  int64_t converged = 0;
  for (const auto& [key, reads] : finals_by_key) {
    const CounterBounds& b = bounds[key];
    for (const FinalRead* f : reads) {
      if (ReadFailed("counter", *f, &v)) continue;
      const int64_t value = f->found ? f->counter : 0;
      const std::string where = "counter " + key + " reads " +
                                std::to_string(value) + " through " + f->node +
                                " after healing";
      if (value < b.acked + b.low) {
        v.Fail("lost increments: " + where + ", below the " +
               std::to_string(b.acked + b.low) +
               " its acknowledged increments make");
      } else if (value > b.acked + b.high) {
        v.Fail(where + ", above the " + std::to_string(b.acked + b.high) +
               " its acknowledged and unknown increments could make");
      }
    }
    if (CheckAgreement("counter", key, reads, CounterAnswer, &v)) ++converged;
  }
  int64_t acked_amount = 0;
  for (const auto& [key, b] : bounds) acked_amount += b.acked;
  v.stats["amount acknowledged"] = acked_amount;
  v.stats["amount unknown"] = unknown_amount;
  v.stats["counters converged"] = converged;
  v.stats["final reads"] = static_cast<int64_t>(finals.size());
  return v;
}

namespace {

// What the history says about the data-type sets, per key and element.
struct DtSetHistory {
  std::map<std::string, std::map<std::string, const Op*>> adds;
  // Removes that may have taken effect (acknowledged or unknown).
  std::map<std::string, std::multimap<std::string, const Op*>> removes;
  std::set<std::string> acked_keys;
};

DtSetHistory TallyDtSets(const std::vector<Op>& ops, Verdict* v) {
  DtSetHistory h;
  StartCounts("adds", v);
  StartCounts("removes", v);
  for (const Op& op : ops) {
    if (op.kind == OpKind::kDtAdd) {
      Count("adds", op.outcome, v);
      h.adds[op.key].emplace(op.value, &op);
      if (op.outcome == Outcome::kOk) h.acked_keys.insert(op.key);
    } else if (op.kind == OpKind::kDtRemove) {
      Count("removes", op.outcome, v);
      if (op.outcome != Outcome::kFail)
        h.removes[op.key].emplace(op.value, &op);
    }
  }
  return h;
}

// A remove of the add's element, issued after the add was acknowledged,
// that may have taken effect.
bool RemovedAfter(const DtSetHistory& h, const Op& add) {
  auto it = h.removes.find(add.key);
  if (it == h.removes.end()) return false;
  auto [from, to] = it->second.equal_range(add.value);
  return std::any_of(from, to, [&](const auto& r) {
    return r.second->invoke_ms >= add.complete_ms;
  });
}

// Problems of one successful final read of a set; the acknowledged adds it
// lacks, and acknowledged removes it still shows, go to `lost` and
// `returned` (one line per operation, naming every node, comes later).
void CheckDtSetRead(const DtSetHistory& h, const FinalRead& f,
                    std::map<const Op*, std::vector<std::string>>* lost,
                    std::map<const Op*, std::vector<std::string>>* returned,
                    Verdict* v) {
  const std::set<std::string> elements(f.values.begin(), f.values.end());
  static const std::map<std::string, const Op*> kNone;
  auto adds_it = h.adds.find(f.key);
  const auto& adds = adds_it == h.adds.end() ? kNone : adds_it->second;
  for (const std::string& e : elements) {
    auto add = adds.find(e);
    if (add == adds.end() || add->second->outcome == Outcome::kFail) {
      v->Fail("final value of set " + f.key + " through " + f.node +
              " holds '" + e + "', which " +
              (add == adds.end()
                   ? "no client ever added"
                   : "certainly was not added (" + add->second->error + ")"));
    }
  }
  for (const auto& [e, add] : adds) {
    if (add->outcome == Outcome::kOk && elements.count(e) == 0 &&
        !RemovedAfter(h, *add)) {
      (*lost)[add].push_back(f.node);
    }
  }
  auto removes_it = h.removes.find(f.key);
  if (removes_it == h.removes.end()) return;
  for (const auto& [e, remove] : removes_it->second) {
    if (remove->outcome == Outcome::kOk && elements.count(e) != 0) {
      (*returned)[remove].push_back(f.node);
    }
  }
}

// What a node's final value lacks of the union of all nodes' values: equal
// for two nodes exactly when their values are equal.
std::function<std::string(const FinalRead&)> LackingFromUnion(
    const std::vector<const FinalRead*>& reads) {
  std::set<std::string> all;
  for (const FinalRead* f : reads)
    all.insert(f->values.begin(), f->values.end());
  return [all](const FinalRead& f) {
    const std::set<std::string> has(f.values.begin(), f.values.end());
    std::string lacks;
    for (const std::string& e : all) {
      if (has.count(e) == 0) lacks += (lacks.empty() ? "" : ",") + e;
    }
    return std::to_string(has.size()) + " elements, lacking [" + lacks + "]";
  };
}

}  // namespace

Verdict CheckDtSets(const std::vector<Op>& ops,
                    const std::vector<FinalRead>& finals) {
  Verdict v;
  v.name = "sets (data type, observed-remove)";
  const DtSetHistory h = TallyDtSets(ops, &v);
  RequireSome("adds", &v);
  const auto finals_by_key = ByKey(finals);
  RequireFinalReads("set", h.acked_keys, finals_by_key, &v);
  std::map<const Op*, std::vector<std::string>> lost, returned;
  int64_t converged = 0, largest = 0;
  for (const auto& [key, reads] : finals_by_key) {
    for (const FinalRead* f : reads) {
      if (ReadFailed("set", *f, &v)) continue;
      CheckDtSetRead(h, *f, &lost, &returned, &v);
      largest = std::max<int64_t>(largest, f->values.size());
    }
    if (CheckAgreement("set", key, reads, LackingFromUnion(reads), &v)) {
      ++converged;
    }
  }
  for (const auto& [op, nodes] : lost) {
    v.Fail("lost: acknowledged " + Describe(*op) +
           ", never removed, is missing from the final value read through " +
           JoinNodes(nodes));
  }
  for (const auto& [op, nodes] : returned) {
    v.Fail("came back: acknowledged " + Describe(*op) +
           ", yet the final value read through " + JoinNodes(nodes) +
           " holds it");
  }
  v.stats["largest final set"] = largest;
  v.stats["sets converged"] = converged;
  v.stats["final reads"] = static_cast<int64_t>(finals.size());
  return v;
}

Verdict CheckProgress(const std::vector<Op>& ops,
                      const std::vector<FaultEvent>& events,
                      const ProgressFloors& floors) {
  Verdict v;
  v.name = "progress (acknowledged operations above their floors)";
  if (floors.workloads.empty()) v.Fail("no workload to judge");
  for (const WorkloadFloor& w : floors.workloads) {
    int64_t acked = 0;
    for (const Op& op : ops) {
      if (op.outcome == Outcome::kOk &&
          std::find(w.kinds.begin(), w.kinds.end(), op.kind) != w.kinds.end()) {
        ++acked;
      }
    }
    const int64_t floor = std::max<int64_t>(w.min_acknowledged, 1);
    v.stats[w.name + " acknowledged"] = acked;
    if (acked < floor) {
      v.Fail(w.name + ": " + std::to_string(acked) +
             " operations acknowledged, below the floor of " +
             std::to_string(floor) +
             " (the workload did not run, or the cluster refused it)");
    }
  }
  int64_t fewest = -1;
  for (const FaultEvent& e : events) {
    int64_t acked = 0;
    for (const Op& op : ops) {
      acked += op.outcome == Outcome::kOk && op.complete_ms >= e.start_ms &&
               op.complete_ms <= e.end_ms;
    }
    fewest = fewest < 0 ? acked : std::min(fewest, acked);
    if (acked < floors.min_acknowledged_per_fault) {
      v.Fail("fault '" + e.what + "' (" + std::to_string(e.start_ms) + " to " +
             std::to_string(e.end_ms) + " ms): " + std::to_string(acked) +
             " operations acknowledged, below the floor of " +
             std::to_string(floors.min_acknowledged_per_fault));
    }
  }
  v.stats["fewest acknowledged in a fault window"] =
      std::max<int64_t>(fewest, 0);
  return v;
}

Verdict CheckNemesis(const std::vector<FaultEvent>& events,
                     const std::vector<FaultConfirmation>& confirmations) {
  Verdict v;
  v.name = "nemesis (every fault confirmed by the nodes)";
  if (events.empty()) v.Fail("no fault was injected");
  std::map<std::string, int> covering;
  int64_t confirmed = 0;
  for (const FaultConfirmation& c : confirmations) {
    ++covering[c.fault];
    bool ok = true;
    for (const std::string& e : c.errors) {
      v.Fail("fault '" + c.fault + "': " + e);
      ok = false;
    }
    if (c.observed <= 0) {
      v.Fail("fault '" + c.fault + "' did not show: " + c.evidence +
             " stayed at " + std::to_string(c.observed));
      ok = false;
    }
    confirmed += ok;
    v.stats[c.fault + ": " + c.evidence] += c.observed;
  }
  for (const FaultEvent& e : events) {
    if (covering[e.what] == 0) {
      v.Fail("fault '" + e.what +
             "' has no confirmation: nothing shows it took effect");
    }
  }
  v.stats["faults"] = static_cast<int64_t>(events.size());
  v.stats["confirmations"] = confirmed;
  return v;
}

}  // namespace causeway::fault
