// Messenger: each request's callback runs exactly once, whether a reply, a
// timeout or an unreachable peer ends it.

#include "replication/messenger.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/peer.pb.h"
#include "tests/support/manual_env.h"

namespace causeway::replication {
namespace {

class NullNetwork : public Network {
 public:
  void Send(const NodeName&, const std::string&, std::string) override {
    ++sent;
  }
  int sent = 0;
};

struct Outcome {
  int calls = 0;
  Status status;
};

Messenger::ReplyFn Record(Outcome* o) {
  return [o](Status s, const peer::Envelope*) {
    ++o->calls;
    o->status = s;
  };
}

TEST(MessengerTest, UnreachablePeerFailsOnlyItsRequestsAtOnce) {
  testing::ManualEnv env;
  NullNetwork network;
  Messenger messenger(env, "c");
  messenger.Attach(&network);
  Outcome to_b, to_c, to_seed;
  messenger.Request("b", "10.0.0.2:1", peer::Envelope(), 10000, Record(&to_b));
  messenger.Request("c", "10.0.0.3:1", peer::Envelope(), 10000, Record(&to_c));
  messenger.Request("", "10.0.0.9:1", peer::Envelope(), 10000,
                    Record(&to_seed));

  messenger.FailPeer("b", "10.0.0.2:1", "cannot connect: refused");
  EXPECT_EQ(to_b.calls, 1);
  EXPECT_EQ(to_b.status.code(), Status::Code::kUnavailable);
  EXPECT_NE(to_b.status.message().find("b is unreachable: cannot connect"),
            std::string::npos)
      << to_b.status.ToString();
  EXPECT_EQ(to_c.calls, 0);
  EXPECT_EQ(to_seed.calls, 0);

  // A request sent by address alone is matched by its address.
  messenger.FailPeer("", "10.0.0.9:1", "handshake failed");
  EXPECT_EQ(to_seed.calls, 1);
  EXPECT_EQ(messenger.in_flight(), 1u);

  // The failed requests' timers are gone: only c's timeout fires.
  env.Advance(20000);
  EXPECT_EQ(to_b.calls, 1);
  EXPECT_EQ(to_seed.calls, 1);
  EXPECT_EQ(to_c.calls, 1);
  EXPECT_EQ(to_c.status.code(), Status::Code::kTimeout);
  EXPECT_NE(to_c.status.message().find("no reply from c within 10000 ms"),
            std::string::npos)
      << to_c.status.ToString();
  EXPECT_EQ(messenger.in_flight(), 0u);
}

}  // namespace
}  // namespace causeway::replication
