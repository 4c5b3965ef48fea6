// Target "faults": what the /faults admin endpoints accept (node/faults.h):
// the query string (node::ParseQuery) and the partition groups
// (FaultPolicy::SetPartition, from the body or ?groups=). The input is used
// as both. Promises checked:
// - an accepted query's pairs, percent-encoded again, parse to the same map;
// - SetPartition accepts exactly what a reference reading of "n1,n2/n3"
//   accepts, and then Partitioned() matches the groups (the node itself is
//   alone when no group names it); a refused change leaves the policy's
//   state untouched;
// - the numeric settings named in the query (pct, ms, jitter, node) change
//   the policy only when in range.

#include <charconv>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "node/faults.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using node::FaultPolicy;

constexpr const char* kSelf = "causeway@fuzz";

std::string Escape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Trim(std::string_view s) {
  const std::string_view space = " \t\r\n";
  const size_t b = s.find_first_not_of(space);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(space) - b + 1));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// The documented grammar, read independently: groups by '/', names by ',',
// blanks around names ignored, no empty name, no name twice, two groups or
// more. Returns each name's group, or false.
bool ReferenceGroups(std::string_view text, std::map<std::string, int>* out) {
  std::map<std::string, int> group_of;
  int g = 0;
  for (std::string_view group : Split(text, '/')) {
    for (std::string_view n : Split(group, ',')) {
      std::string name = Trim(n);
      if (name.empty() || !group_of.emplace(name, g).second) return false;
    }
    ++g;
  }
  if (g < 2) return false;
  *out = std::move(group_of);
  return true;
}

void CheckPartition(FaultPolicy& policy, std::string_view text) {
  const std::string before = policy.StatusJson();
  std::map<std::string, int> groups;
  const bool expect = ReferenceGroups(text, &groups);
  const bool ok = policy.SetPartition(text).ok();
  FUZZ_CHECK(ok == expect);
  if (!ok) {
    FUZZ_CHECK(policy.StatusJson() == before);
    return;
  }
  auto it = groups.find(kSelf);
  const int mine = it == groups.end() ? -1 : it->second;
  for (const auto& [name, g] : groups) {
    if (name == kSelf) continue;
    FUZZ_CHECK(policy.Partitioned(name) == (g != mine));
    FUZZ_CHECK(policy.AllowDelivery(name) == (g == mine));
  }
  // A node no group names is alone.
  FUZZ_CHECK(policy.Partitioned("causeway@nowhere"));
  // The same text again changes nothing.
  const std::string after = policy.StatusJson();
  FUZZ_CHECK(policy.SetPartition(text).ok());
  FUZZ_CHECK(policy.StatusJson() == after);
  policy.Heal();
  FUZZ_CHECK(!policy.Partitioned("causeway@nowhere"));
}

template <typename T>
bool Number(const std::map<std::string, std::string>& params,
            const std::string& key, T* out) {
  auto it = params.find(key);
  if (it == params.end()) return false;
  const std::string& t = it->second;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && end == t.data() + t.size() && !t.empty();
}

// A setter either succeeds or leaves the state as it was.
template <typename F>
void Change(FaultPolicy& policy, bool in_range, F f) {
  const std::string before = policy.StatusJson();
  const bool ok = f().ok();
  FUZZ_CHECK(ok == in_range);
  if (!ok) FUZZ_CHECK(policy.StatusJson() == before);
}

void FuzzFaults(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FaultPolicy policy(kSelf, 1);
  CheckPartition(policy, input);

  std::map<std::string, std::string> params;
  if (!node::ParseQuery(input, &params).ok()) return;
  std::string query;
  for (const auto& [k, v] : params) {
    if (!query.empty()) query += '&';
    query += Escape(k) + '=' + Escape(v);
  }
  std::map<std::string, std::string> again;
  FUZZ_CHECK(node::ParseQuery(query, &again).ok());
  FUZZ_CHECK(again == params);

  if (auto it = params.find("groups"); it != params.end()) {
    CheckPartition(policy, it->second);
  }
  const std::string node = params.count("node") ? Trim(params["node"]) : "";
  uint32_t pct = 0;
  if (Number(params, "pct", &pct)) {
    Change(policy, pct <= 100, [&] { return policy.SetDrop(pct, node); });
    Change(policy, pct <= 100, [&] { return policy.SetDuplicate(pct, node); });
  }
  uint64_t ms = 0, jitter = 0;
  if (Number(params, "pct", &pct) && Number(params, "ms", &ms)) {
    const bool in_range =
        pct <= 100 && ms <= FaultPolicy::kMaxDelayMs && (ms > 0 || pct == 0);
    Change(policy, in_range, [&] { return policy.SetReorder(pct, ms, node); });
  }
  if (Number(params, "ms", &ms)) {
    Number(params, "jitter", &jitter);
    Change(policy,
           ms <= FaultPolicy::kMaxDelayMs && jitter <= FaultPolicy::kMaxDelayMs,
           [&] { return policy.SetDelay(ms, jitter, node); });
  }
  int64_t skew = 0;
  if (Number(params, "ms", &skew)) {
    const bool in_range =
        skew >= -FaultPolicy::kMaxSkewMs && skew <= FaultPolicy::kMaxSkewMs;
    Change(policy, in_range, [&] { return policy.SetSkew(skew); });
    if (in_range) FUZZ_CHECK(policy.skew_ms() == skew);
  }
  // Whatever was set, sending plans within bounds and Clear undoes it all.
  for (const auto& [name, value] : params) {
    for (uint64_t delay : policy.PlanSend(name)) {
      FUZZ_CHECK(delay <= 3 * FaultPolicy::kMaxDelayMs);
    }
  }
  policy.Clear();
  FUZZ_CHECK(policy.skew_ms() == 0);
}

const Registration kRegistration("faults", &FuzzFaults);

}  // namespace
}  // namespace causeway::fuzz
