#include "replication/messenger.h"

#include <vector>

#include "proto/peer.pb.h"

namespace causeway::replication {

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

void Messenger::Request(const NodeName& to, const std::string& address,
                        peer::Envelope message, uint64_t timeout_ms,
                        ReplyFn on_reply) {
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
  pending_.emplace(id, Pending{std::move(on_reply), timer, to, address});
  Send(to, address, std::move(message));
}

void Messenger::Send(const NodeName& to, const std::string& address,
                     peer::Envelope message) {
  if (network_ == nullptr) return;
  message.set_cluster(cluster_);
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

bool Messenger::HandleReply(const peer::Envelope& message) {
  auto it = pending_.find(message.request_id());
  if (message.request_id() == 0 || it == pending_.end()) return false;
  Pending p = std::move(it->second);
  pending_.erase(it);
  env_.Cancel(p.timer);
  p.on_reply(Status::Ok(), &message);
  return true;
}

}  // namespace causeway::replication
