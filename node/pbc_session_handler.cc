// The connection's side of Riak's security: switching to TLS (RpbStartTls),
// logging in (RpbAuthReq), and the one permission check every handler asks
// for. Refusals use Riak's words (riak_api's pb server, riak_core's
// security module), so clients and operators who know Riak see what they
// expect.

#include <spdlog/spdlog.h>

#include "node/pbc_handler_internal.h"
#include "node/stats.h"
#include "proto/riak.pb.h"

namespace causeway::node::pbc_internal {

namespace {

// "ANY", "type 'maps'" or "'maps/users'": what a grant was missing on.
std::string DescribeScope(const std::string& type, const std::string& bucket) {
  if (type.empty()) return "ANY";
  if (bucket.empty()) return "type '" + Quote(type) + "'";
  return DescribeBucket(type, bucket);
}

}  // namespace

bool SecurityOn(const PbcHandler::State& st) {
  return st.options.security != nullptr && st.options.security->Enabled();
}

bool RefuseUnlessAllowed(PbcHandler::State& st, PbcResponder& r,
                         Permission permission, const std::string& type,
                         const std::string& bucket) {
  if (!SecurityOn(st)) return false;
  const Session& session = r.session();
  // PbcHandler::Handle lets no request through without a user while
  // security is on; security switched on since then finds none here.
  if (session.user &&
      st.options.security->Allowed(*session.user, permission, type, bucket)) {
    return false;
  }
  ++st.stats.client_security.permission_denied;
  const std::string user = session.user ? Quote(*session.user) : "";
  Finish(r, EncodeErrorFrame(pbc::ErrorCode::kPermissionDenied,
                             "Permission denied: User '" + user +
                                 "' does not have '" +
                                 std::string(PermissionName(permission)) +
                                 "' on " + DescribeScope(type, bucket)));
  return true;
}

void HandleStartTls(const StatePtr& state, const Frame&,
                    const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  switch (r.StartTls()) {
    case PbcResponder::TlsStart::kStarted:
      ++st.stats.other_requests;
      // Riak's answer: the request's own code with no body, in plain text;
      // the handshake starts once it is written.
      return Finish(r, EncodeFrame(pbc::Code::kStartTls));
    case PbcResponder::TlsStart::kNotConfigured:
      return FinishBadRequest(
          st, r,
          "STARTTLS not allowed: this node has no TLS certificate for the "
          "client port (settings tls_cert_file and tls_key_file)");
    case PbcResponder::TlsStart::kAlreadyTls:
      return FinishBadRequest(
          st, r, "STARTTLS not allowed: the connection runs over TLS already");
    case PbcResponder::TlsStart::kPipelined:
      // Those bytes were sent in plain text but meant for after the
      // handshake: neither reading them as requests nor as TLS is right.
      ++st.stats.bad_requests;
      r.Send(EncodeErrorFrame(
          pbc::ErrorCode::kBadRequest,
          "STARTTLS refused: the client sent more bytes before the TLS "
          "handshake; closing the connection"));
      r.Close();
      r.RequestDone();
      return;
  }
}

void HandleAuth(const StatePtr& state, const Frame& f,
                const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  if (!SecurityOn(st)) {
    // Riak does not serve the code at all then ("Unknown message code:
    // 253"); saying why helps more.
    return FinishBadRequest(st, r,
                            "Security not enabled; authentication not needed");
  }
  Session& session = r.session();
  if (!session.tls) {
    // A password in plain text is refused before it is even parsed.
    ++st.stats.client_security.unauthenticated;
    return Finish(r, EncodeErrorFrame(pbc::ErrorCode::kUnauthenticated,
                                      "Security is enabled, please STARTTLS "
                                      "first"));
  }
  pbc::RpbAuthReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbAuthReq");
  }
  if (session.user) {
    return FinishBadRequest(st, r,
                            "already authenticated as '" +
                                Quote(*session.user) +
                                "'; open a new connection to log in again");
  }
  Status s =
      st.options.security->Authenticate(req.user(), req.password(), session);
  if (s.ok()) {
    ++st.stats.client_security.auth_successes;
    session.user = req.user();
    return Finish(r, EncodeFrame(pbc::Code::kAuthResp));
  }
  ++st.stats.client_security.auth_failures;
  ++r.failed_logins;
  spdlog::debug("pbc: login of '{}' from {} refused: {}", Quote(req.user()),
                session.address, s.ToString());
  // Unknown user, wrong password and a missing source read the same.
  if (r.failed_logins < kMaxFailedLogins) {
    return Finish(r, EncodeErrorFrame(pbc::ErrorCode::kUnauthenticated,
                                      "Authentication failed"));
  }
  r.Send(EncodeErrorFrame(pbc::ErrorCode::kUnauthenticated,
                          "Authentication failed; closing the connection "
                          "after " +
                              std::to_string(kMaxFailedLogins) +
                              " refused logins"));
  r.Close();
  r.RequestDone();
}

}  // namespace causeway::node::pbc_internal
