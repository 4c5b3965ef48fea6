#pragma once
// Network: how the core sends a peer message. The node process implements it
// with its authenticated TCP transport (node/peer_transport); the simulator
// with a seeded virtual network. Delivery is best effort: a message may be
// lost, delayed, duplicated or reordered, and the core copes (timeouts,
// retries, idempotent merges). Incoming messages arrive through
// NodeCore::OnPeerMessage.

#include <string>

#include "replication/env.h"

namespace causeway::replication {

class Network {
 public:
  virtual ~Network() = default;
  // `payload` is a serialized peer::Envelope. `address` is the peer's
  // HOST:PORT as recorded in the ring (needed before a name is known, as
  // when joining through a seed).
  virtual void Send(const NodeName& to, const std::string& address,
                    std::string payload) = 0;
};

}  // namespace causeway::replication
