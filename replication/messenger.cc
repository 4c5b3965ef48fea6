#include "replication/messenger.h"

#include <google/protobuf/descriptor.h>

#include <vector>

#include "base/assert.h"
#include "proto/peer.pb.h"

namespace causeway::replication {
namespace {

using google::protobuf::FieldDescriptor;

const FieldDescriptor* BodyField(PeerKind kind) {
  return peer::Envelope::descriptor()->FindFieldByNumber(kind);
}

// The `result` of a reply, through the field the table found for its kind.
const peer::Result& ResultOf(const peer::Envelope& reply,
                             const FieldDescriptor* result_field) {
  const auto& body =
      reply.GetReflection()->GetMessage(reply, BodyField(reply.body_case()));
  return static_cast<const peer::Result&>(
      body.GetReflection()->GetMessage(body, result_field));
}

}  // namespace

void ToPeerResult(const Status& s, peer::Result* r) {
  r->set_code(static_cast<uint32_t>(s.code()));
  r->set_message(s.message());
}

Status FromPeerResult(const peer::Result& r) {
  const std::string& m = r.message();
  switch (static_cast<Status::Code>(r.code())) {
    case Status::Code::kOk:
      return Status::Ok();
    case Status::Code::kNotFound:
      return Status::NotFound(m);
    case Status::Code::kCorruption:
      return Status::Corruption(m);
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(m);
    case Status::Code::kIoError:
      return Status::IoError(m);
    case Status::Code::kTimeout:
      return Status::Timeout(m);
    case Status::Code::kPreconditionFailed:
      return Status::PreconditionFailed(m);
    default:
      return Status::Unavailable(m);
  }
}

Messenger::~Messenger() {
  for (auto& [id, p] : pending_) env_.Cancel(p.timer);
}

void Messenger::Serve(PeerKind request, PeerKind reply, std::string what,
                      Handler handler) {
  const FieldDescriptor* body = BodyField(request);
  CAUSEWAY_ASSERT_MSG(body != nullptr && body->containing_oneof() != nullptr,
                      "a row's request is an Envelope body");
  CAUSEWAY_ASSERT_MSG(RowOf(request) == nullptr, "one row per request");
  auto row = std::make_unique<Row>();
  row->reply = reply;
  row->what = std::move(what);
  row->handler = std::move(handler);
  if (reply != kOneWay) {
    const FieldDescriptor* reply_body = BodyField(reply);
    CAUSEWAY_ASSERT_MSG(reply_body != nullptr, "a reply is an Envelope body");
    row->reply_result = reply_body->message_type()->FindFieldByName("result");
    CAUSEWAY_ASSERT_MSG(
        row->reply_result != nullptr &&
            row->reply_result->message_type() == peer::Result::descriptor(),
        "every reply carries a Result named result");
  }
  CAUSEWAY_ASSERT_MSG(RowOf(reply) == nullptr, "a reply is no request");
  if (rows_.size() <= static_cast<size_t>(request)) rows_.resize(request + 1);
  rows_[request] = std::move(row);
}

const Messenger::Row* Messenger::RowOf(PeerKind kind) const {
  if (kind <= 0 || static_cast<size_t>(kind) >= rows_.size()) return nullptr;
  return rows_[kind].get();
}

void Messenger::Receive(const NodeName& from, const peer::Envelope& message) {
  const Row* row = RowOf(message.body_case());
  if (admit_) {
    Status s = admit_(from, message);
    if (!s.ok()) return Refuse(from, message, row, s);
  }
  if (row == nullptr) {
    // Anything that is not a request can only be a reply.
    CompleteRequest(message);
    return;
  }
  Respond respond;
  if (row->reply != kOneWay) {
    respond = [this, from, id = message.request_id()](peer::Envelope reply) {
      reply.set_request_id(id);
      Send(from, address_of_ ? address_of_(from) : std::string(),
           std::move(reply));
    };
  }
  row->handler(from, message, std::move(respond));
}

void Messenger::Request(const NodeName& to, peer::Envelope message,
                        uint64_t timeout_ms, ReplyFn on_reply) {
  const std::string address = address_of_ ? address_of_(to) : std::string();
  Request(to, address, std::move(message), timeout_ms, std::move(on_reply));
}

void Messenger::Request(const NodeName& to, const std::string& address,
                        peer::Envelope message, uint64_t timeout_ms,
                        ReplyFn on_reply) {
  const Row* row = RowOf(message.body_case());
  CAUSEWAY_ASSERT_MSG(row != nullptr && row->reply != kOneWay,
                      "a request has a row that expects a reply");
  if (network_ == nullptr) {
    on_reply(Status::Unavailable("no peer network"), nullptr);
    return;
  }
  if (pending_.size() >= kMaxInFlight) {
    on_reply(Status::Unavailable("too many peer requests in flight"), nullptr);
    return;
  }
  const uint64_t id = next_id_++;
  message.set_request_id(id);
  TimerId timer = env_.After(timeout_ms, [this, id, to, address, timeout_ms] {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    ReplyFn fn = std::move(it->second.on_reply);
    pending_.erase(it);
    fn(Status::Timeout("no reply from " + (to.empty() ? address : to) +
                       " within " + std::to_string(timeout_ms) + " ms"),
       nullptr);
  });
  pending_.emplace(id, Pending{std::move(on_reply), timer, to, address, row});
  CAUSEWAY_ASSERT(pending_.size() <= kMaxInFlight);
  Send(to, address, std::move(message));
}

void Messenger::Send(const NodeName& to, const std::string& address,
                     peer::Envelope message) {
  if (network_ == nullptr) return;
  message.set_cluster(cluster_);
  if (stamp_) stamp_(&message);
  network_->Send(to, address, message.SerializeAsString());
}

void Messenger::FailPeer(const NodeName& to, const std::string& address,
                         const std::string& reason) {
  std::vector<uint64_t> ids;
  for (const auto& [id, p] : pending_) {
    if (to.empty() ? (p.to.empty() && p.address == address) : p.to == to) {
      ids.push_back(id);
    }
  }
  const std::string who = to.empty() ? address : to;
  // By id, since a callback may send (and so add) requests of its own.
  for (uint64_t id : ids) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    ReplyFn fn = std::move(it->second.on_reply);
    env_.Cancel(it->second.timer);
    pending_.erase(it);
    fn(Status::Unavailable(who + " is unreachable: " + reason), nullptr);
  }
}

void Messenger::CompleteRequest(const peer::Envelope& message) {
  auto it = pending_.find(message.request_id());
  if (message.request_id() == 0 || it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  env_.Cancel(p.timer);
  if (message.body_case() != p.row->reply) {
    const std::string who = p.to.empty() ? p.address : p.to;
    p.on_reply(Status::Unavailable("unexpected reply to " + p.row->what +
                                   " from " + who),
               nullptr);
    return;
  }
  p.on_reply(FromPeerResult(ResultOf(message, p.row->reply_result)), &message);
}

void Messenger::Refuse(const NodeName& from, const peer::Envelope& message,
                       const Row* row, const Status& why) {
  if (row == nullptr) return FailRequest(message.request_id(), why);
  if (row->reply == kOneWay) return;
  peer::Envelope reply;
  auto* body =
      reply.GetReflection()->MutableMessage(&reply, BodyField(row->reply));
  ToPeerResult(
      why, static_cast<peer::Result*>(
               body->GetReflection()->MutableMessage(body, row->reply_result)));
  reply.set_request_id(message.request_id());
  Send(from, address_of_ ? address_of_(from) : std::string(), std::move(reply));
}

void Messenger::FailRequest(uint64_t id, const Status& why) {
  auto it = pending_.find(id);
  if (id == 0 || it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  env_.Cancel(p.timer);
  p.on_reply(why, nullptr);
}

}  // namespace causeway::replication
