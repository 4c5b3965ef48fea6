#include "replication/coord/write_path.h"

#include <utility>

#include "replication/coord/coordinators.h"
#include "replication/coord/quorum.h"

namespace causeway::replication::coord {
namespace {

constexpr size_t kGeneratedKeyChars = 22;

PutResult Failed(Status s) { return PutResult{std::move(s), {}, {}}; }

}  // namespace

void WritePath::Put(PutRequest request, std::function<void(PutResult)> done) {
  Write(std::move(request), /*tombstone=*/false, std::move(done));
}

void WritePath::Delete(DeleteRequest request,
                       std::function<void(DeleteResult)> done) {
  auto write_tombstone = [this, done](DeleteRequest request,
                                      causal::VersionVector context) {
    PutRequest put;
    put.id = std::move(request.id);
    put.context = std::move(context);
    put.w = request.w ? request.w : request.rw;
    put.dw = request.dw;
    put.pw = request.pw;
    Write(std::move(put), /*tombstone=*/true,
          [done](PutResult r) { done(DeleteResult{std::move(r.status)}); });
  };
  if (!request.context.empty()) {
    causal::VersionVector context = request.context;
    write_tombstone(std::move(request), std::move(context));
    return;
  }
  GetRequest read;
  read.id = request.id;
  read.r = request.r;
  read.pr = request.pr;
  reads_.Get(std::move(read),
             [write_tombstone, done,
              request = std::move(request)](GetResult r) mutable {
               if (r.status.ok()) {
                 write_tombstone(std::move(request), r.object.clock());
               } else if (r.status.IsNotFound()) {
                 // Nothing live to delete; an existing tombstone stays as it
                 // is.
                 done(DeleteResult{Status::Ok()});
               } else {
                 done(DeleteResult{std::move(r.status)});
               }
             });
}

void WritePath::Write(PutRequest request, bool tombstone, Done done) {
  Status s = CheckId(request.id, false);
  if (!s.ok()) return done(Failed(s));
  if (request.id.key.empty()) request.id.key = GenerateKey();
  Route route;
  s = router_.Plan(request.id, /*for_write=*/true, &route);
  if (s.ok() && !tombstone && !route.props.datatype.empty()) {
    s = Status::InvalidArgument("bucket type '" + request.id.type + "' holds " +
                                route.props.datatype +
                                "s: update it as a data type, not with a put");
  }
  Quorums q;
  if (s.ok()) s = ResolveQuorums(route, request.w, request.dw, request.pw, &q);
  if (!s.ok()) return done(Failed(s));
  if (route.self_index) {
    Coordinate(route, std::move(request), tombstone, q, std::move(done));
  } else {
    Forward(route, std::move(request), tombstone, q, std::move(done));
  }
}

Status WritePath::ResolveQuorums(const Route& route,
                                 const std::optional<Quorum>& w,
                                 const std::optional<Quorum>& dw,
                                 const std::optional<Quorum>& pw, Quorums* q) {
  const uint32_t n = route.props.n_val;
  Status s = ResolveQuorum("w", w, route.props.w, n, route.replicas, &q->w);
  if (s.ok()) {
    s = ResolveQuorum("dw", dw, route.props.dw, n, route.replicas, &q->dw);
  }
  if (s.ok()) {
    s = ResolveQuorum("pw", pw, route.props.pw, n, route.replicas, &q->pw);
  }
  return s;
}

void WritePath::Coordinate(const Route& route, PutRequest request,
                           bool tombstone, Quorums quorums, Done done) {
  object::Object stored;
  Status s = CheckPreconditions(route, request);
  if (s.ok()) s = Apply(route, request, tombstone, &stored);
  if (s.ok()) s = RecordHints(route);
  if (!s.ok()) return done(Failed(s));
  const bool want_object = request.return_body || request.return_head;
  PutResult result{Status::Ok(), request.id.key,
                   want_object ? stored : object::Object()};
  Replicate(
      route, quorums, options_.timeout_ms, std::move(stored), std::nullopt,
      [done = std::move(done), result = std::move(result)](Status s) mutable {
        result.status = std::move(s);
        done(std::move(result));
      });
}

void WritePath::Replicate(const Route& route, Quorums quorums,
                          uint64_t timeout_ms, object::Object stored,
                          std::optional<object::Delta> delta,
                          std::function<void(Status)> done) {
  PutPlan plan;
  plan.key = route.key;
  plan.targets = route.targets;
  if (route.self_index) {
    plan.coordinator_index = *route.self_index;
  } else {
    // Forwarded here by a node with another view of the ring: this node is
    // an extra holder, counted like a replica.
    plan.targets.insert(plan.targets.begin(), Target{self_, false, "", true});
    plan.coordinator_index = 0;
  }
  plan.w = quorums.w;
  plan.dw = quorums.dw;
  plan.pw = quorums.pw;
  plan.resolution = route.props.resolution();
  plan.timeout_ms = timeout_ms;
  plan.delta = std::move(delta);
  plan.fallback = router_.FallbackFor(route);
  StartReplicate(env_, replicas_, std::move(plan), std::move(stored),
                 std::move(done));
}

Status WritePath::CheckPreconditions(const Route& route,
                                     const PutRequest& request) const {
  if (!request.if_not_modified && !request.if_none_match) return Status::Ok();
  object::Object current;
  Status s = store_.Read(route.key, &current);
  if (!s.ok() && !s.IsNotFound()) return s;
  const bool live = s.ok() && !current.IsTombstone();
  if (request.if_none_match && live) {
    return Status::PreconditionFailed("match_found");
  }
  if (request.if_not_modified && current.clock() != request.context) {
    return Status::PreconditionFailed("modified");
  }
  return Status::Ok();
}

Status WritePath::Apply(const Route& route, PutRequest& request, bool tombstone,
                        object::Object* stored) {
  // A node whose clock is suspect stamps nothing. The write is stamped
  // after its context's stamp: one from a clock running beyond the bound
  // would carry that clock's lead into this write.
  Status s = guard_.CheckSelf();
  if (s.ok()) s = guard_.Check(request.context.stamp(), "the write's context");
  if (!s.ok()) return s;
  object::Sibling content = std::move(request.content);
  content.deleted = tombstone;
  if (tombstone) content.value.clear();
  content.timestamp = clock_.Issue(env_.WallMillis());
  return store_.Coordinate(route.key, request.context, std::move(content),
                           route.props.resolution(), options_.always_sync,
                           stored);
}

Status WritePath::RecordHints(const Route& route) {
  Status s;
  if (route.self_index && !route.targets[*route.self_index].hint_for.empty()) {
    s = replicas_.RecordHint(route.targets[*route.self_index].hint_for,
                             route.key);
  }
  for (const NodeName& primary : route.uncovered) {
    if (s.ok()) s = replicas_.RecordHint(primary, route.key);
  }
  if (!route.self_index) {
    // Coordinating a forward while holding no replica (the forwarder saw a
    // primary down, this node does not): the copy here is owed to every
    // replica, so handoff moves it on even if none acknowledges now.
    for (const Target& t : route.targets) {
      if (s.ok() && t.counts) s = replicas_.RecordHint(t.node, route.key);
    }
  }
  return s;
}

void WritePath::Forward(const Route& route, PutRequest request, bool tombstone,
                        Quorums quorums, Done done) {
  const Target& to = route.targets.front();
  peer::Envelope m;
  peer::PutForward* f = m.mutable_put_forward();
  ToProto(route.key, f->mutable_key());
  f->set_context(request.context.Encode());
  // The value travels as a one-sibling object record; its dot is a
  // placeholder that the coordinator replaces.
  object::Object content;
  content.Update({}, std::move(request.content), /*actor=*/1,
                 object::Resolution::kKeepSiblings);
  f->set_content(content.Encode());
  f->set_w(quorums.w);
  f->set_dw(quorums.dw);
  f->set_pw(quorums.pw);
  f->set_return_object(request.return_body || request.return_head);
  f->set_if_not_modified(request.if_not_modified);
  f->set_if_none_match(request.if_none_match);
  f->set_tombstone(tombstone);
  messenger_.Request(
      to.node, std::move(m), options_.timeout_ms,
      [done = std::move(done), key = request.id.key, node = to.node](
          Status s, const peer::Envelope* reply) {
        PutResult result{Status::Ok(), key, {}};
        if (s.ok() && !reply->put_forward_reply().object().empty()) {
          s = object::Object::Decode(reply->put_forward_reply().object(),
                                     &result.object);
        }
        if (s.code() == Status::Code::kTimeout && reply == nullptr) {
          s = Status::Timeout("write forwarded to " + node +
                              " was not answered in time");
        }
        result.status = std::move(s);
        done(std::move(result));
      });
}

void WritePath::ServeForward(const NodeName& from,
                             const peer::Envelope& message,
                             Messenger::Respond respond) {
  const uint64_t id = message.request_id();
  std::optional<peer::Envelope> first_answer;
  if (!seen_forwards_.FirstSight(from, id, &first_answer)) {
    if (first_answer) respond(*first_answer);
    return;
  }
  auto answer = [this, from, id, respond](PutResult r) {
    peer::Envelope reply;
    ToPeerResult(r.status, reply.mutable_put_forward_reply()->mutable_result());
    if (r.status.ok() && !r.object.empty()) {
      reply.mutable_put_forward_reply()->set_object(r.object.Encode());
    }
    seen_forwards_.Answered(from, id, reply);
    respond(std::move(reply));
  };
  const peer::PutForward& f = message.put_forward();
  PutRequest request;
  request.id = ObjectId{f.key().type(), f.key().bucket(), f.key().key()};
  object::Object content;
  Status s = causal::VersionVector::Decode(f.context(), &request.context);
  if (s.ok()) s = object::Object::Decode(f.content(), &content);
  if (s.ok() && content.siblings().size() != 1) {
    s = Status::InvalidArgument("forwarded write without one value");
  }
  Route route;
  if (s.ok()) s = router_.Plan(request.id, /*for_write=*/true, &route);
  if (!s.ok()) return answer(Failed(s));
  request.content = content.siblings()[0];
  request.return_body = f.return_object();
  request.if_not_modified = f.if_not_modified();
  request.if_none_match = f.if_none_match();
  Coordinate(route, std::move(request), f.tombstone(),
             Quorums{f.w(), f.dw(), f.pw()}, std::move(answer));
}

bool WritePath::SeenForwards::FirstSight(
    const NodeName& from, uint64_t id, std::optional<peer::Envelope>* answer) {
  const Id key{from, id};
  if (auto it = answers_.find(key); it != answers_.end()) {
    *answer = it->second;
    return false;
  }
  answers_.emplace(key, std::nullopt);
  order_.push_back(key);
  if (order_.size() > kCapacity) {
    answers_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

void WritePath::SeenForwards::Answered(const NodeName& from, uint64_t id,
                                       const peer::Envelope& answer) {
  if (auto it = answers_.find(Id{from, id}); it != answers_.end()) {
    it->second = answer;
  }
}

std::string WritePath::GenerateKey() {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string key;
  uint64_t bits = 0;
  int left = 0;
  while (key.size() < kGeneratedKeyChars) {
    if (left < 6) {
      bits = env_.Random();
      left = 64;
    }
    const uint64_t v = bits & 63;
    bits >>= 6;
    left -= 6;
    if (v < 62) key.push_back(kAlphabet[v]);
  }
  return key;
}

}  // namespace causeway::replication::coord
