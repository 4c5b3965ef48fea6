#pragma once
// SecurityRegistry: Riak's security state (the cluster-wide enabled flag,
// users, sources and grants), persisted in the node's metadata key space,
// held in memory, and spread through the cluster by gossip with the ring.
//
// Every record carries the hybrid-logical-clock time of the change that made
// it; merging keeps the newer record (equal times fall back to comparing the
// encoded bytes), so all nodes converge whatever order gossip arrives in.
// Deleting is writing a tombstone: a deleted user, a removed source and a
// grant whose permissions were all revoked stay as records, so an older
// copy arriving late cannot bring them back.
//
// The registry stores what it is given: a user's password record (salt and
// derived key) is computed by the node layer, and permission names are only
// checked for shape here (node/security_gate.h knows which ones exist).
// Nothing here hashes, reads a clock or touches the network.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/engine.h"

namespace causeway::replication::security {

// Bounds that keep gossip small (every record travels in every gossip
// message). Tombstones count: they must be kept to converge. A peer's
// records are accepted up to twice these, so two nodes filling up at once
// still converge.
inline constexpr size_t kMaxUsers = 256;
inline constexpr size_t kMaxSources = 256;
inline constexpr size_t kMaxGrants = 1024;
inline constexpr size_t kMaxUserNameBytes = 64;
inline constexpr size_t kMaxScopeNameBytes = 255;
inline constexpr size_t kMaxPermissions = 32;
inline constexpr size_t kMaxPermissionBytes = 64;
inline constexpr size_t kMaxPasswordFieldBytes = 128;

// The name that stands for every user in sources and grants.
inline constexpr std::string_view kAllUsers = "all";

enum class SourceMethod : uint8_t {
  kTrust = 1,
  kPassword = 2,
  kCertificate = 3,
};
std::string_view MethodName(SourceMethod method);
bool ParseMethod(std::string_view name, SourceMethod* method);

// A password as the node layer derived it: the algorithm's name (e.g.
// "pbkdf2-sha256"), its iteration count, the salt and the derived key. An
// empty algorithm: the user has no password.
struct PasswordRecord {
  std::string algorithm;
  uint32_t iterations = 0;
  std::string salt;
  std::string key;
  bool empty() const { return algorithm.empty(); }
  bool operator==(const PasswordRecord&) const = default;
};

// An IPv4 or IPv6 address (IPv4-mapped IPv6 addresses count as IPv4).
struct Address {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4
};
bool ParseAddress(std::string_view text, Address* address);

// A network: address and prefix length, host bits zero.
struct Cidr {
  Address network;
  uint8_t prefix = 0;
  // "10.0.0.0/8", "::1/128"; an address alone is a host network. Host bits
  // are cleared ("10.1.2.3/8" is 10.0.0.0/8).
  static Status Parse(std::string_view text, Cidr* cidr);
  std::string ToString() const;
  bool Contains(const Address& a) const;
};

// Users: 1..64 of [A-Za-z0-9_.@-], and not "all".
Status CheckUserName(std::string_view name);
// Permissions: 1..64 of [a-z0-9_.].
Status CheckPermissionName(std::string_view name);

struct Record {
  enum class Kind : uint8_t {
    kEnabled = 1,
    kUser = 2,
    kSource = 3,
    kGrant = 4
  };
  Kind kind = Kind::kEnabled;
  uint64_t timestamp = 0;
  // kUser, kSource, kGrant: a tombstone.
  bool deleted = false;
  // kEnabled.
  bool enabled = false;
  // kUser: the name; kSource, kGrant: a user or "all".
  std::string user;
  // kUser.
  PasswordRecord password;
  // kSource: the network in canonical form (Cidr::ToString), and the method.
  std::string cidr;
  SourceMethod method = SourceMethod::kTrust;
  // kGrant: the scope (both empty: any; bucket empty: the whole type) and
  // the permissions, sorted and unique.
  std::string type;
  std::string bucket;
  std::vector<std::string> permissions;

  // What identifies the record: two records with equal keys are versions
  // of one another.
  std::string Key() const;
  std::string Encode() const;
  // Checks every field against the bounds and shapes above; refuses
  // trailing bytes.
  static Status Decode(std::string_view bytes, Record* record);
};

// One change an operator asks for. Users: one name for the user
// operations; one or more (or "all") for sources and grants.
struct Change {
  enum class Op {
    kEnable,
    kDisable,
    kAddUser,
    kAlterUser,
    kDelUser,
    kAddSource,
    kDelSource,
    kGrant,
    kRevoke,
  };
  Op op = Op::kEnable;
  std::vector<std::string> users;
  PasswordRecord password;  // add-user, alter-user (empty: none)
  std::string cidr;
  SourceMethod method = SourceMethod::kTrust;
  std::string type, bucket;  // grant, revoke; empty type: any
  std::vector<std::string> permissions;
};

class SecurityRegistry {
 public:
  explicit SecurityRegistry(storage::Engine& engine);

  // Loads persisted records.
  Status Load();

  // Applies an operator's change stamped `timestamp`: InvalidArgument for
  // malformed names or networks or for bounds exceeded, NotFound for a
  // user or source that does not exist, PreconditionFailed for a user that
  // already exists. Nothing is stored unless the whole change is valid.
  Status Apply(const Change& change, uint64_t timestamp);

  bool enabled() const;
  // The live user of that name, or null.
  const Record* FindUser(std::string_view name) const;
  // Live users, sources and grants, sorted by user, then network or
  // scope.
  std::vector<const Record*> Users() const;
  std::vector<const Record*> Sources() const;
  std::vector<const Record*> Grants() const;
  // Bumped by every change, local or merged (for callers that cache).
  uint64_t generation() const { return generation_; }

  // Every record, tombstones included, for gossip.
  std::vector<Record> Export() const;
  // Adopts `record` if it is newer than the one held; true if it was.
  bool Merge(const Record& record);

 private:
  Status Store(const std::vector<Record>& records);
  std::vector<const Record*> Live(Record::Kind kind) const;
  size_t Count(Record::Kind kind) const;
  // The time for a new version of the record keyed `key`: never older
  // than the one held.
  uint64_t Stamp(const std::string& key, uint64_t timestamp) const;
  Status MakeRecords(const Change& change, uint64_t timestamp,
                     std::vector<Record>* out) const;

  storage::Engine& engine_;
  std::map<std::string, Record> records_;  // by Key()
  uint64_t generation_ = 0;
};

}  // namespace causeway::replication::security
