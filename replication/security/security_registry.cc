#include "replication/security/security_registry.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "base/coding.h"
#include "storage/keys.h"

namespace causeway::replication::security {
namespace {

constexpr std::string_view kPrefix = "security/";
constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kFlagDeleted = 1;
constexpr uint8_t kFlagEnabled = 2;
// Far above any sensible PBKDF2 count; a bound for decoding only.
constexpr uint64_t kMaxIterations = 100'000'000;

using Kind = Record::Kind;

bool ValidKind(uint8_t k) { return k >= 1 && k <= 4; }

size_t Limit(Kind kind) {
  switch (kind) {
    case Kind::kEnabled:
      return 1;
    case Kind::kUser:
      return kMaxUsers;
    case Kind::kSource:
      return kMaxSources;
    case Kind::kGrant:
      return kMaxGrants;
  }
  return 0;
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kEnabled:
      return "enabled flag";
    case Kind::kUser:
      return "users";
    case Kind::kSource:
      return "sources";
    case Kind::kGrant:
      return "grants";
  }
  return "records";
}

// A user name, or "all" where it stands for every user.
Status CheckSubject(std::string_view name) {
  if (name == kAllUsers) return Status::Ok();
  return CheckUserName(name);
}

Status CheckScope(std::string_view type, std::string_view bucket) {
  if (type.size() > kMaxScopeNameBytes || bucket.size() > kMaxScopeNameBytes) {
    return Status::InvalidArgument(
        "grant scopes name bucket types and buckets of at most " +
        std::to_string(kMaxScopeNameBytes) + " bytes");
  }
  if (type.empty() && !bucket.empty()) {
    return Status::InvalidArgument("a grant on a bucket needs its type");
  }
  return Status::Ok();
}

bool GetString(std::string_view* in, size_t max, std::string* out) {
  std::string_view s;
  if (!coding::GetLengthPrefixedVarint(in, &s) || s.size() > max) return false;
  out->assign(s);
  return true;
}

// Sorted, unique, each well formed, at most kMaxPermissions.
Status NormalizePermissions(const std::vector<std::string>& in,
                            std::vector<std::string>* out) {
  std::set<std::string> set;
  for (const auto& p : in) {
    if (Status s = CheckPermissionName(p); !s.ok()) return s;
    set.insert(p);
  }
  if (set.size() > kMaxPermissions) {
    return Status::InvalidArgument("at most " +
                                   std::to_string(kMaxPermissions) +
                                   " permissions in one grant");
  }
  out->assign(set.begin(), set.end());
  return Status::Ok();
}

std::string UserKey(std::string_view name) {
  Record r;
  r.kind = Kind::kUser;
  r.user = std::string(name);
  return r.Key();
}

}  // namespace

std::string_view MethodName(SourceMethod method) {
  switch (method) {
    case SourceMethod::kTrust:
      return "trust";
    case SourceMethod::kPassword:
      return "password";
    case SourceMethod::kCertificate:
      return "certificate";
  }
  return "unknown";
}

bool ParseMethod(std::string_view name, SourceMethod* method) {
  for (SourceMethod m : {SourceMethod::kTrust, SourceMethod::kPassword,
                         SourceMethod::kCertificate}) {
    if (MethodName(m) == name) {
      *method = m;
      return true;
    }
  }
  return false;
}

bool ParseAddress(std::string_view text, Address* address) {
  // inet_pton needs a terminated string; an address is at most 45 bytes
  // ("ffff:...:255.255.255.255").
  if (text.empty() || text.size() > 45) return false;
  std::string z(text);
  Address a;
  if (inet_pton(AF_INET, z.c_str(), a.bytes.data()) == 1) {
    *address = a;
    return true;
  }
  if (inet_pton(AF_INET6, z.c_str(), a.bytes.data()) != 1) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped, kMapped + 12, a.bytes.begin())) {
    Address v4;
    std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
    *address = v4;
    return true;
  }
  a.v6 = true;
  *address = a;
  return true;
}

Status Cidr::Parse(std::string_view text, Cidr* cidr) {
  const auto bad = [&text](const std::string& why) {
    return Status::InvalidArgument("'" + std::string(text.substr(0, 64)) +
                                   "' is not a network (ADDRESS/PREFIX, "
                                   "IPv4 or IPv6): " +
                                   why);
  };
  size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  Cidr c;
  // An IPv4-mapped IPv6 network is taken as the IPv4 one it maps.
  bool mapped = false;
  if (!ParseAddress(addr, &c.network)) return bad("bad address");
  if (!c.network.v6 && addr.find(':') != std::string_view::npos) mapped = true;
  const unsigned max_prefix = c.network.v6 ? 128 : 32;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return bad("bad prefix length");
    prefix = 0;
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return bad("bad prefix length");
      prefix = prefix * 10 + static_cast<unsigned>(ch - '0');
    }
    if (mapped) {
      if (prefix < 96 || prefix > 128) return bad("bad prefix length");
      prefix -= 96;
    }
    if (prefix > max_prefix) return bad("prefix longer than the address");
  }
  c.prefix = static_cast<uint8_t>(prefix);
  // Clear host bits.
  const size_t bytes = c.network.v6 ? 16 : 4;
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (first_bit >= prefix) {
      c.network.bytes[i] = 0;
    } else if (prefix - first_bit < 8) {
      c.network.bytes[i] &=
          static_cast<uint8_t>(0xff << (8 - (prefix - first_bit)));
    }
  }
  *cidr = c;
  return Status::Ok();
}

std::string Cidr::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(network.v6 ? AF_INET6 : AF_INET, network.bytes.data(), buf,
            sizeof(buf));
  return std::string(buf) + "/" + std::to_string(prefix);
}

bool Cidr::Contains(const Address& a) const {
  if (a.v6 != network.v6) return false;
  unsigned bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const uint8_t mask =
        bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a.bytes[i] & mask) != network.bytes[i]) return false;
  }
  return true;
}

Status CheckUserName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxUserNameBytes;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                c == '.' || c == '@' || c == '-');
  }
  if (!ok) {
    return Status::InvalidArgument(
        "user names are 1 to 64 letters, digits, '_', '.', '@' or '-'");
  }
  if (name == kAllUsers) {
    return Status::InvalidArgument(
        "'all' stands for every user and cannot name one");
  }
  return Status::Ok();
}

Status CheckPermissionName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxPermissionBytes;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '.');
  }
  if (!ok) {
    return Status::InvalidArgument(
        "permissions are 1 to 64 lower-case letters, digits, '_' or '.'");
  }
  return Status::Ok();
}

std::string Record::Key() const {
  std::string key(1, static_cast<char>(kind));
  switch (kind) {
    case Kind::kEnabled:
      break;
    case Kind::kUser:
      coding::PutLengthPrefixedVarint(&key, user);
      break;
    case Kind::kSource:
      coding::PutLengthPrefixedVarint(&key, user);
      coding::PutLengthPrefixedVarint(&key, cidr);
      break;
    case Kind::kGrant:
      coding::PutLengthPrefixedVarint(&key, user);
      coding::PutLengthPrefixedVarint(&key, type);
      coding::PutLengthPrefixedVarint(&key, bucket);
      break;
  }
  return key;
}

// Version byte, kind, 8-byte timestamp, flags, then the kind's fields as
// varint-length-prefixed strings and varints.
std::string Record::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(kind));
  coding::PutFixed64(&out, timestamp);
  uint8_t flags = (deleted ? kFlagDeleted : 0) | (enabled ? kFlagEnabled : 0);
  out.push_back(static_cast<char>(flags));
  switch (kind) {
    case Kind::kEnabled:
      break;
    case Kind::kUser:
      coding::PutLengthPrefixedVarint(&out, user);
      coding::PutLengthPrefixedVarint(&out, password.algorithm);
      coding::PutVarint64(&out, password.iterations);
      coding::PutLengthPrefixedVarint(&out, password.salt);
      coding::PutLengthPrefixedVarint(&out, password.key);
      break;
    case Kind::kSource:
      coding::PutLengthPrefixedVarint(&out, user);
      coding::PutLengthPrefixedVarint(&out, cidr);
      out.push_back(static_cast<char>(method));
      break;
    case Kind::kGrant:
      coding::PutLengthPrefixedVarint(&out, user);
      coding::PutLengthPrefixedVarint(&out, type);
      coding::PutLengthPrefixedVarint(&out, bucket);
      coding::PutVarint64(&out, permissions.size());
      for (const auto& p : permissions)
        coding::PutLengthPrefixedVarint(&out, p);
      break;
  }
  return out;
}

Status Record::Decode(std::string_view in, Record* out) {
  const auto bad = [](const std::string& what) {
    return Status::Corruption("security record: " + what);
  };
  if (in.size() < 11) return bad("truncated");
  if (static_cast<uint8_t>(in[0]) != kFormatVersion) {
    return bad("unknown format version");
  }
  if (!ValidKind(static_cast<uint8_t>(in[1]))) return bad("unknown kind");
  Record r;
  r.kind = static_cast<Kind>(in[1]);
  in.remove_prefix(2);
  coding::GetFixed64(&in, &r.timestamp);
  const uint8_t flags = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if ((flags & ~(kFlagDeleted | kFlagEnabled)) != 0) return bad("bad flags");
  r.deleted = flags & kFlagDeleted;
  r.enabled = flags & kFlagEnabled;
  if (r.enabled && r.kind != Kind::kEnabled) return bad("bad flags");
  if (r.deleted && r.kind == Kind::kEnabled) return bad("bad flags");
  switch (r.kind) {
    case Kind::kEnabled:
      break;
    case Kind::kUser: {
      uint64_t iterations = 0;
      if (!GetString(&in, kMaxUserNameBytes, &r.user) ||
          !GetString(&in, kMaxPasswordFieldBytes, &r.password.algorithm) ||
          !coding::GetCanonicalVarint64(&in, &iterations) ||
          iterations > kMaxIterations ||
          !GetString(&in, kMaxPasswordFieldBytes, &r.password.salt) ||
          !GetString(&in, kMaxPasswordFieldBytes, &r.password.key)) {
        return bad("malformed user");
      }
      r.password.iterations = static_cast<uint32_t>(iterations);
      if (!CheckUserName(r.user).ok()) return bad("bad user name");
      break;
    }
    case Kind::kSource: {
      if (!GetString(&in, kMaxUserNameBytes, &r.user) ||
          !GetString(&in, 64, &r.cidr) || in.empty()) {
        return bad("malformed source");
      }
      if (!ParseMethod(MethodName(static_cast<SourceMethod>(in[0])),
                       &r.method)) {
        return bad("unknown source method");
      }
      in.remove_prefix(1);
      Cidr cidr;
      if (!CheckSubject(r.user).ok()) return bad("bad user name");
      if (!Cidr::Parse(r.cidr, &cidr).ok() || cidr.ToString() != r.cidr) {
        return bad("bad network");
      }
      break;
    }
    case Kind::kGrant: {
      uint64_t n = 0;
      if (!GetString(&in, kMaxUserNameBytes, &r.user) ||
          !GetString(&in, kMaxScopeNameBytes, &r.type) ||
          !GetString(&in, kMaxScopeNameBytes, &r.bucket) ||
          !coding::GetCanonicalVarint64(&in, &n) || n > kMaxPermissions) {
        return bad("malformed grant");
      }
      for (uint64_t i = 0; i < n; ++i) {
        std::string p;
        if (!GetString(&in, kMaxPermissionBytes, &p) ||
            !CheckPermissionName(p).ok() ||
            (!r.permissions.empty() && r.permissions.back() >= p)) {
          return bad("malformed permission");
        }
        r.permissions.push_back(std::move(p));
      }
      if (!CheckSubject(r.user).ok()) return bad("bad user name");
      if (!CheckScope(r.type, r.bucket).ok()) return bad("bad scope");
      break;
    }
  }
  if (!in.empty()) return bad("trailing bytes");
  *out = std::move(r);
  return Status::Ok();
}

SecurityRegistry::SecurityRegistry(storage::Engine& engine) : engine_(engine) {}

Status SecurityRegistry::Load() {
  std::string begin = storage::MetaKey(kPrefix);
  std::string end = storage::PrefixEnd(begin);
  Status failure;
  Status s =
      engine_.Scan(begin, end, [&](std::string_view, std::string_view v) {
        Record r;
        Status d = Record::Decode(v, &r);
        if (!d.ok()) {
          failure = d;
          return false;
        }
        std::string key = r.Key();
        records_[key] = std::move(r);
        return true;
      });
  ++generation_;
  return s.ok() ? failure : s;
}

bool SecurityRegistry::enabled() const {
  Record probe;
  auto it = records_.find(probe.Key());
  return it != records_.end() && it->second.enabled;
}

const Record* SecurityRegistry::FindUser(std::string_view name) const {
  auto it = records_.find(UserKey(name));
  if (it == records_.end() || it->second.deleted) return nullptr;
  return &it->second;
}

std::vector<const Record*> SecurityRegistry::Live(Kind kind) const {
  std::vector<const Record*> out;
  for (const auto& [key, r] : records_) {
    if (r.kind == kind && !r.deleted) out.push_back(&r);
  }
  // Keys sort by length first; people read names in order.
  std::sort(out.begin(), out.end(), [](const Record* a, const Record* b) {
    return std::tie(a->user, a->cidr, a->type, a->bucket) <
           std::tie(b->user, b->cidr, b->type, b->bucket);
  });
  return out;
}

std::vector<const Record*> SecurityRegistry::Users() const {
  return Live(Kind::kUser);
}
std::vector<const Record*> SecurityRegistry::Sources() const {
  return Live(Kind::kSource);
}
std::vector<const Record*> SecurityRegistry::Grants() const {
  return Live(Kind::kGrant);
}

size_t SecurityRegistry::Count(Kind kind) const {
  size_t n = 0;
  for (const auto& [key, r] : records_) n += r.kind == kind;
  return n;
}

uint64_t SecurityRegistry::Stamp(const std::string& key,
                                 uint64_t timestamp) const {
  auto it = records_.find(key);
  if (it == records_.end()) return timestamp;
  return std::max(timestamp, it->second.timestamp + 1);
}

Status SecurityRegistry::MakeRecords(const Change& c, uint64_t now,
                                     std::vector<Record>* out) const {
  using Op = Change::Op;
  const auto one_user = [&c]() -> Status {
    if (c.users.size() != 1) {
      return Status::InvalidArgument("name exactly one user");
    }
    return CheckUserName(c.users[0]);
  };
  const auto subjects = [&c, this]() -> Status {
    if (c.users.empty()) return Status::InvalidArgument("name a user or all");
    for (const auto& u : c.users) {
      if (u == kAllUsers) {
        if (c.users.size() > 1) {
          return Status::InvalidArgument("'all' cannot be listed with users");
        }
        continue;
      }
      if (Status s = CheckUserName(u); !s.ok()) return s;
      if (FindUser(u) == nullptr) {
        return Status::NotFound("no user named '" + u + "'");
      }
    }
    return Status::Ok();
  };
  const auto check_password = [&c]() -> Status {
    const PasswordRecord& p = c.password;
    if (p.algorithm.size() > kMaxPasswordFieldBytes ||
        p.salt.size() > kMaxPasswordFieldBytes ||
        p.key.size() > kMaxPasswordFieldBytes ||
        p.iterations > kMaxIterations) {
      return Status::InvalidArgument("malformed password record");
    }
    return Status::Ok();
  };
  switch (c.op) {
    case Op::kEnable:
    case Op::kDisable: {
      Record r;
      r.enabled = c.op == Op::kEnable;
      r.timestamp = Stamp(r.Key(), now);
      out->push_back(std::move(r));
      return Status::Ok();
    }
    case Op::kAddUser:
    case Op::kAlterUser: {
      if (Status s = one_user(); !s.ok()) return s;
      if (Status s = check_password(); !s.ok()) return s;
      const bool exists = FindUser(c.users[0]) != nullptr;
      if (c.op == Op::kAddUser && exists) {
        return Status::PreconditionFailed("user '" + c.users[0] +
                                          "' already exists");
      }
      if (c.op == Op::kAlterUser && !exists) {
        return Status::NotFound("no user named '" + c.users[0] + "'");
      }
      Record r;
      r.kind = Kind::kUser;
      r.user = c.users[0];
      r.password = c.password;
      r.timestamp = Stamp(r.Key(), now);
      out->push_back(std::move(r));
      return Status::Ok();
    }
    case Op::kDelUser: {
      if (Status s = one_user(); !s.ok()) return s;
      if (FindUser(c.users[0]) == nullptr) {
        return Status::NotFound("no user named '" + c.users[0] + "'");
      }
      Record r;
      r.kind = Kind::kUser;
      r.user = c.users[0];
      r.deleted = true;
      r.timestamp = Stamp(r.Key(), now);
      out->push_back(std::move(r));
      // As Riak: the user's sources and grants go with it.
      for (const auto& [key, held] : records_) {
        if (held.deleted || held.user != c.users[0] ||
            (held.kind != Kind::kSource && held.kind != Kind::kGrant)) {
          continue;
        }
        Record t = held;
        t.deleted = true;
        t.permissions.clear();
        t.timestamp = Stamp(key, now);
        out->push_back(std::move(t));
      }
      return Status::Ok();
    }
    case Op::kAddSource:
    case Op::kDelSource: {
      if (Status s = subjects(); !s.ok()) return s;
      Cidr cidr;
      if (Status s = Cidr::Parse(c.cidr, &cidr); !s.ok()) return s;
      for (const auto& u : c.users) {
        Record r;
        r.kind = Kind::kSource;
        r.user = u;
        r.cidr = cidr.ToString();
        r.method = c.method;
        if (c.op == Op::kDelSource) {
          auto it = records_.find(r.Key());
          if (it == records_.end() || it->second.deleted) {
            return Status::NotFound("no source for " + u + " on " + r.cidr);
          }
          r.method = it->second.method;
          r.deleted = true;
        }
        r.timestamp = Stamp(r.Key(), now);
        out->push_back(std::move(r));
      }
      return Status::Ok();
    }
    case Op::kGrant:
    case Op::kRevoke: {
      if (Status s = subjects(); !s.ok()) return s;
      if (Status s = CheckScope(c.type, c.bucket); !s.ok()) return s;
      std::vector<std::string> perms;
      if (Status s = NormalizePermissions(c.permissions, &perms); !s.ok()) {
        return s;
      }
      if (perms.empty()) return Status::InvalidArgument("name a permission");
      for (const auto& u : c.users) {
        Record r;
        r.kind = Kind::kGrant;
        r.user = u;
        r.type = c.type;
        r.bucket = c.bucket;
        std::set<std::string> held;
        auto it = records_.find(r.Key());
        if (it != records_.end() && !it->second.deleted) {
          held.insert(it->second.permissions.begin(),
                      it->second.permissions.end());
        }
        std::set<std::string> next = held;
        for (const auto& p : perms) {
          if (c.op == Op::kGrant) {
            next.insert(p);
          } else {
            next.erase(p);
          }
        }
        if (next == held) continue;  // nothing changes for this user
        if (next.size() > kMaxPermissions) {
          return Status::InvalidArgument("at most " +
                                         std::to_string(kMaxPermissions) +
                                         " permissions in one grant");
        }
        r.permissions.assign(next.begin(), next.end());
        r.deleted = r.permissions.empty();
        r.timestamp = Stamp(r.Key(), now);
        out->push_back(std::move(r));
      }
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown security change");
}

Status SecurityRegistry::Apply(const Change& change, uint64_t timestamp) {
  std::vector<Record> records;
  if (Status s = MakeRecords(change, timestamp, &records); !s.ok()) return s;
  // New keys must fit under the bounds.
  std::map<Kind, size_t> added;
  for (const auto& r : records) {
    if (records_.count(r.Key()) == 0) ++added[r.kind];
  }
  for (const auto& [kind, n] : added) {
    if (Count(kind) + n > Limit(kind)) {
      return Status::InvalidArgument(
          "too many " + std::string(KindName(kind)) + " (at most " +
          std::to_string(Limit(kind)) + ", deleted ones included)");
    }
  }
  return Store(records);
}

Status SecurityRegistry::Store(const std::vector<Record>& records) {
  if (records.empty()) return Status::Ok();
  for (const auto& r : records) {
    Status s = engine_.Put(storage::MetaKey(std::string(kPrefix) + r.Key()),
                           r.Encode(), {.sync = true});
    if (!s.ok()) return s;
    records_[r.Key()] = r;
  }
  ++generation_;
  return Status::Ok();
}

std::vector<Record> SecurityRegistry::Export() const {
  std::vector<Record> out;
  out.reserve(records_.size());
  for (const auto& [key, r] : records_) out.push_back(r);
  return out;
}

bool SecurityRegistry::Merge(const Record& record) {
  // Re-encode and decode: whatever a peer sent must satisfy the same
  // checks as a record read from disk.
  Record checked;
  if (!Record::Decode(record.Encode(), &checked).ok()) return false;
  const std::string key = checked.Key();
  auto it = records_.find(key);
  if (it != records_.end()) {
    const Record& held = it->second;
    if (held.timestamp > checked.timestamp ||
        (held.timestamp == checked.timestamp &&
         held.Encode() >= checked.Encode())) {
      return false;
    }
  } else if (Count(checked.kind) >= 2 * Limit(checked.kind)) {
    return false;
  }
  return Store({checked}).ok();
}

}  // namespace causeway::replication::security
