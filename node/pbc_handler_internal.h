#pragma once
// What PbcHandler's request handlers share (node/pbc_handler.h is the
// interface; this header is for node/pbc_handler.cc and the pbc_*_handler.cc
// files only): the state every request holds, the ways a request ends, how
// names are quoted, and the handlers themselves. Handlers come in groups of
// Riak messages, one group a file, and pbc_handler.cc dispatches to them
// from one table of message code -> handler: a new group of messages is a
// new file, its declarations below and its rows in that table.
//
// Every handler ends its request exactly once, now or from the core's
// callback later: a Finish*() function sends the last frame and calls
// PbcResponder::RequestDone(). Input that is refused ends the request with
// an RpbErrorResp and never reaches the core.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "node/pbc_codec.h"
#include "node/pbc_handler.h"
#include "replication/buckets/bucket_props.h"
#include "replication/core.h"

namespace causeway::node {

struct PbcHandler::State {
  State(replication::NodeCore& c, Stats& s, PbcHandlerOptions o)
      : core(c), stats(s), options(std::move(o)) {}

  uint64_t NowUs() const { return options.clock_us(); }

  replication::NodeCore& core;
  Stats& stats;
  PbcHandlerOptions options;
  std::string client_id;  // what GetClientId answers
};

namespace pbc_internal {

using StatePtr = std::shared_ptr<PbcHandler::State>;
using ResponderPtr = std::shared_ptr<PbcResponder>;

// Serves one request (the frame's code is the handler's). Requests that
// call the core asynchronously keep `state` and `responder` alive in the
// callback.
using Handler = void (*)(const StatePtr& state, const Frame& frame,
                         const ResponderPtr& responder);

// --- How a request ends (pbc_handler.cc) -------------------------------------

// Replies with the request's final frame and releases the connection.
void Finish(PbcResponder& r, std::string frame);
// An RpbErrorResp "<what> failed: <status>", its code from the status.
void FinishWithStatus(PbcResponder& r, const std::string& what,
                      const Status& status);
// Input refused before it reaches the core: counted as a bad request.
void FinishBadRequest(PbcHandler::State& st, PbcResponder& r,
                      const std::string& message);
// A body that does not parse as `message_name` or lacks a required field.
void FinishUnparsable(PbcHandler::State& st, PbcResponder& r,
                      const char* message_name);

// --- Security (pbc_session_handler.cc) ---------------------------------------

// Whether requests on this node are checked now: a gate is configured and
// reports security enabled.
bool SecurityOn(const PbcHandler::State& st);
// With security on, ends the request with Riak's "Permission denied" error
// (naming the user, the permission and the type and bucket) and returns
// true unless the connection's user holds `permission` on (type, bucket).
// An empty bucket asks about the whole type, an empty type about any
// (the gate's convention). With security off it returns false at once.
// Every handler calls it once it has parsed the request, before the core.
bool RefuseUnlessAllowed(PbcHandler::State& st, PbcResponder& r,
                         Permission permission, const std::string& type,
                         const std::string& bucket);

// --- Names and fields of requests (pbc_handler.cc) ---------------------------

// If the type, bucket or key is over kMaxNameBytes, ends the request with
// an RpbErrorResp saying which (a bad request, also counted as refused too
// long) and returns true; the connection stays usable. `what` names the
// request ("get", "put", ...).
bool RefuseLongNames(PbcHandler::State& st, PbcResponder& r,
                     std::string_view what, std::string_view type,
                     std::string_view bucket, std::string_view key = {});

// Bucket, key and node names are arbitrary bytes; an error message quotes
// them escaped and cut short (base/printable.h).
std::string Quote(std::string_view s);
// 'type/bucket/key' and 'type/bucket', quoted.
std::string Describe(const replication::ObjectId& id);
std::string DescribeBucket(const std::string& type, const std::string& bucket);
// The bucket type a request names, or the default type.
std::string TypeOrDefault(bool has_type, const std::string& type);
// A quorum field of a request: absent, or Riak's wire encoding.
std::optional<replication::Quorum> QuorumField(bool present, uint32_t wire);

// --- Handlers ----------------------------------------------------------------

// The connection's security: RpbStartTls and RpbAuthReq, served before any
// login (pbc_session_handler.cc).
void HandleStartTls(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleAuth(const StatePtr&, const Frame&, const ResponderPtr&);

// The server itself (pbc_handler.cc).
void HandlePing(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleGetClientId(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleSetClientId(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleGetServerInfo(const StatePtr&, const Frame&, const ResponderPtr&);

// Objects: get, put, delete, and where a key lives (pbc_kv_handler.cc).
void HandleGet(const StatePtr&, const Frame&, const ResponderPtr&);
void HandlePut(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleDelete(const StatePtr&, const Frame&, const ResponderPtr&);
void HandlePreflist(const StatePtr&, const Frame&, const ResponderPtr&);

// Bucket and bucket type properties (pbc_bucket_handler.cc).
void HandleGetBucket(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleSetBucket(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleResetBucket(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleGetBucketType(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleSetBucketType(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleCreateBucketType(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleListBucketTypes(const StatePtr&, const Frame&, const ResponderPtr&);

// Listing buckets and keys, streamed in bounded frames
// (pbc_list_handler.cc).
void HandleListBuckets(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleListKeys(const StatePtr&, const Frame&, const ResponderPtr&);

// Riak's data types: fetch and update (pbc_dt_handler.cc).
void HandleDtFetch(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleDtUpdate(const StatePtr&, const Frame&, const ResponderPtr&);

// Causeway's cluster administration, codes 200-205 (pbc_cluster_handler.cc).
void HandleClusterJoin(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleClusterLeave(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleClusterStatus(const StatePtr&, const Frame&, const ResponderPtr&);

// Riak's security state: changes and status, codes 209-212
// (pbc_security_handler.cc).
void HandleSecurityChange(const StatePtr&, const Frame&, const ResponderPtr&);
void HandleSecurityStatus(const StatePtr&, const Frame&, const ResponderPtr&);

}  // namespace pbc_internal
}  // namespace causeway::node
