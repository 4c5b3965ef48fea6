#include "tests/sim/checker.h"

#include <algorithm>
#include <iostream>
#include <tuple>
#include <utility>

#include "storage/keys.h"
#include "tests/sim/run_context.h"

namespace causeway::sim {

using replication::kDefaultType;
using replication::causal::Dot;
using replication::object::Object;
using replication::object::Resolution;
using replication::object::Sibling;

std::string Describe(const Dot& d) { return d.ToString(); }

std::string Describe(const Object& o) {
  std::string out = "{clock " + o.clock().ToString() + ", siblings [";
  bool first = true;
  for (const Sibling& s : o.siblings()) {
    if (!first) out += ", ";
    first = false;
    out += s.dot.ToString() + "@" + s.timestamp.ToString() + "=" +
           (s.deleted ? std::string("<deleted>") : "'" + s.value + "'");
  }
  return out + "]}";
}

namespace {

// The node's hint markers: key name, and the primaries still owed it.
std::vector<std::pair<std::string, std::vector<NodeName>>> HintMarkers(
    World& world, const NodeName& n) {
  std::vector<std::pair<std::string, std::vector<NodeName>>> out;
  const std::string begin(1, storage::kHintSpace);
  world.node(n).engine().Scan(
      begin, storage::PrefixEnd(begin),
      [&](std::string_view k, std::string_view v) {
        storage::ObjectKeyParts parts;
        if (!storage::DecodeObjectKey(k.substr(1), &parts)) return true;
        std::vector<NodeName> owed;
        // Each primary owed: a 2-byte big-endian length and the name.
        while (v.size() >= 2) {
          size_t len =
              (static_cast<uint8_t>(v[0]) << 8) | static_cast<uint8_t>(v[1]);
          if (v.size() < 2 + len) break;
          owed.emplace_back(v.substr(2, len));
          v.remove_prefix(2 + len);
        }
        out.emplace_back(parts.bucket + "/" + parts.key, std::move(owed));
        return true;
      });
  return out;
}

}  // namespace

std::string DescribeCluster(World& world) {
  std::string out;
  for (const auto& n : world.names()) {
    SimNode& node = world.node(n);
    out += "\n    " + n + ":";
    if (!node.up()) {
      out += " down";
      continue;
    }
    auto v = node.core().View();
    out += " ring v" + std::to_string(v.ring_version) + " claimant " +
           v.claimant + " pending " + std::to_string(v.pending_transfers) +
           " done [";
    for (const auto& d : v.transfers_done) out += " " + d;
    out += " ] transfer " +
           std::string(v.handoff.transfer_running ? "running" : "idle") +
           " cleanup " + (v.handoff.cleanup_running ? "running" : "idle") +
           " hints " + std::to_string(v.handoff.hints_pending) +
           (node.core().ReadyToExit() ? " ready-to-exit" : "");
    for (const auto& [key, owed] : HintMarkers(world, n)) {
      out += " [" + key + " owed to";
      for (const auto& p : owed) out += " " + p;
      out += "]";
    }
    out += "; members";
    for (const auto& m : v.members) {
      out += " " + m.name + "=" + m.status + (m.up ? "" : "(down)") + "/" +
             std::to_string(m.partitions) + ">" +
             std::to_string(m.next_partitions);
    }
  }
  return out;
}

KeyModel& Checker::AddKey(const std::string& bucket, const std::string& key,
                          Resolution resolution) {
  auto& k = keys_[bucket + "/" + key];
  k.bucket = bucket;
  k.key = key;
  k.resolution = resolution;
  return k;
}

KeyModel* Checker::Find(const std::string& bucket, const std::string& key) {
  auto it = keys_.find(bucket + "/" + key);
  return it == keys_.end() ? nullptr : &it->second;
}

size_t Checker::NewAttempt(KeyModel& k, Attempt a) {
  k.attempts.push_back(std::move(a));
  const size_t i = k.attempts.size() - 1;
  if (!k.attempts[i].tombstone) k.by_value[k.attempts[i].value] = i;
  return i;
}

void Checker::Trace(const std::string& line) const {
  std::cerr << "[" << world_.now() << "ms] " << line << "\n";
}

void Checker::Violation(const std::string& key, const std::string& what) {
  violations_.push_back(
      {world_.now(), key, "t=" + std::to_string(world_.now()) + "ms " + what});
}

std::vector<std::string> Checker::Reported() const {
  std::vector<std::string> out;
  for (const auto& v : violations_) {
    if (out.size() < 20) out.push_back(v.what);
  }
  return out;
}

void Checker::OnStorageWrite(const NodeName& node, std::string_view key,
                             const std::string* value) {
  storage::ObjectKeyParts parts;
  if (!trace_key.empty() && !key.empty() && key[0] == storage::kHintSpace &&
      storage::DecodeObjectKey(key.substr(1), &parts) &&
      parts.bucket + "/" + parts.key == trace_key) {
    Trace(node + (value ? " records a hint for " : " drops its hint for ") +
          trace_key);
    return;
  }
  if (!storage::DecodeObjectKey(key, &parts)) return;
  KeyModel* k = Find(parts.bucket, parts.key);
  if (k == nullptr) return;
  const bool traced = k->Name() == trace_key;
  if (value == nullptr) {
    // Handoff dropped a copy this node does not need.
    if (traced) Trace(node + " removed its copy of " + k->Name());
    world_.Record(std::string_view("removed:" + node));
    k->replica_clock.erase(node);
    if (auto t = k->last_tombstone.find(node); t != k->last_tombstone.end()) {
      if (!k->reaped) k->reaped = Object();
      k->reaped->Merge(t->second, k->resolution);
      k->last_tombstone.erase(t);
    }
    return;
  }
  world_.Record(*value);
  Object o;
  replication::causal::ActorId minting = 0;
  Status s = Object::Decode(*value, &o, &minting);
  if (!s.ok()) {
    Violation(k->Name(),
              k->Name() + " at " + node +
                  ": stored record does not decode: " + s.ToString());
    return;
  }
  if (minting != 0) {
    auto [it, fresh] = node_of_actor.emplace(minting, node);
    if (!fresh && it->second != node) {
      Violation(k->Name(), k->Name() + ": actor " + std::to_string(minting) +
                               " minted at both " + it->second + " and " +
                               node);
    }
  }
  auto prev = k->replica_clock.find(node);
  if (prev != k->replica_clock.end() && !o.clock().Descends(prev->second)) {
    Violation(k->Name(), k->Name() + " at " + node + ": clock went from " +
                             prev->second.ToString() + " to " +
                             o.clock().ToString() +
                             " (a replica's context lost entries)");
  }
  k->replica_clock[node] = o.clock();
  if (o.IsTombstone()) {
    k->last_tombstone[node] = o;
  } else {
    k->last_tombstone.erase(node);
  }
  if (traced) Trace(node + " stored " + k->Name() + " " + Describe(o));
  CheckObject(*k, o, "stored at " + node, /*stored=*/true,
              /*count_writers=*/false);
}

void Checker::CheckObject(KeyModel& k, const Object& o,
                          const std::string& where, bool stored,
                          bool count_writers) {
  std::vector<const Attempt*> of_sibling;
  for (const Sibling& s : o.siblings()) {
    std::string content = (s.deleted ? "-" : "+") + s.value;
    auto [it, fresh] = k.content_of_dot.emplace(s.dot, content);
    if (!fresh && it->second != content) {
      Violation(k.Name(), k.Name() + " " + where + ": dot " + Describe(s.dot) +
                              " holds '" + content + "' but held '" +
                              it->second + "' elsewhere (a dot minted twice)");
    }
    if (s.deleted) {
      of_sibling.push_back(nullptr);
      continue;
    }
    auto v = k.by_value.find(s.value);
    if (v == k.by_value.end()) {
      Violation(k.Name(), k.Name() + " " + where + ": value '" + s.value +
                              "' was never written");
      of_sibling.push_back(nullptr);
      continue;
    }
    Attempt& a = k.attempts[v->second];
    if (a.dot && *a.dot != s.dot) {
      Violation(k.Name(), k.Name() + " " + where + ": value '" + s.value +
                              "', written once, has dots " + Describe(*a.dot) +
                              " and " + Describe(s.dot) +
                              " (a write applied twice)");
    }
    if (!a.dot) a.dot = s.dot;
    if (!a.timestamp) a.timestamp = s.timestamp;
    if (stored) a.stored = true;
    of_sibling.push_back(&a);
  }
  if (!k.mult() && o.siblings().size() > 1) {
    Violation(k.Name(), k.Name() + " " + where +
                            ": object without allow_mult has " +
                            std::to_string(o.siblings().size()) +
                            " siblings: " + Describe(o));
  }
  if (k.lww()) return;
  CheckNoSurvivingOverwritten(k, o, where, of_sibling);
  if (count_writers && k.mult()) {
    size_t writers = ConcurrentWriters(k, o);
    if (o.siblings().size() > writers) {
      Violation(k.Name(), k.Name() + " " + where + ": " +
                              std::to_string(o.siblings().size()) +
                              " siblings but only " + std::to_string(writers) +
                              " concurrent writers: " + Describe(o));
    }
  }
}

// No sibling may survive a write in this object's history whose context
// covered it.
void Checker::CheckNoSurvivingOverwritten(
    KeyModel& k, const Object& o, const std::string& where,
    const std::vector<const Attempt*>& of_sibling) {
  for (size_t i = 0; i < o.siblings().size(); ++i) {
    const Dot& d = o.siblings()[i].dot;
    for (const Attempt& b : k.attempts) {
      if (&b == of_sibling[i] || b.tombstone || !b.dot ||
          !o.clock().Covers(*b.dot) || !b.context.Covers(d)) {
        continue;
      }
      Violation(k.Name(), k.Name() + " " + where + ": sibling " + Describe(d) +
                              " survives write '" + b.value + "' (" +
                              Describe(*b.dot) + ") whose context " +
                              b.context.ToString() +
                              " overwrote it: " + Describe(o));
      break;
    }
  }
}

size_t Checker::ConcurrentWriters(const KeyModel& k, const Object& o) const {
  std::vector<const Attempt*> past;
  for (const Attempt& b : k.attempts) {
    if (!b.tombstone && b.dot && o.clock().Covers(*b.dot)) {
      past.push_back(&b);
    }
  }
  size_t n = 0;
  for (const Attempt& a : k.attempts) {
    if (a.outcome == Outcome::kRejected) continue;
    bool overwritten =
        a.dot && std::any_of(past.begin(), past.end(), [&](const Attempt* b) {
          return b != &a && b->context.Covers(*a.dot);
        });
    n += !overwritten;
  }
  return n;
}

// --- The final verdict -------------------------------------------------------

void Checker::CheckFinal(const std::vector<NodeName>& members) {
  if (verbose_) Log("after quiescing:" + DescribeCluster(world_));
  const auto owners = world_.node(members[0]).core().View().owners;
  for (const auto& n : members) {
    if (world_.node(n).core().View().owners != owners) {
      Violation("nodes disagree on the ring after quiescing");
      return;
    }
  }
  replication::ring::Ring ring(owners);
  for (auto& [name, k] : keys_) CheckFinalKey(ring, k);
}

void Checker::CheckFinalKey(const replication::ring::Ring& ring, KeyModel& k) {
  const uint32_t partition = ring.PartitionOf(
      replication::ring::HashKey(kDefaultType, k.bucket, k.key));
  const std::string stored_key =
      storage::EncodeObjectKey(partition, kDefaultType, k.bucket, k.key);
  std::set<NodeName> primaries;
  for (const auto& m : ring.Preflist(partition, kNVal)) {
    primaries.insert(m.node);
  }
  // Copies in their replicated form: without the minting actor, which each
  // replica keeps for itself. (One that does not decode is kept as stored,
  // and reported below.)
  std::map<NodeName, std::string> copies;
  for (const auto& n : world_.names()) {
    std::string bytes;
    if (world_.node(n).engine().Get(stored_key, &bytes).ok()) {
      Object o;
      copies[n] = Object::Decode(bytes, &o).ok() ? o.Encode() : bytes;
    }
  }
  const std::optional<std::string> agreed = AgreedCopy(k, primaries, copies);
  Object final_object;
  if (agreed && *agreed != "<none>" &&
      !Object::Decode(*agreed, &final_object).ok()) {
    Violation(k.Name(), k.Name() + ": final object does not decode");
    return;
  }
  CheckStrayCopies(k, primaries, copies, final_object);
  final_siblings_ += final_object.siblings().size();
  CheckObject(k, final_object, "after quiescing", /*stored=*/true,
              /*count_writers=*/true);
  std::string holders;
  for (const auto& p : primaries) holders += " " + p;
  holders += " | copies:";
  for (const auto& [n, bytes] : copies) holders += " " + n;
  Log(k.Name() + " replicas" + holders + "; final " + Describe(final_object));
  CheckNoAckedWriteLost(k, final_object);
}

// Every primary holds the same object.
std::optional<std::string> Checker::AgreedCopy(
    KeyModel& k, const std::set<NodeName>& primaries,
    const std::map<NodeName, std::string>& copies) {
  std::optional<std::string> agreed;
  for (const auto& p : primaries) {
    auto it = copies.find(p);
    std::string got = it == copies.end() ? "<none>" : it->second;
    if (!agreed) {
      agreed = got;
    } else if (*agreed != got) {
      std::string detail;
      for (const auto& q : primaries) {
        Object o;
        auto c = copies.find(q);
        detail += " " + q + "=" +
                  (c == copies.end() ? std::string("<none>")
                                     : (Object::Decode(c->second, &o).ok()
                                            ? Describe(o)
                                            : std::string("<corrupt>")));
      }
      Violation(k.Name(),
                k.Name() + ": replicas differ after quiescing:" + detail);
      break;
    }
  }
  return agreed;
}

// Copies elsewhere (fallbacks, departed nodes) must hold no value the
// replicas lack: merged in, they would change no sibling. (Their clocks may
// know more: a write that lost there under last_write_wins leaves only a
// clock entry.) Values a reaped tombstone deleted count as held: the
// replicas knew and dropped them.
void Checker::CheckStrayCopies(KeyModel& k, const std::set<NodeName>& primaries,
                               const std::map<NodeName, std::string>& copies,
                               const Object& final_object) {
  Object known = final_object;
  if (k.reaped) known.Merge(*k.reaped, k.resolution);
  for (const auto& [n, bytes] : copies) {
    if (primaries.count(n)) continue;
    Object stray;
    if (!Object::Decode(bytes, &stray).ok()) {
      Violation(k.Name(),
                k.Name() + ": " + n + " holds a copy that does not decode");
      continue;
    }
    Object merged = known;
    merged.Merge(stray, k.resolution);
    if (merged.siblings() == known.siblings()) continue;
    merged = final_object;
    merged.Merge(stray, k.resolution);
    if (merged.siblings() != final_object.siblings()) {
      Violation(k.Name(),
                k.Name() + ": " + n +
                    " (not a replica) holds what the replicas lack: " +
                    Describe(stray) + " vs " + Describe(final_object));
    }
  }
}

// No acknowledged write is lost: it is still a sibling, or a write or delete
// whose context covered it overwrote it, or (without allow_mult) a
// concurrent write stamped later won, or a reaped tombstone covered it.
void Checker::CheckNoAckedWriteLost(KeyModel& k, const Object& f) {
  for (const Attempt& a : k.attempts) {
    if (a.outcome != Outcome::kAcked || a.tombstone) continue;
    if (!a.dot) {
      Violation(k.Name(), k.Name() + ": acknowledged put '" + a.value +
                              "' never showed a dot");
      continue;
    }
    const std::string what = k.Name() + ": acknowledged put '" + a.value +
                             "' (" + Describe(*a.dot) + ", via " + a.via +
                             " at " + std::to_string(a.issued_ms) + "ms)";
    // Deleted, and the tombstone reaped since: the key may have started
    // over with a fresh history that does not mention it.
    if (k.reaped && k.reaped->clock().Covers(*a.dot)) continue;
    if (!f.clock().Covers(*a.dot)) {
      Violation(k.Name(),
                what + " is not in the final clock " + f.clock().ToString());
      continue;
    }
    if (k.lww()) {
      // Last write wins: only a newer write may replace it.
      if (f.siblings().empty()) {
        Violation(k.Name(), what + " lost: the final object is empty");
        continue;
      }
      const Sibling& w = f.siblings().front();
      if (std::tie(w.timestamp, w.dot) < std::tie(*a.timestamp, *a.dot)) {
        Violation(k.Name(), what + " stamped " + a.timestamp->ToString() +
                                " lost to older " + w.dot.ToString() + "@" +
                                w.timestamp.ToString());
      }
      continue;
    }
    bool present =
        std::any_of(f.siblings().begin(), f.siblings().end(),
                    [&](const Sibling& s) { return s.dot == *a.dot; });
    if (present) continue;
    // Overwritten: by a write or delete that had read it and that may have
    // happened (acknowledged, seen in storage, or a delete not refused).
    bool superseded = std::any_of(
        k.attempts.begin(), k.attempts.end(), [&](const Attempt& b) {
          if (&b == &a || !b.context.Covers(*a.dot)) return false;
          if (b.outcome == Outcome::kAcked || b.stored) return true;
          return b.tombstone && b.outcome != Outcome::kRejected;
        });
    if (superseded) continue;
    if (k.resolution == Resolution::kNewest && !f.siblings().empty() &&
        std::tie(*a.timestamp, *a.dot) <
            std::tie(f.siblings().front().timestamp,
                     f.siblings().front().dot)) {
      continue;  // a concurrent write stamped later won
    }
    Violation(k.Name(), what + " lost: not in " + Describe(f) +
                            " and no write that saw it replaced it" +
                            (k.mult() ? "" : ", nor a newer one won"));
  }
}

}  // namespace causeway::sim
