#pragma once
// The object record codec: the bytes of an Object, on disk and between
// replicas. Internal to replication/object; everything else calls
// Object::Encode and Object::Decode, which wrap these.
//
// The format is proto/records.proto's ObjectRecord in protobuf's wire
// format, written and read field by field rather than through the generated
// classes (those cost a heap object per clock entry, sibling and string, and
// a second copy into the Object, on every replica write):
//
//   1  format_version  varint, 1
//   2  clock           ClockEntry {1 actor, 2 counter} per entry, actors
//                      ascending, counters > 0
//   3  siblings        SiblingRecord per sibling, dots ascending and covered
//                      by the clock: {1 actor, 2 counter (the dot), 3 hlc
//                      (HlcTimestamp::Pack), 4 deleted (only when set),
//                      5 value, 6 content_type, 7 charset, 8 content_encoding
//                      (each only when not empty), 9 usermeta and 10 indexes
//                      (PairRecord {1 key, 2 value} each), 11 links
//                      (LinkRecord {1 bucket, 2 key, 3 tag} each)}
//   4  replica_actor   varint, only in a replica's stored copy (not 0)
//   5  data            DataTypeRecord {1 type (crdt::TypeTag), 2 state
//                      (crdt::DataType::Encode)}: a data-type object's
//                      state, never with siblings
//   15 checksum        fixed32 (four bytes, least significant first): the
//                      CRC-32C of every byte before this field, always last
//
// The encoder writes exactly the bytes protobuf's serializer would for the
// same record: fields in number order, every field set above present. The
// decoder skips unknown fields as protobuf does (fields are only ever added)
// and reads padded varints as protobuf does, but refuses a known field of
// another wire type, a group, or a varint of more than 64 bits, which no
// writer of the format produces, and a checksum anywhere but last. Bytes
// come from disk and from peers: every length is checked against what is
// left before it is used.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replication/object/object.h"

namespace causeway::replication::object {

// `siblings` sorted by dot; a `replica_actor` of 0 leaves field 4 out, a
// null `data` field 5.
std::string EncodeRecord(const VersionVector& clock,
                         const std::vector<Sibling>& siblings,
                         const crdt::DataType* data, ActorId replica_actor);

// Reads a record into `clock` (without its stamp, which the siblings give),
// `siblings` and `data`, all empty on entry, and `replica_actor` (0 when
// absent). Corruption for anything malformed; the outputs may then hold
// part of the record.
Status DecodeRecord(std::string_view bytes, VersionVector* clock,
                    std::vector<Sibling>* siblings,
                    std::shared_ptr<crdt::DataType>* data,
                    ActorId* replica_actor);

}  // namespace causeway::replication::object
