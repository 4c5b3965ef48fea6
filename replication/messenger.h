#pragma once
// Messenger: the peer protocol as the core sees it, over the best-effort
// Network.
//
// - One table (Serve) names every request the peer protocol has, the reply
//   it expects (none for one-way messages), and the component that answers
//   it. NodeCore fills it when it wires its components; adding a peer
//   message is its proto field plus one row there.
// - Receive hands a request to its owner and a reply to the request that
//   waits for it.
// - Request gives each request an id and a deadline. Its callback runs
//   exactly once: with the reply, once it is checked to be the reply the
//   table names and its result is ok; with the peer's error and the reply
//   (so a caller may read what the peer sent with it); with Timeout when
//   none came in time; or with Unavailable when the reply is of another
//   kind, when too many requests are already waiting (the bound that keeps
//   a dead peer from growing memory), or when the transport reports the
//   peer unreachable or the failure detector suspects it (FailPeer), so a
//   dead peer fails requests at once instead of at the timeout.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "replication/env.h"
#include "replication/network.h"

namespace causeway::peer {
class Envelope;
class Result;
}  // namespace causeway::peer
namespace google::protobuf {
class FieldDescriptor;
}

namespace causeway::replication {

// A Status across the wire and back, code and message intact.
void ToPeerResult(const Status& status, peer::Result* result);
Status FromPeerResult(const peer::Result& result);

// A peer message's kind: the field number of its Envelope body (equal to
// peer::Envelope::BodyCase, which this header does not include).
using PeerKind = int;
inline constexpr PeerKind kOneWay = 0;

class Messenger {
 public:
  // `reply` is null unless a reply of the expected kind arrived.
  using ReplyFn = std::function<void(Status, const peer::Envelope* reply)>;
  // Sends a handler's answer back to the requester (request id set here).
  using Respond = std::function<void(peer::Envelope reply)>;
  using Handler = std::function<void(
      const NodeName& from, const peer::Envelope& request, Respond respond)>;
  // Where a member is reached (its peer HOST:PORT); empty when unknown.
  using AddressBook = std::function<std::string(const NodeName&)>;

  // Request ids start at a random point, so a restarted node does not reuse
  // the ids its previous incarnation sent (receivers remember recent ones).
  Messenger(Env& env, std::string cluster)
      : env_(env),
        cluster_(std::move(cluster)),
        next_id_((env.Random() >> 1) | 1) {}
  ~Messenger();
  Messenger(const Messenger&) = delete;
  Messenger& operator=(const Messenger&) = delete;

  void Attach(Network* network) { network_ = network; }
  bool attached() const { return network_ != nullptr; }
  void SetAddressBook(AddressBook book) { address_of_ = std::move(book); }

  // One row of the protocol table. `reply` is kOneWay for messages that get
  // no answer; otherwise its message must carry a `Result result` field.
  // `what` names the request in errors ("a read").
  // REQUIRES: `request` has no row yet.
  void Serve(PeerKind request, PeerKind reply, std::string what,
             Handler handler);

  // A message from peer `from`, already parsed and of this cluster. A
  // request goes to its row's handler; any other message is taken for a
  // reply, and dropped unless it answers a pending request (late,
  // duplicated and forged replies answer none).
  void Receive(const NodeName& from, const peer::Envelope& message);

  // REQUIRES: `message` is a request with a row that expects a reply.
  void Request(const NodeName& to, const std::string& address,
               peer::Envelope message, uint64_t timeout_ms, ReplyFn on_reply);
  // As above, to a member at the address the address book has for it.
  void Request(const NodeName& to, peer::Envelope message, uint64_t timeout_ms,
               ReplyFn on_reply);
  // Sends a one-way message, or a reply whose request id is already set.
  void Send(const NodeName& to, const std::string& address,
            peer::Envelope message);
  // Fails every request waiting on `to` (or, for requests sent by address
  // alone, on `address`) with Unavailable naming `reason`.
  void FailPeer(const NodeName& to, const std::string& address,
                const std::string& reason);

  // Every message sent is stamped, and every message received admitted
  // first (clock_guard.h). One refused fails as the sender can tell: a
  // request gets an error reply, a reply fails its request, a one-way
  // message is dropped.
  using Stamper = std::function<void(peer::Envelope* message)>;
  using Admitter =
      std::function<Status(const NodeName& from, const peer::Envelope&)>;
  void SetClockGate(Stamper stamp, Admitter admit) {
    stamp_ = std::move(stamp);
    admit_ = std::move(admit);
  }

  size_t in_flight() const { return pending_.size(); }
  static constexpr size_t kMaxInFlight = 100000;

 private:
  struct Row {
    PeerKind reply = kOneWay;
    std::string what;
    Handler handler;
    // The reply's `result` field, found once when the row is added.
    const google::protobuf::FieldDescriptor* reply_result = nullptr;
  };
  struct Pending {
    ReplyFn on_reply;
    TimerId timer;
    NodeName to;
    std::string address;
    const Row* row;
  };

  const Row* RowOf(PeerKind kind) const;
  // Completes the request `message` answers, if one is pending.
  void CompleteRequest(const peer::Envelope& message);
  // Fails the way a refused `message` should (see SetClockGate).
  void Refuse(const NodeName& from, const peer::Envelope& message,
              const Row* row, const Status& why);
  // Fails the pending request `id`, if any, with `why`.
  void FailRequest(uint64_t id, const Status& why);

  Env& env_;
  std::string cluster_;
  Network* network_ = nullptr;
  AddressBook address_of_;
  Stamper stamp_;
  Admitter admit_;
  uint64_t next_id_;
  // Indexed by kind; rows never move once added (the table is filled
  // before the first message).
  std::vector<std::unique_ptr<Row>> rows_;
  std::unordered_map<uint64_t, Pending> pending_;
};

}  // namespace causeway::replication
