#pragma once
// SecurityGate: what the client protocol asks of Riak's security model.
// When security is enabled, a client must switch its connection to TLS
// (RpbStartTls), then authenticate (RpbAuthReq), and every request after
// that is checked against the user's grants. The gate answers those
// questions over the cluster's replicated security state (users, sources,
// grants); the protocol layer (PbcHandler, PbcServer) keeps what each
// connection has established in a Session and asks the gate, so neither
// side knows how the other is built. A null gate means security is not
// available on this node at all, which behaves as "disabled".

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace causeway::node {

// Riak's permissions, plus one for cluster administration (join, leave,
// bucket-type creation and changes, security changes).
enum class Permission {
  kGet,
  kPut,
  kDelete,
  kIndex,
  kListKeys,
  kListBuckets,
  kGetBucket,
  kSetBucket,
  kGetBucketType,
  kSetBucketType,
  kClusterAdmin,
};

inline constexpr std::array<std::pair<Permission, std::string_view>, 11>
    kPermissionNames = {{
        {Permission::kGet, "riak_kv.get"},
        {Permission::kPut, "riak_kv.put"},
        {Permission::kDelete, "riak_kv.delete"},
        {Permission::kIndex, "riak_kv.index"},
        {Permission::kListKeys, "riak_kv.list_keys"},
        {Permission::kListBuckets, "riak_kv.list_buckets"},
        {Permission::kGetBucket, "riak_core.get_bucket"},
        {Permission::kSetBucket, "riak_core.set_bucket"},
        {Permission::kGetBucketType, "riak_core.get_bucket_type"},
        {Permission::kSetBucketType, "riak_core.set_bucket_type"},
        {Permission::kClusterAdmin, "causeway.cluster_admin"},
    }};

inline std::string_view PermissionName(Permission p) {
  for (const auto& [perm, name] : kPermissionNames) {
    if (perm == p) return name;
  }
  return "unknown";
}

inline std::optional<Permission> ParsePermission(std::string_view name) {
  for (const auto& [perm, text] : kPermissionNames) {
    if (text == name) return perm;
  }
  return std::nullopt;
}

// What one client connection has established so far.
struct Session {
  // The client's IP address in text form ("127.0.0.1", "::1").
  std::string address;
  // The connection runs over TLS (RpbStartTls and a finished handshake).
  bool tls = false;
  // The common name of the client's certificate, when it presented one
  // that the node's CA verified; empty otherwise.
  std::string certificate_common_name;
  // Set by a successful RpbAuthReq.
  std::optional<std::string> user;
};

class SecurityGate {
 public:
  virtual ~SecurityGate() = default;
  // Whether security is enabled cluster-wide right now.
  virtual bool Enabled() const = 0;
  // OK if `user` may log in from this session with `password` (a source
  // matching the user and the session's address decides the method:
  // trust, password, or certificate, whose common name must equal the
  // user). Otherwise a status whose message says why, without revealing
  // more than Riak does (unknown user and wrong password read the same).
  virtual Status Authenticate(const std::string& user,
                              const std::string& password,
                              const Session& session) const = 0;
  // Whether `user` holds `permission` on (type, bucket): a grant on any,
  // on the type, or on the type and bucket. An empty bucket asks about the
  // type itself; an empty type about the whole cluster.
  virtual bool Allowed(const std::string& user, Permission permission,
                       const std::string& type,
                       const std::string& bucket) const = 0;
};

}  // namespace causeway::node
