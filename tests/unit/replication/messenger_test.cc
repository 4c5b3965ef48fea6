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

// A read request, the kind the table below answers with a read reply.
peer::Envelope ReadRequest() {
  peer::Envelope m;
  m.mutable_read()->mutable_key()->set_key("k");
  return m;
}

// A messenger whose table has the read row, answered by `serve`.
void ServeReads(Messenger& messenger, Messenger::Handler serve = {}) {
  if (!serve)
    serve = [](const NodeName&, const peer::Envelope&, Messenger::Respond) {};
  messenger.Serve(peer::Envelope::kRead, peer::Envelope::kReadReply, "a read",
                  std::move(serve));
}

TEST(MessengerTest, UnreachablePeerFailsOnlyItsRequestsAtOnce) {
  testing::ManualEnv env;
  NullNetwork network;
  Messenger messenger(env, "c");
  ServeReads(messenger);
  messenger.Attach(&network);
  Outcome to_b, to_c, to_seed;
  messenger.Request("b", "10.0.0.2:1", ReadRequest(), 10000, Record(&to_b));
  messenger.Request("c", "10.0.0.3:1", ReadRequest(), 10000, Record(&to_c));
  messenger.Request("", "10.0.0.9:1", ReadRequest(), 10000, Record(&to_seed));

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

// Keeps what was sent, to play the peer's part.
class RecordingNetwork : public Network {
 public:
  void Send(const NodeName& to, const std::string& address,
            std::string payload) override {
    peer::Envelope m;
    ASSERT_TRUE(m.ParseFromString(payload));
    sent.push_back({to, address, std::move(m)});
  }
  struct Sent {
    NodeName to;
    std::string address;
    peer::Envelope message;
  };
  std::vector<Sent> sent;
};

peer::Envelope ReadReply(uint64_t id, const Status& s) {
  peer::Envelope m;
  m.set_request_id(id);
  ToPeerResult(s, m.mutable_read_reply()->mutable_result());
  m.mutable_read_reply()->set_object("bytes");
  return m;
}

TEST(MessengerTest, RepliesAreCheckedAgainstTheTable) {
  testing::ManualEnv env;
  RecordingNetwork network;
  Messenger messenger(env, "c");
  ServeReads(messenger);
  messenger.Attach(&network);

  // The expected reply with a good result: the callback gets it.
  const peer::Envelope* seen = nullptr;
  Status status = Status::Unavailable("not called");
  messenger.Request("b", "addr-b", ReadRequest(), 10000,
                    [&](Status s, const peer::Envelope* reply) {
                      status = s;
                      seen = reply;
                      if (reply != nullptr) {
                        EXPECT_EQ(reply->read_reply().object(), "bytes");
                      }
                    });
  ASSERT_EQ(network.sent.size(), 1u);
  const uint64_t id = network.sent[0].message.request_id();
  EXPECT_NE(id, 0u);
  EXPECT_EQ(network.sent[0].message.cluster(), "c");
  messenger.Receive("b", ReadReply(id, Status::Ok()));
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_NE(seen, nullptr);

  // The peer's error comes back as it was, with the reply.
  Outcome refused;
  bool had_reply = false;
  messenger.Request("b", "addr-b", ReadRequest(), 10000,
                    [&](Status s, const peer::Envelope* reply) {
                      Record (&refused)(s, reply);
                      had_reply = reply != nullptr;
                    });
  messenger.Receive("b", ReadReply(network.sent.back().message.request_id(),
                                   Status::NotFound("no such key")));
  EXPECT_EQ(refused.calls, 1);
  EXPECT_TRUE(refused.status.IsNotFound());
  EXPECT_EQ(refused.status.message(), "no such key");
  EXPECT_TRUE(had_reply);

  // A reply of another kind fails the request and is not passed on.
  Outcome wrong;
  messenger.Request("b", "addr-b", ReadRequest(), 10000, Record(&wrong));
  peer::Envelope write_reply;
  write_reply.set_request_id(network.sent.back().message.request_id());
  write_reply.mutable_write_reply();
  messenger.Receive("b", write_reply);
  EXPECT_EQ(wrong.calls, 1);
  EXPECT_EQ(wrong.status.code(), Status::Code::kUnavailable);
  EXPECT_EQ(wrong.status.message(), "unexpected reply to a read from b");

  // A duplicate of an answered reply is dropped.
  messenger.Receive("b", ReadReply(id, Status::Ok()));
  EXPECT_EQ(messenger.in_flight(), 0u);
}

TEST(MessengerTest, RequestsGoToTheirOwnerAndItsAnswerGoesBack) {
  testing::ManualEnv env;
  RecordingNetwork network;
  Messenger messenger(env, "c");
  messenger.SetAddressBook(
      [](const NodeName& node) { return "addr-of-" + node; });
  std::vector<NodeName> served;
  ServeReads(messenger, [&](const NodeName& from, const peer::Envelope& m,
                            Messenger::Respond respond) {
    served.push_back(from + ":" + m.read().key().key());
    respond(ReadReply(0, Status::Ok()));
  });
  messenger.Attach(&network);

  peer::Envelope request = ReadRequest();
  request.set_request_id(77);
  messenger.Receive("a", request);
  ASSERT_EQ(served, std::vector<NodeName>{"a:k"});
  ASSERT_EQ(network.sent.size(), 1u);
  EXPECT_EQ(network.sent[0].to, "a");
  EXPECT_EQ(network.sent[0].address, "addr-of-a");
  EXPECT_EQ(network.sent[0].message.request_id(), 77u);
  EXPECT_TRUE(network.sent[0].message.has_read_reply());

  // A message no row names is dropped.
  peer::Envelope unknown;
  unknown.mutable_list();
  messenger.Receive("a", unknown);
  EXPECT_EQ(served.size(), 1u);
  EXPECT_EQ(network.sent.size(), 1u);
}

class CapturingNetwork : public Network {
 public:
  void Send(const NodeName&, const std::string&, std::string bytes) override {
    sent.emplace_back();
    sent.back().ParseFromString(bytes);
  }
  std::vector<peer::Envelope> sent;
};

// A gate that stamps every message and refuses those from "fast".
void Gate(Messenger& messenger) {
  messenger.SetClockGate(
      [](peer::Envelope* m) { m->set_hlc(7); },
      [](const NodeName& from, const peer::Envelope&) {
        return from == "fast" ? Status::Unavailable("clock offset: too fast")
                              : Status::Ok();
      });
}

TEST(MessengerTest, AGateRefusesRequestsWithAnErrorReply) {
  testing::ManualEnv env;
  CapturingNetwork network;
  Messenger messenger(env, "c");
  int served = 0;
  ServeReads(messenger, [&served](const NodeName&, const peer::Envelope&,
                                  Messenger::Respond) { ++served; });
  messenger.Attach(&network);
  Gate(messenger);
  peer::Envelope request = ReadRequest();
  request.set_request_id(42);
  messenger.Receive("fast", request);
  EXPECT_EQ(served, 0);
  ASSERT_EQ(network.sent.size(), 1u);
  const peer::Envelope& reply = network.sent[0];
  EXPECT_EQ(reply.request_id(), 42u);
  EXPECT_EQ(reply.hlc(), 7u);  // stamped on the way out
  ASSERT_TRUE(reply.has_read_reply());
  EXPECT_EQ(FromPeerResult(reply.read_reply().result()).message(),
            "clock offset: too fast");
  messenger.Receive("slow", request);
  EXPECT_EQ(served, 1);
}

TEST(MessengerTest, AGateFailsTheRequestARefusedReplyAnswers) {
  testing::ManualEnv env;
  CapturingNetwork network;
  Messenger messenger(env, "c");
  ServeReads(messenger);
  messenger.Attach(&network);
  Gate(messenger);
  Outcome outcome;
  messenger.Request("fast", "h:1", ReadRequest(), 10000, Record(&outcome));
  ASSERT_EQ(network.sent.size(), 1u);
  peer::Envelope reply;
  reply.set_request_id(network.sent[0].request_id());
  reply.mutable_read_reply();
  messenger.Receive("fast", reply);
  EXPECT_EQ(outcome.calls, 1);
  EXPECT_EQ(outcome.status.message(), "clock offset: too fast");
  EXPECT_EQ(messenger.in_flight(), 0u);
}

}  // namespace
}  // namespace causeway::replication
