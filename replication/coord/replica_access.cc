#include "replication/coord/replica_access.h"

#include <utility>

#include "base/assert.h"
#include "proto/peer.pb.h"

namespace causeway::replication::coord {
namespace {

bool ValidResolution(uint32_t r) {
  return r <= static_cast<uint32_t>(object::Resolution::kDataType);
}

}  // namespace

void ToProto(const vnode::Key& key, peer::Key* out) {
  out->set_partition(key.partition);
  out->set_type(key.type);
  out->set_bucket(key.bucket);
  out->set_key(key.key);
}

vnode::Key FromProto(const peer::Key& k) {
  return vnode::Key{k.partition(), k.type(), k.bucket(), k.key()};
}

void ReplicaAccess::Read(const Target& target, const vnode::Key& key,
                         std::function<void(Status, object::Object)> done) {
  if (target.node == self_) {
    object::Object o;
    Status s = store_.Read(key, &o);
    done(std::move(s), std::move(o));
    return;
  }
  peer::Envelope m;
  ToProto(key, m.mutable_read()->mutable_key());
  messenger_.Request(
      target.node, std::move(m), timeout_ms_,
      [this, done = std::move(done)](Status s, const peer::Envelope* reply) {
        object::Object o;
        if (s.ok())
          s = object::Object::Decode(reply->read_reply().object(), &o);
        if (s.ok()) s = guard_.Check(o.clock().stamp(), "a read's object");
        done(std::move(s), std::move(o));
      });
}

void ReplicaAccess::Write(const Target& target, const vnode::Key& key,
                          const object::Object& object,
                          object::Resolution resolution,
                          std::function<void(Status)> done) {
  if (target.node == self_) {
    done(MergeLocal(key, object, resolution, target.hint_for));
    return;
  }
  peer::Envelope m;
  peer::WriteRequest* w = m.mutable_write();
  ToProto(key, w->mutable_key());
  w->set_object(object.Encode());
  w->set_resolution(static_cast<uint32_t>(resolution));
  w->set_hint_for(target.hint_for);
  messenger_.Request(target.node, std::move(m), timeout_ms_,
                     [done = std::move(done)](Status s, const peer::Envelope*) {
                       done(std::move(s));
                     });
}

void ReplicaAccess::WriteDelta(const Target& target, const vnode::Key& key,
                               const object::Delta& delta,
                               std::function<void(Status)> done) {
  CAUSEWAY_ASSERT(target.node != self_);
  peer::Envelope m;
  peer::DeltaRequest* d = m.mutable_delta();
  ToProto(key, d->mutable_key());
  d->set_actor(delta.dot.actor);
  d->set_counter(delta.dot.counter);
  d->set_type(static_cast<uint32_t>(delta.state->tag()));
  d->set_state(delta.state->Encode());
  d->set_hint_for(target.hint_for);
  deltas_.CountSent(d->state().size());
  messenger_.Request(target.node, std::move(m), timeout_ms_,
                     [done = std::move(done)](Status s, const peer::Envelope*) {
                       done(std::move(s));
                     });
}

Status ReplicaAccess::MergeLocal(const vnode::Key& key,
                                 const object::Object& object,
                                 object::Resolution resolution,
                                 const NodeName& hint_for) {
  Status s = store_.Merge(key, object, resolution, always_sync_, nullptr);
  if (s.ok() && !hint_for.empty()) s = record_hint_(hint_for, key);
  return s;
}

void ReplicaAccess::ServeRead(const NodeName&, const peer::Envelope& request,
                              Messenger::Respond respond) {
  object::Object o;
  Status s = store_.Read(FromProto(request.read().key()), &o);
  peer::Envelope reply;
  ToPeerResult(s, reply.mutable_read_reply()->mutable_result());
  if (s.ok()) reply.mutable_read_reply()->set_object(o.Encode());
  respond(std::move(reply));
}

void ReplicaAccess::ServeWrite(const NodeName&, const peer::Envelope& request,
                               Messenger::Respond respond) {
  const peer::WriteRequest& w = request.write();
  object::Object o;
  Status s = object::Object::Decode(w.object(), &o);
  if (s.ok() && !ValidResolution(w.resolution())) {
    s = Status::InvalidArgument("unknown resolution");
  }
  if (s.ok()) s = guard_.Check(o.clock().stamp(), "a write's object");
  if (s.ok()) {
    s = MergeLocal(FromProto(w.key()), o,
                   static_cast<object::Resolution>(w.resolution()),
                   w.hint_for());
  }
  peer::Envelope reply;
  ToPeerResult(s, reply.mutable_write_reply()->mutable_result());
  respond(std::move(reply));
}

void ReplicaAccess::ServeDelta(const NodeName& from,
                               const peer::Envelope& request,
                               Messenger::Respond respond) {
  const peer::DeltaRequest& d = request.delta();
  auto answer = [respond](const Status& s) {
    peer::Envelope reply;
    ToPeerResult(s, reply.mutable_delta_reply()->mutable_result());
    respond(std::move(reply));
  };
  std::unique_ptr<crdt::DataType> state;
  Status s;
  if (d.actor() == 0 || d.counter() == 0 || d.type() == 0 || d.type() > 0xff) {
    s = Status::InvalidArgument("malformed delta");
  } else {
    s = crdt::DecodeDataType(static_cast<crdt::TypeTag>(d.type()), d.state(),
                             &state);
  }
  if (!s.ok()) return answer(s);
  const vnode::Key key = FromProto(d.key());
  object::Delta delta{causal::Dot{d.actor(), d.counter()}, std::move(state)};
  deltas_.Apply(from, key, std::move(delta), d.state().size(),
                [this, key, hint_for = d.hint_for(), answer](Status s) {
                  if (s.ok() && !hint_for.empty()) {
                    s = record_hint_(hint_for, key);
                  }
                  answer(s);
                });
}

}  // namespace causeway::replication::coord
