#include "node/security_gate_impl.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>

#include "node/password_hash.h"

namespace causeway::node {
namespace {

using replication::security::Address;
using replication::security::Cidr;
using replication::security::kAllUsers;
using replication::security::Record;
using replication::security::SourceMethod;

// Repeated logins are answered from memory (see Remembered); the map is
// bounded and simply starts over when full.
constexpr size_t kMaxRemembered = 4096;

// Unknown users and wrong passwords read the same, as in Riak.
Status LoginRefused() {
  return Status::InvalidArgument(
      "authentication failed: unknown user or wrong password");
}

bool HoldsPermission(const Record& grant, std::string_view name) {
  return std::binary_search(grant.permissions.begin(), grant.permissions.end(),
                            name);
}

}  // namespace

ClusterSecurityGate::ClusterSecurityGate(
    const replication::security::SecurityRegistry& registry)
    : registry_(registry), digest_key_(32, '\0') {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(digest_key_.data()),
                 static_cast<int>(digest_key_.size())) != 1) {
    // Without a key nothing is remembered (Digest returns "").
    digest_key_.clear();
  }
}

bool ClusterSecurityGate::Enabled() const { return registry_.enabled(); }

std::string ClusterSecurityGate::Digest(const std::string& password) const {
  if (digest_key_.empty()) return "";
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), digest_key_.data(),
           static_cast<int>(digest_key_.size()),
           reinterpret_cast<const unsigned char*>(password.data()),
           password.size(), out, &len) == nullptr) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

const ClusterSecurityGate::Index& ClusterSecurityGate::Indexed() const {
  if (index_.generation == registry_.generation()) return index_;
  index_ = Index();
  index_.generation = registry_.generation();
  for (const Record* g : registry_.Grants())
    index_.grants[g->user].push_back(g);
  for (const Record* s : registry_.Sources()) {
    Cidr cidr;
    // Records passed the registry's checks; a network that does not parse
    // can only be a bug, and matches nothing.
    if (Cidr::Parse(s->cidr, &cidr).ok()) index_.sources.push_back({s, cidr});
  }
  return index_;
}

const Record* ClusterSecurityGate::MatchSource(const std::string& user,
                                               const Address& address) const {
  const Index& index = Indexed();
  for (std::string_view who : {std::string_view(user), kAllUsers}) {
    const Record* best = nullptr;
    int best_prefix = -1;
    for (const Index::Source& s : index.sources) {
      if (s.record->user != who || !s.cidr.Contains(address)) continue;
      if (s.cidr.prefix > best_prefix) {
        best = s.record;
        best_prefix = s.cidr.prefix;
      }
    }
    if (best != nullptr) return best;
  }
  return nullptr;
}

Status ClusterSecurityGate::Authenticate(const std::string& user,
                                         const std::string& password,
                                         const Session& session) const {
  const Record* u = registry_.FindUser(user);
  if (u == nullptr) return LoginRefused();
  Address address;
  if (!replication::security::ParseAddress(session.address, &address)) {
    return Status::InvalidArgument(
        "authentication failed: the client's address is not an IP address");
  }
  const Record* source = MatchSource(user, address);
  if (source == nullptr) {
    return Status::InvalidArgument(
        "authentication failed: no source lets user '" + user +
        "' log in from " + session.address +
        " (see `causeway security add-source`)");
  }
  switch (source->method) {
    case SourceMethod::kTrust:
      return Status::Ok();
    case SourceMethod::kCertificate:
      if (session.tls && !session.certificate_common_name.empty() &&
          session.certificate_common_name == user) {
        return Status::Ok();
      }
      return Status::InvalidArgument(
          "authentication failed: user '" + user + "' logs in from " +
          session.address +
          " with a TLS client certificate whose common name is the user");
    case SourceMethod::kPassword:
      break;
  }
  // PBKDF2 costs milliseconds on the logic thread (password_hash.h), and
  // clients log in on every connection, often many connections a second.
  // A login that matches one already verified against the same record is
  // answered from memory: the keyed digest changes with the password, and
  // the record's time with any change of the user (a new password, or a
  // delete and add), so nothing stale is ever accepted.
  const std::string digest = Digest(password);
  auto it = remembered_.find(user);
  if (!digest.empty() && it != remembered_.end() &&
      it->second.record_timestamp == u->timestamp &&
      it->second.digest.size() == digest.size() &&
      CRYPTO_memcmp(it->second.digest.data(), digest.data(), digest.size()) ==
          0) {
    return Status::Ok();
  }
  if (!VerifyPassword(password, u->password)) return LoginRefused();
  if (!digest.empty()) {
    if (remembered_.size() >= kMaxRemembered && remembered_.count(user) == 0) {
      remembered_.clear();
    }
    remembered_[user] = Remembered{u->timestamp, digest};
  }
  return Status::Ok();
}

bool ClusterSecurityGate::Allowed(const std::string& user,
                                  Permission permission,
                                  const std::string& type,
                                  const std::string& bucket) const {
  if (registry_.FindUser(user) == nullptr) return false;
  const std::string_view name = PermissionName(permission);
  const Index& index = Indexed();
  for (std::string_view who : {std::string_view(user), kAllUsers}) {
    auto it = index.grants.find(who);
    if (it == index.grants.end()) continue;
    for (const Record* g : it->second) {
      const bool in_scope =
          g->type.empty() ||
          (g->type == type && (g->bucket.empty() || g->bucket == bucket));
      if (in_scope && HoldsPermission(*g, name)) return true;
    }
  }
  return false;
}

Status CheckAdministratorCanLogIn(
    const replication::security::SecurityRegistry& registry) {
  const std::string_view admin = PermissionName(Permission::kClusterAdmin);
  const auto grants = registry.Grants();
  const auto sources = registry.Sources();
  for (const Record* u : registry.Users()) {
    const bool holds =
        std::any_of(grants.begin(), grants.end(), [&](const Record* g) {
          return (g->user == u->user || g->user == kAllUsers) &&
                 g->type.empty() && HoldsPermission(*g, admin);
        });
    if (!holds) continue;
    const bool can_log_in =
        std::any_of(sources.begin(), sources.end(), [&](const Record* s) {
          return (s->user == u->user || s->user == kAllUsers) &&
                 (s->method != SourceMethod::kPassword || !u->password.empty());
        });
    if (can_log_in) return Status::Ok();
  }
  return Status::PreconditionFailed(
      "refusing to enable security: no user both holds " + std::string(admin) +
      " on any and has a source that lets them log in (trust, certificate, "
      "or password with a password set), so enabling would lock every "
      "operator out. First: `causeway security add-user ADMIN`, `causeway "
      "security grant " +
      std::string(admin) +
      " on any to ADMIN` and `causeway security add-source ADMIN "
      "127.0.0.1/32 password`");
}

}  // namespace causeway::node
