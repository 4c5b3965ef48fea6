#include "tests/fault/checker.h"

#include <algorithm>
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
  // Unknown adds per key, in completion order, for the sibling bound.
  std::map<std::string, std::vector<int64_t>> unknown_invokes;
  int64_t n_ok = 0, n_fail = 0, n_unknown = 0;
  int max_siblings = 0;
  for (const Op& op : ops) {
    if (op.kind != OpKind::kAdd) continue;
    attempted[op.key].insert(op.value);
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
  // acknowledged (its writer then moved on without covering it).
  auto bound_at = [&](const std::string& key, int64_t t) {
    int64_t unknown = 0;
    for (int64_t invoked : unknown_invokes[key]) unknown += invoked <= t;
    return writers + unknown;
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
      if (!f->ok) {
        v.Fail("final read of set " + key + " through " + f->node +
               " failed: " + f->error);
        continue;
      }
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
    std::string where;
    for (const std::string& n : nodes) where += (where.empty() ? "" : ", ") + n;
    v.Fail("lost: acknowledged " + Describe(*op) +
           " is missing from the final value read through " + where);
  }
  v.stats["adds acknowledged"] = n_ok;
  v.stats["adds failed"] = n_fail;
  v.stats["adds unknown"] = n_unknown;
  v.stats["most siblings seen"] = max_siblings;
  v.stats["largest final set"] = final_elements;
  v.stats["final reads"] = static_cast<int64_t>(finals.size());
  return v;
}

Verdict CheckRegisters(const std::vector<Op>& ops,
                       const std::vector<FinalRead>& finals) {
  Verdict v;
  v.name = "registers (last_write_wins)";
  // Earliest invocation of a write of each value, per key.
  std::map<std::string, std::map<std::string, int64_t>> written;
  std::set<std::string> acked_keys;
  int64_t writes_ok = 0, writes_other = 0, reads_ok = 0, reads_other = 0;
  for (const Op& op : ops) {
    if (op.kind != OpKind::kWrite) continue;
    auto [it, fresh] = written[op.key].emplace(op.value, op.invoke_ms);
    if (!fresh) it->second = std::min(it->second, op.invoke_ms);
    if (op.outcome == Outcome::kOk) {
      ++writes_ok;
      acked_keys.insert(op.key);
    } else {
      ++writes_other;
    }
  }
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
      }
    }
  }
  const auto finals_by_key = ByKey(finals);
  for (const std::string& key : acked_keys) {
    if (finals_by_key.find(key) == finals_by_key.end()) {
      v.Fail("register " + key + " was written but has no final read");
    }
  }
  int64_t converged = 0;
  for (const auto& [key, reads] : finals_by_key) {
    std::set<std::vector<std::string>> answers;
    bool all_ok = true;
    for (const FinalRead* f : reads) {
      if (!f->ok) {
        v.Fail("final read of register " + key + " through " + f->node +
               " failed: " + f->error);
        all_ok = false;
        continue;
      }
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
        }
      }
      answers.insert(f->values);
    }
    if (answers.size() > 1) {
      std::string list;
      for (const FinalRead* f : reads) {
        list += " " + f->node + "=[";
        for (size_t i = 0; i < f->values.size(); ++i) {
          list += (i > 0 ? "," : "") + f->values[i];
        }
        list += "]";
      }
      v.Fail("after healing the nodes disagree on register " + key + ":" +
             list);
    } else if (all_ok) {
      ++converged;
    }
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
    bool found = false;
    std::string seen;
    for (const FinalRead* f : it->second) {
      if (!f->ok) seen += " " + f->node + ": " + f->error + ";";
      if (std::find(f->values.begin(), f->values.end(), op.value) !=
          f->values.end()) {
        found = true;
      }
    }
    if (found) {
      ++present;
    } else {
      v.Fail("lost: acknowledged " + Describe(op) +
             " is not in its final read" +
             (seen.empty() ? "" : " (" + seen + ")"));
    }
  }
  v.stats["writes acknowledged"] = acked;
  v.stats["writes failed or unknown"] = other;
  v.stats["acknowledged writes read back"] = present;
  return v;
}

}  // namespace causeway::fault
