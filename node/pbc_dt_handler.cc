// Riak's data types on the client port: DtFetchReq (80) -> DtFetchResp (81)
// and DtUpdateReq (82) -> DtUpdateResp (83). The bucket type's `datatype`
// decides which type a key holds; the replication layer refuses a request
// on a type without one, and an operation for another type is refused here
// before it reaches the core.
#include <optional>
#include <string>
#include <utility>

#include "node/pbc_dt_convert.h"
#include "node/pbc_handler_internal.h"
#include "node/stats.h"

namespace causeway::node::pbc_internal {
namespace {

namespace crdt = replication::crdt;

std::optional<uint64_t> TimeoutField(bool present, uint32_t ms) {
  if (!present || ms == 0) return std::nullopt;
  return ms;
}

// What the bucket type holds, or why the request cannot be served.
Status DataTypeOfType(replication::NodeCore& core, const std::string& type,
                      crdt::TypeTag* tag) {
  replication::BucketProps props;
  Status s = core.GetBucketTypeProps(type, &props);
  if (!s.ok()) return s;
  if (props.datatype.empty()) {
    return Status::InvalidArgument(
        "bucket type " + Quote(type) +
        " has no datatype property; data-type requests need a bucket type "
        "created with datatype=counter|set|gset|hll|map");
  }
  if (!crdt::ParseTypeName(props.datatype, tag)) {
    return Status::InvalidArgument("bucket type " + Quote(type) +
                                   " has an unknown datatype " +
                                   Quote(props.datatype));
  }
  return Status::Ok();
}

}  // namespace

void HandleDtFetch(const StatePtr& st, const Frame& f, const ResponderPtr& r) {
  pbc::DtFetchReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "DtFetchReq");
  }
  if (req.bucket().empty() || req.key().empty() || req.type().empty()) {
    return FinishBadRequest(
        *st, *r, "data-type fetch: the type, bucket and key must be named");
  }
  if (RefuseLongNames(*st, *r, "data-type fetch", req.type(), req.bucket(),
                      req.key())) {
    return;
  }
  if (RefuseUnlessAllowed(*st, *r, Permission::kGet, req.type(),
                          req.bucket())) {
    return;
  }
  replication::FetchRequest fetch;
  fetch.id = replication::ObjectId{req.type(), req.bucket(), req.key()};
  fetch.r = QuorumField(req.has_r(), req.r());
  fetch.pr = QuorumField(req.has_pr(), req.pr());
  if (req.has_basic_quorum()) fetch.basic_quorum = req.basic_quorum();
  if (req.has_notfound_ok()) fetch.notfound_ok = req.notfound_ok();
  fetch.timeout_ms = TimeoutField(req.has_timeout(), req.timeout());
  fetch.include_context = !req.has_include_context() || req.include_context();

  ++st->stats.dt_fetches;
  std::string what = "data-type fetch of " + Describe(fetch.id);
  st->core.Fetch(std::move(fetch),
                 [st, r, what](replication::FetchResult result) {
                   const Status& status = result.status;
                   if (!status.ok() && !status.IsNotFound()) {
                     ++st->stats.dt_fetch_errors;
                     return FinishWithStatus(*r, what, status);
                   }
                   pbc::DtFetchResp resp;
                   resp.set_type(DtTypeOf(result.type));
                   // Not found is a reply without a value, as in Riak.
                   if (status.ok()) {
                     FillDtValue(result.value, resp.mutable_value());
                     if (!result.context.empty())
                       resp.set_context(result.context);
                   }
                   Finish(*r, EncodeFrame(pbc::Code::kDtFetchResp, resp));
                 });
}

void HandleDtUpdate(const StatePtr& st, const Frame& f, const ResponderPtr& r) {
  pbc::DtUpdateReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "DtUpdateReq");
  }
  if (req.bucket().empty() || req.type().empty()) {
    return FinishBadRequest(
        *st, *r, "data-type update: the type and bucket must be named");
  }
  if (RefuseLongNames(*st, *r, "data-type update", req.type(), req.bucket(),
                      req.key())) {
    return;
  }
  if (RefuseUnlessAllowed(*st, *r, Permission::kPut, req.type(),
                          req.bucket())) {
    return;
  }
  replication::UpdateRequest update;
  // An empty key asks the core to generate one.
  update.id = replication::ObjectId{req.type(), req.bucket(), req.key()};
  std::string what = update.id.key.empty()
                         ? "data-type update in " +
                               DescribeBucket(update.id.type, update.id.bucket)
                         : "data-type update of " + Describe(update.id);
  crdt::TypeTag tag = crdt::TypeTag::kCounter;
  Status s = DataTypeOfType(st->core, req.type(), &tag);
  if (s.ok()) s = OperationFromDtOp(req.op(), tag, &update.op);
  if (!s.ok()) {
    ++st->stats.bad_requests;
    return FinishWithStatus(*r, what, s);
  }
  if (req.has_context()) update.context = req.context();
  update.w = QuorumField(req.has_w(), req.w());
  update.dw = QuorumField(req.has_dw(), req.dw());
  update.pw = QuorumField(req.has_pw(), req.pw());
  update.timeout_ms = TimeoutField(req.has_timeout(), req.timeout());
  update.return_body = req.return_body();
  update.include_context = !req.has_include_context() || req.include_context();

  ++st->stats.dt_updates;
  const bool generated_key = update.id.key.empty();
  const bool return_body = update.return_body;
  st->core.Update(std::move(update), [st, r, what, generated_key, return_body](
                                         replication::UpdateResult result) {
    if (!result.status.ok()) {
      ++st->stats.dt_update_errors;
      return FinishWithStatus(*r, what, result.status);
    }
    pbc::DtUpdateResp resp;
    if (generated_key) resp.set_key(result.key);
    if (return_body) {
      FillDtUpdateValue(result.value, &resp);
      if (!result.context.empty()) resp.set_context(result.context);
    }
    Finish(*r, EncodeFrame(pbc::Code::kDtUpdateResp, resp));
  });
}

}  // namespace causeway::node::pbc_internal
