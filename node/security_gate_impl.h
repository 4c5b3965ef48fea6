#pragma once
// ClusterSecurityGate: the SecurityGate (node/security_gate.h) over the
// cluster's replicated security state (replication/security), as Riak's
// security model decides:
//
// - Sources. The sources of the user take precedence over those of "all";
//   among those whose network holds the client's address the most specific
//   (longest prefix) wins. Its method decides: `trust` needs no password,
//   `password` checks the password against the user's PBKDF2 record, and
//   `certificate` needs a TLS connection whose client certificate's common
//   name is the user.
// - Grants. A permission is held through a grant to the user or to "all",
//   on any, on the bucket type, or on the type and bucket.
//
// There are no groups or roles (Riak's groups are left out): grants name
// users or "all".
//
// Runs on the node's logic thread, like the core it reads.

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "node/security_gate.h"
#include "replication/security/security_registry.h"

namespace causeway::node {

class ClusterSecurityGate : public SecurityGate {
 public:
  // `registry` must outlive the gate.
  explicit ClusterSecurityGate(
      const replication::security::SecurityRegistry& registry);

  bool Enabled() const override;
  Status Authenticate(const std::string& user, const std::string& password,
                      const Session& session) const override;
  bool Allowed(const std::string& user, Permission permission,
               const std::string& type,
               const std::string& bucket) const override;

  // The source that decides how `user` logs in from `address`, or null.
  const replication::security::Record* MatchSource(
      const std::string& user,
      const replication::security::Address& address) const;

  // Verifications remembered (for tests).
  size_t remembered() const { return remembered_.size(); }

 private:
  // A successful password check: the user record's time (a new password
  // makes a new record) and a keyed digest of the password.
  struct Remembered {
    uint64_t record_timestamp = 0;
    std::string digest;
  };
  std::string Digest(const std::string& password) const;

  // Grants by user and sources with their networks parsed, rebuilt when
  // the registry changes: Allowed runs for every request once security is
  // on, and should not walk and sort every record each time. The pointers
  // stay valid until the registry's generation moves.
  struct Index {
    uint64_t generation = std::numeric_limits<uint64_t>::max();
    std::map<std::string, std::vector<const replication::security::Record*>,
             std::less<>>
        grants;
    struct Source {
      const replication::security::Record* record;
      replication::security::Cidr cidr;
    };
    std::vector<Source> sources;
  };
  const Index& Indexed() const;

  const replication::security::SecurityRegistry& registry_;
  // A random key per process for the digests above, so the cache never
  // holds the password nor a digest anyone could test guesses against
  // without it.
  std::string digest_key_;
  mutable std::map<std::string, Remembered> remembered_;
  mutable Index index_;
};

// OK if some user holds causeway.cluster_admin on any (directly or through
// "all") and has a source (its own or one of "all") that can let them log
// in: trust, certificate, or password with a password set. `security
// enable` is refused otherwise, so enabling cannot lock every operator out.
Status CheckAdministratorCanLogIn(
    const replication::security::SecurityRegistry& registry);

}  // namespace causeway::node
