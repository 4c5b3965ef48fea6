// Riak's security state on the client port (codes 209-212,
// proto/admin.proto): one change request (enable, disable, users, sources,
// grants) and one status request. Passwords are hashed here, in the node
// layer, and the core gets the finished record; permission names are
// checked against node/security_gate.h's list. Enabling is refused unless
// some administrator could still log in afterwards.

#include <string>
#include <string_view>
#include <vector>

#include "node/password_hash.h"
#include "node/pbc_handler_internal.h"
#include "node/security_gate_impl.h"
#include "node/stats.h"
#include "proto/admin.pb.h"
#include "replication/security/security_registry.h"

namespace causeway::node::pbc_internal {
namespace {

namespace sec = replication::security;
using Op = sec::Change::Op;

// More names than this in one request is a mistake, not a use.
constexpr int kMaxUsersPerChange = 64;

constexpr std::pair<std::string_view, Op> kOps[] = {
    {"enable", Op::kEnable},        {"disable", Op::kDisable},
    {"add-user", Op::kAddUser},     {"alter-user", Op::kAlterUser},
    {"del-user", Op::kDelUser},     {"add-source", Op::kAddSource},
    {"del-source", Op::kDelSource}, {"grant", Op::kGrant},
    {"revoke", Op::kRevoke},
};

std::string KnownPermissions() {
  std::string out;
  for (const auto& [perm, name] : kPermissionNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// The change a request asks for, or what is wrong with it (empty when
// nothing is). Does not hash the password.
std::string ToChange(const admin::CwSecurityChangeReq& req, sec::Change* c) {
  bool known = false;
  for (const auto& [name, op] : kOps) {
    if (req.op() == name) {
      c->op = op;
      known = true;
    }
  }
  if (!known) {
    return "unknown security operation '" + Quote(req.op()) +
           "' (enable, disable, add-user, alter-user, del-user, add-source, "
           "del-source, grant, revoke)";
  }
  if (req.users_size() > kMaxUsersPerChange) {
    return "at most " + std::to_string(kMaxUsersPerChange) +
           " users in one change";
  }
  for (const auto& u : req.users()) {
    if (u != sec::kAllUsers) {
      if (Status s = sec::CheckUserName(u); !s.ok()) {
        return "'" + Quote(u) + "': " + s.message();
      }
    }
    c->users.push_back(u);
  }
  const bool user_op =
      c->op == Op::kAddUser || c->op == Op::kAlterUser || c->op == Op::kDelUser;
  if (user_op) {
    if (c->users.size() != 1 || c->users[0] == sec::kAllUsers) {
      return "name exactly one user ('all' is not a user)";
    }
  } else if ((c->op != Op::kEnable && c->op != Op::kDisable) &&
             c->users.empty()) {
    return "name a user, several, or all";
  }
  if (req.has_password() && c->op != Op::kAddUser && c->op != Op::kAlterUser) {
    return "only add-user and alter-user take a password";
  }
  if (c->op == Op::kAddSource || c->op == Op::kDelSource) {
    if (!req.has_cidr()) return "a source needs a network (ADDRESS/PREFIX)";
    sec::Cidr cidr;
    if (Status s = sec::Cidr::Parse(req.cidr(), &cidr); !s.ok()) {
      return s.message();
    }
    c->cidr = cidr.ToString();
  }
  if (c->op == Op::kAddSource && !sec::ParseMethod(req.method(), &c->method)) {
    return "a source's method is trust, password or certificate, not '" +
           Quote(req.method()) + "'";
  }
  if (c->op == Op::kGrant || c->op == Op::kRevoke) {
    if (req.type().size() > sec::kMaxScopeNameBytes ||
        req.bucket().size() > sec::kMaxScopeNameBytes) {
      return "grant scopes name types and buckets of at most " +
             std::to_string(sec::kMaxScopeNameBytes) + " bytes";
    }
    if (req.type().empty() && !req.bucket().empty()) {
      return "a grant on a bucket needs its bucket type";
    }
    c->type = req.type();
    c->bucket = req.bucket();
    if (req.permissions().empty()) return "name at least one permission";
    for (const auto& p : req.permissions()) {
      if (!ParsePermission(p)) {
        return "unknown permission '" + Quote(p) +
               "' (known: " + KnownPermissions() + ")";
      }
      c->permissions.push_back(p);
    }
  }
  return "";
}

}  // namespace

void HandleSecurityChange(const StatePtr& state, const Frame& f,
                          const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  ++st.stats.other_requests;
  admin::CwSecurityChangeReq req;
  if (!req.ParseFromString(f.body) || !req.has_op()) {
    return FinishUnparsable(st, *responder, "CwSecurityChangeReq");
  }
  sec::Change change;
  if (std::string why = ToChange(req, &change); !why.empty()) {
    return FinishBadRequest(st, *responder, "security change refused: " + why);
  }
  if (req.has_password()) {
    Status s = HashPassword(req.password(), kDefaultPasswordIterations,
                            &change.password);
    if (!s.ok()) {
      return FinishWithStatus(*responder, "security " + req.op(), s);
    }
  }
  if (change.op == Op::kEnable) {
    Status s = CheckAdministratorCanLogIn(st.core.SecurityView());
    if (!s.ok()) return FinishWithStatus(*responder, "security enable", s);
  }
  Status s = st.core.ChangeSecurity(change);
  if (!s.ok()) return FinishWithStatus(*responder, "security " + req.op(), s);
  Finish(*responder, EncodeFrame(pbc::Code::kSecurityChangeResp));
}

void HandleSecurityStatus(const StatePtr& state, const Frame&,
                          const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  ++st.stats.other_requests;
  const sec::SecurityRegistry& view = st.core.SecurityView();
  admin::CwSecurityStatusResp resp;
  resp.set_enabled(view.enabled());
  for (const sec::Record* u : view.Users()) {
    admin::CwSecurityUser* out = resp.add_users();
    out->set_name(u->user);
    out->set_has_password(!u->password.empty());
  }
  for (const sec::Record* s : view.Sources()) {
    admin::CwSecuritySource* out = resp.add_sources();
    out->set_user(s->user);
    out->set_cidr(s->cidr);
    out->set_method(std::string(sec::MethodName(s->method)));
  }
  for (const sec::Record* g : view.Grants()) {
    admin::CwSecurityGrant* out = resp.add_grants();
    out->set_user(g->user);
    if (!g->type.empty()) out->set_type(g->type);
    if (!g->bucket.empty()) out->set_bucket(g->bucket);
    for (const auto& p : g->permissions) out->add_permissions(p);
  }
  Finish(*responder, EncodeFrame(pbc::Code::kSecurityStatusResp, resp));
}

}  // namespace causeway::node::pbc_internal
