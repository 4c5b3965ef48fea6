#include "node/faults.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include "base/printable.h"
#include "node/admin_http.h"
#include "node/json.h"

namespace causeway::node {

namespace {

std::string Trim(std::string_view s) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos
                                        ? std::string_view::npos
                                        : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) {
        return Status::InvalidArgument("truncated %-escape in query");
      }
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("bad %-escape in query");
      }
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
  return Status::Ok();
}

// Only the fields that are set, or all of them (0 for unset) with `full`.
void WriteLink(JsonWriter& w, const LinkFaults& f, bool full) {
  w.BeginObject();
  auto field = [&](const char* name, const auto& v, uint64_t fallback) {
    if (!v && !full) return;
    w.Key(name);
    w.Uint(v ? *v : fallback);
  };
  field("drop_pct", f.drop_pct, 0);
  field("duplicate_pct", f.duplicate_pct, 0);
  field("reorder_pct", f.reorder_pct, 0);
  field("reorder_ms", f.reorder_ms, FaultPolicy::kDefaultReorderMs);
  field("delay_ms", f.delay_ms, 0);
  field("jitter_ms", f.jitter_ms, 0);
  w.EndObject();
}

void WriteCounters(JsonWriter& w, const FaultCounters& c) {
  w.BeginObject();
  for (const auto& [name, value] :
       {std::pair{"dropped_partition_out", c.dropped_partition_out},
        std::pair{"dropped_partition_in", c.dropped_partition_in},
        std::pair{"dropped_random", c.dropped_random},
        std::pair{"duplicated", c.duplicated},
        std::pair{"reordered", c.reordered}, std::pair{"delayed", c.delayed}}) {
    w.Key(name);
    w.Uint(value);
  }
  w.EndObject();
}

Status CheckPct(uint32_t pct) {
  if (pct > 100) {
    return Status::InvalidArgument("pct must be from 0 to 100, got " +
                                   std::to_string(pct));
  }
  return Status::Ok();
}

Status CheckMs(const char* what, uint64_t ms) {
  if (ms > FaultPolicy::kMaxDelayMs) {
    return Status::InvalidArgument(std::string(what) + " must be from 0 to " +
                                   std::to_string(FaultPolicy::kMaxDelayMs) +
                                   ", got " + std::to_string(ms));
  }
  return Status::Ok();
}

}  // namespace

FaultPolicy::FaultPolicy(std::string self, uint64_t seed)
    : self_(std::move(self)), seed_(seed), rng_(seed) {}

void FaultPolicy::Reseed(uint64_t seed) {
  seed_ = seed;
  rng_.seed(seed);
}

Status FaultPolicy::SetPartition(std::string_view text) {
  std::vector<std::vector<std::string>> groups;
  std::set<std::string> seen;
  for (std::string_view group_text : Split(text, '/')) {
    std::vector<std::string> group;
    for (std::string_view name_text : Split(group_text, ',')) {
      std::string name = Trim(name_text);
      if (name.empty()) {
        return Status::InvalidArgument("partition: empty node name in '" +
                                       Printable(Trim(text)) +
                                       "' (expected groups like n1,n2/n3)");
      }
      if (!seen.insert(name).second) {
        return Status::InvalidArgument("partition: '" + Printable(name) +
                                       "' is in more than one group");
      }
      group.push_back(std::move(name));
    }
    groups.push_back(std::move(group));
  }
  if (groups.size() < 2) {
    return Status::InvalidArgument(
        "partition: needs at least two groups separated by '/', got '" +
        Printable(Trim(text)) + "'");
  }
  groups_ = std::move(groups);
  return Status::Ok();
}

void FaultPolicy::Heal() { groups_.clear(); }

void FaultPolicy::Clear() {
  groups_.clear();
  all_ = LinkFaults{};
  nodes_.clear();
  skew_ms_ = 0;
}

LinkFaults& FaultPolicy::Target(const std::string& node) {
  return node.empty() ? all_ : nodes_[node];
}

Status FaultPolicy::SetDrop(uint32_t pct, const std::string& node) {
  Status s = CheckPct(pct);
  if (s.ok()) Target(node).drop_pct = pct;
  return s;
}

Status FaultPolicy::SetDuplicate(uint32_t pct, const std::string& node) {
  Status s = CheckPct(pct);
  if (s.ok()) Target(node).duplicate_pct = pct;
  return s;
}

Status FaultPolicy::SetReorder(uint32_t pct, uint64_t max_extra_ms,
                               const std::string& node) {
  Status s = CheckPct(pct);
  if (s.ok()) s = CheckMs("ms", max_extra_ms);
  if (s.ok() && max_extra_ms == 0 && pct > 0) {
    s = Status::InvalidArgument("reorder: ms must be at least 1");
  }
  if (!s.ok()) return s;
  LinkFaults& t = Target(node);
  t.reorder_pct = pct;
  t.reorder_ms = max_extra_ms;
  return s;
}

Status FaultPolicy::SetDelay(uint64_t ms, uint64_t jitter_ms,
                             const std::string& node) {
  Status s = CheckMs("ms", ms);
  if (s.ok()) s = CheckMs("jitter", jitter_ms);
  if (!s.ok()) return s;
  LinkFaults& t = Target(node);
  t.delay_ms = ms;
  t.jitter_ms = jitter_ms;
  return s;
}

Status FaultPolicy::SetSkew(int64_t ms) {
  if (ms < -kMaxSkewMs || ms > kMaxSkewMs) {
    return Status::InvalidArgument("skew: ms must be within +-" +
                                   std::to_string(kMaxSkewMs) + ", got " +
                                   std::to_string(ms));
  }
  skew_ms_ = ms;
  return Status::Ok();
}

int FaultPolicy::GroupOf(const std::string& node) const {
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (std::find(groups_[i].begin(), groups_[i].end(), node) !=
        groups_[i].end()) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool FaultPolicy::Partitioned(const std::string& peer) const {
  if (groups_.empty() || peer == self_) return false;
  const int mine = GroupOf(self_);
  const int theirs = GroupOf(peer);
  // A node named in no group is alone.
  return mine < 0 || theirs < 0 || mine != theirs;
}

bool FaultPolicy::AllowDelivery(const std::string& peer) {
  if (!Partitioned(peer)) return true;
  ++counters_.dropped_partition_in;
  return false;
}

bool FaultPolicy::Chance(uint32_t pct) {
  if (pct == 0) return false;
  if (pct >= 100) return true;
  return rng_() % 100 < pct;
}

uint64_t FaultPolicy::UpTo(uint64_t max) {
  return max == 0 ? 0 : rng_() % (max + 1);
}

std::vector<uint64_t> FaultPolicy::PlanSend(const std::string& peer) {
  std::vector<uint64_t> delays;
  if (Partitioned(peer)) {
    ++counters_.dropped_partition_out;
    return delays;
  }
  const LinkFaults* n = nullptr;
  if (auto it = nodes_.find(peer); it != nodes_.end()) n = &it->second;
  auto pick = [&](auto LinkFaults::*field, uint64_t fallback) -> uint64_t {
    if (n != nullptr && (n->*field)) return *(n->*field);
    if (all_.*field) return *(all_.*field);
    return fallback;
  };
  const auto drop = static_cast<uint32_t>(pick(&LinkFaults::drop_pct, 0));
  const auto dup = static_cast<uint32_t>(pick(&LinkFaults::duplicate_pct, 0));
  const auto reorder = static_cast<uint32_t>(pick(&LinkFaults::reorder_pct, 0));
  const uint64_t reorder_ms = pick(&LinkFaults::reorder_ms, kDefaultReorderMs);
  const uint64_t delay = pick(&LinkFaults::delay_ms, 0);
  const uint64_t jitter = pick(&LinkFaults::jitter_ms, 0);

  if (Chance(drop)) {
    ++counters_.dropped_random;
    return delays;
  }
  const int copies = Chance(dup) ? 2 : 1;
  if (copies == 2) ++counters_.duplicated;
  for (int i = 0; i < copies; ++i) {
    uint64_t d = delay + UpTo(jitter);
    if (d > 0) ++counters_.delayed;
    if (Chance(reorder)) {
      ++counters_.reordered;
      d += 1 + UpTo(reorder_ms - 1);
    }
    delays.push_back(d);
  }
  return delays;
}

std::string FaultPolicy::StatusJson() const {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("node");
  w.String(self_);
  w.Key("seed");
  w.Uint(seed_);
  w.Key("partition");
  w.BeginArray();
  for (const auto& group : groups_) w.Strings(group);
  w.EndArray();
  w.Key("skew_ms");
  w.Int(skew_ms_);
  w.Key("all");
  WriteLink(w, all_, true);
  w.Key("nodes");
  w.BeginObject();
  for (const auto& [name, faults] : nodes_) {
    w.Key(name);
    WriteLink(w, faults, false);
  }
  w.EndObject();
  w.Key("counters");
  WriteCounters(w, counters_);
  w.EndObject();
  return out;
}

FaultyNetwork::FaultyNetwork(FaultPolicy& policy, replication::Network& inner,
                             replication::Env& env)
    : policy_(policy), inner_(inner), env_(env) {}

FaultyNetwork::~FaultyNetwork() { *alive_ = false; }

void FaultyNetwork::Send(const replication::NodeName& to,
                         const std::string& address, std::string payload) {
  const std::vector<uint64_t> delays =
      policy_.PlanSend(to.empty() ? address : to);
  for (size_t i = 0; i < delays.size(); ++i) {
    const bool last = i + 1 == delays.size();
    std::string copy = last ? std::move(payload) : payload;
    if (delays[i] == 0) {
      inner_.Send(to, address, std::move(copy));
      continue;
    }
    std::weak_ptr<bool> alive = alive_;
    replication::Network* inner = &inner_;
    env_.After(delays[i],
               [alive, inner, to, address, copy = std::move(copy)]() mutable {
                 auto token = alive.lock();
                 if (!token || !*token) return;
                 inner->Send(to, address, std::move(copy));
               });
  }
}

Status ParseQuery(std::string_view query,
                  std::map<std::string, std::string>* out) {
  out->clear();
  if (query.empty()) return Status::Ok();
  for (std::string_view pair : Split(query, '&')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key, value;
    Status s = PercentDecode(pair.substr(0, eq), &key);
    if (s.ok() && eq != std::string_view::npos) {
      s = PercentDecode(pair.substr(eq + 1), &value);
    }
    if (!s.ok()) return s;
    (*out)[key] = std::move(value);
  }
  return Status::Ok();
}

namespace {

using Params = std::map<std::string, std::string>;

// Parses params[key] as an integer in [min, max]; `fallback` when absent
// (nullopt: required).
template <typename T>
Status GetNumber(const Params& params, const std::string& key,
                 std::optional<T> fallback, T min, T max, T* out) {
  auto it = params.find(key);
  if (it == params.end()) {
    if (!fallback) return Status::InvalidArgument(key + " is required");
    *out = *fallback;
    return Status::Ok();
  }
  const std::string& text = it->second;
  T value{};
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument(key + " must be an integer, got '" +
                                   Printable(text) + "'");
  }
  if (value < min || value > max) {
    return Status::InvalidArgument(key + " must be from " +
                                   std::to_string(min) + " to " +
                                   std::to_string(max) + ", got " + text);
  }
  *out = value;
  return Status::Ok();
}

std::string NodeParam(const Params& params) {
  auto it = params.find("node");
  return it == params.end() ? std::string() : Trim(it->second);
}

HttpResponse Reply(const FaultPolicy& policy, const Status& s) {
  HttpResponse r;
  if (!s.ok()) {
    r.status = 400;
    r.body = SanitizeUtf8(s.message()) + "\n";
    return r;
  }
  r.content_type = "application/json";
  r.body = policy.StatusJson() + "\n";
  return r;
}

// One POST endpoint's change to the policy: from the decoded query and the
// body, the change made or why not.
using Change = Status (*)(const Params& params, const std::string& body,
                          FaultPolicy& policy);

Status ChangePartition(const Params& params, const std::string& body,
                       FaultPolicy& p) {
  std::string groups = Trim(body);
  if (groups.empty()) {
    auto it = params.find("groups");
    if (it != params.end()) groups = it->second;
  }
  return p.SetPartition(groups);
}

Status ChangeHeal(const Params&, const std::string&, FaultPolicy& p) {
  p.Heal();
  return Status::Ok();
}

Status ChangeClear(const Params&, const std::string&, FaultPolicy& p) {
  p.Clear();
  return Status::Ok();
}

Status ChangeDrop(const Params& params, const std::string&, FaultPolicy& p) {
  uint32_t pct = 0;
  Status s = GetNumber<uint32_t>(params, "pct", std::nullopt, 0, 100, &pct);
  return s.ok() ? p.SetDrop(pct, NodeParam(params)) : s;
}

Status ChangeDuplicate(const Params& params, const std::string&,
                       FaultPolicy& p) {
  uint32_t pct = 0;
  Status s = GetNumber<uint32_t>(params, "pct", std::nullopt, 0, 100, &pct);
  return s.ok() ? p.SetDuplicate(pct, NodeParam(params)) : s;
}

Status ChangeReorder(const Params& params, const std::string&, FaultPolicy& p) {
  uint32_t pct = 0;
  uint64_t ms = 0;
  Status s = GetNumber<uint32_t>(params, "pct", std::nullopt, 0, 100, &pct);
  if (s.ok()) {
    s = GetNumber<uint64_t>(params, "ms", FaultPolicy::kDefaultReorderMs, 1,
                            FaultPolicy::kMaxDelayMs, &ms);
  }
  return s.ok() ? p.SetReorder(pct, ms, NodeParam(params)) : s;
}

Status ChangeDelay(const Params& params, const std::string&, FaultPolicy& p) {
  uint64_t ms = 0, jitter = 0;
  Status s = GetNumber<uint64_t>(params, "ms", std::nullopt, 0,
                                 FaultPolicy::kMaxDelayMs, &ms);
  if (s.ok()) {
    s = GetNumber<uint64_t>(params, "jitter", uint64_t{0}, 0,
                            FaultPolicy::kMaxDelayMs, &jitter);
  }
  return s.ok() ? p.SetDelay(ms, jitter, NodeParam(params)) : s;
}

Status ChangeSkew(const Params& params, const std::string&, FaultPolicy& p) {
  int64_t ms = 0;
  Status s =
      GetNumber<int64_t>(params, "ms", std::nullopt, -FaultPolicy::kMaxSkewMs,
                         FaultPolicy::kMaxSkewMs, &ms);
  return s.ok() ? p.SetSkew(ms) : s;
}

Status ChangeSeed(const Params& params, const std::string&, FaultPolicy& p) {
  uint64_t seed = 0;
  Status s =
      GetNumber<uint64_t>(params, "value", std::nullopt, 0, UINT64_MAX, &seed);
  if (s.ok()) p.Reseed(seed);
  return s;
}

// The POST endpoints (faults.h lists them with their parameters).
constexpr struct {
  const char* path;
  Change change;
} kChanges[] = {
    {"/faults/partition", ChangePartition}, {"/faults/heal", ChangeHeal},
    {"/faults/clear", ChangeClear},         {"/faults/drop", ChangeDrop},
    {"/faults/duplicate", ChangeDuplicate}, {"/faults/reorder", ChangeReorder},
    {"/faults/delay", ChangeDelay},         {"/faults/skew", ChangeSkew},
    {"/faults/seed", ChangeSeed},
};

}  // namespace

void AddFaultRoutes(AdminHttp& http, FaultPolicy& policy,
                    std::function<void(int64_t)> apply_skew) {
  auto skew = std::make_shared<std::function<void(int64_t)>>(
      apply_skew ? std::move(apply_skew) : [](int64_t) {});
  // Handlers outlive this call: they hold the policy by pointer.
  FaultPolicy* pp = &policy;
  http.Handle("GET", "/faults",
              [pp](const HttpRequest&) { return Reply(*pp, Status::Ok()); });
  // Every change: parse, apply, push the skew, log, answer with the state.
  for (const auto& [path, change] : kChanges) {
    http.Handle("POST", path,
                [pp, skew, path = std::string(path),
                 change = change](const HttpRequest& req) {
                  Params params;
                  Status s = ParseQuery(req.query, &params);
                  if (s.ok()) s = change(params, req.body, *pp);
                  if (s.ok()) {
                    (*skew)(pp->skew_ms());
                    spdlog::warn("fault injection: {} {} -> {}", path,
                                 Printable(req.query), pp->StatusJson());
                  }
                  return Reply(*pp, s);
                });
  }
}

}  // namespace causeway::node
