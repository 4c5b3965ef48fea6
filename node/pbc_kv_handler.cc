// Objects: get, put and delete, and the preference list of a key. Riak's
// RpbContent becomes a sibling and back here; vclocks are the core's
// encoded version vectors, and a client's is decoded defensively.

#include <cstdio>
#include <optional>
#include <utility>

#include "node/pbc_handler_internal.h"
#include "node/stats.h"
#include "proto/riak.pb.h"
#include "replication/causal/version_vector.h"
#include "replication/object/object.h"

namespace causeway::node::pbc_internal {

using replication::ObjectId;
using replication::causal::VersionVector;

namespace {

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

}  // namespace

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
  if (RefuseLongNames(*st, *r, "get", req.type(), req.bucket(), req.key())) {
    return;
  }
  if (RefuseUnlessAllowed(*st, *r, Permission::kGet,
                          TypeOrDefault(req.has_type(), req.type()),
                          req.bucket())) {
    return;
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
  if (RefuseLongNames(*st, *r, "put", req.type(), req.bucket(), req.key())) {
    return;
  }
  if (RefuseUnlessAllowed(*st, *r, Permission::kPut,
                          TypeOrDefault(req.has_type(), req.type()),
                          req.bucket())) {
    return;
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
  if (RefuseLongNames(*st, *r, "delete", req.type(), req.bucket(), req.key())) {
    return;
  }
  if (RefuseUnlessAllowed(*st, *r, Permission::kDelete,
                          TypeOrDefault(req.has_type(), req.type()),
                          req.bucket())) {
    return;
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

void HandlePreflist(const StatePtr& state, const Frame& f,
                    const ResponderPtr& responder) {
  PbcHandler::State& st = *state;
  PbcResponder& r = *responder;
  pbc::RpbGetBucketKeyPreflistReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(st, r, "RpbGetBucketKeyPreflistReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(st, r, "preflist: the bucket name is empty");
  }
  if (RefuseLongNames(st, r, "preflist", req.type(), req.bucket(), req.key())) {
    return;
  }
  // Riak 2.1 has riak_kv.get_preflist for this; Causeway's permissions stop
  // at Riak 2.0's, and a preference list tells no more than a get would.
  if (RefuseUnlessAllowed(st, r, Permission::kGet,
                          TypeOrDefault(req.has_type(), req.type()),
                          req.bucket())) {
    return;
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

}  // namespace causeway::node::pbc_internal
