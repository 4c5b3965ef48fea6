// The object record codec (record_codec.h says the format).
#include "replication/object/record_codec.h"

#include <cstring>
#include <limits>
#include <optional>

#include "base/coding.h"
#include "replication/object/crc32c.h"

namespace causeway::replication::object {
namespace {

constexpr uint32_t kFormatVersion = 1;
// Decoding sanity bounds. Records are ours, but a torn write or a flipped bit
// must come back as Corruption, never as an allocation the size of a lie.
constexpr size_t kMaxRecordBytes = size_t{1} << 30;
constexpr size_t kMaxSiblings = size_t{1} << 16;
// The checksum trailer: field 15 (ObjectRecord.checksum), wire type 5
// (fixed32), then four little-endian bytes.
constexpr char kChecksumTag = (15 << 3) | 5;
constexpr size_t kChecksumBytes = 4;
constexpr size_t kTrailerBytes = 1 + kChecksumBytes;

constexpr int kVarint = 0;  // wire types, for the writer and the reader
constexpr int kFixed64 = 1;
constexpr int kLengthDelimited = 2;
constexpr int kFixed32 = 5;

size_t VarintFieldSize(uint64_t v) { return 1 + coding::VarintLength(v); }
size_t BytesFieldSize(std::string_view b) {
  return 1 + coding::VarintLength(b.size()) + b.size();
}
// A nested message of `size` bytes, with its tag and length.
size_t EmbeddedSize(size_t size) {
  return 1 + coding::VarintLength(size) + size;
}

size_t ClockEntrySize(ActorId actor, uint64_t counter) {
  return VarintFieldSize(actor) + VarintFieldSize(counter);
}

size_t PairsSize(const Pairs& pairs) {
  size_t size = 0;
  for (const auto& [k, v] : pairs) {
    size += EmbeddedSize(BytesFieldSize(k) + BytesFieldSize(v));
  }
  return size;
}

size_t LinkSize(const Link& l) {
  return BytesFieldSize(l.bucket) + BytesFieldSize(l.key) +
         BytesFieldSize(l.tag);
}

// records::SiblingRecord. Empty metadata strings are left out, as the
// record has always had them.
size_t SiblingSize(const Sibling& s) {
  const Metadata& m = s.meta;
  size_t size = VarintFieldSize(s.dot.actor) + VarintFieldSize(s.dot.counter) +
                VarintFieldSize(s.timestamp.Pack()) + BytesFieldSize(s.value);
  if (s.deleted) size += VarintFieldSize(1);
  if (!m.content_type.empty()) size += BytesFieldSize(m.content_type);
  if (!m.charset.empty()) size += BytesFieldSize(m.charset);
  if (!m.content_encoding.empty()) size += BytesFieldSize(m.content_encoding);
  size += PairsSize(m.usermeta) + PairsSize(m.indexes);
  for (const Link& l : m.links) size += EmbeddedSize(LinkSize(l));
  return size;
}

// records::DataTypeRecord: the type's tag and its encoded state.
size_t DataSize(crdt::TypeTag tag, std::string_view state) {
  return VarintFieldSize(static_cast<uint64_t>(tag)) + BytesFieldSize(state);
}

// Writes into a buffer already sized by the functions above.
class WireWriter {
 public:
  explicit WireWriter(char* p) : p_(p) {}

  void Byte(char c) { *p_++ = c; }
  void Varint(uint64_t v) { p_ = coding::EncodeVarint64(p_, v); }
  void Tag(int field, int wire_type) {
    Byte(static_cast<char>((field << 3) | wire_type));
  }
  void VarintField(int field, uint64_t v) {
    Tag(field, kVarint);
    Varint(v);
  }
  // A length-delimited field's tag and length; its bytes follow.
  void Header(int field, size_t length) {
    Tag(field, kLengthDelimited);
    Varint(length);
  }
  void BytesField(int field, std::string_view b) {
    Header(field, b.size());
    std::memcpy(p_, b.data(), b.size());
    p_ += b.size();
  }

 private:
  char* p_;
};

void WritePairs(int field, const Pairs& pairs, WireWriter& w) {
  for (const auto& [k, v] : pairs) {
    w.Header(field, BytesFieldSize(k) + BytesFieldSize(v));
    w.BytesField(1, k);
    w.BytesField(2, v);
  }
}

void WriteSibling(const Sibling& s, WireWriter& w) {
  const Metadata& m = s.meta;
  w.VarintField(1, s.dot.actor);
  w.VarintField(2, s.dot.counter);
  w.VarintField(3, s.timestamp.Pack());
  if (s.deleted) w.VarintField(4, 1);
  w.BytesField(5, s.value);
  if (!m.content_type.empty()) w.BytesField(6, m.content_type);
  if (!m.charset.empty()) w.BytesField(7, m.charset);
  if (!m.content_encoding.empty()) w.BytesField(8, m.content_encoding);
  WritePairs(9, m.usermeta, w);
  WritePairs(10, m.indexes, w);
  for (const Link& l : m.links) {
    w.Header(11, LinkSize(l));
    w.BytesField(1, l.bucket);
    w.BytesField(2, l.key);
    w.BytesField(3, l.tag);
  }
}

// The reading side of the wire format, for Decode. Bytes come from disk and
// from peers: every length is checked against what is left before it is
// used, and anything that is not well-formed protobuf is refused. Unknown
// field numbers are skipped, as protobuf would (fields are only ever
// added); a known field with another wire type, a group, or a varint of
// more than 64 bits is refused, where protobuf would skip or truncate: no
// writer of this format produces them.
struct WireField {
  uint64_t number = 0;
  int wire_type = 0;
  uint64_t varint = 0;     // kVarint
  std::string_view bytes;  // kLengthDelimited
};

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}

  bool done() const { return in_.empty(); }

  // Padded varints are read, as protobuf reads them; more than 64 bits are
  // not.
  bool Varint(uint64_t* v) { return coding::GetVarint64(&in_, v); }

  bool Field(WireField* f) {
    uint64_t tag = 0;
    if (!Varint(&tag)) return false;
    f->number = tag >> 3;
    f->wire_type = static_cast<int>(tag & 7);
    if (f->number == 0 || f->number > kMaxFieldNumber) return false;
    switch (f->wire_type) {
      case kVarint:
        return Varint(&f->varint);
      case kLengthDelimited: {
        uint64_t length = 0;
        if (!Varint(&length) || length > in_.size()) return false;
        f->bytes = in_.substr(0, length);
        in_.remove_prefix(length);
        return true;
      }
      case kFixed64:
        return Skip(8);
      case kFixed32:
        return Skip(4);
      default:
        return false;
    }
  }

 private:
  static constexpr uint64_t kMaxFieldNumber = (uint64_t{1} << 29) - 1;

  bool Skip(size_t n) {
    if (n > in_.size()) return false;
    in_.remove_prefix(n);
    return true;
  }

  std::string_view in_;
};

// Calls on(field) for every field of one message, in order; stops at the
// first malformed field or the first on() that returns false.
template <typename OnField>
bool ForEachField(std::string_view message, OnField&& on) {
  WireReader r(message);
  while (!r.done()) {
    WireField f;
    if (!r.Field(&f) || !on(f)) return false;
  }
  return true;
}

bool SetVarint(const WireField& f, uint64_t* out, bool* present = nullptr) {
  if (f.wire_type != kVarint) return false;
  *out = f.varint;
  if (present != nullptr) *present = true;
  return true;
}

bool SetBytes(const WireField& f, std::string* out) {
  if (f.wire_type != kLengthDelimited) return false;
  out->assign(f.bytes);
  return true;
}

// records::ClockEntry. `complete`: both fields were present.
bool ParseClockEntry(std::string_view in, Dot* out, bool* complete) {
  bool actor = false;
  bool counter = false;
  bool ok = ForEachField(in, [&](const WireField& f) {
    if (f.number == 1) return SetVarint(f, &out->actor, &actor);
    if (f.number == 2) return SetVarint(f, &out->counter, &counter);
    return true;
  });
  *complete = actor && counter;
  return ok;
}

bool ParsePair(std::string_view in, Pairs* out) {
  std::pair<std::string, std::string>& pair = out->emplace_back();
  return ForEachField(in, [&pair](const WireField& f) {
    if (f.number == 1) return SetBytes(f, &pair.first);
    if (f.number == 2) return SetBytes(f, &pair.second);
    return true;
  });
}

bool ParseLink(std::string_view in, std::vector<Link>* out) {
  Link& l = out->emplace_back();
  return ForEachField(in, [&](const WireField& f) {
    if (f.number == 1) return SetBytes(f, &l.bucket);
    if (f.number == 2) return SetBytes(f, &l.key);
    if (f.number == 3) return SetBytes(f, &l.tag);
    return true;
  });
}

// records::SiblingRecord. `complete`: its dot and timestamp were present.
bool ParseSibling(std::string_view in, Sibling* s, bool* complete) {
  Metadata& m = s->meta;
  bool actor = false;
  bool counter = false;
  bool hlc = false;
  bool ok = ForEachField(in, [&](const WireField& f) {
    uint64_t v = 0;
    switch (f.number) {
      case 1:
        return SetVarint(f, &s->dot.actor, &actor);
      case 2:
        return SetVarint(f, &s->dot.counter, &counter);
      case 3:
        if (!SetVarint(f, &v, &hlc)) return false;
        s->timestamp = HlcTimestamp::Unpack(v);
        return true;
      case 4:
        if (!SetVarint(f, &v)) return false;
        s->deleted = v != 0;
        return true;
      case 5:
        return SetBytes(f, &s->value);
      case 6:
        return SetBytes(f, &m.content_type);
      case 7:
        return SetBytes(f, &m.charset);
      case 8:
        return SetBytes(f, &m.content_encoding);
      case 9:
        return f.wire_type == kLengthDelimited &&
               ParsePair(f.bytes, &m.usermeta);
      case 10:
        return f.wire_type == kLengthDelimited &&
               ParsePair(f.bytes, &m.indexes);
      case 11:
        return f.wire_type == kLengthDelimited && ParseLink(f.bytes, &m.links);
      default:
        return true;
    }
  });
  *complete = actor && counter && hlc;
  return ok;
}

}  // namespace

std::string EncodeRecord(const VersionVector& clock,
                         const std::vector<Sibling>& siblings,
                         const crdt::DataType* data, ActorId replica_actor) {
  size_t size = VarintFieldSize(kFormatVersion);
  for (const auto& [actor, counter] : clock.entries()) {
    size += EmbeddedSize(ClockEntrySize(actor, counter));
  }
  for (const Sibling& s : siblings) size += EmbeddedSize(SiblingSize(s));
  if (replica_actor != 0) size += VarintFieldSize(replica_actor);
  std::string state;
  if (data != nullptr) {
    state = data->Encode();
    size += EmbeddedSize(DataSize(data->tag(), state));
  }
  size += kTrailerBytes;

  std::string out;
  out.reserve(size);
  out.resize(size - kChecksumBytes);
  WireWriter w(out.data());
  w.VarintField(1, kFormatVersion);
  for (const auto& [actor, counter] : clock.entries()) {
    w.Header(2, ClockEntrySize(actor, counter));
    w.VarintField(1, actor);
    w.VarintField(2, counter);
  }
  for (const Sibling& s : siblings) {
    w.Header(3, SiblingSize(s));
    WriteSibling(s, w);
  }
  if (replica_actor != 0) w.VarintField(4, replica_actor);
  if (data != nullptr) {
    w.Header(5, DataSize(data->tag(), state));
    w.VarintField(1, static_cast<uint64_t>(data->tag()));
    w.BytesField(2, state);
  }
  // The checksum covers every byte before its field, so it goes last.
  const size_t body = size - kTrailerBytes;
  uint32_t crc = Crc32c(std::string_view(out.data(), body));
  w.Byte(kChecksumTag);
  coding::PutFixed32LE(&out, crc);
  return out;
}

namespace {

// The body of a record whose checksum trailer is present and matches.
Status CheckedBody(std::string_view bytes, std::string_view* body) {
  if (bytes.size() > kMaxRecordBytes) {
    return Status::Corruption("object record too large");
  }
  if (bytes.size() < kTrailerBytes ||
      bytes[bytes.size() - kTrailerBytes] != kChecksumTag) {
    return Status::Corruption("object record: no checksum");
  }
  *body = bytes.substr(0, bytes.size() - kTrailerBytes);
  const uint32_t stored = coding::DecodeFixed32LE(&bytes[body->size() + 1]);
  if (Crc32c(*body) != stored) {
    return Status::Corruption("object record: checksum mismatch");
  }
  return Status::Ok();
}

// Why a field that is not well-formed protobuf is refused.
constexpr const char* kMalformed = "object record does not parse";

struct RecordFields {
  std::optional<uint64_t> version;
  VersionVector* clock;
  std::vector<Sibling>* siblings;
  std::shared_ptr<crdt::DataType>* data;
  ActorId actor_of_copy = 0;
};

const char* TakeClockEntry(const WireField& f, VersionVector* clock) {
  if (f.wire_type != kLengthDelimited) return kMalformed;
  if (clock->entries().size() >= VersionVector::kMaxEntries) {
    return "object record: clock too large";
  }
  Dot entry;
  bool complete = false;
  if (!ParseClockEntry(f.bytes, &entry, &complete)) return kMalformed;
  // A counter with no successor could only wrap at the actor's next event.
  if (!complete || entry.counter == 0 ||
      entry.counter == std::numeric_limits<uint64_t>::max()) {
    return "object record: bad clock entry";
  }
  if (!clock->empty() && clock->entries().back().first >= entry.actor) {
    return "object record: clock unsorted";
  }
  // Appends, since actors arrive in increasing order.
  clock->Add(entry);
  return nullptr;
}

const char* TakeSibling(const WireField& f, std::vector<Sibling>* siblings) {
  if (f.wire_type != kLengthDelimited) return kMalformed;
  if (siblings->size() >= kMaxSiblings) {
    return "object record: too many siblings";
  }
  bool complete = false;
  Sibling& s = siblings->emplace_back();
  if (!ParseSibling(f.bytes, &s, &complete)) return kMalformed;
  if (!complete || s.dot.counter == 0) return "object record: bad sibling";
  return nullptr;
}

const char* TakeData(const WireField& f,
                     std::shared_ptr<crdt::DataType>* data) {
  if (f.wire_type != kLengthDelimited) return kMalformed;
  if (*data != nullptr) return "object record: two data-type states";
  uint64_t tag = 0;
  bool has_tag = false;
  std::string_view state;
  const bool ok = ForEachField(f.bytes, [&](const WireField& g) {
    if (g.number == 1) return SetVarint(g, &tag, &has_tag);
    if (g.number == 2) {
      if (g.wire_type != kLengthDelimited) return false;
      state = g.bytes;
    }
    return true;
  });
  if (!ok) return kMalformed;
  if (!has_tag || tag == 0 || tag > 0xff) {
    return "object record: bad data type";
  }
  std::unique_ptr<crdt::DataType> decoded;
  if (!crdt::DecodeDataType(static_cast<crdt::TypeTag>(tag), state, &decoded)
           .ok()) {
    return "object record: bad data-type state";
  }
  *data = std::move(decoded);
  return nullptr;
}

// Takes one field of a record into `r`: null when it is good, else why it
// is refused. The Take* helpers below work the same way.
const char* TakeField(const WireField& f, RecordFields* r) {
  switch (f.number) {
    case 1:
      r->version = f.varint;
      return f.wire_type == kVarint ? nullptr : kMalformed;
    case 2:
      return TakeClockEntry(f, r->clock);
    case 3:
      return TakeSibling(f, r->siblings);
    case 4:
      r->actor_of_copy = f.varint;
      return f.wire_type == kVarint ? nullptr : kMalformed;
    case 5:
      return TakeData(f, r->data);
    case 15:
      return "object record: checksum not last";
    default:
      return nullptr;  // a field from a newer writer
  }
}

// Checked once every field is in: a writer may order them as it likes.
Status CheckSiblings(const VersionVector& clock,
                     const std::vector<Sibling>& siblings) {
  for (size_t i = 0; i < siblings.size(); ++i) {
    const Sibling& s = siblings[i];
    if (i > 0 && !(siblings[i - 1].dot < s.dot)) {
      return Status::Corruption("object record: siblings unsorted");
    }
    if (!clock.Covers(s.dot)) {
      return Status::Corruption("object record: sibling outside clock");
    }
  }
  return Status::Ok();
}

}  // namespace

Status DecodeRecord(std::string_view bytes, VersionVector* clock,
                    std::vector<Sibling>* siblings,
                    std::shared_ptr<crdt::DataType>* data,
                    ActorId* replica_actor) {
  std::string_view body;
  Status s = CheckedBody(bytes, &body);
  if (!s.ok()) return s;
  RecordFields fields{std::nullopt, clock, siblings, data};
  const char* error = kMalformed;
  const bool parsed = ForEachField(body, [&](const WireField& f) {
    error = TakeField(f, &fields);
    return error == nullptr;
  });
  if (!parsed) return Status::Corruption(error != nullptr ? error : kMalformed);
  if (fields.version != kFormatVersion) {
    return Status::Corruption("object record: unknown format version");
  }
  if (*data != nullptr && !siblings->empty()) {
    return Status::Corruption("object record: siblings and a data-type state");
  }
  s = CheckSiblings(*clock, *siblings);
  if (s.ok()) *replica_actor = fields.actor_of_copy;
  return s;
}

}  // namespace causeway::replication::object
