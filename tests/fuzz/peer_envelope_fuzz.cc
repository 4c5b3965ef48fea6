// Target "peer_envelope": replication::NodeCore::OnPeerMessage, the core's
// decoder of everything peers send, in front of a one-node core (harness.h)
// that holds one object, so reads and writes find something.
//
// Input: a sequence of records, each
//   sender:u8 length:u16be payload[length]
// The sender byte's low two bits pick the claimed peer name (two strangers,
// this node's own name, or empty); its upper six bits how far virtual time
// moves after the message, in 100 ms steps, so timers (request timeouts,
// heartbeats, gossip) fire in between. A last, truncated record is
// delivered with what is there.
//
// Promises checked: nothing crashes, leaks or hangs; after the messages the
// node still serves a client read and write of its own data.

#include <algorithm>
#include <string>
#include <string_view>

#include "replication/core.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/harness.h"

namespace causeway::fuzz {
namespace {

constexpr int kMaxMessages = 64;

replication::PutRequest SeedPut() {
  replication::PutRequest put;
  put.id.bucket = "b";
  put.id.key = "k";
  put.content.value = "v";
  return put;
}

void FuzzPeerEnvelope(const uint8_t* data, size_t size) {
  OneNode node;
  bool put_done = false;
  node.core->Put(SeedPut(), [&](replication::PutResult r) {
    FUZZ_CHECK(r.status.ok());
    put_done = true;
  });
  node.env.Advance(0);
  FUZZ_CHECK(put_done);

  static const char* const kSenders[] = {"causeway@peer1", "causeway@peer2",
                                         OneNode::kName, ""};
  size_t pos = 0;
  for (int n = 0; n < kMaxMessages && pos < size; ++n) {
    const uint8_t sender = data[pos++];
    size_t length = 0;
    if (size - pos >= 2) {
      length = (size_t{data[pos]} << 8) | data[pos + 1];
      pos += 2;
    } else {
      pos = size;
    }
    length = std::min(length, size - pos);
    const std::string_view payload(reinterpret_cast<const char*>(data + pos),
                                   length);
    pos += length;
    node.core->OnPeerMessage(kSenders[sender & 3], payload);
    node.env.Advance(static_cast<uint64_t>(sender >> 2) * 100);
  }
  // Past every request timeout the messages could have started.
  node.env.Advance(30000);

  // The node still answers its own client: a write and a read back. Whether
  // they succeed depends on what the messages did to membership (a fuzzed
  // ring may hand the partition elsewhere), so only the callbacks are
  // required, within the request timeout.
  int callbacks = 0;
  node.core->Put(SeedPut(), [&](replication::PutResult) { ++callbacks; });
  replication::GetRequest get;
  get.id.bucket = "b";
  get.id.key = "k";
  node.core->Get(get, [&](replication::GetResult) { ++callbacks; });
  node.env.Advance(30000);
  FUZZ_CHECK(callbacks == 2);
  (void)node.core->View();
}

const Registration kRegistration("peer_envelope", &FuzzPeerEnvelope);

}  // namespace
}  // namespace causeway::fuzz
