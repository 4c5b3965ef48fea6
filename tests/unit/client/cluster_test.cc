// Cluster administration on the client side: the frames Client::Cluster*
// send and accept, the renderers of a node's cluster view, and the
// `causeway cluster ...` commands against a fake node (exact requests,
// printed text, JSON shape, exit status).

#include <string>
#include <vector>

#include "client/cli.h"
#include "client/client.h"
#include "client/cluster_format.h"
#include "gtest/gtest.h"
#include "proto/admin.pb.h"
#include "tests/unit/client/cli_harness.h"
#include "tests/unit/client/fake_server.h"

namespace causeway::client {
namespace {

using pbc::Code;
using testing::FakeNode;
using testing::FakeServer;
using testing::Reply;
using testing::Request;
using testing::RunTool;

constexpr uint8_t kJoin = 200, kLeave = 202, kStatus = 204;

// The proposed next_owners field (number 10, length-delimited), appended to
// an encoded reply as a server that declares it would send it.
std::string WithNextOwners(const admin::CwClusterStatusResp& status,
                           const std::vector<std::string>& next) {
  std::string bytes = status.SerializeAsString();
  for (const std::string& n : next) {
    EXPECT_LT(n.size(), 128u);
    bytes.push_back(static_cast<char>((10 << 3) | 2));
    bytes.push_back(static_cast<char>(n.size()));
    bytes += n;
  }
  return bytes;
}

admin::CwMember* AddMember(admin::CwClusterStatusResp* s,
                           const std::string& name, const std::string& address,
                           const std::string& status, bool up,
                           uint32_t partitions, uint32_t next) {
  admin::CwMember* m = s->add_members();
  m->set_name(name);
  m->set_address(address);
  m->set_status(status);
  m->set_up(up);
  m->set_partitions(partitions);
  m->set_next_partitions(next);
  m->set_last_heard_ms_ago(up ? 120 : 9000);
  return m;
}

// Eight partitions; c is joining, d leaving, b valid but down, e removed.
// Pending change: partitions 2 and 4 go a->c, 6 goes d->a, 7 goes d->c.
admin::CwClusterStatusResp SampleStatus() {
  admin::CwClusterStatusResp s;
  s.set_node("a@127.0.0.1");
  s.set_claimant("a@127.0.0.1");
  s.set_ring_version(7);
  s.set_ring_size(8);
  // Sent out of order: output is sorted by name.
  AddMember(&s, "d@127.0.0.1", "127.0.0.1:8290", "leaving", true, 2, 0);
  AddMember(&s, "a@127.0.0.1", "127.0.0.1:8287", "valid", true, 3, 2);
  AddMember(&s, "e@127.0.0.1", "127.0.0.1:8291", "removed", false, 0, 0);
  AddMember(&s, "c@127.0.0.1", "127.0.0.1:8289", "joining", true, 0, 3);
  AddMember(&s, "b@127.0.0.1", "127.0.0.1:8288", "valid", false, 3, 3);
  s.set_pending_transfers(4);
  s.add_transfers_done("b@127.0.0.1");
  for (const char* o : {"a", "b", "a", "b", "a", "b", "d", "d"}) {
    s.add_owners(std::string(o) + "@127.0.0.1");
  }
  admin::CwHandoff* h = s.mutable_handoff();
  h->set_hints_pending(5);
  h->set_hints_delivered(11);
  h->set_transfer_running(true);
  h->set_transfer_partition(4);
  h->set_transfer_keys_scanned(1200);
  h->set_transfer_keys_done(800);
  h->set_cleanup_running(false);
  return s;
}

const std::vector<std::string> kSampleNext = {
    "a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1", "b@127.0.0.1",
    "c@127.0.0.1", "b@127.0.0.1", "a@127.0.0.1", "c@127.0.0.1"};

admin::CwClusterStatusResp Parse(const std::string& bytes) {
  admin::CwClusterStatusResp s;
  EXPECT_TRUE(s.ParseFromString(bytes));
  return s;
}

// --- Client -------------------------------------------------------------

ClientOptions OptionsFor(const FakeServer& server) {
  ClientOptions o;
  o.port = server.port();
  o.io_timeout_ms = 5000;
  return o;
}

TEST(ClientClusterTest, JoinSendsTheSeedAndAcceptsAnEmptyReply) {
  FakeServer server([](const Request&) {
    return Reply{FakeServer::Frame(Code::kClusterJoinResp)};
  });
  Client client(OptionsFor(server));
  ASSERT_TRUE(client.ClusterJoin("10.0.0.1:8287").ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].code, kJoin);
  admin::CwClusterJoinReq sent;
  ASSERT_TRUE(sent.ParseFromString(reqs[0].body));
  EXPECT_EQ(sent.seed(), "10.0.0.1:8287");
}

TEST(ClientClusterTest, LeaveNamesTheNodeOnlyWhenGiven) {
  FakeServer server([](const Request&) {
    return Reply{FakeServer::Frame(Code::kClusterLeaveResp)};
  });
  Client client(OptionsFor(server));
  ASSERT_TRUE(client.ClusterLeave().ok());
  ASSERT_TRUE(client.ClusterLeave("b@127.0.0.1").ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].code, kLeave);
  EXPECT_EQ(reqs[0].body, "");  // no node field: the receiver leaves
  admin::CwClusterLeaveReq sent;
  ASSERT_TRUE(sent.ParseFromString(reqs[1].body));
  ASSERT_TRUE(sent.has_node());
  EXPECT_EQ(sent.node(), "b@127.0.0.1");
}

TEST(ClientClusterTest, StatusSendsAnEmptyRequestAndParsesTheView) {
  FakeServer server([](const Request&) {
    return Reply{FakeServer::Frame(Code::kClusterStatusResp, SampleStatus())};
  });
  Client client(OptionsFor(server));
  admin::CwClusterStatusResp status;
  ASSERT_TRUE(client.ClusterStatus(&status).ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].code, kStatus);
  EXPECT_EQ(reqs[0].body, "");
  EXPECT_EQ(status.members_size(), 5);
  EXPECT_EQ(status.owners_size(), 8);
  EXPECT_EQ(status.handoff().transfer_keys_done(), 800u);
}

TEST(ClientClusterTest, ServerErrorAndWrongReplyCode) {
  FakeServer server([](const Request& req) {
    if (req.code == kJoin) {
      return Reply{FakeServer::ErrorFrame("unknown message code 200", 2)};
    }
    // A leave answered as if it were a join: the stream is not trusted.
    return Reply{FakeServer::Frame(Code::kClusterJoinResp)};
  });
  Client client(OptionsFor(server));
  Status s = client.ClusterJoin("h:1");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "unknown message code 200");
  EXPECT_EQ(client.last_error().kind, ErrorKind::kServer);
  EXPECT_TRUE(client.connected());
  s = client.ClusterLeave();
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_EQ(client.last_error().kind, ErrorKind::kProtocol);
  EXPECT_FALSE(client.connected());
}

TEST(ClientClusterTest, UndecodableStatusIsAProtocolError) {
  FakeServer server([](const Request&) {
    // Field 3 (ring_version, a varint) with a truncated value.
    return Reply{FakeServer::Frame(Code::kClusterStatusResp,
                                   std::string("\x18\xff", 2))};
  });
  Client client(OptionsFor(server));
  admin::CwClusterStatusResp status;
  Status s = client.ClusterStatus(&status);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
}

// --- Rendering ----------------------------------------------------------

TEST(ClientClusterFormatTest, MemberStatusFollowsLivenessForValidMembers) {
  admin::CwMember m;
  m.set_status("valid");
  m.set_up(true);
  EXPECT_EQ(MemberDisplayStatus(m), "up");
  m.set_up(false);
  EXPECT_EQ(MemberDisplayStatus(m), "down");
  m.clear_up();  // unsaid: up, as in ClusterView
  EXPECT_EQ(MemberDisplayStatus(m), "up");
  m.set_up(false);
  m.set_status("joining");
  EXPECT_EQ(MemberDisplayStatus(m), "joining");
  m.set_status("leaving");
  EXPECT_EQ(MemberDisplayStatus(m), "leaving");
  m.set_status("removed");
  EXPECT_EQ(MemberDisplayStatus(m), "");
  m.set_status("odd\x1b[2J");
  EXPECT_EQ(MemberDisplayStatus(m), "odd\\x1b[2J");
  m.clear_status();
  EXPECT_EQ(MemberDisplayStatus(m), "unknown");
}

TEST(ClientClusterFormatTest, PrintableEscapesControlsAndBadUtf8) {
  EXPECT_EQ(Printable("plain@host:1"), "plain@host:1");
  EXPECT_EQ(Printable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(Printable(std::string("a\nb\0c", 5)), "a\\x0ab\\x00c");
  EXPECT_EQ(Printable("\xc3"), "\\xc3");
  EXPECT_EQ(Printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(Printable("back\\slash"), "back\\x5cslash");
}

TEST(ClientClusterFormatTest, MembersText) {
  EXPECT_EQ(RenderMembersText(SampleStatus()),
            "a@127.0.0.1  up       3  127.0.0.1:8287  (next 2)\n"
            "b@127.0.0.1  down     3  127.0.0.1:8288\n"
            "c@127.0.0.1  joining  0  127.0.0.1:8289  (next 3)\n"
            "d@127.0.0.1  leaving  2  127.0.0.1:8290  (next 0)\n");
}

TEST(ClientClusterFormatTest, MembersJson) {
  EXPECT_EQ(
      RenderMembersJson(SampleStatus()),
      "{\"members\":["
      "{\"name\":\"a@127.0.0.1\",\"status\":\"up\",\"address\":\"127.0.0.1:"
      "8287\",\"partitions\":3,\"next_partitions\":2,\"up\":true,\"last_"
      "heard_ms_ago\":120},"
      "{\"name\":\"b@127.0.0.1\",\"status\":\"down\",\"address\":\"127.0.0."
      "1:8288\",\"partitions\":3,\"next_partitions\":3,\"up\":false,\"last_"
      "heard_ms_ago\":9000},"
      "{\"name\":\"c@127.0.0.1\",\"status\":\"joining\",\"address\":\"127.0."
      "0.1:8289\",\"partitions\":0,\"next_partitions\":3,\"up\":true,\"last_"
      "heard_ms_ago\":120},"
      "{\"name\":\"d@127.0.0.1\",\"status\":\"leaving\",\"address\":\"127.0."
      "0.1:8290\",\"partitions\":2,\"next_partitions\":0,\"up\":true,\"last_"
      "heard_ms_ago\":120}]}");
}

TEST(ClientClusterFormatTest, MembersOfAnEmptyViewPrintNothing) {
  admin::CwClusterStatusResp empty;
  EXPECT_EQ(RenderMembersText(empty), "");
  EXPECT_EQ(RenderMembersJson(empty), "{\"members\":[]}");
}

TEST(ClientClusterFormatTest, StatusText) {
  EXPECT_EQ(RenderStatusText(SampleStatus()),
            "node: a@127.0.0.1\n"
            "claimant: a@127.0.0.1\n"
            "ring_version: 7\n"
            "ring_size: 8\n"
            "members: 4 (1 up, 1 down, 1 joining, 1 leaving)\n"
            "pending_transfers: 4\n"
            "transfers_done: b@127.0.0.1\n"
            "transfer: running at partition 4, 1200 keys scanned, 800 sent\n"
            "cleanup: idle\n"
            "hints_pending: 5\n"
            "hints_delivered: 11\n");
}

TEST(ClientClusterFormatTest, SettledStatusTextOmitsTransfersDone) {
  admin::CwClusterStatusResp s;
  s.set_node("a@h");
  s.set_ring_version(1);
  s.set_ring_size(64);
  AddMember(&s, "a@h", "h:8287", "valid", true, 64, 64);
  s.mutable_handoff()->set_cleanup_running(true);
  s.mutable_handoff()->set_cleanup_keys_done(42);
  EXPECT_EQ(RenderStatusText(s),
            "node: a@h\n"
            "claimant: (none)\n"
            "ring_version: 1\n"
            "ring_size: 64\n"
            "members: 1 (1 up, 0 down, 0 joining, 0 leaving)\n"
            "pending_transfers: 0\n"
            "transfer: idle\n"
            "cleanup: running, 42 keys removed\n"
            "hints_pending: 0\n"
            "hints_delivered: 0\n");
}

TEST(ClientClusterFormatTest, StatusShowsTheClockWhenReported) {
  admin::CwClusterStatusResp s;
  admin::CwClock* c = s.mutable_clock();
  c->set_max_offset_ms(500);
  c->set_refusals(3);
  c->set_peers_heard(2);
  EXPECT_NE(RenderStatusText(s).find(
                "clock: ok, 3 peer timestamps refused (max offset 500 ms)\n"),
            std::string::npos);
  c->set_peers_beyond(2);
  c->set_suspect(true);
  EXPECT_NE(RenderStatusText(s).find("clock: SUSPECT, reads beyond the max "
                                     "offset 500 ms from 2 of 2 peers; 3 "
                                     "peer timestamps refused\n"),
            std::string::npos)
      << RenderStatusText(s);
  EXPECT_NE(RenderStatusJson(s).find(
                "\"clock\":{\"max_offset_ms\":500,\"refusals\":3,"
                "\"peers_heard\":2,\"peers_beyond\":2,\"suspect\":true}"),
            std::string::npos)
      << RenderStatusJson(s);
}

TEST(ClientClusterFormatTest, StatusJson) {
  EXPECT_EQ(RenderStatusJson(SampleStatus()),
            "{\"node\":\"a@127.0.0.1\",\"claimant\":\"a@127.0.0.1\","
            "\"ring_version\":7,\"ring_size\":8,"
            "\"members\":{\"total\":4,\"up\":1,\"down\":1,\"joining\":1,"
            "\"leaving\":1},"
            "\"pending_transfers\":4,\"transfers_done\":[\"b@127.0.0.1\"],"
            "\"handoff\":{\"hints_pending\":5,\"hints_delivered\":11,"
            "\"transfer_running\":true,\"transfer_partition\":4,"
            "\"transfer_keys_scanned\":1200,\"transfer_keys_done\":800,"
            "\"cleanup_running\":false,\"cleanup_keys_done\":0}}");
  admin::CwClusterStatusResp empty;
  EXPECT_EQ(RenderStatusJson(empty),
            "{\"node\":null,\"claimant\":null,\"ring_version\":0,"
            "\"ring_size\":0,\"members\":{\"total\":0,\"up\":0,\"down\":0,"
            "\"joining\":0,\"leaving\":0},\"pending_transfers\":0,"
            "\"transfers_done\":[],\"handoff\":{\"hints_pending\":0,"
            "\"hints_delivered\":0,\"transfer_running\":false,"
            "\"transfer_partition\":0,\"transfer_keys_scanned\":0,"
            "\"transfer_keys_done\":0,\"cleanup_running\":false,"
            "\"cleanup_keys_done\":0}}");
}

TEST(ClientClusterFormatTest, StatusJsonKeepsLargeCountersUnsigned) {
  admin::CwClusterStatusResp s;
  s.set_ring_version(UINT64_MAX);
  s.mutable_handoff()->set_hints_pending(UINT64_MAX);
  const std::string json = RenderStatusJson(s);
  EXPECT_NE(json.find("\"ring_version\":18446744073709551615"),
            std::string::npos);
  EXPECT_NE(json.find("\"hints_pending\":18446744073709551615"),
            std::string::npos);
}

TEST(ClientClusterFormatTest, NextOwnersAreReadFromTheProposedField) {
  const admin::CwClusterStatusResp s =
      Parse(WithNextOwners(SampleStatus(), kSampleNext));
  EXPECT_EQ(NextOwners(s), kSampleNext);
  EXPECT_TRUE(NextOwners(SampleStatus()).empty());
  // A list that does not match the ring cannot be placed: ignored.
  std::vector<std::string> short_list(kSampleNext.begin(),
                                      kSampleNext.end() - 1);
  EXPECT_TRUE(
      NextOwners(Parse(WithNextOwners(SampleStatus(), short_list))).empty());
}

TEST(ClientClusterFormatTest, RingTextWithNextOwners) {
  EXPECT_EQ(RenderRingText(Parse(WithNextOwners(SampleStatus(), kSampleNext))),
            "PARTITION  OWNER        NEXT\n"
            "0          a@127.0.0.1\n"
            "1          b@127.0.0.1\n"
            "2          a@127.0.0.1  c@127.0.0.1\n"
            "3          b@127.0.0.1\n"
            "4          a@127.0.0.1  c@127.0.0.1\n"
            "5          b@127.0.0.1\n"
            "6          d@127.0.0.1  a@127.0.0.1\n"
            "7          d@127.0.0.1  c@127.0.0.1\n"
            "\n"
            "NODE         PARTITIONS  NEXT\n"
            "a@127.0.0.1  3           2\n"
            "b@127.0.0.1  3           3\n"
            "c@127.0.0.1  0           3\n"
            "d@127.0.0.1  2           0\n");
}

TEST(ClientClusterFormatTest, RingTextFallsBackToMemberCounts) {
  // Without per-partition next owners the table shows owners only and the
  // counts come from each member's next_partitions.
  EXPECT_EQ(RenderRingText(SampleStatus()),
            "PARTITION  OWNER\n"
            "0          a@127.0.0.1\n"
            "1          b@127.0.0.1\n"
            "2          a@127.0.0.1\n"
            "3          b@127.0.0.1\n"
            "4          a@127.0.0.1\n"
            "5          b@127.0.0.1\n"
            "6          d@127.0.0.1\n"
            "7          d@127.0.0.1\n"
            "\n"
            "NODE         PARTITIONS  NEXT\n"
            "a@127.0.0.1  3           2\n"
            "b@127.0.0.1  3           3\n"
            "c@127.0.0.1  0           3\n"
            "d@127.0.0.1  2           0\n");
}

TEST(ClientClusterFormatTest, SettledRingHasNoNextColumns) {
  admin::CwClusterStatusResp s;
  s.set_ring_size(4);
  AddMember(&s, "x@h", "h:1", "valid", true, 2, 2);
  AddMember(&s, "y@h", "h:2", "valid", true, 2, 2);
  for (const char* o : {"x@h", "y@h", "x@h", "y@h"}) s.add_owners(o);
  EXPECT_EQ(RenderRingText(s),
            "PARTITION  OWNER\n"
            "0          x@h\n"
            "1          y@h\n"
            "2          x@h\n"
            "3          y@h\n"
            "\n"
            "NODE  PARTITIONS\n"
            "x@h   2\n"
            "y@h   2\n");
}

TEST(ClientClusterFormatTest, RingJson) {
  EXPECT_EQ(
      RenderRingJson(Parse(WithNextOwners(SampleStatus(), kSampleNext))),
      "{\"ring_version\":7,\"ring_size\":8,\"pending_transfers\":4,"
      "\"partitions\":["
      "{\"partition\":0,\"owner\":\"a@127.0.0.1\",\"next_owner\":null},"
      "{\"partition\":1,\"owner\":\"b@127.0.0.1\",\"next_owner\":null},"
      "{\"partition\":2,\"owner\":\"a@127.0.0.1\",\"next_owner\":\"c@127.0."
      "0.1\"},"
      "{\"partition\":3,\"owner\":\"b@127.0.0.1\",\"next_owner\":null},"
      "{\"partition\":4,\"owner\":\"a@127.0.0.1\",\"next_owner\":\"c@127.0."
      "0.1\"},"
      "{\"partition\":5,\"owner\":\"b@127.0.0.1\",\"next_owner\":null},"
      "{\"partition\":6,\"owner\":\"d@127.0.0.1\",\"next_owner\":\"a@127.0."
      "0.1\"},"
      "{\"partition\":7,\"owner\":\"d@127.0.0.1\",\"next_owner\":\"c@127.0."
      "0.1\"}],"
      "\"nodes\":["
      "{\"name\":\"a@127.0.0.1\",\"partitions\":3,\"next_partitions\":2},"
      "{\"name\":\"b@127.0.0.1\",\"partitions\":3,\"next_partitions\":3},"
      "{\"name\":\"c@127.0.0.1\",\"partitions\":0,\"next_partitions\":3},"
      "{\"name\":\"d@127.0.0.1\",\"partitions\":2,\"next_partitions\":0}]}");
}

TEST(ClientClusterFormatTest, HostileNamesAreEscapedInTextAndJson) {
  admin::CwClusterStatusResp s;
  s.set_node("n\x1b]0;pwned\x07");
  AddMember(&s, "m\xff", "h:1", "valid", true, 1, 1);
  s.add_owners("m\xff");
  EXPECT_EQ(RenderMembersText(s), "m\\xff  up  1  h:1\n");
  EXPECT_NE(RenderStatusText(s).find("node: n\\x1b]0;pwned\\x07\n"),
            std::string::npos);
  // Not UTF-8: JSON carries the bytes as base64, as for keys.
  EXPECT_NE(RenderMembersJson(s).find("\"name\":{\"base64\":\"bf8=\"}"),
            std::string::npos);
  EXPECT_NE(RenderRingText(s).find("0          m\\xff\n"), std::string::npos);
}

admin::CwClusterStatusResp AaeStatus() {
  admin::CwClusterStatusResp s;
  s.set_node("a@127.0.0.1");
  admin::CwAae* a = s.mutable_aae();
  a->set_enabled(true);
  a->set_now_ms(100000);
  a->set_exchanges(12);
  a->set_exchanges_failed(1);
  a->set_keys_repaired(345);
  a->set_tombstones_reaped(6);
  a->set_bytes_sent(7890);
  a->set_bytes_received(1234);
  a->set_rebuilds_done(2);
  a->set_rebuilds_pending(1);
  admin::CwAaePartition* p = a->add_partitions();
  p->set_partition(0);
  p->set_ready(true);
  p->set_root(99);
  p->set_exchanges(5);
  p->set_keys_repaired(300);
  p->set_last_exchange_ms(98500);
  p->set_last_peer("b@127.0.0.1");
  p = a->add_partitions();
  p->set_partition(1);
  p->set_ready(false);
  p->set_rebuild_phase(2);
  p->set_rebuild_keys_scanned(4000);
  p->set_rebuild_segments_done(17);
  p->set_last_error("no reply from b@127.0.0.1");
  p = a->add_partitions();
  p->set_partition(2);
  p->set_ready(false);
  p->set_rebuild_phase(2);
  p->set_rebuild_keys_scanned(700);
  p->set_rebuild_is_sum(true);
  return s;
}

TEST(ClientClusterFormatTest, AaeText) {
  EXPECT_EQ(RenderAaeText(AaeStatus()),
            "node: a@127.0.0.1\n"
            "enabled: true\n"
            "exchanges: 12 (1 failed)\n"
            "keys_repaired: 345\n"
            "tombstones_reaped: 6\n"
            "bytes_sent: 7890\n"
            "bytes_received: 1234\n"
            "tree_rebuilds: 2 done, 1 pending\n"
            "PARTITION  TREE                             EXCHANGES  REPAIRED  "
            "REAPED  LAST_EXCHANGE                             PEER\n"
            "0          ready                            5          300       "
            "0       1.5s ago                                  b@127.0.0.1\n"
            "1          rebuilding (phase 2, 4000 keys)  0          0         "
            "0       never [error: no reply from b@127.0.0.1]  -\n"
            "2          summing index (700 keys)         0          0         "
            "0       never                                     -\n");
  admin::CwClusterStatusResp old;
  old.set_node("x@h");
  EXPECT_EQ(RenderAaeText(old),
            "node: x@h\naae: (not reported by this node)\n");
}

TEST(ClientClusterFormatTest, AaeJson) {
  EXPECT_EQ(
      RenderAaeJson(AaeStatus()),
      "{\"node\":\"a@127.0.0.1\",\"enabled\":true,\"exchanges\":12,"
      "\"exchanges_failed\":1,\"keys_repaired\":345,"
      "\"tombstones_reaped\":6,\"bytes_sent\":7890,\"bytes_received\":1234,"
      "\"rebuilds_done\":2,\"rebuilds_pending\":1,\"partitions\":["
      "{\"partition\":0,\"ready\":true,\"root\":99,\"exchanges\":5,"
      "\"keys_repaired\":300,\"tombstones_reaped\":0,"
      "\"last_exchange_ms\":98500,\"last_exchange_ms_ago\":1500,"
      "\"last_peer\":\"b@127.0.0.1\",\"last_error\":null,\"rebuild\":null},"
      "{\"partition\":1,\"ready\":false,\"root\":0,\"exchanges\":0,"
      "\"keys_repaired\":0,\"tombstones_reaped\":0,"
      "\"last_exchange_ms\":null,\"last_exchange_ms_ago\":null,"
      "\"last_peer\":null,\"last_error\":\"no reply from b@127.0.0.1\","
      "\"rebuild\":{\"phase\":2,\"keys_scanned\":4000,"
      "\"segments_done\":17,\"sum_at_start\":false}},"
      "{\"partition\":2,\"ready\":false,\"root\":0,\"exchanges\":0,"
      "\"keys_repaired\":0,\"tombstones_reaped\":0,"
      "\"last_exchange_ms\":null,\"last_exchange_ms_ago\":null,"
      "\"last_peer\":null,\"last_error\":null,"
      "\"rebuild\":{\"phase\":2,\"keys_scanned\":700,"
      "\"segments_done\":0,\"sum_at_start\":true}}]}");
}

// --- The tool -----------------------------------------------------------

TEST(CliClusterTest, JoinSendsTheSeedToTheNewNode) {
  FakeNode node;
  node.Answer(Code::kClusterJoinReq, FakeServer::Frame(Code::kClusterJoinResp));
  auto r =
      RunTool({"--node", node.node(), "cluster", "join", "127.0.0.1:8287"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, "join requested: " + node.node() +
                       " joins the cluster of 127.0.0.1:8287; partitions move "
                       "in the background (see `causeway cluster status`)\n");
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(node.codes(), std::vector<uint8_t>{kJoin});
  EXPECT_EQ(node.Sent<admin::CwClusterJoinReq>(0).seed(), "127.0.0.1:8287");

  r = RunTool(
      {"--node", node.node(), "cluster", "join", "[::1]:8287", "--json"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"ok\":true}\n");
  EXPECT_EQ(node.Sent<admin::CwClusterJoinReq>(1).seed(), "[::1]:8287");
}

TEST(CliClusterTest, JoinWithoutAPeerPortIsUsageAndSendsNothing) {
  FakeNode node;
  for (const char* seed : {"127.0.0.1", "[::1]", "host:", "host:99999", ""}) {
    auto r = RunTool({"--node", node.node(), "cluster", "join", seed});
    EXPECT_EQ(r.code, cli::kExitUsage) << seed;
    EXPECT_NE(r.err.find("peer address HOST:PORT"), std::string::npos) << r.err;
  }
  auto r = RunTool({"--node", node.node(), "cluster", "join"});
  EXPECT_EQ(r.code, cli::kExitUsage);
  EXPECT_TRUE(node.requests().empty());
}

TEST(CliClusterTest, JoinHelpExplainsThePeerPort) {
  auto r = RunTool({"cluster", "join", "--help"});
  EXPECT_EQ(r.code, cli::kExitOk);
  EXPECT_NE(r.out.find("PEER address HOST:PORT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("client port + 200"), std::string::npos) << r.out;
}

TEST(CliClusterTest, JoinRefusedByTheNodeExitsThree) {
  FakeNode node;
  node.Answer(Code::kClusterJoinReq,
              FakeServer::ErrorFrame("seed 127.0.0.1:8287 unreachable", 4));
  auto r =
      RunTool({"--node", node.node(), "cluster", "join", "127.0.0.1:8287"});
  EXPECT_EQ(r.code, cli::kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "causeway: server error: seed 127.0.0.1:8287 unreachable\n");
}

TEST(CliClusterTest, LeaveWithAndWithoutANode) {
  FakeNode node;
  node.Answer(Code::kClusterLeaveReq,
              FakeServer::Frame(Code::kClusterLeaveResp));
  auto r = RunTool({"--node", node.node(), "cluster", "leave"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, "leave requested: the node at " + node.node() +
                       " hands its partitions off, then exits (see `causeway "
                       "cluster status`)\n");
  r = RunTool({"--node", node.node(), "cluster", "leave", "b@127.0.0.1"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "leave requested: b@127.0.0.1 hands its partitions off, then "
            "exits (see `causeway cluster status`)\n");
  r = RunTool(
      {"--node", node.node(), "--json", "cluster", "leave", "c@127.0.0.1"});
  EXPECT_EQ(r.out, "{\"ok\":true}\n");
  ASSERT_EQ(node.codes(), (std::vector<uint8_t>{kLeave, kLeave, kLeave}));
  EXPECT_FALSE(node.Sent<admin::CwClusterLeaveReq>(0).has_node());
  EXPECT_EQ(node.Sent<admin::CwClusterLeaveReq>(1).node(), "b@127.0.0.1");
  EXPECT_EQ(node.Sent<admin::CwClusterLeaveReq>(2).node(), "c@127.0.0.1");
}

TEST(CliClusterTest, LeaveOfAnUnknownNodeReportsTheServersWord) {
  FakeNode node;
  node.Answer(Code::kClusterLeaveReq,
              FakeServer::ErrorFrame("no member named z@h", 1));
  auto r =
      RunTool({"--node", node.node(), "--json", "cluster", "leave", "z@h"});
  EXPECT_EQ(r.code, cli::kExitFailure);
  EXPECT_EQ(r.err, "causeway: server error: no member named z@h\n");
  EXPECT_EQ(r.out,
            "{\"ok\":false,\"error\":{\"kind\":\"server\",\"message\":\"no "
            "member named z@h\"}}\n");
}

class CliClusterViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.Answer(
        Code::kClusterStatusReq,
        FakeServer::Frame(Code::kClusterStatusResp,
                          WithNextOwners(SampleStatus(), kSampleNext)));
  }
  // Runs `cluster <args>` and checks that exactly one empty status request
  // was sent for it.
  testing::CliResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--node", node_.node(), "cluster"});
    const size_t before = node_.requests().size();
    testing::CliResult r = RunTool(args);
    auto reqs = node_.requests();
    EXPECT_EQ(reqs.size(), before + 1);
    if (reqs.size() == before + 1) {
      EXPECT_EQ(reqs.back().code, kStatus);
      EXPECT_EQ(reqs.back().body, "");
    }
    return r;
  }
  admin::CwClusterStatusResp View() {
    return Parse(WithNextOwners(SampleStatus(), kSampleNext));
  }
  FakeNode node_;
};

TEST_F(CliClusterViewTest, Members) {
  auto r = Run({"members"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, RenderMembersText(View()));
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "a@127.0.0.1  up       3  127.0.0.1:8287  (next 2)");
  r = Run({"members", "--json"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, RenderMembersJson(View()) + "\n");
  EXPECT_EQ(r.out.rfind("{\"members\":[{\"name\":\"a@127.0.0.1\",\"status\":"
                        "\"up\",\"address\":\"127.0.0.1:8287\",\"partitions\":"
                        "3,",
                        0),
            0u);
  EXPECT_EQ(r.out.find("e@127.0.0.1"), std::string::npos);  // removed
}

TEST_F(CliClusterViewTest, Status) {
  auto r = Run({"status"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, RenderStatusText(View()));
  EXPECT_NE(r.out.find("\npending_transfers: 4\n"), std::string::npos);
  r = Run({"status", "--json"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, RenderStatusJson(View()) + "\n");
  EXPECT_NE(r.out.find("\"pending_transfers\":4,"), std::string::npos);
}

TEST_F(CliClusterViewTest, Ring) {
  auto r = Run({"ring"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, RenderRingText(View()));
  EXPECT_NE(r.out.find("\n6          d@127.0.0.1  a@127.0.0.1\n"),
            std::string::npos);
  r = Run({"--json", "ring"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, RenderRingJson(View()) + "\n");
}

TEST_F(CliClusterViewTest, Aae) {
  auto r = Run({"aae"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, RenderAaeText(View()));
  r = Run({"aae", "--json"});
  EXPECT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(r.out, RenderAaeJson(View()) + "\n");
}

TEST(CliClusterTest, ClusterWithoutSubcommandIsUsage) {
  auto r = RunTool({"cluster"});
  EXPECT_EQ(r.code, cli::kExitUsage);
  r = RunTool({"cluster", "rebalance"});
  EXPECT_EQ(r.code, cli::kExitUsage);
}

TEST(CliClusterTest, UnreachableOrOldNodeExitsThree) {
  auto r =
      RunTool({"--node", "127.0.0.1:" + std::to_string(testing::UnusedPort()),
               "cluster", "status"});
  EXPECT_EQ(r.code, cli::kExitFailure);
  EXPECT_NE(r.err.find("is the node running?"), std::string::npos) << r.err;
  // A node without the admin messages answers with an error naming the code.
  FakeNode old;
  r = RunTool({"--node", old.node(), "cluster", "members"});
  EXPECT_EQ(r.code, cli::kExitFailure);
  EXPECT_EQ(r.err, "causeway: server error: no canned reply for code 204\n");
  EXPECT_EQ(r.out, "");
}

TEST(CliClusterTest, MalformedStatusReplyExitsThree) {
  FakeNode node;
  node.Answer(Code::kClusterStatusReq,
              FakeServer::Frame(Code::kClusterStatusResp,
                                std::string("\x2a\x05mem", 5)));
  auto r = RunTool({"--node", node.node(), "cluster", "ring"});
  EXPECT_EQ(r.code, cli::kExitFailure);
  EXPECT_NE(r.err.find("undecodable CwClusterStatusResp body"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace causeway::client
