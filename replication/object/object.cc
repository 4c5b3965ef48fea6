// Object: the dotted version vector set of object.h. What this file adds to
// the rules there, and why:
// - Merge is a join (commutative, associative, idempotent) for every
//   resolution as long as timestamps agree with causality: a write stamped
//   after everything it overwrites. Update enforces that for what the
//   coordinator holds, and for what a client's context covers but the
//   coordinator never received through the context's stamp (the newest
//   write in the history the client read; see version_vector.h). Without
//   it, kNewest let a value come back after a write that had read it
//   overwrote it. kKeepSiblings does not depend on timestamps.
// - The clock's stamp is the newest timestamp among the siblings: by the
//   rule above no write the clock covers is newer, so it needs no storage.
// - Merge never turns two replicas holding values into one holding none.
// - Records end in a CRC-32C, so torn or flipped bytes are Corruption.
#include "replication/object/object.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <tuple>

#include "base/coding.h"
#include "replication/object/crc32c.h"

namespace causeway::replication::object {
namespace {

constexpr uint32_t kFormatVersion = 1;
// Decoding sanity bounds. Records are ours, but a torn write or a flipped bit
// must come back as Corruption, never as an allocation the size of a lie.
constexpr size_t kMaxRecordBytes = size_t{1} << 30;
constexpr size_t kMaxSiblings = size_t{1} << 16;
// Client contexts are hostile input. Capping what they can claim keeps every
// counter far from overflow (a wrapped counter would mint the empty dot), at
// no cost to honest clients, whose counters grow by one per write.
constexpr uint64_t kMaxContextCounter = uint64_t{1} << 62;
// The checksum trailer: field 15 (ObjectRecord.checksum), wire type 5
// (fixed32), then four little-endian bytes.
constexpr char kChecksumTag = (15 << 3) | 5;
constexpr size_t kChecksumBytes = 4;
constexpr size_t kTrailerBytes = 1 + kChecksumBytes;

// A total order on sibling contents. Dots are unique by construction, so two
// replicas holding one dot with different contents means corruption
// somewhere; merge still has to pick the same survivor in every order.
auto ContentKey(const Sibling& s) {
  return std::tie(s.timestamp, s.deleted, s.value, s.meta.content_type,
                  s.meta.charset, s.meta.content_encoding, s.meta.usermeta,
                  s.meta.indexes);
}

bool LinkLess(const Link& a, const Link& b) {
  return std::tie(a.bucket, a.key, a.tag) < std::tie(b.bucket, b.key, b.tag);
}

bool ContentLess(const Sibling& a, const Sibling& b) {
  if (ContentKey(a) != ContentKey(b)) return ContentKey(a) < ContentKey(b);
  return std::lexicographical_compare(a.meta.links.begin(), a.meta.links.end(),
                                      b.meta.links.begin(), b.meta.links.end(),
                                      LinkLess);
}

// The winner among concurrent siblings when only one may stay: the newest
// timestamp, ties (same millisecond and logical count on two nodes) broken by
// dot so every replica picks the same one.
bool OlderThan(const Sibling& a, const Sibling& b) {
  return std::tie(a.timestamp, a.dot) < std::tie(b.timestamp, b.dot);
}

// The least timestamp after `t`, carrying into the milliseconds as the
// hybrid clock does.
HlcTimestamp Successor(HlcTimestamp t) {
  if (t.logical < 0xFFFF) return HlcTimestamp{t.wall_ms, t.logical + 1};
  if (t.wall_ms >= (uint64_t{1} << 48) - 1) return t;  // Pack's ceiling
  return HlcTimestamp{t.wall_ms + 1, 0};
}

VersionVector CappedContext(const VersionVector& context) {
  VersionVector capped;
  for (const auto& [actor, counter] : context.entries()) {
    capped.Add(Dot{actor, std::min(counter, kMaxContextCounter)});
  }
  return capped;
}

// Object records are written field by field in protobuf's wire format
// rather than built as a records::ObjectRecord and serialized: that built
// a heap object per clock entry and sibling and copied every value twice,
// on every replica write. The bytes are the ones protobuf would write for
// the same record (fields in number order, every field this writer sets
// present), which the codec tests check by parsing and re-serializing.
// Decode reads it back the same way (WireReader below). Every field number
// here is below 16, so each tag is one byte.
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

// Both sides' siblings, one per dot (the same survivor Merge picks).
std::vector<Sibling> UnionByDot(const std::vector<Sibling>& x,
                                const std::vector<Sibling>& y) {
  std::vector<Sibling> out;
  out.reserve(x.size() + y.size());
  auto a = x.begin();
  auto b = y.begin();
  while (a != x.end() || b != y.end()) {
    if (b == y.end() || (a != x.end() && a->dot < b->dot)) {
      out.push_back(*a++);
    } else if (a == x.end() || b->dot < a->dot) {
      out.push_back(*b++);
    } else {
      out.push_back(ContentLess(*a, *b) ? *b : *a);
      ++a;
      ++b;
    }
  }
  return out;
}

}  // namespace

bool Object::IsTombstone() const {
  return !siblings_.empty() &&
         std::all_of(siblings_.begin(), siblings_.end(),
                     [](const Sibling& s) { return s.deleted; });
}

std::vector<const Sibling*> Object::LiveSiblings() const {
  std::vector<const Sibling*> live;
  for (const Sibling& s : siblings_) {
    if (!s.deleted) live.push_back(&s);
  }
  return live;
}

Dot Object::Update(const VersionVector& context, Sibling content, ActorId actor,
                   Resolution resolution) {
  VersionVector capped = CappedContext(context);
  // The next counter is above anything this key has seen from the actor,
  // including what a client's context remembers: after a tombstone is
  // reaped the local clock restarts, and a reused dot would be mistaken for
  // an old write by replicas that still hold it.
  Dot dot{actor, std::max(clock_.Get(actor), capped.Get(actor)) + 1};
  content.dot = dot;

  auto overwritten = [&](const Sibling& s) {
    return resolution == Resolution::kLastWriteWins || capped.Covers(s.dot);
  };
  // A write is stamped after everything it overwrites here, even when the
  // coordinator's clock lags the writer of what it replaces. Resolution by
  // timestamp then agrees with causality, which is what makes merging under
  // kNewest and kLastWriteWins independent of delivery order. Under kNewest
  // it is also stamped after the concurrent siblings held here: the
  // coordinator has observed them, and a hybrid clock stamps an event after
  // everything observed, so a write never loses at its own coordinator to a
  // value stamped by a clock running ahead (it would be acknowledged and
  // gone).
  const bool after_all = resolution == Resolution::kNewest;
  if (context.stamp() != HlcTimestamp{} &&
      !(context.stamp() < content.timestamp)) {
    content.timestamp = Successor(context.stamp());
  }
  for (const Sibling& s : siblings_) {
    if ((after_all || overwritten(s)) && !(s.timestamp < content.timestamp)) {
      content.timestamp = Successor(s.timestamp);
    }
  }
  std::erase_if(siblings_, overwritten);
  auto pos = std::lower_bound(
      siblings_.begin(), siblings_.end(), dot,
      [](const Sibling& s, const Dot& d) { return s.dot < d; });
  siblings_.insert(pos, std::move(content));

  // Last-write-wins ignores contexts: the write claims to have seen only
  // what it replaced here, all of it stamped earlier. Were the context
  // joined in, it would claim writes held elsewhere that may carry later
  // stamps, and which value survives would depend on the merge order.
  if (resolution != Resolution::kLastWriteWins) clock_.Merge(capped);
  clock_.Add(dot);
  Resolve(resolution);
  return dot;
}

void Object::Merge(const Object& other, Resolution resolution) {
  if (&other == this) {
    Resolve(resolution);
    return;
  }
  // A sibling survives unless the other side has seen its dot and dropped
  // it, i.e. overwrote it. Both lists are sorted by dot: one linear pass.
  std::vector<Sibling> merged;
  merged.reserve(siblings_.size() + other.siblings_.size());
  auto a = siblings_.begin();
  auto b = other.siblings_.begin();
  while (a != siblings_.end() || b != other.siblings_.end()) {
    if (b == other.siblings_.end() ||
        (a != siblings_.end() && a->dot < b->dot)) {
      if (!other.clock_.Covers(a->dot)) merged.push_back(std::move(*a));
      ++a;
    } else if (a == siblings_.end() || b->dot < a->dot) {
      if (!clock_.Covers(b->dot)) merged.push_back(*b);
      ++b;
    } else {
      merged.push_back(ContentLess(*a, *b) ? *b : std::move(*a));
      ++a;
      ++b;
    }
  }
  if (merged.empty() && !(siblings_.empty() && other.siblings_.empty())) {
    // Each side claims to have overwritten everything the other holds. Honest
    // histories cannot do that (overwriting follows causality, which has no
    // cycles), but a forged client context or clocks that contradict
    // causality under a destructive resolution can. Losing the key is the
    // worst answer, so keep the union and let resolution pick.
    merged = UnionByDot(siblings_, other.siblings_);
  }
  siblings_ = std::move(merged);
  clock_.Merge(other.clock_);
  Resolve(resolution);
}

bool Object::Descends(const Object& other) const {
  if (!clock_.Descends(other.clock_)) return false;
  // Everything `other` holds is covered by our clock, so merging adds only
  // what we hold already. It changes something if it would swap a shared
  // sibling's content or drop one of ours that `other` overwrote, unless it
  // would drop all of ours, when Merge falls back to the union instead.
  bool all_survive = true;
  bool any_survives = false;
  auto b = other.siblings_.begin();
  for (const Sibling& s : siblings_) {
    while (b != other.siblings_.end() && b->dot < s.dot) ++b;
    if (b != other.siblings_.end() && b->dot == s.dot) {
      if (ContentLess(s, *b)) return false;
      any_survives = true;
    } else if (other.clock_.Covers(s.dot)) {
      all_survive = false;
    } else {
      any_survives = true;
    }
  }
  // With nothing of ours surviving, nothing of theirs is shared either, and
  // the union equals ours only if they hold nothing.
  if (!any_survives) return other.siblings_.empty();
  return all_survive;
}

void Object::Resolve(Resolution resolution) {
  if (resolution != Resolution::kKeepSiblings && siblings_.size() > 1) {
    auto newest =
        std::max_element(siblings_.begin(), siblings_.end(), OlderThan);
    Sibling keep = std::move(*newest);
    siblings_.clear();
    siblings_.push_back(std::move(keep));
  }
  Restamp();
}

void Object::Restamp() {
  HlcTimestamp newest;
  for (const Sibling& s : siblings_) newest = std::max(newest, s.timestamp);
  clock_.set_stamp(newest);
}

std::string Object::Encode(ActorId replica_actor) const {
  size_t size = VarintFieldSize(kFormatVersion);
  for (const auto& [actor, counter] : clock_.entries()) {
    size += EmbeddedSize(ClockEntrySize(actor, counter));
  }
  for (const Sibling& s : siblings_) size += EmbeddedSize(SiblingSize(s));
  if (replica_actor != 0) size += VarintFieldSize(replica_actor);
  size += kTrailerBytes;

  std::string out;
  out.reserve(size);
  out.resize(size - kChecksumBytes);
  WireWriter w(out.data());
  w.VarintField(1, kFormatVersion);
  for (const auto& [actor, counter] : clock_.entries()) {
    w.Header(2, ClockEntrySize(actor, counter));
    w.VarintField(1, actor);
    w.VarintField(2, counter);
  }
  for (const Sibling& s : siblings_) {
    w.Header(3, SiblingSize(s));
    WriteSibling(s, w);
  }
  if (replica_actor != 0) w.VarintField(4, replica_actor);
  // The checksum covers every byte before its field, so it goes last.
  const size_t body = size - kTrailerBytes;
  uint32_t crc = Crc32c(std::string_view(out.data(), body));
  w.Byte(kChecksumTag);
  coding::PutFixed32LE(&out, crc);
  return out;
}

Status Object::Decode(std::string_view bytes, Object* out,
                      ActorId* replica_actor) {
  if (bytes.size() > kMaxRecordBytes) {
    return Status::Corruption("object record too large");
  }
  if (bytes.size() < kTrailerBytes ||
      bytes[bytes.size() - kTrailerBytes] != kChecksumTag) {
    return Status::Corruption("object record: no checksum");
  }
  std::string_view body = bytes.substr(0, bytes.size() - kTrailerBytes);
  const uint32_t stored = coding::DecodeFixed32LE(&bytes[body.size() + 1]);
  if (Crc32c(body) != stored) {
    return Status::Corruption("object record: checksum mismatch");
  }

  Object obj;
  const char* error = nullptr;
  auto fail = [&error](const char* why) {
    error = why;
    return false;
  };
  std::optional<uint64_t> version;
  ActorId actor_of_copy = 0;
  bool parsed = ForEachField(body, [&](const WireField& f) {
    switch (f.number) {
      case 1:
        version = f.varint;
        return f.wire_type == kVarint;
      case 2: {
        if (f.wire_type != kLengthDelimited) return false;
        if (obj.clock_.entries().size() >= VersionVector::kMaxEntries) {
          return fail("object record: clock too large");
        }
        Dot entry;
        bool complete = false;
        if (!ParseClockEntry(f.bytes, &entry, &complete)) return false;
        if (!complete || entry.counter == 0) {
          return fail("object record: bad clock entry");
        }
        if (!obj.clock_.empty() &&
            obj.clock_.entries().back().first >= entry.actor) {
          return fail("object record: clock unsorted");
        }
        // Appends, since actors arrive in increasing order.
        obj.clock_.Add(entry);
        return true;
      }
      case 3: {
        if (f.wire_type != kLengthDelimited) return false;
        if (obj.siblings_.size() >= kMaxSiblings) {
          return fail("object record: too many siblings");
        }
        bool complete = false;
        Sibling& s = obj.siblings_.emplace_back();
        if (!ParseSibling(f.bytes, &s, &complete)) return false;
        if (!complete || s.dot.counter == 0) {
          return fail("object record: bad sibling");
        }
        return true;
      }
      case 4:
        actor_of_copy = f.varint;
        return f.wire_type == kVarint;
      case 15:
        return fail("object record: checksum not last");
      default:
        return true;  // a field from a newer writer
    }
  });
  if (!parsed) {
    return Status::Corruption(
        error != nullptr ? error : "object record does not parse");
  }
  if (version != kFormatVersion) {
    return Status::Corruption("object record: unknown format version");
  }
  // Checked once every field is in: a writer may order them as it likes.
  for (size_t i = 0; i < obj.siblings_.size(); ++i) {
    const Sibling& s = obj.siblings_[i];
    if (i > 0 && !(obj.siblings_[i - 1].dot < s.dot)) {
      return Status::Corruption("object record: siblings unsorted");
    }
    if (!obj.clock_.Covers(s.dot)) {
      return Status::Corruption("object record: sibling outside clock");
    }
  }
  obj.Restamp();
  *out = std::move(obj);
  if (replica_actor != nullptr) *replica_actor = actor_of_copy;
  return Status::Ok();
}

}  // namespace causeway::replication::object
