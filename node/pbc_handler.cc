#include "node/pbc_handler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "base/host_port.h"
#include "base/printable.h"
#include "base/status.h"
#include "node/stats.h"
#include "proto/admin.pb.h"
#include "proto/riak.pb.h"
#include "replication/buckets/bucket_props.h"
#include "replication/causal/version_vector.h"
#include "replication/core.h"
#include "replication/object/object.h"

namespace causeway::node {

using replication::BucketProps;
using replication::BucketPropsPatch;
using replication::NodeCore;
using replication::ObjectId;
using replication::Quorum;
using replication::causal::VersionVector;

struct PbcHandler::State {
  State(NodeCore& c, Stats& s, PbcHandlerOptions o)
      : core(c), stats(s), options(std::move(o)) {}

  uint64_t NowUs() const { return options.clock_us(); }

  NodeCore& core;
  Stats& stats;
  PbcHandlerOptions options;
  std::string client_id;  // what GetClientId answers
};

namespace {

using StatePtr = std::shared_ptr<PbcHandler::State>;
using ResponderPtr = std::shared_ptr<PbcResponder>;

// A listing batch is split into frames of about this size, so one frame
// never carries a whole large bucket's keys.
constexpr size_t kListChunkBytes = 256 << 10;
// Per-item overhead of a repeated bytes field: tag plus length varint.
constexpr size_t kRepeatedBytesOverhead = 6;
// Names quoted in error messages are cut to this many bytes.
constexpr size_t kMaxQuotedName = 64;

uint64_t SteadyClockUs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// Bucket and key names are arbitrary bytes; an error message quotes them in
// a form any terminal or log can show.
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

// Replies with the request's final frame and releases the connection.
void Finish(PbcResponder& r, std::string frame) {
  r.Send(std::move(frame));
  r.RequestDone();
}

void FinishWithStatus(PbcResponder& r, const std::string& what,
                      const Status& status) {
  Finish(r, EncodeErrorFrame(ErrorCodeOf(status),
                             what + " failed: " + status.ToString()));
}

// Input we refuse before it reaches the core.
void FinishBadRequest(PbcHandler::State& st, PbcResponder& r,
                      const std::string& message) {
  ++st.stats.bad_requests;
  Finish(r, EncodeErrorFrame(pbc::ErrorCode::kBadRequest, message));
}

void FinishUnparsable(PbcHandler::State& st, PbcResponder& r,
                      const char* message_name) {
  FinishBadRequest(st, r,
                   std::string("could not decode ") + message_name +
                       ": the body is not a valid message or lacks a "
                       "required field");
}

// Empty or absent bytes mean "no context" (a blind write); anything else
// must be a vclock this server issued.
Status DecodeVclock(const std::string& bytes, VersionVector* out) {
  if (bytes.empty()) {
    *out = VersionVector();
    return Status::Ok();
  }
  return VersionVector::Decode(bytes, out);
}

// A stable tag per sibling: its dot, which names exactly one write.
std::string VtagOf(const replication::causal::Dot& dot) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%016llx%llx",
                static_cast<unsigned long long>(dot.actor),
                static_cast<unsigned long long>(dot.counter));
  return buf;
}

void ToRpbContent(const replication::object::Sibling& s, bool with_value,
                  pbc::RpbContent* c) {
  c->set_value(with_value ? s.value : std::string());
  const auto& m = s.meta;
  if (!m.content_type.empty()) c->set_content_type(m.content_type);
  if (!m.charset.empty()) c->set_charset(m.charset);
  if (!m.content_encoding.empty()) c->set_content_encoding(m.content_encoding);
  c->set_vtag(VtagOf(s.dot));
  for (const auto& link : m.links) {
    pbc::RpbLink* l = c->add_links();
    l->set_bucket(link.bucket);
    l->set_key(link.key);
    l->set_tag(link.tag);
  }
  uint64_t wall_ms = s.timestamp.wall_ms;
  c->set_last_mod(static_cast<uint32_t>(wall_ms / 1000));
  c->set_last_mod_usecs(static_cast<uint32_t>((wall_ms % 1000) * 1000));
  for (const auto& [key, value] : m.usermeta) {
    pbc::RpbPair* p = c->add_usermeta();
    p->set_key(key);
    p->set_value(value);
  }
  for (const auto& [key, value] : m.indexes) {
    pbc::RpbPair* p = c->add_indexes();
    p->set_key(key);
    p->set_value(value);
  }
}

// Value and metadata only: the node sets dot, timestamp and deleted.
replication::object::Sibling FromRpbContent(const pbc::RpbContent& c) {
  replication::object::Sibling s;
  s.value = c.value();
  s.meta.content_type = c.content_type();
  s.meta.charset = c.charset();
  s.meta.content_encoding = c.content_encoding();
  for (const auto& p : c.usermeta())
    s.meta.usermeta.emplace_back(p.key(), p.value());
  for (const auto& p : c.indexes())
    s.meta.indexes.emplace_back(p.key(), p.value());
  for (const auto& l : c.links()) {
    s.meta.links.push_back(
        replication::object::Link{l.bucket(), l.key(), l.tag()});
  }
  return s;
}

// Fills `resp` with the object's live siblings and clock; returns the value
// bytes.
template <typename Resp>
size_t FillContents(const replication::object::Object& object, bool with_values,
                    Resp* resp) {
  size_t bytes = 0;
  for (const auto* s : object.LiveSiblings()) {
    ToRpbContent(*s, with_values, resp->add_content());
    bytes += s->value.size();
  }
  resp->set_vclock(object.clock().Encode());
  return bytes;
}

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
  // Said explicitly so clients do not assume Riak's optional features.
  out->set_consistent(false);
  out->set_write_once(false);
}

// Fields Causeway has no use for (hooks, key and link functions, vclock
// pruning, backend, search, repl, hll_precision) are accepted and ignored;
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
  *out = std::move(patch);
  return Status::Ok();
}

// Sends `items` as frames of about kListChunkBytes each.
template <typename Resp, typename Add>
void SendChunked(PbcResponder& r, pbc::Code code,
                 std::vector<std::string> items, Add add) {
  Resp resp;
  size_t bytes = 0;
  for (auto& item : items) {
    size_t cost = item.size() + kRepeatedBytesOverhead;
    if (bytes > 0 && bytes + cost > kListChunkBytes) {
      r.Send(EncodeFrame(code, resp));
      resp.Clear();
      bytes = 0;
    }
    add(resp, std::move(item));
    bytes += cost;
  }
  if (bytes > 0) r.Send(EncodeFrame(code, resp));
}

// --- requests --------------------------------------------------------------

void HandleGetServerInfo(PbcHandler::State& st, PbcResponder& r) {
  ++st.stats.other_requests;
  pbc::RpbGetServerInfoResp resp;
  resp.set_node(st.core.config().name);
  resp.set_server_version(st.options.server_version);
  Finish(r, EncodeFrame(pbc::Code::kGetServerInfoResp, resp));
}

void HandleGetClientId(PbcHandler::State& st, PbcResponder& r) {
  ++st.stats.other_requests;
  pbc::RpbGetClientIdResp resp;
  resp.set_client_id(st.client_id);
  Finish(r, EncodeFrame(pbc::Code::kGetClientIdResp, resp));
}

void HandleSetClientId(PbcHandler::State& st, const Frame& f, PbcResponder& r) {
  pbc::RpbSetClientIdReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbSetClientIdReq");
  }
  // Causality comes from server-side dots; a client id changes nothing.
  ++st.stats.other_requests;
  Finish(r, EncodeFrame(pbc::Code::kSetClientIdResp));
}

void HandleGet(const StatePtr& st, const Frame& f, const ResponderPtr& r) {
  pbc::RpbGetReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "RpbGetReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(*st, *r, "get: the bucket name is empty");
  }
  if (req.key().empty()) {
    return FinishBadRequest(*st, *r, "get: the key is empty");
  }
  replication::GetRequest get;
  get.id = ObjectId{TypeOrDefault(req.has_type(), req.type()), req.bucket(),
                    req.key()};
  get.r = QuorumField(req.has_r(), req.r());
  get.pr = QuorumField(req.has_pr(), req.pr());
  if (req.has_basic_quorum()) get.basic_quorum = req.basic_quorum();
  if (req.has_notfound_ok()) get.notfound_ok = req.notfound_ok();
  get.head = req.head();
  if (req.has_if_modified()) {
    VersionVector clock;
    Status s = VersionVector::Decode(req.if_modified(), &clock);
    if (!s.ok()) {
      return FinishBadRequest(
          *st, *r,
          "get: if_modified is not a vclock issued by this cluster (" +
              s.message() + ")");
    }
    get.if_modified = std::move(clock);
  }

  ++st->stats.gets;
  bool head = req.head();
  bool deletedvclock = req.deletedvclock();
  std::string what = "get of " + Describe(get.id);
  uint64_t start = st->NowUs();
  st->core.Get(std::move(get), [st, r, head, deletedvclock, start,
                                what](replication::GetResult result) {
    st->stats.get_latency_us.Record(st->NowUs() - start);
    const Status& status = result.status;
    if (!status.ok() && !status.IsNotFound()) {
      ++st->stats.get_errors;
      return FinishWithStatus(*r, what, status);
    }
    pbc::RpbGetResp resp;
    if (status.ok() && result.unchanged) {
      resp.set_unchanged(true);
    } else if (status.ok() && !result.object.LiveSiblings().empty()) {
      size_t bytes = FillContents(result.object, !head, &resp);
      st->stats.siblings.Record(resp.content_size());
      st->stats.object_bytes.Record(bytes);
    } else {
      // Not found is an empty reply; a tombstone's clock only on request,
      // so a client can overwrite the deletion causally.
      ++st->stats.get_not_found;
      if (deletedvclock && !result.object.clock().empty()) {
        resp.set_vclock(result.object.clock().Encode());
      }
    }
    Finish(*r, EncodeFrame(pbc::Code::kGetResp, resp));
  });
}

void HandlePut(const StatePtr& st, const Frame& f, const ResponderPtr& r) {
  pbc::RpbPutReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "RpbPutReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(*st, *r, "put: the bucket name is empty");
  }
  replication::PutRequest put;
  // An empty key asks the core to generate one.
  put.id = ObjectId{TypeOrDefault(req.has_type(), req.type()), req.bucket(),
                    req.key()};
  Status s = DecodeVclock(req.vclock(), &put.context);
  if (!s.ok()) {
    return FinishBadRequest(
        *st, *r,
        "put: the vclock is not one issued by this cluster (" + s.message() +
            "); nothing was written");
  }
  put.content = FromRpbContent(req.content());
  put.w = QuorumField(req.has_w(), req.w());
  put.dw = QuorumField(req.has_dw(), req.dw());
  put.pw = QuorumField(req.has_pw(), req.pw());
  put.return_body = req.return_body();
  put.return_head = req.return_head();
  put.if_not_modified = req.if_not_modified();
  put.if_none_match = req.if_none_match();

  ++st->stats.puts;
  bool generated_key = put.id.key.empty();
  bool with_body = put.return_body || put.return_head;
  bool with_values = put.return_body && !put.return_head;
  bool if_none_match = put.if_none_match;
  bool if_not_modified = put.if_not_modified;
  size_t value_bytes = put.content.value.size();
  std::string what =
      generated_key ? "put to " + DescribeBucket(put.id.type, put.id.bucket)
                    : "put of " + Describe(put.id);
  uint64_t start = st->NowUs();
  st->core.Put(std::move(put), [st, r, generated_key, with_body, with_values,
                                if_none_match, if_not_modified, value_bytes,
                                start, what](replication::PutResult result) {
    st->stats.put_latency_us.Record(st->NowUs() - start);
    const Status& status = result.status;
    if (!status.ok()) {
      ++st->stats.put_errors;
      if (status.code() == Status::Code::kPreconditionFailed &&
          (if_none_match || if_not_modified)) {
        // Riak clients recognise these exact messages. With both flags the
        // existence check is the one that can fail first.
        return Finish(
            *r, EncodeErrorFrame(pbc::ErrorCode::kPreconditionFailed,
                                 if_none_match ? "match_found" : "modified"));
      }
      return FinishWithStatus(*r, what, status);
    }
    st->stats.object_bytes.Record(value_bytes);
    pbc::RpbPutResp resp;
    if (generated_key) resp.set_key(result.key);
    if (with_body) FillContents(result.object, with_values, &resp);
    Finish(*r, EncodeFrame(pbc::Code::kPutResp, resp));
  });
}

void HandleDelete(const StatePtr& st, const Frame& f, const ResponderPtr& r) {
  pbc::RpbDelReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "RpbDelReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(*st, *r, "delete: the bucket name is empty");
  }
  if (req.key().empty()) {
    return FinishBadRequest(*st, *r, "delete: the key is empty");
  }
  replication::DeleteRequest del;
  del.id = ObjectId{TypeOrDefault(req.has_type(), req.type()), req.bucket(),
                    req.key()};
  Status s = DecodeVclock(req.vclock(), &del.context);
  if (!s.ok()) {
    return FinishBadRequest(
        *st, *r,
        "delete: the vclock is not one issued by this cluster (" + s.message() +
            "); nothing was deleted");
  }
  del.rw = QuorumField(req.has_rw(), req.rw());
  del.r = QuorumField(req.has_r(), req.r());
  del.w = QuorumField(req.has_w(), req.w());
  del.pr = QuorumField(req.has_pr(), req.pr());
  del.pw = QuorumField(req.has_pw(), req.pw());
  del.dw = QuorumField(req.has_dw(), req.dw());

  ++st->stats.deletes;
  std::string what = "delete of " + Describe(del.id);
  uint64_t start = st->NowUs();
  st->core.Delete(std::move(del),
                  [st, r, start, what](replication::DeleteResult result) {
                    st->stats.delete_latency_us.Record(st->NowUs() - start);
                    // Deleting what is not there leaves it not there: success,
                    // as in Riak.
                    if (!result.status.ok() && !result.status.IsNotFound()) {
                      ++st->stats.delete_errors;
                      return FinishWithStatus(*r, what, result.status);
                    }
                    Finish(*r, EncodeFrame(pbc::Code::kDelResp));
                  });
}

// One listing in progress. The core calls back with batches; the first
// error or the batch marked done ends it, and later calls are ignored.
struct Listing {
  bool finished = false;
  std::vector<std::string> collected;  // non-streamed bucket lists
  size_t collected_bytes = 0;
};

void HandleListBuckets(const StatePtr& st, const Frame& f,
                       const ResponderPtr& r) {
  pbc::RpbListBucketsReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "RpbListBucketsReq");
  }
  ++st->stats.list_requests;
  std::string type = TypeOrDefault(req.has_type(), req.type());
  bool stream = req.stream();
  auto listing = std::make_shared<Listing>();
  auto add = [](pbc::RpbListBucketsResp& m, std::string&& s) {
    m.add_buckets(std::move(s));
  };
  // Room for the frame's own overhead under the limit.
  size_t limit =
      st->options.max_frame_bytes > 64 ? st->options.max_frame_bytes - 64 : 0;
  std::string what = "listing the buckets of type '" + Quote(type) + "'";
  st->core.ListBuckets(type, [st, r, listing, stream, add, limit, what](
                                 const Status& status,
                                 std::vector<std::string> items, bool done) {
    if (listing->finished) return;
    if (!status.ok()) {
      listing->finished = true;
      return FinishWithStatus(*r, what, status);
    }
    if (stream) {
      SendChunked<pbc::RpbListBucketsResp>(*r, pbc::Code::kListBucketsResp,
                                           std::move(items), add);
      if (done) {
        listing->finished = true;
        pbc::RpbListBucketsResp last;
        last.set_done(true);
        Finish(*r, EncodeFrame(pbc::Code::kListBucketsResp, last));
      }
      return;
    }
    for (auto& item : items) {
      listing->collected_bytes += item.size() + kRepeatedBytesOverhead;
      listing->collected.push_back(std::move(item));
    }
    if (listing->collected_bytes > limit) {
      listing->finished = true;
      listing->collected.clear();
      return Finish(*r, EncodeErrorFrame(
                            pbc::ErrorCode::kBadRequest,
                            what + " failed: too many buckets for one reply; "
                                   "ask with stream=true"));
    }
    if (done) {
      listing->finished = true;
      pbc::RpbListBucketsResp all;
      for (auto& b : listing->collected) all.add_buckets(std::move(b));
      listing->collected.clear();
      Finish(*r, EncodeFrame(pbc::Code::kListBucketsResp, all));
    }
  });
}

void HandleListKeys(const StatePtr& st, const Frame& f, const ResponderPtr& r) {
  pbc::RpbListKeysReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "RpbListKeysReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(*st, *r, "list keys: the bucket name is empty");
  }
  ++st->stats.list_requests;
  std::string type = TypeOrDefault(req.has_type(), req.type());
  auto listing = std::make_shared<Listing>();
  auto add = [](pbc::RpbListKeysResp& m, std::string&& s) {
    m.add_keys(std::move(s));
  };
  std::string what =
      "listing the keys of " + DescribeBucket(type, req.bucket());
  st->core.ListKeys(
      type, req.bucket(),
      [r, listing, add, what](const Status& status,
                              std::vector<std::string> items, bool done) {
        if (listing->finished) return;
        if (!status.ok()) {
          listing->finished = true;
          return FinishWithStatus(*r, what, status);
        }
        SendChunked<pbc::RpbListKeysResp>(*r, pbc::Code::kListKeysResp,
                                          std::move(items), add);
        if (done) {
          listing->finished = true;
          pbc::RpbListKeysResp last;
          last.set_done(true);
          Finish(*r, EncodeFrame(pbc::Code::kListKeysResp, last));
        }
      });
}

void HandleGetBucket(PbcHandler::State& st, const Frame& f, PbcResponder& r) {
  pbc::RpbGetBucketReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbGetBucketReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(st, r, "get bucket: the bucket name is empty");
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

void HandleSetBucket(PbcHandler::State& st, const Frame& f, PbcResponder& r) {
  pbc::RpbSetBucketReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbSetBucketReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(st, r, "set bucket: the bucket name is empty");
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

void HandleResetBucket(PbcHandler::State& st, const Frame& f, PbcResponder& r) {
  pbc::RpbResetBucketReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbResetBucketReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(st, r, "reset bucket: the bucket name is empty");
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

void HandleGetBucketType(PbcHandler::State& st, const Frame& f,
                         PbcResponder& r) {
  pbc::RpbGetBucketTypeReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbGetBucketTypeReq");
  }
  if (req.type().empty()) {
    return FinishBadRequest(st, r, "get bucket type: the type name is empty");
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

void HandleSetBucketType(PbcHandler::State& st, const Frame& f,
                         PbcResponder& r) {
  pbc::RpbSetBucketTypeReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbSetBucketTypeReq");
  }
  if (req.type().empty()) {
    return FinishBadRequest(st, r, "set bucket type: the type name is empty");
  }
  std::string what = "setting bucket type '" + Quote(req.type()) + "'";
  BucketPropsPatch patch;
  if (!PatchOrReject(st, r, req.props(), what, &patch)) return;
  ++st.stats.other_requests;
  Status s = st.core.SetBucketTypeProps(req.type(), patch);
  if (!s.ok()) return FinishWithStatus(r, what, s);
  Finish(r, EncodeFrame(pbc::Code::kSetBucketResp));
}

void HandlePreflist(PbcHandler::State& st, const Frame& f, PbcResponder& r) {
  pbc::RpbGetBucketKeyPreflistReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbGetBucketKeyPreflistReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(st, r, "preflist: the bucket name is empty");
  }
  ++st.stats.other_requests;
  ObjectId id{TypeOrDefault(req.has_type(), req.type()), req.bucket(),
              req.key()};
  std::vector<replication::PreflistEntry> preflist;
  Status s = st.core.Preflist(id, &preflist);
  if (!s.ok()) {
    return FinishWithStatus(
        r, "looking up the preference list of " + Describe(id), s);
  }
  pbc::RpbGetBucketKeyPreflistResp resp;
  for (const auto& entry : preflist) {
    pbc::RpbBucketKeyPreflistItem* item = resp.add_preflist();
    item->set_partition(entry.partition);
    item->set_node(entry.node);
    item->set_primary(entry.primary);
  }
  Finish(r, EncodeFrame(pbc::Code::kGetBucketKeyPreflistResp, resp));
}

// --- cluster administration (proto/admin.proto) ----------------------------

// Node names and peer addresses are configured strings; anything longer or
// with spaces or control bytes cannot name a member and is refused before
// it reaches the core.
constexpr size_t kMaxNodeNameBytes = 255;
constexpr size_t kMaxAddressBytes = 255 + 1 + 5;

// HOST:PORT (base/host_port.h) within the length limit; the empty string
// when it is acceptable, else what is wrong with it.
std::string CheckPeerAddress(std::string_view a) {
  if (a.empty()) return "the seed address is empty";
  if (a.size() > kMaxAddressBytes) {
    return "the seed address is longer than " +
           std::to_string(kMaxAddressBytes) + " bytes";
  }
  if (HasSpaceOrControl(a)) {
    return "the seed address '" + Quote(a) +
           "' contains spaces or control characters";
  }
  HostPort parsed;
  if (Status s = ParseHostPort(a, &parsed); !s.ok()) {
    return "the seed address '" + Quote(a) +
           "' is not HOST:PORT with the seed's peer port (" + s.message() + ")";
  }
  return "";
}

void HandleClusterJoin(const StatePtr& st, const Frame& f,
                       const ResponderPtr& r) {
  admin::CwClusterJoinReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "CwClusterJoinReq");
  }
  std::string problem = CheckPeerAddress(req.seed());
  if (!problem.empty()) {
    return FinishBadRequest(*st, *r, "cluster join: " + problem);
  }
  ++st->stats.other_requests;
  std::string what = "joining the cluster of " + Quote(req.seed());
  st->core.Join(req.seed(), [r, what](Status status) {
    if (!status.ok()) return FinishWithStatus(*r, what, status);
    Finish(*r, EncodeFrame(pbc::Code::kClusterJoinResp));
  });
}

void HandleClusterLeave(const StatePtr& st, const Frame& f,
                        const ResponderPtr& r) {
  admin::CwClusterLeaveReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "CwClusterLeaveReq");
  }
  // Absent or empty: the answering node itself.
  const std::string& node = req.node();
  if (node.size() > kMaxNodeNameBytes || HasSpaceOrControl(node)) {
    return FinishBadRequest(
        *st, *r,
        "cluster leave: '" + Quote(node) +
            "' is not a node name (at most 255 bytes, no spaces or control "
            "characters)");
  }
  ++st->stats.other_requests;
  std::string what =
      node.empty()
          ? "leaving the cluster (node " + Quote(st->core.config().name) + ")"
          : "making node " + Quote(node) + " leave the cluster";
  st->core.Leave(node, [r, what](Status status) {
    if (!status.ok()) return FinishWithStatus(*r, what, status);
    Finish(*r, EncodeFrame(pbc::Code::kClusterLeaveResp));
  });
}

void ToCwHandoff(const replication::handoff::HandoffProgress& p,
                 admin::CwHandoff* out) {
  out->set_hints_pending(p.hints_pending);
  out->set_hints_delivered(p.hints_delivered);
  out->set_transfer_running(p.transfer_running);
  out->set_transfer_keys_scanned(p.transfer_keys_scanned);
  out->set_transfer_keys_done(p.transfer_keys_done);
  out->set_transfer_partition(p.transfer_partition);
  out->set_cleanup_running(p.cleanup_running);
  out->set_cleanup_keys_done(p.cleanup_keys_done);
}

void ToCwAae(const replication::aae::AaeStatus& a, admin::CwAae* out) {
  out->set_enabled(a.enabled);
  out->set_now_ms(a.now_wall_ms);
  out->set_exchanges(a.exchanges);
  out->set_exchanges_failed(a.exchanges_failed);
  out->set_keys_repaired(a.keys_repaired);
  out->set_tombstones_reaped(a.tombstones_reaped);
  out->set_bytes_sent(a.bytes_sent);
  out->set_bytes_received(a.bytes_received);
  out->set_rebuilds_done(a.rebuilds_done);
  out->set_rebuilds_pending(a.rebuilds_pending);
  for (const auto& p : a.partitions) {
    admin::CwAaePartition* o = out->add_partitions();
    o->set_partition(p.partition);
    o->set_ready(p.ready);
    o->set_root(p.root);
    o->set_exchanges(p.exchanges);
    o->set_keys_repaired(p.keys_repaired);
    o->set_tombstones_reaped(p.tombstones_reaped);
    o->set_last_exchange_ms(p.last_exchange_wall_ms);
    o->set_last_peer(p.last_peer);
    o->set_last_error(p.last_error);
    if (p.rebuild) {
      o->set_rebuild_phase(static_cast<uint32_t>(p.rebuild->phase));
      o->set_rebuild_keys_scanned(p.rebuild->keys_scanned);
      o->set_rebuild_is_sum(p.rebuild->sum_at_start);
      o->set_rebuild_segments_done(p.rebuild->segments_done);
    }
  }
}

// The request has no body; anything sent is ignored, as for ping, so a
// later request message with optional fields stays compatible.
void HandleClusterStatus(PbcHandler::State& st, PbcResponder& r) {
  ++st.stats.other_requests;
  replication::ClusterView view = st.core.View();
  admin::CwClusterStatusResp resp;
  resp.set_node(view.self);
  resp.set_claimant(view.claimant);
  resp.set_ring_version(view.ring_version);
  resp.set_ring_size(view.ring_size);
  for (const auto& m : view.members) {
    admin::CwMember* out = resp.add_members();
    out->set_name(m.name);
    out->set_address(m.address);
    out->set_status(m.status);
    out->set_up(m.up);
    out->set_partitions(m.partitions);
    out->set_next_partitions(m.next_partitions);
    out->set_last_heard_ms_ago(m.last_heard_ms_ago);
  }
  resp.set_pending_transfers(view.pending_transfers);
  for (const auto& n : view.transfers_done) resp.add_transfers_done(n);
  for (const auto& n : view.owners) resp.add_owners(n);
  for (const auto& n : view.next_owners) resp.add_next_owners(n);
  ToCwHandoff(view.handoff, resp.mutable_handoff());
  ToCwAae(st.core.AaeView(), resp.mutable_aae());
  Finish(r, EncodeFrame(pbc::Code::kClusterStatusResp, resp));
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

PbcHandler::PbcHandler(NodeCore& core, Stats& stats, PbcHandlerOptions options)
    : state_(std::make_shared<State>(core, stats, std::move(options))) {
  if (!state_->options.clock_us) state_->options.clock_us = SteadyClockUs;
  state_->client_id = StableClientId(core.config().name);
}

PbcHandler::~PbcHandler() = default;

void PbcHandler::Handle(Frame frame, std::shared_ptr<PbcResponder> responder) {
  State& st = *state_;
  PbcResponder& r = *responder;
  switch (static_cast<pbc::Code>(frame.code)) {
    case pbc::Code::kPingReq:
      ++st.stats.other_requests;
      return Finish(r, EncodeFrame(pbc::Code::kPingResp));
    case pbc::Code::kGetClientIdReq:
      return HandleGetClientId(st, r);
    case pbc::Code::kSetClientIdReq:
      return HandleSetClientId(st, frame, r);
    case pbc::Code::kGetServerInfoReq:
      return HandleGetServerInfo(st, r);
    case pbc::Code::kGetReq:
      return HandleGet(state_, frame, responder);
    case pbc::Code::kPutReq:
      return HandlePut(state_, frame, responder);
    case pbc::Code::kDelReq:
      return HandleDelete(state_, frame, responder);
    case pbc::Code::kListBucketsReq:
      return HandleListBuckets(state_, frame, responder);
    case pbc::Code::kListKeysReq:
      return HandleListKeys(state_, frame, responder);
    case pbc::Code::kGetBucketReq:
      return HandleGetBucket(st, frame, r);
    case pbc::Code::kSetBucketReq:
      return HandleSetBucket(st, frame, r);
    case pbc::Code::kResetBucketReq:
      return HandleResetBucket(st, frame, r);
    case pbc::Code::kGetBucketTypeReq:
      return HandleGetBucketType(st, frame, r);
    case pbc::Code::kSetBucketTypeReq:
      return HandleSetBucketType(st, frame, r);
    case pbc::Code::kGetBucketKeyPreflistReq:
      return HandlePreflist(st, frame, r);
    case pbc::Code::kClusterJoinReq:
      return HandleClusterJoin(state_, frame, responder);
    case pbc::Code::kClusterLeaveReq:
      return HandleClusterLeave(state_, frame, responder);
    case pbc::Code::kClusterStatusReq:
      return HandleClusterStatus(st, r);
    default:
      break;
  }
  ++st.stats.bad_requests;
  Finish(r, EncodeErrorFrame(pbc::ErrorCode::kUnknownMessage,
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
