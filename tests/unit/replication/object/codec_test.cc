// Object::Encode/Decode: the record every replica stores and sends.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/records.pb.h"
#include "replication/object/object.h"
#include "tests/unit/replication/object/world.h"

namespace causeway::replication::object {
namespace {

using testing::RandomBytes;
using testing::RandomContent;
using testing::Rng;
using testing::Seal;
using testing::SlowCrc32c;
using testing::World;

std::vector<Object> SampleObjects(int worlds) {
  std::vector<Object> out = {Object()};
  for (int seed = 0; seed < worlds; ++seed) {
    Resolution r = static_cast<Resolution>(seed % 3);
    World w(seed, {r, 3, seed % 2 == 0});
    w.Run(25);
    for (int i = 0; i < w.replicas(); ++i) out.push_back(w.object(i));
  }
  return out;
}

// Decoding must fail with Corruption and leave the output untouched.
void ExpectCorrupt(std::string_view bytes, const std::string& what) {
  Object out;
  Sibling sentinel;
  sentinel.value = "sentinel";
  out.Update({}, sentinel, 1, Resolution::kKeepSiblings);
  Object before = out;
  Status s = Object::Decode(bytes, &out);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << what;
  EXPECT_EQ(out, before) << what;
}

TEST(ObjectCodecTest, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(SlowCrc32c("123456789"), 0xE3069283u);
}

TEST(ObjectCodecTest, RoundTripsRandomObjects) {
  for (const Object& o : SampleObjects(300)) {
    std::string bytes = o.Encode();
    Object back;
    ASSERT_TRUE(Object::Decode(bytes, &back).ok());
    EXPECT_EQ(back, o);
    EXPECT_EQ(back.Encode(), bytes);
  }
}

TEST(ObjectCodecTest, RoundTripsEveryField) {
  Object o;
  Sibling s;
  s.value = std::string("\0binary\xFF", 8);
  s.timestamp = HlcTimestamp{1700000000123, 0xFFFF};
  s.meta.content_type = "application/json";
  s.meta.charset = "utf-8";
  s.meta.content_encoding = "gzip";
  s.meta.usermeta = {{"k1", "v1"}, {"k1", "dup keys kept"}, {"", ""}};
  s.meta.indexes = {{"age_int", "42"}, {"name_bin", std::string(1, '\0')}};
  s.meta.links = {{"b", "k", "t"}, {"", "", ""}};
  o.Update({}, s, ~uint64_t{0}, Resolution::kKeepSiblings);
  Sibling gone;
  gone.deleted = true;
  gone.timestamp = HlcTimestamp{1, 2};
  o.Update({}, gone, 0, Resolution::kKeepSiblings);
  Object back;
  ASSERT_TRUE(Object::Decode(o.Encode(), &back).ok());
  EXPECT_EQ(back, o);
  ASSERT_EQ(back.siblings().size(), 2u);
  EXPECT_FALSE(back.IsTombstone());
}

// Object::Encode writes the wire format by hand; protobuf's own serializer
// is the reference it must match byte for byte.
void ExpectCanonicalRecord(const Object& o, ActorId replica_actor) {
  std::string bytes = o.Encode(replica_actor);
  records::ObjectRecord rec;
  ASSERT_TRUE(rec.ParseFromString(bytes));
  EXPECT_EQ(rec.format_version(), 1u);
  EXPECT_EQ(rec.has_replica_actor(), replica_actor != 0);
  EXPECT_EQ(rec.replica_actor(), replica_actor);
  ASSERT_TRUE(rec.has_checksum());
  EXPECT_EQ(rec.checksum(), SlowCrc32c(bytes.substr(0, bytes.size() - 5)));
  // Re-serializing the parsed record gives the same bytes: the checksum
  // really is last, nothing else is hidden in the encoding, and the fields
  // are where protobuf puts them.
  EXPECT_EQ(rec.SerializeAsString(), bytes);
  ActorId back_actor = 7;
  Object back;
  ASSERT_TRUE(Object::Decode(bytes, &back, &back_actor).ok());
  EXPECT_EQ(back, o);
  EXPECT_EQ(back_actor, replica_actor);
}

TEST(ObjectCodecTest, EncodingIsAnObjectRecordEndingInItsChecksum) {
  Rng rng(3);
  for (const Object& o : SampleObjects(300)) {
    ExpectCanonicalRecord(o, 0);
    ExpectCanonicalRecord(o, 1 + rng() % 1000);
    ExpectCanonicalRecord(o, rng() | (uint64_t{1} << 63));
  }
}

// One small record's every byte: the ObjectRecord fields in number order,
// then the checksum field (15, fixed32) holding the CRC-32C of the bytes
// before it, least significant byte first.
const std::string kGoldenRecord(
    "\x08\x01"                  // format_version 1
    "\x12\x04\x08\x05\x10\x01"  // clock {actor 5, counter 1}
    "\x1a\x0b"                  // sibling, 11 bytes:
    "\x08\x05\x10\x01"          //   dot (5, 1)
    "\x18\x80\x80\x04"          //   hlc (1 ms, 0) packed
    "\x2a\x01v"                 //   value "v"
    "\x20\x09"                  // replica_actor 9
    "\x7d\x08\xfe\x28\x39",     // checksum 0x3928fe08
    28);

Object GoldenObject() {
  Object o;
  Sibling s;
  s.value = "v";
  s.timestamp = HlcTimestamp{1, 0};
  o.Update({}, s, 5, Resolution::kKeepSiblings);
  return o;
}

TEST(ObjectCodecTest, EncodingIsExactlyTheGoldenBytes) {
  EXPECT_EQ(GoldenObject().Encode(9), kGoldenRecord);
  Object back;
  ActorId actor = 0;
  ASSERT_TRUE(Object::Decode(kGoldenRecord, &back, &actor).ok());
  EXPECT_EQ(back, GoldenObject());
  EXPECT_EQ(actor, 9u);
}

// Varints of every length (one to ten bytes), and lengths that need two
// bytes, in every field that carries them.
TEST(ObjectCodecTest, EncodingIsCanonicalAtTheEdgesOfEveryVarint) {
  Rng rng(4);
  for (int bits = 0; bits <= 64; bits += 7) {
    uint64_t big = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits);
    Object o;
    Sibling s;
    s.value = std::string(big % 300, 'v');
    s.timestamp = HlcTimestamp{(big >> 16) & ((uint64_t{1} << 48) - 1),
                               static_cast<uint16_t>(big)};
    s.meta.content_type = std::string(128, 'c');
    s.meta.usermeta = {{std::string(127, 'k'), ""}};
    s.meta.links = {{"b", std::string(200, 'k'), ""}};
    VersionVector context;
    context.Add(Dot{big | 1, std::max<uint64_t>(big >> 2, 1)});
    o.Update(context, s, big | 1, Resolution::kKeepSiblings);
    s.deleted = true;
    o.Update({}, s, rng(), Resolution::kKeepSiblings);
    ExpectCanonicalRecord(o, big);
  }
}

TEST(ObjectCodecTest, EveryTruncationIsCorruption) {
  auto objects = SampleObjects(40);
  for (const Object& o : objects) {
    std::string bytes = o.Encode();
    for (size_t len = 0; len < bytes.size(); ++len) {
      ExpectCorrupt(std::string_view(bytes).substr(0, len),
                    "truncated to " + std::to_string(len));
    }
  }
}

TEST(ObjectCodecTest, EveryByteFlipIsCorruption) {
  Rng rng(1);
  for (const Object& o : SampleObjects(40)) {
    std::string bytes = o.Encode();
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::string bad = bytes;
      bad[i] ^= static_cast<char>(1 + rng() % 255);
      ExpectCorrupt(bad, "flipped byte " + std::to_string(i));
    }
  }
}

TEST(ObjectCodecTest, InsertedOrDeletedBytesAreCorruption) {
  Rng rng(2);
  auto objects = SampleObjects(40);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = objects[rng() % objects.size()].Encode();
    if (rng() % 2) {
      bytes.insert(rng() % (bytes.size() + 1), RandomBytes(rng, 3) + "x");
    } else {
      bytes.erase(rng() % bytes.size(), 1 + rng() % 3);
    }
    ExpectCorrupt(bytes, "mutated");
  }
}

TEST(ObjectCodecTest, RandomBytesAreCorruption) {
  Rng rng(3);
  for (int i = 0; i < 20000; ++i) {
    ExpectCorrupt(RandomBytes(rng, 64), "random");
  }
}

// Well-sealed records that break a rule of the format.
TEST(ObjectCodecTest, InvalidRecordsAreCorruption) {
  auto base = [] {
    records::ObjectRecord rec;
    rec.set_format_version(1);
    for (uint64_t a : {1, 2}) {
      auto* e = rec.add_clock();
      e->set_actor(a);
      e->set_counter(3);
    }
    for (uint64_t a : {1, 2}) {
      auto* s = rec.add_siblings();
      s->set_actor(a);
      s->set_counter(3);
      s->set_hlc(uint64_t{1000} << 16);
      s->set_value("v");
    }
    return rec;
  };
  {
    // The base record is valid: the failures below are the mutation's.
    Object out;
    ASSERT_TRUE(Object::Decode(Seal(base()), &out).ok());
    EXPECT_EQ(out.siblings().size(), 2u);
    EXPECT_EQ(out.Encode(), Seal(base()));
  }
  struct Case {
    const char* name;
    void (*mutate)(records::ObjectRecord*);
  };
  const Case cases[] = {
      {"no version", [](auto* r) { r->clear_format_version(); }},
      {"version 2", [](auto* r) { r->set_format_version(2); }},
      {"version 0", [](auto* r) { r->set_format_version(0); }},
      {"clock entry without actor",
       [](auto* r) { r->mutable_clock(0)->clear_actor(); }},
      {"clock entry without counter",
       [](auto* r) { r->mutable_clock(1)->clear_counter(); }},
      {"clock zero counter",
       [](auto* r) { r->mutable_clock(1)->set_counter(0); }},
      {"clock unsorted",
       [](auto* r) { r->mutable_clock()->SwapElements(0, 1); }},
      {"clock duplicate actor",
       [](auto* r) { r->mutable_clock(1)->set_actor(1); }},
      {"sibling without actor",
       [](auto* r) { r->mutable_siblings(0)->clear_actor(); }},
      {"sibling without counter",
       [](auto* r) { r->mutable_siblings(0)->clear_counter(); }},
      {"sibling without timestamp",
       [](auto* r) { r->mutable_siblings(1)->clear_hlc(); }},
      {"sibling zero counter",
       [](auto* r) { r->mutable_siblings(0)->set_counter(0); }},
      {"siblings unsorted",
       [](auto* r) { r->mutable_siblings()->SwapElements(0, 1); }},
      {"duplicate dot", [](auto* r) { r->mutable_siblings(1)->set_actor(1); }},
      {"sibling newer than clock",
       [](auto* r) { r->mutable_siblings(1)->set_counter(4); }},
      {"sibling of unknown actor",
       [](auto* r) { r->mutable_siblings(1)->set_actor(9); }},
      {"checksum inside the body", [](auto* r) { r->set_checksum(0); }},
      {"too many clock entries",
       [](auto* r) {
         r->clear_clock();
         for (uint64_t a = 0; a <= VersionVector::kMaxEntries; ++a) {
           auto* e = r->add_clock();
           e->set_actor(a);
           e->set_counter(3);
         }
       }},
      {"too many siblings",
       [](auto* r) {
         r->clear_siblings();
         r->mutable_clock(0)->set_counter(~uint64_t{0});
         for (uint64_t c = 1; c <= 65537; ++c) {
           auto* s = r->add_siblings();
           s->set_actor(1);
           s->set_counter(c);
           s->set_hlc(0);
         }
       }},
  };
  for (const Case& c : cases) {
    records::ObjectRecord rec = base();
    c.mutate(&rec);
    ExpectCorrupt(Seal(rec), c.name);
  }

  std::string body = base().SerializeAsString();
  ExpectCorrupt(body, "no checksum trailer");
  std::string wrong_tag = Seal(base());
  wrong_tag[wrong_tag.size() - 5] = static_cast<char>((14 << 3) | 5);
  ExpectCorrupt(wrong_tag, "trailer with another field number");
  std::string junk = "\xFF\xFF\xFF";
  uint32_t crc = SlowCrc32c(junk);
  junk.push_back(static_cast<char>((15 << 3) | 5));
  for (int i = 0; i < 4; ++i) junk.push_back(static_cast<char>(crc >> (8 * i)));
  ExpectCorrupt(junk, "sealed bytes that are not a record");
}

TEST(ObjectCodecTest, UnknownFieldsFromANewerWriterAreTolerated) {
  // Fields are only ever added; a reader ignores the ones it does not know.
  records::ObjectRecord rec;
  rec.set_format_version(1);
  auto* e = rec.add_clock();
  e->set_actor(5);
  e->set_counter(1);
  auto* s = rec.add_siblings();
  s->set_actor(5);
  s->set_counter(1);
  s->set_hlc(7);
  s->set_value("v");
  std::string body = rec.SerializeAsString();
  body += std::string("\xA0\x01\x2A", 3);  // field 20, varint 42
  uint32_t crc = SlowCrc32c(body);
  body.push_back(static_cast<char>((15 << 3) | 5));
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(crc >> (8 * i)));
  Object out;
  ASSERT_TRUE(Object::Decode(body, &out).ok());
  ASSERT_EQ(out.siblings().size(), 1u);
  EXPECT_EQ(out.siblings()[0].value, "v");
  EXPECT_EQ(out.siblings()[0].timestamp, HlcTimestamp::Unpack(7));
}

// Hand-built wire bytes for the decoder's own parsing rules.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string VarintField(uint64_t field, uint64_t v) {
  return Varint(field << 3) + Varint(v);
}
std::string BytesField(uint64_t field, const std::string& b) {
  return Varint((field << 3) | 2) + Varint(b.size()) + b;
}
// One unknown field of each wire type protobuf writes: varint, fixed64,
// length-delimited, fixed32.
std::string UnknownFields() {
  return VarintField(20, 300) + Varint((21 << 3) | 1) + std::string(8, 'x') +
         BytesField(22, "ignored") + Varint((23 << 3) | 5) +
         std::string(4, 'y');
}
std::string SealBody(std::string body) {
  uint32_t crc = SlowCrc32c(body);
  body.push_back(static_cast<char>((15 << 3) | 5));
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(crc >> (8 * i)));
  return body;
}

// What a protobuf writer may do and ours never does: fields out of number
// order, unknown fields of any wire type at every level. The record means
// the same as the canonical one.
TEST(ObjectCodecTest, FieldOrderAndUnknownFieldsAtEveryLevelAreTolerated) {
  const std::string u = UnknownFields();
  std::string pair = u + BytesField(2, "v1") + BytesField(1, "k1");
  std::string link =
      BytesField(3, "t") + u + BytesField(1, "b") + BytesField(2, "k");
  std::string sibling = BytesField(9, pair) + u + VarintField(3, 77 << 16) +
                        BytesField(11, link) + BytesField(5, "value") +
                        VarintField(2, 2) + VarintField(1, 5) +
                        BytesField(6, "text/plain");
  std::string clock = VarintField(2, 2) + u + VarintField(1, 5);
  std::string body = BytesField(3, sibling) + VarintField(4, 99) + u +
                     BytesField(2, clock) + VarintField(1, 1);
  Object out;
  ActorId actor = 0;
  ASSERT_TRUE(Object::Decode(SealBody(body), &out, &actor).ok());
  EXPECT_EQ(actor, 99u);

  Sibling want;
  want.value = "value";
  want.timestamp = HlcTimestamp::Unpack(uint64_t{77} << 16);
  want.meta.content_type = "text/plain";
  want.meta.usermeta = {{"k1", "v1"}};
  want.meta.links = {{"b", "k", "t"}};
  Object expected;
  VersionVector context;
  context.Add(Dot{5, 1});
  expected.Update(context, want, 5, Resolution::kKeepSiblings);
  ASSERT_EQ(expected.siblings()[0].dot, (Dot{5, 2}));
  EXPECT_EQ(out, expected);
  EXPECT_EQ(out.Encode(99), expected.Encode(99));
}

// Protobuf reads a varint written in more bytes than it needs (up to ten),
// so the decoder does too: in tags, values and lengths, at every level.
TEST(ObjectCodecTest, PaddedVarintsAreAccepted) {
  const std::string five_in_ten("\x85\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10);
  // The golden record's sibling and fields, every varint padded: a tag (dot
  // actor, field 1), a value (the actor 5, in ten bytes), the hlc, a length.
  const std::string sibling =
      std::string("\x88\x00", 2) + five_in_ten + VarintField(2, 1) +
      std::string("\x18\x80\x80\x84\x00", 5) + std::string("\x2a\x81\x00v", 4);
  const std::string body =
      std::string("\x08\x81\x00", 3) +
      BytesField(2, VarintField(1, 5) + std::string("\x10\x81\x00", 3)) +
      std::string("\x1a\x97\x00", 3) + sibling + "\x20" + five_in_ten;
  ASSERT_EQ(sibling.size(), 0x17u);
  Object out;
  ActorId actor = 0;
  ASSERT_TRUE(Object::Decode(SealBody(body), &out, &actor).ok());
  EXPECT_EQ(out, GoldenObject());
  EXPECT_EQ(actor, 5u);
  // Re-encoding writes the shortest form.
  EXPECT_EQ(out.Encode(9), kGoldenRecord);
}

// Malformed wire bytes under a valid checksum, at each level.
TEST(ObjectCodecTest, MalformedWireBytesAreCorruption) {
  const std::string clock =
      BytesField(2, VarintField(1, 5) + VarintField(2, 1));
  auto record = [&](const std::string& sibling) {
    return SealBody(VarintField(1, 1) + clock + BytesField(3, sibling));
  };
  const std::string good_sibling = VarintField(1, 5) + VarintField(2, 1) +
                                   VarintField(3, 9) + BytesField(5, "v");
  {
    Object out;
    ASSERT_TRUE(Object::Decode(record(good_sibling), &out).ok());
  }
  const std::string eleven_byte_varint = std::string(10, '\x80') + '\x01';
  const std::string too_big = std::string(9, '\xFF') + '\x02';  // 2^64 + ...
  struct Case {
    const char* name;
    std::string bytes;
  };
  const Case cases[] = {
      {"known field with another wire type (version as bytes)",
       SealBody(BytesField(1, "\x01") + clock)},
      {"clock entry as a varint",
       SealBody(VarintField(1, 1) + VarintField(2, 7))},
      {"value as a varint", record(VarintField(1, 5) + VarintField(2, 1) +
                                   VarintField(3, 9) + VarintField(5, 1))},
      {"counter as bytes",
       record(VarintField(1, 5) + BytesField(2, "\x01") + VarintField(3, 9))},
      {"usermeta pair with a varint key",
       record(good_sibling + BytesField(9, VarintField(1, 3)))},
      {"link with a varint tag",
       record(good_sibling + BytesField(11, VarintField(3, 3)))},
      {"group", SealBody(VarintField(1, 1) + clock + Varint((30 << 3) | 3) +
                         Varint((30 << 3) | 4))},
      {"field number 0",
       SealBody(VarintField(1, 1) + clock + VarintField(0, 1))},
      {"varint of eleven bytes",
       SealBody(VarintField(1, 1) + clock + Varint(20 << 3) +
                eleven_byte_varint)},
      {"varint above 64 bits",
       SealBody(VarintField(1, 1) + clock + Varint(20 << 3) + too_big)},
      {"length past the end",
       SealBody(VarintField(1, 1) + clock + Varint((3 << 3) | 2) + Varint(100) +
                good_sibling)},
      {"length past the end of a nested message",
       record(good_sibling + Varint((5 << 3) | 2) + Varint(2) + "v")},
      {"fixed32 cut short",
       SealBody(VarintField(1, 1) + clock + Varint((23 << 3) | 5) + "ab")},
  };
  for (const Case& c : cases) ExpectCorrupt(c.bytes, c.name);
}

}  // namespace
}  // namespace causeway::replication::object
