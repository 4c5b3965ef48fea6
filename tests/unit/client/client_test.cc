// The blocking client against an in-process fake server: request framing,
// reply decoding, streaming, and each kind of failure (unreachable, server
// error, protocol error, timeout).

#include "client/client.h"

#include "gtest/gtest.h"
#include "tests/unit/client/fake_server.h"

namespace causeway::client {
namespace {

using pbc::Code;
using testing::FakeServer;
using testing::Reply;
using testing::Request;

ClientOptions OptionsFor(const FakeServer& server) {
  ClientOptions options;
  options.port = server.port();
  // Generous: only the timeout test expects to hit it.
  options.io_timeout_ms = 10000;
  return options;
}

Reply Send(std::string bytes) { return Reply{std::move(bytes)}; }

TEST(ClientParseEndpointTest, AcceptsHostPortForms) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(ParseEndpoint("127.0.0.1:8087", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8087);
  ASSERT_TRUE(ParseEndpoint("db.example:1", &host, &port).ok());
  EXPECT_EQ(host, "db.example");
  EXPECT_EQ(port, 1);
  ASSERT_TRUE(ParseEndpoint("localhost", &host, &port).ok());
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 8087);
  ASSERT_TRUE(ParseEndpoint("[::1]:9000", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9000);
  ASSERT_TRUE(ParseEndpoint("::1", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8087);
}

TEST(ClientParseEndpointTest, RejectsBadPortsAndShapes) {
  std::string host;
  uint16_t port = 0;
  for (const char* bad :
       {"", ":8087", "host:", "host:0", "host:65536", "host:80x", "host:-1",
        "[::1", "[::1]x", "[]:80", "[::1]:"}) {
    EXPECT_EQ(ParseEndpoint(bad, &host, &port).code(),
              Status::Code::kInvalidArgument)
        << bad;
  }
}

TEST(ClientTest, PingSendsCodeOnlyFrame) {
  FakeServer server(
      [](const Request&) { return Send(FakeServer::Frame(Code::kPingResp)); });
  Client client(OptionsFor(server));
  ASSERT_TRUE(client.Ping().ok());
  ASSERT_TRUE(client.Ping().ok());  // the connection is reused
  std::vector<Request> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].code, static_cast<uint8_t>(Code::kPingReq));
  EXPECT_TRUE(reqs[0].body.empty());
  EXPECT_EQ(client.last_error().kind, ErrorKind::kNone);
}

TEST(ClientTest, GetEncodesRequestAndDecodesSiblings) {
  FakeServer server([](const Request& req) {
    pbc::RpbGetResp resp;
    resp.set_vclock("ctx");
    resp.add_content()->set_value("one");
    resp.add_content()->set_value("two");
    return Send(FakeServer::Frame(Code::kGetResp, resp));
  });
  Client client(OptionsFor(server));
  pbc::RpbGetReq req;
  req.set_bucket("b");
  req.set_key("k");
  req.set_type("t");
  req.set_r(2);
  pbc::RpbGetResp resp;
  ASSERT_TRUE(client.Get(req, &resp).ok());
  ASSERT_EQ(resp.content_size(), 2);
  EXPECT_EQ(resp.content(1).value(), "two");
  EXPECT_EQ(resp.vclock(), "ctx");

  std::vector<Request> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].code, static_cast<uint8_t>(Code::kGetReq));
  pbc::RpbGetReq sent;
  ASSERT_TRUE(sent.ParseFromString(reqs[0].body));
  EXPECT_EQ(sent.bucket(), "b");
  EXPECT_EQ(sent.key(), "k");
  EXPECT_EQ(sent.type(), "t");
  EXPECT_EQ(sent.r(), 2u);
}

TEST(ClientTest, EmptyGetReplyIsNotFoundButKeepsTheTombstoneVclock) {
  FakeServer server([](const Request&) {
    pbc::RpbGetResp resp;
    resp.set_vclock("tomb");
    return Send(FakeServer::Frame(Code::kGetResp, resp));
  });
  Client client(OptionsFor(server));
  pbc::RpbGetReq req;
  req.set_bucket("b");
  req.set_key("k");
  pbc::RpbGetResp resp;
  Status s = client.Get(req, &resp);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(resp.vclock(), "tomb");
  EXPECT_EQ(client.last_error().kind, ErrorKind::kNone);
}

TEST(ClientTest, ReplySplitIntoSingleBytesIsReassembled) {
  FakeServer server([](const Request&) {
    pbc::RpbGetServerInfoResp info;
    info.set_node("node1@127.0.0.1");
    info.set_server_version("causeway 0.1.0");
    Reply reply = Send(FakeServer::Frame(Code::kGetServerInfoResp, info));
    reply.write_bytewise = true;
    return reply;
  });
  Client client(OptionsFor(server));
  pbc::RpbGetServerInfoResp info;
  ASSERT_TRUE(client.GetServerInfo(&info).ok());
  EXPECT_EQ(info.node(), "node1@127.0.0.1");
  EXPECT_EQ(info.server_version(), "causeway 0.1.0");
}

TEST(ClientTest, ErrorRespBecomesServerErrorWithItsMessage) {
  FakeServer server([](const Request& req) {
    if (req.code == static_cast<uint8_t>(Code::kPingReq)) {
      return Send(FakeServer::Frame(Code::kPingResp));
    }
    return Send(FakeServer::ErrorFrame(
        "insufficient vnodes: 1 of 2 answered",
        static_cast<uint32_t>(pbc::ErrorCode::kUnavailable)));
  });
  Client client(OptionsFor(server));
  pbc::RpbPutReq put;
  put.set_bucket("b");
  put.set_key("k");
  put.mutable_content()->set_value("v");
  pbc::RpbPutResp resp;
  Status s = client.Put(put, &resp);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(s.message(), "insufficient vnodes: 1 of 2 answered");
  EXPECT_EQ(client.last_error().kind, ErrorKind::kServer);
  EXPECT_EQ(client.last_error().server_code,
            static_cast<uint32_t>(pbc::ErrorCode::kUnavailable));
  // A server error leaves the connection usable.
  EXPECT_TRUE(client.connected());
  EXPECT_TRUE(client.Ping().ok());
  EXPECT_EQ(client.last_error().kind, ErrorKind::kNone);
}

TEST(ClientTest, ServerErrorCodesMapToStatusCodes) {
  struct Case {
    pbc::ErrorCode errcode;
    Status::Code status;
  };
  const Case cases[] = {
      {pbc::ErrorCode::kGeneric, Status::Code::kIoError},
      {pbc::ErrorCode::kBadRequest, Status::Code::kInvalidArgument},
      {pbc::ErrorCode::kUnknownMessage, Status::Code::kInvalidArgument},
      {pbc::ErrorCode::kNotFound, Status::Code::kNotFound},
      {pbc::ErrorCode::kTimeout, Status::Code::kTimeout},
      {pbc::ErrorCode::kPreconditionFailed, Status::Code::kPreconditionFailed},
      {pbc::ErrorCode::kInternal, Status::Code::kIoError},
  };
  for (const Case& c : cases) {
    FakeServer server([&](const Request&) {
      return Send(
          FakeServer::ErrorFrame("msg", static_cast<uint32_t>(c.errcode)));
    });
    Client client(OptionsFor(server));
    pbc::RpbGetBucketTypeReq req;
    req.set_type("nope");
    pbc::RpbBucketProps props;
    Status s = client.GetBucketType(req, &props);
    EXPECT_EQ(s.code(), c.status) << static_cast<int>(c.errcode);
    EXPECT_EQ(s.message(), "msg");
    EXPECT_EQ(client.last_error().kind, ErrorKind::kServer);
  }
}

TEST(ClientTest, OversizedReplyFrameIsAProtocolError) {
  FakeServer server([](const Request&) {
    // Announces 2 GiB and sends nothing more: the client must refuse from
    // the header alone rather than try to allocate or read it.
    return Send(std::string("\x80\x00\x00\x00", 4));
  });
  Client client(OptionsFor(server));
  Status s = client.Ping();
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("2147483648 bytes is over the limit"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(client.last_error().kind, ErrorKind::kProtocol);
  EXPECT_FALSE(client.connected());
}

TEST(ClientTest, ReplyJustOverAConfiguredLimitIsRefused) {
  pbc::RpbGetResp big;
  big.add_content()->set_value(std::string(1000, 'x'));
  const std::string frame = FakeServer::Frame(Code::kGetResp, big);
  FakeServer server([&](const Request&) { return Send(frame); });
  ClientOptions options = OptionsFor(server);
  pbc::RpbGetReq req;
  req.set_bucket("b");
  req.set_key("k");
  pbc::RpbGetResp resp;

  options.max_frame_bytes = static_cast<uint32_t>(frame.size() - 4);
  Client exact(options);
  EXPECT_TRUE(exact.Get(req, &resp).ok());
  exact.Close();  // the fake server serves one connection at a time

  options.max_frame_bytes = static_cast<uint32_t>(frame.size() - 5);
  Client small(options);
  Status s = small.Get(req, &resp);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_EQ(small.last_error().kind, ErrorKind::kProtocol);
}

TEST(ClientTest, RequestOverTheLimitIsNotSent) {
  FakeServer server(
      [](const Request&) { return Send(FakeServer::Frame(Code::kPutResp)); });
  ClientOptions options = OptionsFor(server);
  options.max_frame_bytes = 100;
  Client client(options);
  pbc::RpbPutReq put;
  put.set_bucket("b");
  put.mutable_content()->set_value(std::string(200, 'v'));
  pbc::RpbPutResp resp;
  EXPECT_EQ(client.Put(put, &resp).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

TEST(ClientTest, UnexpectedReplyCodeIsAProtocolError) {
  FakeServer server(
      [](const Request&) { return Send(FakeServer::Frame(Code::kPutResp)); });
  Client client(OptionsFor(server));
  Status s = client.Ping();
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("expected RpbPingResp, got RpbPutResp"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(client.last_error().kind, ErrorKind::kProtocol);
}

TEST(ClientTest, UndecodableBodyIsAProtocolError) {
  FakeServer server([](const Request&) {
    return Send(FakeServer::Frame(Code::kGetResp, "\xff\xff\xff"));
  });
  Client client(OptionsFor(server));
  pbc::RpbGetReq req;
  req.set_bucket("b");
  req.set_key("k");
  pbc::RpbGetResp resp;
  Status s = client.Get(req, &resp);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(client.last_error().kind, ErrorKind::kProtocol);
}

TEST(ClientTest, EmptyFrameIsAProtocolError) {
  FakeServer server(
      [](const Request&) { return Send(std::string("\x00\x00\x00\x00", 4)); });
  Client client(OptionsFor(server));
  Status s = client.Ping();
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("empty frame"), std::string::npos);
}

TEST(ClientTest, ConnectionClosedMidFrameIsUnreachable) {
  FakeServer server([](const Request&) {
    Reply reply = Send(FakeServer::Frame(Code::kPingResp, "abc").substr(0, 6));
    reply.close_after = true;
    return reply;
  });
  Client client(OptionsFor(server));
  Status s = client.Ping();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_EQ(client.last_error().kind, ErrorKind::kUnreachable);
  EXPECT_FALSE(client.connected());
}

TEST(ClientTest, ReconnectsAfterTheConnectionWasDropped) {
  int calls = 0;
  FakeServer server([&](const Request&) {
    Reply reply;
    if (++calls == 1) {
      reply.close_after = true;  // drop without answering
    } else {
      reply.bytes = FakeServer::Frame(Code::kPingResp);
    }
    return reply;
  });
  Client client(OptionsFor(server));
  EXPECT_EQ(client.Ping().code(), Status::Code::kUnavailable);
  EXPECT_TRUE(client.Ping().ok());
}

TEST(ClientTest, ConnectRefusedIsUnreachable) {
  ClientOptions options;
  options.port = testing::UnusedPort();
  Client client(options);
  Status s = client.Ping();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_EQ(client.last_error().kind, ErrorKind::kUnreachable);
  EXPECT_EQ(s.message(),
            "cannot reach 127.0.0.1:" + std::to_string(options.port) +
                ": connection refused");
}

TEST(ClientTest, UnresolvableHostIsUnreachable) {
  ClientOptions options;
  options.host = "no-such-host.invalid";
  Client client(options);
  Status s = client.Ping();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("cannot resolve host"), std::string::npos)
      << s.message();
}

TEST(ClientTest, SilentServerTimesOut) {
  FakeServer server([](const Request&) { return Reply{}; });
  ClientOptions options = OptionsFor(server);
  options.io_timeout_ms = 100;
  Client client(options);
  Status s = client.Ping();
  EXPECT_EQ(s.code(), Status::Code::kTimeout) << s.ToString();
  EXPECT_EQ(client.last_error().kind, ErrorKind::kTimeout);
  EXPECT_FALSE(client.connected());
}

Reply KeysFrame(std::vector<std::string> keys, bool done) {
  pbc::RpbListKeysResp resp;
  for (auto& k : keys) resp.add_keys(k);
  if (done) resp.set_done(true);
  return Send(FakeServer::Frame(Code::kListKeysResp, resp));
}

TEST(ClientTest, ListKeysReadsFramesUntilDone) {
  FakeServer server([](const Request&) {
    Reply reply = KeysFrame({"a", "b"}, false);
    reply.bytes += KeysFrame({}, false).bytes;
    reply.bytes += KeysFrame({"c"}, false).bytes;
    reply.bytes += KeysFrame({}, true).bytes;
    return reply;
  });
  Client client(OptionsFor(server));
  pbc::RpbListKeysReq req;
  req.set_bucket("b");
  std::vector<std::string> keys;
  ASSERT_TRUE(client.ListKeys(req, &keys).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ClientTest, ListKeysErrorMidStreamEndsTheCall) {
  FakeServer server([](const Request&) {
    Reply reply = KeysFrame({"a"}, false);
    reply.bytes += FakeServer::ErrorFrame("vnode went away", 4);
    return reply;
  });
  Client client(OptionsFor(server));
  pbc::RpbListKeysReq req;
  req.set_bucket("b");
  std::vector<std::string> keys;
  Status s = client.ListKeys(req, &keys);
  EXPECT_EQ(s.message(), "vnode went away");
  EXPECT_EQ(client.last_error().kind, ErrorKind::kServer);
  EXPECT_EQ(keys, std::vector<std::string>{"a"});
}

TEST(ClientTest, ListBucketsStreamsWhenAsked) {
  FakeServer server([](const Request& req) {
    pbc::RpbListBucketsReq sent;
    sent.ParseFromString(req.body);
    pbc::RpbListBucketsResp part;
    part.add_buckets("b1");
    if (!sent.stream()) {
      part.add_buckets("b2");
      return Send(FakeServer::Frame(Code::kListBucketsResp, part));
    }
    pbc::RpbListBucketsResp last;
    last.add_buckets("b2");
    last.set_done(true);
    return Send(FakeServer::Frame(Code::kListBucketsResp, part) +
                FakeServer::Frame(Code::kListBucketsResp, last));
  });
  Client client(OptionsFor(server));
  for (bool stream : {true, false}) {
    pbc::RpbListBucketsReq req;
    req.set_stream(stream);
    std::vector<std::string> buckets;
    ASSERT_TRUE(client.ListBuckets(req, &buckets).ok());
    EXPECT_EQ(buckets, (std::vector<std::string>{"b1", "b2"})) << stream;
  }
}

TEST(ClientTest, BucketAndTypeCallsUseTheirCodes) {
  FakeServer server([](const Request& req) {
    switch (static_cast<Code>(req.code)) {
      case Code::kGetBucketReq:
      case Code::kGetBucketTypeReq: {
        pbc::RpbGetBucketResp resp;
        resp.mutable_props()->set_n_val(
            req.code == static_cast<uint8_t>(Code::kGetBucketReq) ? 3 : 5);
        return Send(FakeServer::Frame(Code::kGetBucketResp, resp));
      }
      case Code::kSetBucketReq:
      case Code::kSetBucketTypeReq:
        return Send(FakeServer::Frame(Code::kSetBucketResp));
      case Code::kResetBucketReq:
        return Send(FakeServer::Frame(Code::kResetBucketResp));
      case Code::kGetBucketKeyPreflistReq: {
        pbc::RpbGetBucketKeyPreflistResp resp;
        auto* item = resp.add_preflist();
        item->set_partition(3);
        item->set_node("n1");
        item->set_primary(true);
        return Send(FakeServer::Frame(Code::kGetBucketKeyPreflistResp, resp));
      }
      case Code::kDelReq:
        return Send(FakeServer::Frame(Code::kDelResp));
      default:
        return Send(FakeServer::ErrorFrame("unexpected", 2));
    }
  });
  Client client(OptionsFor(server));
  pbc::RpbBucketProps props;
  pbc::RpbGetBucketReq get;
  get.set_bucket("b");
  ASSERT_TRUE(client.GetBucket(get, &props).ok());
  EXPECT_EQ(props.n_val(), 3u);
  pbc::RpbGetBucketTypeReq get_type;
  get_type.set_type("t");
  ASSERT_TRUE(client.GetBucketType(get_type, &props).ok());
  EXPECT_EQ(props.n_val(), 5u);
  pbc::RpbSetBucketReq set;
  set.set_bucket("b");
  set.mutable_props()->set_allow_mult(true);
  ASSERT_TRUE(client.SetBucket(set).ok());
  pbc::RpbSetBucketTypeReq set_type;
  set_type.set_type("t");
  set_type.mutable_props()->set_n_val(1);
  ASSERT_TRUE(client.SetBucketType(set_type).ok());
  pbc::RpbResetBucketReq reset;
  reset.set_bucket("b");
  ASSERT_TRUE(client.ResetBucket(reset).ok());
  pbc::RpbGetBucketKeyPreflistReq pl;
  pl.set_bucket("b");
  pl.set_key("k");
  pbc::RpbGetBucketKeyPreflistResp plr;
  ASSERT_TRUE(client.GetPreflist(pl, &plr).ok());
  ASSERT_EQ(plr.preflist_size(), 1);
  EXPECT_EQ(plr.preflist(0).node(), "n1");
  pbc::RpbDelReq del;
  del.set_bucket("b");
  del.set_key("k");
  ASSERT_TRUE(client.Delete(del).ok());

  std::vector<uint8_t> codes;
  for (const Request& r : server.requests()) codes.push_back(r.code);
  EXPECT_EQ(codes, (std::vector<uint8_t>{19, 31, 21, 32, 29, 33, 13}));
  pbc::RpbSetBucketReq sent;
  ASSERT_TRUE(sent.ParseFromString(server.requests()[2].body));
  EXPECT_TRUE(sent.props().allow_mult());
}

}  // namespace
}  // namespace causeway::client
