// Target "object_record": object::Object::Decode, the record read from disk
// and from peers. The record ends in a CRC-32C that random bytes almost
// never match, so the first input byte picks a mode: even, the rest is the
// record as is (checksum and trailer handling); odd, the rest is a record
// body and the harness appends a valid checksum (everything behind it).
//
// Promises checked: a refused record leaves the output unchanged; an
// accepted one re-encodes to a record that decodes to the same object and
// encodes the same again; merging an object with itself keeps it, and it
// descends itself. Other resolutions merge and update without crashing.

#include <string>
#include <string_view>

#include "replication/object/object.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::causal::Dot;
using replication::causal::HlcTimestamp;
using replication::causal::VersionVector;
using replication::object::Object;
using replication::object::Resolution;
using replication::object::Sibling;

// CRC-32C (Castagnoli), reflected, bit by bit: slow and obviously right.
uint32_t Crc32c(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) {
      crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
  }
  return crc ^ 0xFFFFFFFFu;
}

// Field 15, wire type fixed32, then the CRC little-endian: what a writer
// puts last (proto/records.proto).
std::string WithChecksum(std::string_view body) {
  std::string out(body);
  const uint32_t crc = Crc32c(body);
  out.push_back(static_cast<char>((15 << 3) | 5));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

void FuzzObjectRecord(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1),
                              size - 1);
  const std::string record =
      (data[0] & 1) ? WithChecksum(rest) : std::string(rest);

  Object sentinel;
  Sibling s;
  s.value = "sentinel";
  s.timestamp = HlcTimestamp{1, 0};
  sentinel.Update(VersionVector(), s, 99, Resolution::kKeepSiblings);
  Object o = sentinel;
  if (!Object::Decode(record, &o).ok()) {
    FUZZ_CHECK(o == sentinel);
    return;
  }

  const std::string encoded = o.Encode();
  Object again;
  FUZZ_CHECK(Object::Decode(encoded, &again).ok());
  FUZZ_CHECK(again == o);
  FUZZ_CHECK(again.Encode() == encoded);

  FUZZ_CHECK(o.Descends(o));
  Object merged = o;
  merged.Merge(o, Resolution::kKeepSiblings);
  FUZZ_CHECK(merged == o);
  (void)o.IsTombstone();
  (void)o.LiveSiblings();

  // The other resolutions, and a write on top, must at least hold together:
  // whatever they produce encodes to a record that decodes back.
  for (Resolution r : {Resolution::kNewest, Resolution::kLastWriteWins}) {
    Object m = o;
    m.Merge(sentinel, r);
    Object w = o;
    Sibling next;
    next.value = "next";
    next.timestamp = HlcTimestamp{2, 0};
    // A data type takes no key/value write (VnodeStore::Coordinate refuses
    // one): the write on top is for key/value objects.
    if (o.data() == nullptr) w.Update(o.clock(), next, 5, r);
    for (const Object* x : {&m, &w}) {
      Object back;
      FUZZ_CHECK(Object::Decode(x->Encode(), &back).ok());
      FUZZ_CHECK(back == *x);
    }
  }
}

const Registration kRegistration("object_record", &FuzzObjectRecord);

}  // namespace
}  // namespace causeway::fuzz
