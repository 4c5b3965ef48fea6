#include "node/pbc_handler.h"

#include <array>
#include <chrono>
#include <utility>

#include "base/printable.h"
#include "node/pbc_handler_internal.h"
#include "node/stats.h"
#include "proto/riak.pb.h"

namespace causeway::node {
namespace pbc_internal {

using replication::ObjectId;
using replication::Quorum;

namespace {

// Names quoted in error messages are cut to this many bytes.
constexpr size_t kMaxQuotedName = 64;

uint64_t SteadyClockUs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

pbc::ErrorCode ErrorCodeOf(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return pbc::ErrorCode::kGeneric;
    case Status::Code::kNotFound:
      return pbc::ErrorCode::kNotFound;
    case Status::Code::kInvalidArgument:
      return pbc::ErrorCode::kBadRequest;
    case Status::Code::kUnavailable:
      return pbc::ErrorCode::kUnavailable;
    case Status::Code::kTimeout:
      return pbc::ErrorCode::kTimeout;
    case Status::Code::kPreconditionFailed:
      return pbc::ErrorCode::kPreconditionFailed;
    case Status::Code::kCorruption:
    case Status::Code::kIoError:
      return pbc::ErrorCode::kInternal;
  }
  return pbc::ErrorCode::kGeneric;
}

// Four bytes derived from the node name: stable across connections and
// restarts, which is all a client that asks can use.
std::string StableClientId(const std::string& node_name) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : node_name) {
    h ^= c;
    h *= 16777619u;
  }
  std::string id(4, '\0');
  for (int i = 0; i < 4; ++i) id[i] = static_cast<char>((h >> (24 - 8 * i)));
  return id;
}

}  // namespace

std::string Quote(std::string_view s) { return Printable(s, kMaxQuotedName); }

std::string Describe(const ObjectId& id) {
  return "'" + Quote(id.type) + "/" + Quote(id.bucket) + "/" + Quote(id.key) +
         "'";
}

std::string DescribeBucket(const std::string& type, const std::string& bucket) {
  return "'" + Quote(type) + "/" + Quote(bucket) + "'";
}

std::string TypeOrDefault(bool has_type, const std::string& type) {
  return has_type && !type.empty() ? type : replication::kDefaultType;
}

std::optional<Quorum> QuorumField(bool present, uint32_t wire) {
  if (!present) return std::nullopt;
  return Quorum::FromWire(wire);
}

void Finish(PbcResponder& r, std::string frame) {
  r.Send(std::move(frame));
  r.RequestDone();
}

void FinishWithStatus(PbcResponder& r, const std::string& what,
                      const Status& status) {
  Finish(r, EncodeErrorFrame(ErrorCodeOf(status),
                             what + " failed: " + status.ToString()));
}

void FinishBadRequest(PbcHandler::State& st, PbcResponder& r,
                      const std::string& message) {
  ++st.stats.bad_requests;
  Finish(r, EncodeErrorFrame(pbc::ErrorCode::kBadRequest, message));
}

bool RefuseLongNames(PbcHandler::State& st, PbcResponder& r,
                     std::string_view what, std::string_view type,
                     std::string_view bucket, std::string_view key) {
  const char* field = nullptr;
  size_t size = 0;
  for (auto [name, value] :
       {std::pair{"bucket type name", type}, std::pair{"bucket name", bucket},
        std::pair{"key", key}}) {
    if (value.size() > kMaxNameBytes) {
      field = name;
      size = value.size();
      break;
    }
  }
  if (field == nullptr) return false;
  ++st.stats.requests_refused_too_long;
  FinishBadRequest(st, r,
                   std::string(what) + ": the " + field + " is " +
                       std::to_string(size) + " bytes, over the limit of " +
                       std::to_string(kMaxNameBytes));
  return true;
}

void FinishUnparsable(PbcHandler::State& st, PbcResponder& r,
                      const char* message_name) {
  FinishBadRequest(st, r,
                   std::string("could not decode ") + message_name +
                       ": the body is not a valid message or lacks a "
                       "required field");
}

void HandlePing(const StatePtr& st, const Frame&, const ResponderPtr& r) {
  ++st->stats.other_requests;
  Finish(*r, EncodeFrame(pbc::Code::kPingResp));
}

void HandleGetServerInfo(const StatePtr& state, const Frame&,
                         const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  ++st.stats.other_requests;
  pbc::RpbGetServerInfoResp resp;
  resp.set_node(st.core.config().name);
  resp.set_server_version(st.options.server_version);
  Finish(r, EncodeFrame(pbc::Code::kGetServerInfoResp, resp));
}

void HandleGetClientId(const StatePtr& state, const Frame&,
                       const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  ++st.stats.other_requests;
  pbc::RpbGetClientIdResp resp;
  resp.set_client_id(st.client_id);
  Finish(r, EncodeFrame(pbc::Code::kGetClientIdResp, resp));
}

void HandleSetClientId(const StatePtr& state, const Frame& f,
                       const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  pbc::RpbSetClientIdReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbSetClientIdReq");
  }
  // Causality comes from server-side dots; a client id changes nothing.
  ++st.stats.other_requests;
  Finish(r, EncodeFrame(pbc::Code::kSetClientIdResp));
}

namespace {

// Who may send a request. kAnyone: any client, once logged in while
// security is on. kAdmin: administration; with security on, a user holding
// causeway.cluster_admin on any (from any address); otherwise loopback
// clients unless the node allows any address. kSession: the requests that
// establish the session (TLS, login), served before any login.
enum class Access { kAnyone, kAdmin, kSession };

struct Route {
  pbc::Code code;
  Handler handle;
  Access access = Access::kAnyone;
};

// Every request served, by message code. A group of handlers added in a
// file of its own (pbc_handler_internal.h) adds its rows here.
constexpr Route kRoutes[] = {
    {pbc::Code::kStartTls, HandleStartTls, Access::kSession},
    {pbc::Code::kAuthReq, HandleAuth, Access::kSession},
    {pbc::Code::kPingReq, HandlePing},
    {pbc::Code::kGetClientIdReq, HandleGetClientId},
    {pbc::Code::kSetClientIdReq, HandleSetClientId},
    {pbc::Code::kGetServerInfoReq, HandleGetServerInfo},
    {pbc::Code::kGetReq, HandleGet},
    {pbc::Code::kPutReq, HandlePut},
    {pbc::Code::kDelReq, HandleDelete},
    {pbc::Code::kGetBucketKeyPreflistReq, HandlePreflist},
    {pbc::Code::kListBucketsReq, HandleListBuckets},
    {pbc::Code::kListKeysReq, HandleListKeys},
    {pbc::Code::kGetBucketReq, HandleGetBucket},
    {pbc::Code::kSetBucketReq, HandleSetBucket},
    {pbc::Code::kResetBucketReq, HandleResetBucket},
    {pbc::Code::kGetBucketTypeReq, HandleGetBucketType},
    {pbc::Code::kSetBucketTypeReq, HandleSetBucketType, Access::kAdmin},
    {pbc::Code::kCreateBucketTypeReq, HandleCreateBucketType, Access::kAdmin},
    {pbc::Code::kListBucketTypesReq, HandleListBucketTypes},
    {pbc::Code::kDtFetchReq, HandleDtFetch},
    {pbc::Code::kDtUpdateReq, HandleDtUpdate},
    {pbc::Code::kClusterJoinReq, HandleClusterJoin, Access::kAdmin},
    {pbc::Code::kClusterLeaveReq, HandleClusterLeave, Access::kAdmin},
    {pbc::Code::kClusterStatusReq, HandleClusterStatus, Access::kAdmin},
    {pbc::Code::kSecurityChangeReq, HandleSecurityChange, Access::kAdmin},
    {pbc::Code::kSecurityStatusReq, HandleSecurityStatus, Access::kAdmin},
};

// The route of `code`, or null.
const Route* FindRoute(uint8_t code) {
  static const std::array<const Route*, 256> routes = [] {
    std::array<const Route*, 256> by_code{};
    for (const Route& route : kRoutes) {
      by_code[static_cast<uint8_t>(route.code)] = &route;
    }
    return by_code;
  }();
  return routes[code];
}

}  // namespace
}  // namespace pbc_internal

using pbc_internal::Finish;

PbcHandler::PbcHandler(replication::NodeCore& core, Stats& stats,
                       PbcHandlerOptions options)
    : state_(std::make_shared<State>(core, stats, std::move(options))) {
  if (!state_->options.clock_us) {
    state_->options.clock_us = pbc_internal::SteadyClockUs;
  }
  state_->client_id = pbc_internal::StableClientId(core.config().name);
}

PbcHandler::~PbcHandler() = default;

void PbcHandler::Handle(Frame frame, std::shared_ptr<PbcResponder> responder) {
  using pbc_internal::Access;
  const pbc_internal::Route* route = pbc_internal::FindRoute(frame.code);
  const bool secure = pbc_internal::SecurityOn(*state_);
  if (secure && (route == nullptr || route->access != Access::kSession)) {
    // Riak's order: TLS first, then a login, then anything else (unknown
    // codes included, so nothing about the server leaks before a login).
    const Session& session = responder->session();
    if (!session.tls || !session.user) {
      ++state_->stats.client_security.unauthenticated;
      return Finish(
          *responder,
          EncodeErrorFrame(
              pbc::ErrorCode::kUnauthenticated,
              !session.tls ? "Security is enabled, please STARTTLS first"
                           : "Security is enabled, please authenticate first"));
    }
  }
  if (route != nullptr) {
    if (route->access == Access::kAdmin) {
      if (secure) {
        if (pbc_internal::RefuseUnlessAllowed(
                *state_, *responder, Permission::kClusterAdmin, "", "")) {
          return;
        }
      } else if (!state_->options.admin_from_any_address &&
                 !responder->FromLoopback()) {
        ++state_->stats.bad_requests;
        return Finish(*responder,
                      EncodeErrorFrame(
                          pbc::ErrorCode::kBadRequest,
                          "cluster administration and bucket-type changes are "
                          "accepted from loopback clients only (node setting "
                          "admin_from_any_address)"));
      }
    }
    return route->handle(state_, frame, responder);
  }
  ++state_->stats.bad_requests;
  Finish(*responder, EncodeErrorFrame(pbc::ErrorCode::kUnknownMessage,
                                      "unknown or unsupported message code " +
                                          std::to_string(frame.code)));
}

void PbcHandler::RejectStream(const FrameDecoder& decoder,
                              PbcResponder& responder) {
  ++state_->stats.bad_requests;
  pbc::ErrorCode code = decoder.error() == FrameDecoder::Error::kTooLarge
                            ? pbc::ErrorCode::kFrameTooLarge
                            : pbc::ErrorCode::kBadRequest;
  responder.Send(EncodeErrorFrame(
      code, decoder.ErrorMessage() + "; closing the connection"));
  responder.Close();
}

}  // namespace causeway::node
