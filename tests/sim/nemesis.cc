#include "tests/sim/nemesis.h"

#include <algorithm>
#include <sstream>

namespace causeway::sim {

std::optional<FaultSet> FaultSet::Parse(const std::string& list) {
  FaultSet f;
  if (list.empty()) return f;
  f = FaultSet{false, false, false, false, false, false, false, false};
  if (list == "none") return f;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "all") {
      FaultSet defaults;
      defaults.membership = f.membership;
      f = defaults;
    } else if (item == "membership") {
      f.membership = true;
    } else if (item == "oneway") {
      f.oneway = true;
    } else if (item == "drop") {
      f.drop = true;
    } else if (item == "dup" || item == "duplicate") {
      f.duplicate = true;
    } else if (item == "reorder" || item == "latency") {
      f.reorder = true;
    } else if (item == "partition") {
      f.partition = true;
    } else if (item == "crash") {
      f.crash = true;
    } else if (item == "skew") {
      f.skew = true;
    } else {
      return std::nullopt;
    }
  }
  return f;
}

std::string FaultSet::ToString() const {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ",";
    out += name;
  };
  add(drop, "drop");
  add(duplicate, "dup");
  add(reorder, "reorder");
  add(partition, "partition");
  add(crash, "crash");
  add(skew, "skew");
  add(oneway, "oneway");
  add(membership, "membership");
  return out.empty() ? "none" : out;
}

void Nemesis::Next() {
  if (run_.stopping) return;
  std::vector<int> kinds;
  if (faults_.drop || faults_.duplicate || faults_.reorder) {
    kinds.push_back(0);
  }
  if (faults_.partition) kinds.push_back(1);
  if (faults_.crash) kinds.push_back(2);
  if (faults_.skew) kinds.push_back(3);
  if (faults_.membership) kinds.push_back(4);
  if (faults_.oneway) kinds.push_back(5);
  if (kinds.empty()) return;
  ++faults_injected_;
  switch (kinds[run_.Pick(kinds.size())]) {
    case 0:
      RandomNetwork();
      break;
    case 1:
      RandomPartition();
      break;
    case 2:
      RandomCrash();
      break;
    case 3:
      RandomSkew();
      break;
    case 4:
      RandomMembershipChange();
      break;
    case 5:
      RandomOneWayCut();
      break;
  }
  world().After(200 + run_.Pick(1300), [this] { Next(); });
}

void Nemesis::RandomNetwork() {
  NetworkFaults f;
  if (faults_.drop) f.drop = run_.Chance(0.3) ? 0 : run_.Pick(16) / 100.0;
  if (faults_.duplicate)
    f.duplicate = run_.Chance(0.3) ? 0 : run_.Pick(11) / 100.0;
  if (faults_.reorder) {
    f.min_latency_ms = 1 + run_.Pick(3);
    f.max_latency_ms = f.min_latency_ms + run_.Pick(80);
  }
  world().faults = f;
  run_.Log("network: drop " + std::to_string(f.drop) + " dup " +
           std::to_string(f.duplicate) + " latency " +
           std::to_string(f.min_latency_ms) + "-" +
           std::to_string(f.max_latency_ms) + "ms");
}

void Nemesis::RandomPartition() {
  if (partitioned_) return;
  std::vector<NodeName> shuffled = members();
  std::shuffle(shuffled.begin(), shuffled.end(), run_.rng);
  const size_t cut = 1 + run_.Pick(shuffled.size() - 1);
  std::set<NodeName> a(shuffled.begin(), shuffled.begin() + cut);
  std::set<NodeName> b(shuffled.begin() + cut, shuffled.end());
  world().Partition({a, b});
  partitioned_ = true;
  std::string desc;
  for (const auto& n : a) desc += n + " ";
  desc += "|";
  for (const auto& n : b) desc += " " + n;
  run_.Log("partition: " + desc);
  world().After(500 + run_.Pick(4500), [this] {
    if (!partitioned_) return;
    world().Heal();
    partitioned_ = false;
    run_.Log("partition healed");
  });
}

// One node's links cut in one direction: it hears the others but they
// do not hear it, or the reverse.
void Nemesis::RandomOneWayCut() {
  if (partitioned_) return;
  const NodeName x = members()[run_.Pick(members().size())];
  const bool deaf = run_.Chance(0.5);
  for (const auto& n : members()) {
    if (n == x) continue;
    if (deaf) {
      world().Block(n, x);
    } else {
      world().Block(x, n);
    }
  }
  partitioned_ = true;
  run_.Log(x + (deaf ? " hears no one" : " is heard by no one"));
  world().After(500 + run_.Pick(4500), [this] {
    if (!partitioned_) return;
    world().Heal();
    partitioned_ = false;
    run_.Log("links healed");
  });
}

void Nemesis::RandomCrash() {
  // Never a majority down at once.
  const size_t max_down = (members().size() - 1) / 2;
  size_t down = 0;
  std::vector<NodeName> up;
  for (const auto& n : members()) {
    if (world().node(n).up()) {
      up.push_back(n);
    } else {
      ++down;
    }
  }
  if (down >= max_down || up.empty()) return;
  NodeName victim = up[run_.Pick(up.size())];
  world().node(victim).Crash();
  run_.Log("crash " + victim);
  world().After(300 + run_.Pick(5700), [this, victim] {
    SimNode& node = world().node(victim);
    if (node.up()) return;
    node.Boot();
    run_.Log("restart " + victim + (node.up() ? "" : " FAILED"));
    if (!node.up()) checker_.Violation(victim + " failed to restart");
    // A leaver that finished while down exits before serving anyone.
    if (leaving_.count(victim)) Exited(victim);
  });
}

// A spare joins, or a member leaves (never below three members, one
// change in flight at a time).
void Nemesis::RandomMembershipChange() {
  if (changing_) return;
  SimNode* seed = run_.AnyUpMember();
  if (seed == nullptr) return;
  if (!spares_.empty() && (members().size() <= 3 || run_.Chance(0.5))) {
    const NodeName joiner = spares_.back();
    changing_ = true;
    run_.Log("join " + joiner + " via " + seed->name());
    world().node(joiner).core().Join(seed->name(), [this, joiner](Status s) {
      run_.Log("join " + joiner + ": " + s.ToString());
      changing_ = false;
      if (!s.ok()) return;
      std::erase(spares_, joiner);
      members().push_back(joiner);
    });
    return;
  }
  if (members().size() <= 3) return;
  SimNode& leaver = *seed;
  changing_ = true;
  run_.Log("leave " + leaver.name());
  leaver.core().Leave("", [this, name = leaver.name()](Status s) {
    run_.Log("leave " + name + ": " + s.ToString());
    if (!s.ok()) {
      changing_ = false;
      return;
    }
    leaving_.insert(name);
    AwaitExit(name);
  });
}

// A join whose reply was lost reports failure, yet the cluster admitted
// the node, which completes the join when the cluster's gossip reaches
// it. Once it has the cluster's ring, count it as a member.
void Nemesis::SyncMembers() {
  for (auto it = spares_.begin(); it != spares_.end();) {
    SimNode& node = world().node(*it);
    if (node.up() && node.core().View().members.size() > 1) {
      run_.Log(*it + " is a member after all");
      members().push_back(*it);
      it = spares_.erase(it);
    } else {
      ++it;
    }
  }
}

// A leaving node exits once it has handed everything off: it stops for
// good and is no longer a member anyone sends clients to.
void Nemesis::AwaitExit(const NodeName& name) {
  if (Exited(name)) return;
  world().After(500, [this, name] { AwaitExit(name); });
}

bool Nemesis::Exited(const NodeName& name) {
  if (std::find(members().begin(), members().end(), name) == members().end()) {
    return true;  // already gone
  }
  SimNode& node = world().node(name);
  // A removed node restarted (after a crash) founds a cluster of its own:
  // it has left too, whatever it still holds (the final check looks).
  const bool restarted_alone =
      node.up() && node.core().View().members.size() == 1;
  if (!node.up() || !(node.core().ReadyToExit() || restarted_alone)) {
    return false;
  }
  Depart(name);
  return true;
}

void Nemesis::Depart(const NodeName& name) {
  world().node(name).Crash();
  std::erase(members(), name);
  leaving_.erase(name);
  changing_ = false;
  run_.Log(name + " left the cluster");
}

void Nemesis::RandomSkew() {
  NodeName n = members()[run_.Pick(members().size())];
  // Within the bound on drift (clock_guard.h): any two clocks stay less
  // than max_clock_offset_ms apart, the promise an operator makes. Clocks
  // beyond it are cut off by design and cannot converge until fixed, which
  // this run's checks demand; cluster_sim_test covers them.
  const int64_t half =
      static_cast<int64_t>(world().max_clock_offset_ms) * 9 / 20;
  int64_t skew = static_cast<int64_t>(run_.Pick(2 * half + 1)) - half;
  world().node(n).skew_ms = skew;
  run_.Log("skew " + n + " " + std::to_string(skew) + "ms");
}

void Nemesis::HealAll() {
  world().Heal();
  partitioned_ = false;
  world().faults = NetworkFaults();
  for (const auto& n : members()) {
    SimNode& node = world().node(n);
    if (!node.up()) {
      node.Boot();
      run_.Log("final restart " + n);
    }
  }
  for (const NodeName& n : std::set<NodeName>(leaving_)) Exited(n);
}

bool Nemesis::MembershipSettled() {
  SyncMembers();
  return !changing_ && Settled(world(), members());
}

}  // namespace causeway::sim
