// Writes the seed corpora under tests/fuzz/corpus/<target>/ from the real
// encoders, so seeds stay valid when a format changes: rebuild and rerun
//   causeway_fuzz_seeds tests/fuzz/corpus
// (files are overwritten; commit what changed). Not part of any test.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "node/faults.h"
#include "node/pbc_codec.h"
#include "node/peer_wire.h"
#include "proto/admin.pb.h"
#include "proto/peer.pb.h"
#include "proto/riak.pb.h"
#include "replication/aae/tree.h"
#include "replication/buckets/bucket_props.h"
#include "replication/causal/version_vector.h"
#include "replication/crdt/data_type.h"
#include "replication/handoff/handoff.h"
#include "replication/membership/ring_state.h"
#include "replication/object/object.h"
#include "replication/security/security_registry.h"
#include "storage/keys.h"

namespace fs = std::filesystem;

namespace causeway::fuzz {
namespace {

using replication::buckets::BucketPropsPatch;
using replication::buckets::Quorum;
using replication::causal::Dot;
using replication::causal::HlcTimestamp;
using replication::causal::VersionVector;
using replication::object::Object;
using replication::object::Resolution;
using replication::object::Sibling;

fs::path g_root;

void Write(const std::string& target, const std::string& name,
           const std::string& bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

VersionVector Clock(std::vector<Dot> dots) {
  VersionVector vv;
  for (const Dot& d : dots) vv.Add(d);
  return vv;
}

Sibling Content(const std::string& value, uint64_t wall) {
  Sibling s;
  s.value = value;
  s.timestamp = HlcTimestamp{wall, 1};
  return s;
}

std::vector<Object> Objects() {
  std::vector<Object> objects;
  Object one;
  one.Update({}, Content("red", 1700000000000), 1, Resolution::kKeepSiblings);
  objects.push_back(one);

  Object rich;
  Sibling s = Content("{\"a\":1}", 1700000000001);
  s.meta.content_type = "application/json";
  s.meta.charset = "utf-8";
  s.meta.content_encoding = "gzip";
  s.meta.usermeta = {{"owner", "ann"}};
  s.meta.indexes = {{"color_bin", "red"}, {"size_int", "3"}};
  s.meta.links = {{"people", "ann", "owner"}};
  rich.Update({}, s, 2, Resolution::kKeepSiblings);
  objects.push_back(rich);

  // Two concurrent writers: siblings.
  Object siblings;
  siblings.Update({}, Content("x", 1700000000002), 1,
                  Resolution::kKeepSiblings);
  siblings.Update({}, Content("y", 1700000000003), 2,
                  Resolution::kKeepSiblings);
  objects.push_back(siblings);

  // A tombstone.
  Object tomb = one;
  Sibling gone = Content("", 1700000000004);
  gone.deleted = true;
  tomb.Update(tomb.clock(), gone, 1, Resolution::kKeepSiblings);
  objects.push_back(tomb);
  return objects;
}

void VclockSeeds() {
  Write("vclock", "empty", VersionVector().Encode());
  Write("vclock", "one", Clock({{1, 1}}).Encode());
  Write("vclock", "three",
        Clock({{1, 5}, {77, 2}, {1ull << 40, 300}}).Encode());
  Write("vclock", "big_counters",
        Clock({{~0ull, ~0ull}, {3, 1ull << 35}}).Encode());
}

void ObjectSeeds() {
  int i = 0;
  for (const Object& o : Objects()) {
    const std::string record = o.Encode();
    Write("object_record", "raw_" + std::to_string(i),
          std::string(1, '\0') + record);
    // Mode 1: the body without its 5-byte checksum trailer.
    Write("object_record", "body_" + std::to_string(i),
          std::string(1, '\1') + record.substr(0, record.size() - 5));
    ++i;
  }
}

void BucketPropsSeeds() {
  Write("bucket_props", "empty", BucketPropsPatch().Encode());
  BucketPropsPatch p;
  p.n_val = 3;
  p.allow_mult = true;
  p.last_write_wins = false;
  p.r = Quorum::One();
  p.w = Quorum::Majority();
  p.pr = Quorum::Number(0);
  p.pw = Quorum::All();
  p.dw = Quorum::Default();
  p.rw = Quorum::Number(2);
  p.basic_quorum = true;
  p.notfound_ok = false;
  p.datatype = "counter";
  Write("bucket_props", "full", p.Encode());
  BucketPropsPatch lww;
  lww.last_write_wins = true;
  lww.n_val = 1;
  Write("bucket_props", "lww", lww.Encode());
}

void SecurityRecordSeeds() {
  using replication::security::Record;
  Record enabled;
  enabled.enabled = true;
  enabled.timestamp = 1;
  Write("security_record", "enabled", enabled.Encode());
  Record user;
  user.kind = Record::Kind::kUser;
  user.user = "alice";
  user.timestamp = 2;
  user.password = {"pbkdf2-sha256", 25000, std::string(16, 's'),
                   std::string(32, 'k')};
  Write("security_record", "user", user.Encode());
  user.deleted = true;
  user.password = {};
  Write("security_record", "user_deleted", user.Encode());
  Record source;
  source.kind = Record::Kind::kSource;
  source.user = "all";
  source.cidr = "fd00::/8";
  source.method = replication::security::SourceMethod::kCertificate;
  source.timestamp = 3;
  Write("security_record", "source", source.Encode());
  Record grant;
  grant.kind = Record::Kind::kGrant;
  grant.user = "alice";
  grant.type = "maps";
  grant.bucket = "users";
  grant.permissions = {"riak_kv.get", "riak_kv.put"};
  grant.timestamp = 4;
  Write("security_record", "grant", grant.Encode());
}

void PeerWireSeeds() {
  namespace pw = node::peer_wire;
  pw::Hello hello;
  hello.cluster = "causeway";
  hello.node = "causeway@127.0.0.1";
  for (size_t i = 0; i < hello.nonce.size(); ++i) hello.nonce[i] = uint8_t(i);
  Write("peer_wire", "hello", std::string(1, '\0') + pw::EncodeHello(hello));
  Write("peer_wire", "hello_trailing",
        std::string(1, '\0') + pw::EncodeHello(hello) + "later");
  const std::string mac =
      pw::ComputeMac("secret", pw::Role::kInitiator, hello.cluster, hello.node,
                     "other", hello.nonce, hello.nonce);
  Write("peer_wire", "proof", std::string(1, '\1') + pw::EncodeProof(mac));
  Write("peer_wire", "challenge",
        std::string(1, '\3') + pw::EncodeChallenge(hello.nonce));
  // Mode 2: limit 0x1000, chunk byte, then frames.
  const std::string prefix = std::string("\2\x10\x00", 3);
  Write("peer_wire", "frames",
        prefix + '\x07' + pw::Frame(pw::EncodeHello(hello)) +
            pw::Frame(pw::EncodeProof(mac)) + pw::Frame("payload") +
            pw::Frame(""));
  Write("peer_wire", "frame_too_large",
        prefix + '\x00' + pw::Frame("ok") + std::string("\x00\x01\x00\x00", 4));
}

// --- the client port -------------------------------------------------------

std::string Raw(pbc::Code code, const google::protobuf::MessageLite& m) {
  return node::EncodeFrame(code, m);
}
std::string Bare(pbc::Code code) { return node::EncodeFrame(code); }

// Byte 0: chunk selector; byte 1: frame limit (0: default).
void Pbc(const std::string& name, uint8_t chunk, uint8_t limit,
         const std::string& stream) {
  Write("pbc", name, std::string{char(chunk), char(limit)} + stream);
}

void PbcSeeds() {
  const std::string vclock = Clock({{1, 1}}).Encode();

  pbc::RpbPutReq put;
  put.set_bucket("fruit");
  put.set_key("apple");
  put.mutable_content()->set_value("red");
  put.mutable_content()->set_content_type("text/plain");
  pbc::RpbGetReq get;
  get.set_bucket("fruit");
  get.set_key("apple");

  Pbc("ping", 63, 0, Bare(pbc::Code::kPingReq));
  Pbc("info_clientid", 5, 0,
      Bare(pbc::Code::kGetServerInfoReq) + Bare(pbc::Code::kGetClientIdReq));
  pbc::RpbSetClientIdReq cid;
  cid.set_client_id("abcd");
  Pbc("set_clientid", 63, 0, Raw(pbc::Code::kSetClientIdReq, cid));

  pbc::RpbPutReq put_body = put;
  put_body.set_return_body(true);
  put_body.set_w(Quorum::kWireOne);
  auto* link = put_body.mutable_content()->add_links();
  link->set_bucket("people");
  link->set_key("ann");
  link->set_tag("owner");
  auto* meta = put_body.mutable_content()->add_usermeta();
  meta->set_key("k");
  meta->set_value("v");
  auto* index = put_body.mutable_content()->add_indexes();
  index->set_key("color_bin");
  index->set_value("red");
  Pbc("put_get", 63, 0,
      Raw(pbc::Code::kPutReq, put_body) + Raw(pbc::Code::kGetReq, get));

  pbc::RpbPutReq put_ctx = put;
  put_ctx.set_vclock(vclock);
  put_ctx.set_if_not_modified(true);
  pbc::RpbGetReq get_head = get;
  get_head.set_head(true);
  get_head.set_if_modified(vclock);
  get_head.set_r(Quorum::kWireAll);
  Pbc("put_context_get_head", 9, 0,
      Raw(pbc::Code::kPutReq, put) + Raw(pbc::Code::kPutReq, put_ctx) +
          Raw(pbc::Code::kGetReq, get_head));

  pbc::RpbPutReq put_nokey;
  put_nokey.set_bucket("gen");
  put_nokey.mutable_content()->set_value("v");
  put_nokey.set_if_none_match(true);
  put_nokey.set_type("default");
  Pbc("put_generated_key", 63, 0, Raw(pbc::Code::kPutReq, put_nokey));

  pbc::RpbDelReq del;
  del.set_bucket("fruit");
  del.set_key("apple");
  del.set_vclock(vclock);
  del.set_rw(Quorum::kWireQuorum);
  pbc::RpbGetReq get_deleted = get;
  get_deleted.set_deletedvclock(true);
  Pbc("put_delete_get", 63, 0,
      Raw(pbc::Code::kPutReq, put) + Raw(pbc::Code::kDelReq, del) +
          Raw(pbc::Code::kGetReq, get_deleted));

  pbc::RpbListBucketsReq lb;
  lb.set_stream(true);
  pbc::RpbListBucketsReq lb_all;
  pbc::RpbListKeysReq lk;
  lk.set_bucket("fruit");
  Pbc("lists", 63, 0,
      Raw(pbc::Code::kPutReq, put) + Raw(pbc::Code::kListBucketsReq, lb) +
          Raw(pbc::Code::kListBucketsReq, lb_all) +
          Raw(pbc::Code::kListKeysReq, lk));

  pbc::RpbGetBucketReq gb;
  gb.set_bucket("fruit");
  pbc::RpbSetBucketReq sb;
  sb.set_bucket("fruit");
  sb.mutable_props()->set_n_val(2);
  sb.mutable_props()->set_allow_mult(true);
  sb.mutable_props()->set_r(Quorum::kWireOne);
  pbc::RpbResetBucketReq rb;
  rb.set_bucket("fruit");
  Pbc("bucket_props", 63, 0,
      Raw(pbc::Code::kSetBucketReq, sb) + Raw(pbc::Code::kGetBucketReq, gb) +
          Raw(pbc::Code::kResetBucketReq, rb));

  pbc::RpbSetBucketTypeReq st;
  st.set_type("maps");
  st.mutable_props()->set_datatype("map");
  st.mutable_props()->set_last_write_wins(true);
  pbc::RpbGetBucketTypeReq gt;
  gt.set_type("maps");
  pbc::RpbGetReq typed_get = get;
  typed_get.set_type("maps");
  Pbc("bucket_type", 63, 0,
      Raw(pbc::Code::kSetBucketTypeReq, st) +
          Raw(pbc::Code::kGetBucketTypeReq, gt) +
          Raw(pbc::Code::kGetReq, typed_get));

  pbc::RpbGetBucketKeyPreflistReq pl;
  pl.set_bucket("fruit");
  pl.set_key("apple");
  Pbc("preflist", 63, 0, Raw(pbc::Code::kGetBucketKeyPreflistReq, pl));

  admin::CwClusterJoinReq join;
  join.set_seed("127.0.0.1:8099");
  admin::CwClusterLeaveReq leave;
  Pbc("cluster", 63, 0,
      Bare(pbc::Code::kClusterStatusReq) +
          Raw(pbc::Code::kClusterJoinReq, join) +
          Raw(pbc::Code::kClusterLeaveReq, leave));

  Pbc("unknown_code", 63, 0,
      node::EncodeRawFrame(99, "junk") + Bare(pbc::Code::kPingReq));
  Pbc("bad_body", 63, 0, node::EncodeRawFrame(9, "\xff\xff\xff"));
  Pbc("zero_length", 63, 0,
      Bare(pbc::Code::kPingReq) + std::string("\0\0\0\0", 4));
  // Limit 64 bytes: the second frame is refused.
  Pbc("too_large", 63, 1,
      Bare(pbc::Code::kPingReq) +
          node::EncodeRawFrame(1, std::string(100, 'x')));
}

// --- the peer port ---------------------------------------------------------

// One record of the peer_envelope input: sender byte, u16 length, payload.
std::string Record(uint8_t sender, const peer::Envelope& e) {
  const std::string p = e.SerializeAsString();
  std::string out{char(sender), char(p.size() >> 8), char(p.size() & 0xff)};
  return out + p;
}

peer::Envelope Env(uint64_t id) {
  peer::Envelope e;
  e.set_request_id(id);
  e.set_cluster("causeway");
  return e;
}

void SetKey(peer::Key* k, uint32_t partition) {
  k->set_partition(partition);
  k->set_type("default");
  k->set_bucket("b");
  k->set_key("k");
}

void PeerEnvelopeSeeds() {
  const std::vector<Object> objects = Objects();
  // Sender byte: low bits the name (0: causeway@peer1), upper bits * 100 ms.
  const uint8_t peer1 = 0 | (5 << 2);
  const uint8_t peer2 = 1;

  peer::Envelope hb = Env(0);
  hb.mutable_heartbeat()->set_sent_ms(1000);
  Write("peer_envelope", "heartbeat", Record(peer1, hb));

  peer::Envelope wrong_cluster = hb;
  wrong_cluster.set_cluster("other");
  Write("peer_envelope", "wrong_cluster", Record(peer1, wrong_cluster));

  std::string reads;
  for (uint32_t p = 0; p < 8; ++p) {
    peer::Envelope read = Env(10 + p);
    SetKey(read.mutable_read()->mutable_key(), p);
    reads += Record(peer1, read);
  }
  Write("peer_envelope", "reads", reads);

  std::string writes;
  for (size_t i = 0; i < objects.size(); ++i) {
    peer::Envelope w = Env(20 + i);
    SetKey(w.mutable_write()->mutable_key(), uint32_t(i));
    w.mutable_write()->set_object(objects[i].Encode());
    w.mutable_write()->set_resolution(uint32_t(i % 3));
    if (i == 1) w.mutable_write()->set_hint_for("causeway@peer2");
    writes += Record(peer2, w);
  }
  Write("peer_envelope", "writes", writes);

  peer::Envelope fwd = Env(30);
  SetKey(fwd.mutable_put_forward()->mutable_key(), 3);
  fwd.mutable_put_forward()->set_context(Clock({{1, 1}}).Encode());
  Object content;
  content.Update({}, Content("fwd", 1700000000005), 9,
                 Resolution::kKeepSiblings);
  fwd.mutable_put_forward()->set_content(content.Encode());
  fwd.mutable_put_forward()->set_w(1);
  fwd.mutable_put_forward()->set_dw(1);
  fwd.mutable_put_forward()->set_return_object(true);
  Write("peer_envelope", "put_forward", Record(peer1, fwd));

  peer::Envelope join = Env(40);
  join.mutable_join()->mutable_member()->set_name("causeway@peer1");
  join.mutable_join()->mutable_member()->set_address("127.0.0.1:2");
  join.mutable_join()->mutable_member()->set_status(0);
  join.mutable_join()->mutable_member()->set_version(1);
  peer::Envelope gossip = Env(0);
  auto* ring = gossip.mutable_gossip()->mutable_ring();
  ring->set_version(2);
  ring->set_claimant("causeway@fuzz");
  for (const char* name : {"causeway@fuzz", "causeway@peer1"}) {
    auto* m = ring->add_members();
    m->set_name(name);
    m->set_address("127.0.0.1:1");
    m->set_status(1);
    m->set_version(2);
  }
  for (int p = 0; p < 8; ++p) {
    auto* part = ring->add_partitions();
    part->set_owner(p % 2 ? "causeway@peer1" : "causeway@fuzz");
  }
  auto* props = gossip.mutable_gossip()->add_props();
  props->set_type("default");
  props->set_bucket("b");
  props->set_timestamp(HlcTimestamp{1700000000000, 0}.Pack());
  BucketPropsPatch patch;
  patch.allow_mult = true;
  props->set_patch(patch.Encode());
  Write("peer_envelope", "join_gossip",
        Record(peer1, join) + Record(peer1, gossip));

  peer::Envelope list = Env(50);
  list.mutable_list()->set_partition(0);
  list.mutable_list()->set_type("default");
  list.mutable_list()->set_buckets(true);
  peer::Envelope list_keys = Env(51);
  list_keys.mutable_list()->set_partition(1);
  list_keys.mutable_list()->set_type("default");
  list_keys.mutable_list()->set_bucket("b");
  Write("peer_envelope", "lists",
        Record(peer2, list) + Record(peer2, list_keys));

  // Replies nobody asked for.
  std::string replies;
  peer::Envelope rr = Env(1);
  rr.mutable_read_reply()->mutable_result()->set_code(0);
  rr.mutable_read_reply()->set_object(objects[0].Encode());
  replies += Record(peer1, rr);
  peer::Envelope wr = Env(2);
  wr.mutable_write_reply()->mutable_result()->set_code(5);
  wr.mutable_write_reply()->mutable_result()->set_message("busy");
  replies += Record(peer1, wr);
  peer::Envelope jr = Env(3);
  jr.mutable_join_reply()->mutable_result()->set_code(0);
  *jr.mutable_join_reply()->mutable_ring() = gossip.gossip().ring();
  replies += Record(peer1, jr);
  peer::Envelope lr = Env(4);
  lr.mutable_list_reply()->add_items("x");
  replies += Record(peer1, lr);
  peer::Envelope pr = Env(5);
  pr.mutable_put_forward_reply()->set_object(objects[1].Encode());
  replies += Record(peer1, pr);
  Write("peer_envelope", "replies", replies);

  // Anti-entropy: a whole exchange's requests, one naming a partition the
  // ring lacks, and replies nobody asked for.
  std::string aae;
  for (uint32_t level = 0; level < 3; ++level) {
    peer::Envelope tree = Env(60 + level);
    tree.mutable_aae_tree()->set_partition(level);
    tree.mutable_aae_tree()->set_level(level);
    if (level == 2) {
      tree.mutable_aae_tree()->add_branches(0);
      tree.mutable_aae_tree()->add_branches(31);
    }
    aae += Record(peer1, tree);
  }
  peer::Envelope keys = Env(63);
  keys.mutable_aae_keys()->set_partition(1);
  for (uint32_t seg : {0u, 7u, 1023u})
    keys.mutable_aae_keys()->add_segments(seg);
  aae += Record(peer1, keys);
  peer::Envelope repair = Env(64);
  repair.mutable_aae_repair()->set_partition(2);
  for (size_t i = 0; i < objects.size(); ++i) {
    auto* item = repair.mutable_aae_repair()->add_items();
    item->set_type("default");
    item->set_bucket("b");
    item->set_key("k" + std::to_string(i));
    if (i % 2 == 0) item->set_object(objects[i].Encode());
  }
  aae += Record(peer2, repair);
  for (bool remove : {false, true}) {
    peer::Envelope reap = Env(65 + remove);
    reap.mutable_aae_reap()->set_partition(2);
    reap.mutable_aae_reap()->set_remove(remove);
    auto* k = reap.mutable_aae_reap()->add_keys();
    k->set_type("default");
    k->set_bucket("b");
    k->set_key("k0");
    k->set_version(12345);
    aae += Record(peer1, reap);
  }
  peer::Envelope far = Env(67);
  far.mutable_aae_tree()->set_partition(1u << 30);
  aae += Record(peer1, far);
  peer::Envelope tr = Env(6);
  tr.mutable_aae_tree_reply()->add_hashes(1);
  aae += Record(peer1, tr);
  peer::Envelope kr = Env(7);
  auto* kv = kr.mutable_aae_keys_reply()->add_keys();
  kv->set_key("k");
  kv->set_version(2);
  aae += Record(peer1, kr);
  Write("peer_envelope", "aae", aae);
}

// --- what a server sends the client ----------------------------------------

// Byte 0: frame limit (0: default); byte 1: calls - 1; one byte per call.
void ClientReply(const std::string& name, uint8_t limit,
                 const std::vector<uint8_t>& ops, const std::string& stream) {
  std::string out{char(limit), char(ops.size() - 1)};
  for (uint8_t op : ops) out += char(op);
  Write("client_reply", name, out + stream);
}

void ClientReplySeeds() {
  ClientReply("ping", 0, {0}, Bare(pbc::Code::kPingResp));
  pbc::RpbGetServerInfoResp info;
  info.set_node("causeway@127.0.0.1");
  info.set_server_version("causeway 0.1");
  pbc::RpbGetResp got;
  auto* c = got.add_content();
  c->set_value("red");
  c->set_content_type("text/plain");
  got.set_vclock(Clock({{1, 1}}).Encode());
  ClientReply("info_get_put", 0, {1, 2, 3},
              Raw(pbc::Code::kGetServerInfoResp, info) +
                  Raw(pbc::Code::kGetResp, got) + Bare(pbc::Code::kPutResp));
  ClientReply("get_not_found_delete", 0, {2, 4},
              Bare(pbc::Code::kGetResp) + Bare(pbc::Code::kDelResp));
  pbc::RpbErrorResp err;
  err.set_errmsg("not enough replicas");
  err.set_errcode(5);
  ClientReply("server_error_then_ping", 0, {2, 0},
              Raw(pbc::Code::kErrorResp, err) + Bare(pbc::Code::kPingResp));
  std::string keys;
  for (int i = 0; i < 3; ++i) {
    pbc::RpbListKeysResp k;
    k.add_keys("k" + std::to_string(i));
    if (i == 2) k.set_done(true);
    keys += Raw(pbc::Code::kListKeysResp, k);
  }
  pbc::RpbListBucketsResp b;
  b.add_buckets("fruit");
  b.set_done(true);
  ClientReply("lists", 0, {5, 6}, keys + Raw(pbc::Code::kListBucketsResp, b));
  pbc::RpbGetBucketResp props;
  props.mutable_props()->set_n_val(3);
  props.mutable_props()->set_allow_mult(true);
  pbc::DtFetchResp dt;
  dt.set_type(pbc::DtFetchResp::COUNTER);
  dt.mutable_value()->set_counter_value(4);
  admin::CwClusterStatusResp status;
  admin::CwListBucketTypesResp types;
  pbc::RpbGetBucketKeyPreflistResp pl;
  auto* item = pl.add_preflist();
  item->set_partition(0);
  item->set_node("causeway@127.0.0.1");
  item->set_primary(true);
  ClientReply("admin", 0, {7, 8, 9, 10, 11},
              Raw(pbc::Code::kGetBucketResp, props) +
                  Raw(pbc::Code::kDtFetchResp, dt) +
                  Raw(pbc::Code::kClusterStatusResp, status) +
                  Raw(pbc::Code::kListBucketTypesResp, types) +
                  Raw(pbc::Code::kGetBucketKeyPreflistResp, pl));
  ClientReply("wrong_code", 0, {0}, Bare(pbc::Code::kGetResp));
  ClientReply("truncated", 0, {2}, Raw(pbc::Code::kGetResp, got).substr(0, 9));
  ClientReply("over_limit", 1, {2}, Raw(pbc::Code::kGetResp, got));
  ClientReply("empty_frame", 0, {0}, std::string(4, '\0'));
}

// --- records read back from disk -------------------------------------------

void RingStateSeeds() {
  namespace m = replication::membership;
  const m::Member a{"causeway@a", "127.0.0.1:8099", m::MemberStatus::kValid, 1};
  const m::Member b{"causeway@b", "127.0.0.1:8199", m::MemberStatus::kJoining,
                    1};
  m::RingState founding = m::RingState::Founding(a, 8);
  peer::RingState proto;
  founding.ToProto(&proto);
  Write("ring_state", "founding", proto.SerializeAsString());
  m::RingState two = founding;
  two.Upsert(b);
  two.StartClaim();
  two.ToProto(&proto);
  Write("ring_state", "claim_pending", proto.SerializeAsString());
  two.MarkTransfersDone(a.name);
  two.MarkTransfersDone(b.name);
  two.FinishClaimIfDone();
  two.ToProto(&proto);
  Write("ring_state", "two_members", proto.SerializeAsString());
  m::Member gone = a;
  gone.status = m::MemberStatus::kRemoved;
  gone.version = 2;
  m::RingState left = founding;
  left.Upsert(gone);
  left.ToProto(&proto);
  Write("ring_state", "removed", proto.SerializeAsString());
}

void HandoffSeeds() {
  using replication::handoff::EncodePrimaries;
  Write("handoff_primaries", "empty", EncodePrimaries({}));
  Write("handoff_primaries", "one", EncodePrimaries({"causeway@a"}));
  Write("handoff_primaries", "three",
        EncodePrimaries({"causeway@a", "causeway@b", "causeway@127.0.0.1"}));
  Write("handoff_primaries", "cut_off",
        EncodePrimaries({"causeway@a", "causeway@b"}).substr(0, 20));
}

// Byte 0 picks the record kind (aae_records_fuzz.cc).
void AaeSeeds() {
  namespace aae = replication::aae;
  Write("aae_records", "entry", '\0' + aae::EncodeEntry({0x1234, 0}));
  Write("aae_records", "entry_tombstone",
        '\0' + aae::EncodeEntry({0x1234, 1700000000000}));
  Write("aae_records", "index_key",
        '\1' + storage::AaeIndexKey(3, 77, "default", "fruit", "apple"));
  Write("aae_records", "tombstone_key",
        '\2' + storage::AaeTombstoneKey(3, "maps", "b", "k"));
  // A store: u8-length-prefixed keys and values.
  auto record = [](const std::string& k, const std::string& v) {
    return std::string(1, char(k.size())) + k + char(v.size()) + v;
  };
  const std::string format = record(storage::AaeFormatKey(), "2");
  std::string entries;
  for (uint32_t p : {0u, 3u}) {
    for (const char* key : {"apple", "pear"}) {
      const uint32_t seg = aae::SegmentOf("default", "fruit", key);
      entries += record(storage::AaeIndexKey(p, seg, "default", "fruit", key),
                        aae::EncodeEntry({p + 11, p == 3 ? 5u : 0u}));
    }
    entries += record(storage::AaeTombstoneKey(p, "default", "fruit", "pear"),
                      aae::EncodeEntry({p + 11, 5}));
  }
  Write("aae_records", "store", '\3' + format + entries);
  Write("aae_records", "store_rebuild",
        '\3' + format + record(storage::AaeRebuildKey(3), "") + entries);
  Write("aae_records", "store_format_1",
        '\3' + record(storage::AaeFormatKey(), "1") +
            record(storage::AaeRetiredSegmentSpace() + "xxxx", "yyyy") +
            entries);
}

void FaultsSeeds() {
  Write("faults", "partition", "causeway@fuzz,n2/n3");
  Write("faults", "partition_spaces", " n1 , n2 / n3 /causeway@fuzz\n");
  Write("faults", "groups_query", "groups=causeway%40fuzz%2Fn2,n3");
  Write("faults", "drop", "pct=10&node=causeway%40n2");
  Write("faults", "reorder", "pct=20&ms=50");
  Write("faults", "delay", "ms=100&jitter=5&node=n3");
  Write("faults", "skew", "ms=-5000");
  Write("faults", "bad_escape", "pct=1%");
}

}  // namespace
// One state of every type after a few updates by two actors, its ops, and
// the DtUpdateReq bodies a client would send for them.
void CrdtSeeds() {
  namespace crdt = replication::crdt;
  auto field = [](std::string name, crdt::FieldType type) {
    return crdt::FieldKey{std::move(name), type};
  };
  crdt::MapUpdate counter{field("visits", crdt::FieldType::kCounter)};
  counter.counter_op = crdt::CounterOp{3};
  crdt::MapUpdate reg{field("name", crdt::FieldType::kRegister)};
  reg.register_op = "ann";
  crdt::MapUpdate nested{field("address", crdt::FieldType::kMap)};
  nested.map_op = std::make_shared<crdt::MapOp>(crdt::MapOp{{}, {reg}});
  const std::pair<crdt::TypeTag, std::vector<crdt::Operation>> cases[] = {
      {crdt::TypeTag::kCounter, {crdt::CounterOp{5}, crdt::CounterOp{-2}}},
      {crdt::TypeTag::kSet,
       {crdt::SetOp{{"a", "b"}, {}}, crdt::SetOp{{"c"}, {"a"}}}},
      {crdt::TypeTag::kGSet, {crdt::GSetOp{{"x", "y"}}}},
      {crdt::TypeTag::kHll, {crdt::HllOp{{"Jokes", "are", "better"}}}},
      {crdt::TypeTag::kMap,
       {crdt::MapOp{{}, {counter, reg, nested}},
        crdt::MapOp{{field("name", crdt::FieldType::kRegister)}, {}}}},
  };
  for (const auto& [tag, ops] : cases) {
    auto state = crdt::NewDataType(tag, crdt::TypeParams());
    uint64_t actor = 1;
    int i = 0;
    for (const crdt::Operation& op : ops) {
      std::unique_ptr<crdt::DataType> delta;
      crdt::UpdateArgs args;
      args.actor = actor++;
      args.timestamp = {1700000000000, 0};
      if (!state->Update(op, args, &delta).ok()) continue;
      const std::string name =
          std::string(crdt::TypeName(tag)) + "_" + std::to_string(i++);
      Write("crdt_op", name, crdt::EncodeOperation(op));
      Write("crdt_state", name + "_delta",
            std::string(1, static_cast<char>(static_cast<int>(tag) - 1)) +
                delta->Encode());
    }
    Write("crdt_state", std::string(crdt::TypeName(tag)) + "_state",
          std::string(1, static_cast<char>(static_cast<int>(tag) - 1)) +
              state->Encode());
  }
  pbc::DtUpdateReq req;
  req.set_bucket("b");
  req.set_type("maps");
  auto* up = req.mutable_op()->mutable_map_op()->add_updates();
  up->mutable_field()->set_name("visits");
  up->mutable_field()->set_type(pbc::MapField::COUNTER);
  up->mutable_counter_op()->set_increment(1);
  auto* inner = req.mutable_op()->mutable_map_op()->add_updates();
  inner->mutable_field()->set_name("address");
  inner->mutable_field()->set_type(pbc::MapField::MAP);
  auto* city = inner->mutable_map_op()->add_updates();
  city->mutable_field()->set_name("city");
  city->mutable_field()->set_type(pbc::MapField::REGISTER);
  city->set_register_op("Seoul");
  Write("dt_message", "map", req.SerializeAsString());
  pbc::DtUpdateReq set_req;
  set_req.set_bucket("b");
  set_req.set_type("sets");
  set_req.mutable_op()->mutable_set_op()->add_adds("red");
  set_req.mutable_op()->mutable_set_op()->add_removes("blue");
  Write("dt_message", "set", set_req.SerializeAsString());
  pbc::DtUpdateReq counter_req;
  counter_req.set_bucket("b");
  counter_req.set_type("counters");
  counter_req.mutable_op()->mutable_counter_op()->set_increment(-4);
  Write("dt_message", "counter", counter_req.SerializeAsString());
}

}  // namespace causeway::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  causeway::fuzz::g_root = argv[1];
  causeway::fuzz::VclockSeeds();
  causeway::fuzz::ObjectSeeds();
  causeway::fuzz::BucketPropsSeeds();
  causeway::fuzz::SecurityRecordSeeds();
  causeway::fuzz::PeerWireSeeds();
  causeway::fuzz::PbcSeeds();
  causeway::fuzz::PeerEnvelopeSeeds();
  causeway::fuzz::CrdtSeeds();
  causeway::fuzz::ClientReplySeeds();
  causeway::fuzz::RingStateSeeds();
  causeway::fuzz::HandoffSeeds();
  causeway::fuzz::AaeSeeds();
  causeway::fuzz::FaultsSeeds();
  return 0;
}
