// Bucket and bucket type properties: read, set and reset, converted
// between Riak's RpbBucketProps and the core's properties.

#include <utility>

#include "node/pbc_handler_internal.h"
#include "node/stats.h"
#include "proto/admin.pb.h"
#include "proto/riak.pb.h"

namespace causeway::node::pbc_internal {

using replication::BucketProps;
using replication::BucketPropsPatch;

namespace {

void ToRpbBucketProps(const BucketProps& p, pbc::RpbBucketProps* out) {
  out->set_n_val(p.n_val);
  out->set_allow_mult(p.allow_mult);
  out->set_last_write_wins(p.last_write_wins);
  out->set_r(p.r.ToWire());
  out->set_w(p.w.ToWire());
  out->set_pr(p.pr.ToWire());
  out->set_pw(p.pw.ToWire());
  out->set_dw(p.dw.ToWire());
  out->set_rw(p.rw.ToWire());
  out->set_basic_quorum(p.basic_quorum);
  out->set_notfound_ok(p.notfound_ok);
  if (!p.datatype.empty()) out->set_datatype(p.datatype);
  out->set_hll_precision(p.hll_precision);
  // Said explicitly so clients do not assume Riak's optional features.
  out->set_consistent(false);
  out->set_write_once(false);
}

// Fields Causeway has no use for (hooks, key and link functions, vclock
// pruning, backend, search, repl) are accepted and ignored;
// features a client would rely on and silently not get are refused.
Status FromRpbBucketProps(const pbc::RpbBucketProps& p, BucketPropsPatch* out) {
  if (p.has_consistent() && p.consistent()) {
    return Status::InvalidArgument(
        "strongly consistent buckets (consistent=true) are not supported by "
        "Causeway");
  }
  if (p.has_write_once() && p.write_once()) {
    return Status::InvalidArgument(
        "write_once buckets are not supported by Causeway");
  }
  if (p.has_ttl() && p.ttl() != 0) {
    return Status::InvalidArgument(
        "object expiry (ttl) is not supported by Causeway");
  }
  BucketPropsPatch patch;
  if (p.has_n_val()) patch.n_val = p.n_val();
  if (p.has_allow_mult()) patch.allow_mult = p.allow_mult();
  if (p.has_last_write_wins()) patch.last_write_wins = p.last_write_wins();
  patch.r = QuorumField(p.has_r(), p.r());
  patch.w = QuorumField(p.has_w(), p.w());
  patch.pr = QuorumField(p.has_pr(), p.pr());
  patch.pw = QuorumField(p.has_pw(), p.pw());
  patch.dw = QuorumField(p.has_dw(), p.dw());
  patch.rw = QuorumField(p.has_rw(), p.rw());
  if (p.has_basic_quorum()) patch.basic_quorum = p.basic_quorum();
  if (p.has_notfound_ok()) patch.notfound_ok = p.notfound_ok();
  if (p.has_datatype()) patch.datatype = p.datatype();
  if (p.has_hll_precision()) patch.hll_precision = p.hll_precision();
  *out = std::move(patch);
  return Status::Ok();
}

// Converts and checks client properties; false once an error is sent.
bool PatchOrReject(PbcHandler::State& st, PbcResponder& r,
                   const pbc::RpbBucketProps& props, const std::string& what,
                   BucketPropsPatch* patch) {
  Status s = FromRpbBucketProps(props, patch);
  if (s.ok()) s = patch->Validate();
  if (!s.ok()) {
    ++st.stats.bad_requests;
    FinishWithStatus(r, what, s);
    return false;
  }
  return true;
}

}  // namespace

void HandleGetBucket(const StatePtr& state, const Frame& f,
                     const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  pbc::RpbGetBucketReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbGetBucketReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(st, r, "get bucket: the bucket name is empty");
  }
  if (RefuseLongNames(st, r, "get bucket", req.type(), req.bucket())) return;
  if (RefuseUnlessAllowed(st, r, Permission::kGetBucket,
                          TypeOrDefault(req.has_type(), req.type()),
                          req.bucket())) {
    return;
  }
  ++st.stats.other_requests;
  std::string type = TypeOrDefault(req.has_type(), req.type());
  BucketProps props;
  Status s = st.core.GetBucketProps(type, req.bucket(), &props);
  if (!s.ok()) {
    return FinishWithStatus(
        r, "reading the properties of " + DescribeBucket(type, req.bucket()),
        s);
  }
  pbc::RpbGetBucketResp resp;
  ToRpbBucketProps(props, resp.mutable_props());
  Finish(r, EncodeFrame(pbc::Code::kGetBucketResp, resp));
}

void HandleSetBucket(const StatePtr& state, const Frame& f,
                     const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  pbc::RpbSetBucketReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbSetBucketReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(st, r, "set bucket: the bucket name is empty");
  }
  if (RefuseLongNames(st, r, "set bucket", req.type(), req.bucket())) return;
  if (RefuseUnlessAllowed(st, r, Permission::kSetBucket,
                          TypeOrDefault(req.has_type(), req.type()),
                          req.bucket())) {
    return;
  }
  std::string type = TypeOrDefault(req.has_type(), req.type());
  std::string what =
      "setting the properties of " + DescribeBucket(type, req.bucket());
  BucketPropsPatch patch;
  if (!PatchOrReject(st, r, req.props(), what, &patch)) return;
  ++st.stats.other_requests;
  Status s = st.core.SetBucketProps(type, req.bucket(), patch);
  if (!s.ok()) return FinishWithStatus(r, what, s);
  Finish(r, EncodeFrame(pbc::Code::kSetBucketResp));
}

void HandleResetBucket(const StatePtr& state, const Frame& f,
                       const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  pbc::RpbResetBucketReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbResetBucketReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(st, r, "reset bucket: the bucket name is empty");
  }
  if (RefuseLongNames(st, r, "reset bucket", req.type(), req.bucket())) {
    return;
  }
  if (RefuseUnlessAllowed(st, r, Permission::kSetBucket,
                          TypeOrDefault(req.has_type(), req.type()),
                          req.bucket())) {
    return;
  }
  ++st.stats.other_requests;
  std::string type = TypeOrDefault(req.has_type(), req.type());
  Status s = st.core.ResetBucketProps(type, req.bucket());
  if (!s.ok()) {
    return FinishWithStatus(
        r, "resetting the properties of " + DescribeBucket(type, req.bucket()),
        s);
  }
  Finish(r, EncodeFrame(pbc::Code::kResetBucketResp));
}

void HandleGetBucketType(const StatePtr& state, const Frame& f,
                         const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  pbc::RpbGetBucketTypeReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbGetBucketTypeReq");
  }
  if (req.type().empty()) {
    return FinishBadRequest(st, r, "get bucket type: the type name is empty");
  }
  if (RefuseLongNames(st, r, "get bucket type", req.type(), {})) return;
  if (RefuseUnlessAllowed(st, r, Permission::kGetBucketType, req.type(), "")) {
    return;
  }
  ++st.stats.other_requests;
  BucketProps props;
  Status s = st.core.GetBucketTypeProps(req.type(), &props);
  if (s.IsNotFound()) {
    return Finish(r, EncodeErrorFrame(pbc::ErrorCode::kNotFound,
                                      "bucket type '" + Quote(req.type()) +
                                          "' does not exist"));
  }
  if (!s.ok()) {
    return FinishWithStatus(
        r, "reading bucket type '" + Quote(req.type()) + "'", s);
  }
  pbc::RpbGetBucketResp resp;
  ToRpbBucketProps(props, resp.mutable_props());
  Finish(r, EncodeFrame(pbc::Code::kGetBucketResp, resp));
}

namespace {

// Set (32) and create (206) take the same body; only the core call differs.
void ChangeBucketType(const StatePtr& state, const Frame& f,
                      const ResponderPtr& responder, const char* verb,
                      Status (replication::NodeCore::*change)(
                          const std::string&, const BucketPropsPatch&)) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  pbc::RpbSetBucketTypeReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbSetBucketTypeReq");
  }
  if (req.type().empty()) {
    return FinishBadRequest(
        st, r, std::string(verb) + " bucket type: the type name is empty");
  }
  if (RefuseLongNames(st, r, std::string(verb) + " bucket type", req.type(),
                      {})) {
    return;
  }
  // Administration already asked for causeway.cluster_admin; a type's
  // properties are also Riak's riak_core.set_bucket_type on that type.
  if (RefuseUnlessAllowed(st, r, Permission::kSetBucketType, req.type(), "")) {
    return;
  }
  std::string what =
      std::string(verb) + " bucket type '" + Quote(req.type()) + "'";
  BucketPropsPatch patch;
  if (!PatchOrReject(st, r, req.props(), what, &patch)) return;
  ++st.stats.other_requests;
  Status s = (st.core.*change)(req.type(), patch);
  if (!s.ok()) return FinishWithStatus(r, what, s);
  Finish(r, EncodeFrame(pbc::Code::kSetBucketResp));
}

}  // namespace

void HandleSetBucketType(const StatePtr& state, const Frame& f,
                         const ResponderPtr& responder) {
  ChangeBucketType(state, f, responder, "setting",
                   &replication::NodeCore::SetBucketTypeProps);
}

void HandleCreateBucketType(const StatePtr& state, const Frame& f,
                            const ResponderPtr& responder) {
  ChangeBucketType(state, f, responder, "creating",
                   &replication::NodeCore::CreateBucketType);
}

void HandleListBucketTypes(const StatePtr& state, const Frame&,
                           const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  // Riak has no such request: listing every type's properties is reading
  // each type, so it takes riak_core.get_bucket_type on any.
  if (RefuseUnlessAllowed(st, *responder, Permission::kGetBucketType, "", "")) {
    return;
  }
  ++st.stats.other_requests;
  admin::CwListBucketTypesResp resp;
  for (const std::string& name : st.core.BucketTypeNames()) {
    BucketProps props;
    // A type listed a moment ago cannot vanish: types are never deleted.
    if (!st.core.GetBucketTypeProps(name, &props).ok()) continue;
    admin::CwBucketType* t = resp.add_types();
    t->set_name(name);
    ToRpbBucketProps(props, t->mutable_props());
  }
  Finish(*responder, EncodeFrame(pbc::Code::kListBucketTypesResp, resp));
}

}  // namespace causeway::node::pbc_internal
