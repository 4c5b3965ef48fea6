// WritePath's data-type updates (write_path.h): an operation instead of a
// value, applied to the coordinator's state, and only its delta replicated.
#include <utility>

#include "replication/coord/write_path.h"

namespace causeway::replication::coord {
namespace {

// The type each operation belongs to.
crdt::TypeTag TypeOf(const crdt::Operation& op) {
  struct Visitor {
    crdt::TypeTag operator()(const crdt::CounterOp&) const {
      return crdt::TypeTag::kCounter;
    }
    crdt::TypeTag operator()(const crdt::SetOp&) const {
      return crdt::TypeTag::kSet;
    }
    crdt::TypeTag operator()(const crdt::MapOp&) const {
      return crdt::TypeTag::kMap;
    }
    crdt::TypeTag operator()(const crdt::HllOp&) const {
      return crdt::TypeTag::kHll;
    }
    crdt::TypeTag operator()(const crdt::GSetOp&) const {
      return crdt::TypeTag::kGSet;
    }
  };
  return std::visit(Visitor{}, op);
}

}  // namespace

Status WritePath::PlanUpdate(const UpdateRequest& request, Route* route,
                             crdt::TypeTag* tag) const {
  Status s = router_.Plan(request.id, /*for_write=*/true, route);
  if (s.ok()) s = DataTypeOf(request.id, route->props, tag);
  if (s.ok() && TypeOf(request.op) != *tag) {
    s = Status::InvalidArgument(
        std::string("a ") + crdt::TypeName(TypeOf(request.op)) +
        " operation on bucket type '" + request.id.type + "', which holds " +
        crdt::TypeName(*tag) + "s");
  }
  return s;
}

void WritePath::Update(UpdateRequest request,
                       std::function<void(UpdateResult)> done) {
  Status s = CheckId(request.id, false);
  if (s.ok() && request.id.key.empty()) request.id.key = GenerateKey();
  Route route;
  crdt::TypeTag tag = crdt::TypeTag::kCounter;
  if (s.ok()) s = PlanUpdate(request, &route, &tag);
  Quorums q;
  if (s.ok()) s = ResolveQuorums(route, request.w, request.dw, request.pw, &q);
  if (!s.ok()) return done(UpdateResult{s, {}, tag, {}, {}});
  // The client's answer, made from the coordinator's object.
  auto answer = [done = std::move(done), tag, return_body = request.return_body,
                 include_context = request.include_context](Updated u) {
    UpdateResult r{std::move(u.status), std::move(u.key), tag, {}, {}};
    const crdt::DataType* data = u.stored.data();
    if (r.status.ok() && return_body && data != nullptr) {
      r.value = data->Read();
      if (include_context) r.context = data->Context();
    }
    done(std::move(r));
  };
  if (route.self_index) {
    CoordinateUpdate(route, tag, std::move(request), q, std::move(answer));
  } else {
    ForwardUpdate(route, std::move(request), q, std::move(answer));
  }
}

void WritePath::CoordinateUpdate(const Route& route, crdt::TypeTag tag,
                                 UpdateRequest request, Quorums quorums,
                                 UpdateDone done) {
  crdt::TypeParams params;
  params.hll_precision = route.props.hll_precision;
  object::Delta delta;
  object::Object stored;
  Status s = guard_.CheckSelf();
  if (s.ok()) {
    s = store_.CoordinateUpdate(route.key, tag, params, request.op,
                                request.context ? &*request.context : nullptr,
                                clock_.Issue(env_.WallMillis()),
                                options_.always_sync, &delta, &stored);
  }
  if (s.ok()) s = RecordHints(route);
  if (!s.ok()) return done(Updated{s, request.id.key, {}});
  Updated result{Status::Ok(), request.id.key, std::move(stored)};
  Replicate(
      route, quorums, request.timeout_ms.value_or(options_.timeout_ms),
      object::Object(), std::move(delta),
      [done = std::move(done), result = std::move(result)](Status s) mutable {
        result.status = std::move(s);
        done(std::move(result));
      });
}

void WritePath::ForwardUpdate(const Route& route, UpdateRequest request,
                              Quorums quorums, UpdateDone done) {
  const Target& to = route.targets.front();
  peer::Envelope m;
  peer::UpdateForward* f = m.mutable_update_forward();
  ToProto(route.key, f->mutable_key());
  f->set_op(crdt::EncodeOperation(request.op));
  if (request.context) {
    f->set_has_context(true);
    f->set_context(*request.context);
  }
  f->set_w(quorums.w);
  f->set_dw(quorums.dw);
  f->set_pw(quorums.pw);
  f->set_return_object(request.return_body);
  messenger_.Request(
      to.node, std::move(m), request.timeout_ms.value_or(options_.timeout_ms),
      [done = std::move(done), key = request.id.key](
          Status s, const peer::Envelope* reply) {
        Updated result{Status::Ok(), key, {}};
        if (s.ok() && !reply->update_forward_reply().object().empty()) {
          s = object::Object::Decode(reply->update_forward_reply().object(),
                                     &result.stored);
        }
        result.status = std::move(s);
        done(std::move(result));
      });
}

void WritePath::ServeUpdateForward(const NodeName& from,
                                   const peer::Envelope& message,
                                   Messenger::Respond respond) {
  const uint64_t id = message.request_id();
  std::optional<peer::Envelope> first_answer;
  if (!seen_update_forwards_.FirstSight(from, id, &first_answer)) {
    if (first_answer) respond(*first_answer);
    return;
  }
  const peer::UpdateForward& f = message.update_forward();
  auto answer = [this, from, id, respond,
                 return_object = f.return_object()](Updated u) {
    peer::Envelope reply;
    peer::UpdateForwardReply* r = reply.mutable_update_forward_reply();
    ToPeerResult(u.status, r->mutable_result());
    if (u.status.ok() && return_object && !u.stored.empty()) {
      r->set_object(u.stored.Encode());
    }
    seen_update_forwards_.Answered(from, id, reply);
    respond(std::move(reply));
  };
  UpdateRequest request;
  request.id = ObjectId{f.key().type(), f.key().bucket(), f.key().key()};
  if (f.has_context()) request.context = f.context();
  Status s = CheckId(request.id, true);
  if (s.ok()) s = crdt::DecodeOperation(f.op(), &request.op);
  Route route;
  crdt::TypeTag tag = crdt::TypeTag::kCounter;
  if (s.ok()) s = PlanUpdate(request, &route, &tag);
  if (!s.ok()) return answer(Updated{s, request.id.key, {}});
  CoordinateUpdate(route, tag, std::move(request),
                   Quorums{f.w(), f.dw(), f.pw()}, std::move(answer));
}

}  // namespace causeway::replication::coord
