#pragma once
// Messenger: request/reply correlation over the best-effort Network. Each
// request gets an id and a deadline; the reply callback runs exactly once,
// with the reply, or with Timeout when none came in time, or Unavailable when
// too many requests are already waiting (the bound that keeps a dead peer
// from growing memory) or when the transport reports the peer unreachable
// (FailPeer), so a dead peer fails requests at once instead of at the
// timeout.

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "replication/env.h"
#include "replication/network.h"
#include "base/status.h"

namespace causeway::peer {
class Envelope;
class Result;
}  // namespace causeway::peer

namespace causeway::replication {

// A Status across the wire and back, code and message intact.
void ToPeerResult(const Status& status, peer::Result* result);
Status FromPeerResult(const peer::Result& result);

class Messenger {
 public:
  using ReplyFn = std::function<void(Status, const peer::Envelope*)>;

  // Request ids start at a random point, so a restarted node does not reuse
  // the ids its previous incarnation sent (receivers remember recent ones).
  Messenger(Env& env, std::string cluster)
      : env_(env), cluster_(cluster), next_id_((env.Random() >> 1) | 1) {}
  ~Messenger();

  void Attach(Network* network) { network_ = network; }
  bool attached() const { return network_ != nullptr; }

  void Request(const NodeName& to, const std::string& address,
               peer::Envelope message, uint64_t timeout_ms, ReplyFn on_reply);
  // Sends a reply (or any one-way message; request_id 0).
  void Send(const NodeName& to, const std::string& address,
            peer::Envelope message);
  // Completes the matching request; false if `message` answers nothing
  // pending (late, duplicated or forged replies are dropped).
  bool HandleReply(const peer::Envelope& message);
  // Fails every request waiting on `to` (or, for requests sent by address
  // alone, on `address`) with Unavailable naming `reason`.
  void FailPeer(const NodeName& to, const std::string& address,
                const std::string& reason);

  size_t in_flight() const { return pending_.size(); }
  static constexpr size_t kMaxInFlight = 100000;

 private:
  struct Pending {
    ReplyFn on_reply;
    TimerId timer;
    NodeName to;
    std::string address;
  };

  Env& env_;
  std::string cluster_;
  Network* network_ = nullptr;
  uint64_t next_id_;
  std::unordered_map<uint64_t, Pending> pending_;
};

}  // namespace causeway::replication
