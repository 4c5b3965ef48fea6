// Key encoding, as laid out in keys.h. Every length and the partition are
// big-endian so that byte order (what LevelDB sorts by) equals numeric order.

#include "storage/keys.h"

#include <cassert>
#include <cstddef>
#include <limits>

namespace causeway::storage {
namespace {

constexpr size_t kU32Bytes = 4;

void AppendU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>((v >> 24) & 0xff));
  out->push_back(static_cast<char>((v >> 16) & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
  out->push_back(static_cast<char>(v & 0xff));
}

// The format cannot express a component of 4 GiB or more; such a key would be
// far beyond any frame limit, so reaching here with one is a caller bug.
void AppendLengthPrefixed(std::string* out, std::string_view s) {
  assert(s.size() <= std::numeric_limits<uint32_t>::max());
  AppendU32(out, static_cast<uint32_t>(s.size()));
  out->append(s.data(), s.size());
}

// Reads a u32 from the front of `in` and drops it; false if too short.
bool ConsumeU32(std::string_view* in, uint32_t* v) {
  if (in->size() < kU32Bytes) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(in->data());
  *v = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |
       uint32_t{p[3]};
  in->remove_prefix(kU32Bytes);
  return true;
}

// The length is checked against what is left before anything is copied, so
// a garbage length can neither read past the end nor force a large
// allocation.
bool ConsumeLengthPrefixed(std::string_view* in, std::string* out) {
  uint32_t len = 0;
  if (!ConsumeU32(in, &len)) return false;
  if (len > in->size()) return false;
  out->assign(in->data(), len);
  in->remove_prefix(len);
  return true;
}

// The (type, bucket, key) that ends object, index and tombstone keys.
void AppendNames(std::string* out, std::string_view type,
                 std::string_view bucket, std::string_view key) {
  AppendLengthPrefixed(out, type);
  AppendLengthPrefixed(out, bucket);
  AppendLengthPrefixed(out, key);
}

// Reads the three names and requires that nothing follows them: trailing
// bytes mean this is not a key we wrote.
bool ConsumeNamesToEnd(std::string_view in, std::string* type,
                       std::string* bucket, std::string* key) {
  return ConsumeLengthPrefixed(&in, type) &&
         ConsumeLengthPrefixed(&in, bucket) &&
         ConsumeLengthPrefixed(&in, key) && in.empty();
}

}  // namespace

std::string EncodeObjectKey(uint32_t partition, std::string_view type,
                            std::string_view bucket, std::string_view key) {
  std::string out;
  out.reserve(1 + 4 * kU32Bytes + type.size() + bucket.size() + key.size());
  out.push_back(kObjectSpace);
  AppendU32(&out, partition);
  AppendNames(&out, type, bucket, key);
  return out;
}

bool DecodeObjectKey(std::string_view encoded, ObjectKeyParts* out) {
  if (encoded.empty() || encoded.front() != kObjectSpace) return false;
  encoded.remove_prefix(1);
  ObjectKeyParts parts;
  if (!ConsumeU32(&encoded, &parts.partition)) return false;
  if (!ConsumeNamesToEnd(encoded, &parts.type, &parts.bucket, &parts.key)) {
    return false;
  }
  *out = std::move(parts);
  return true;
}

std::string PartitionBegin(uint32_t partition) {
  std::string out;
  out.push_back(kObjectSpace);
  AppendU32(&out, partition);
  return out;
}

std::string PartitionEnd(uint32_t partition) {
  // For the last partition this is the end of the object space itself.
  return PrefixEnd(PartitionBegin(partition));
}

std::string BucketPrefix(uint32_t partition, std::string_view type,
                         std::string_view bucket) {
  std::string out = PartitionBegin(partition);
  AppendLengthPrefixed(&out, type);
  AppendLengthPrefixed(&out, bucket);
  return out;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto last = static_cast<unsigned char>(out.back());
    if (last != 0xff) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    // 0xff cannot be incremented; every extension of the shorter prefix
    // with a larger final byte is the bound instead.
    out.pop_back();
  }
  return out;
}

std::string MetaKey(std::string_view name) {
  std::string out;
  out.reserve(1 + name.size());
  out.push_back(kMetaSpace);
  out.append(name.data(), name.size());
  return out;
}

namespace {

constexpr char kAaeFormat = 'V';
constexpr char kAaeRebuild = 'R';
constexpr char kAaeSegment = 'S';  // format 1 only
constexpr char kAaeIndex = 'K';
constexpr char kAaeTombstone = 'T';

std::string AaeHead(char kind) { return std::string{kAaeSpace, kind}; }

}  // namespace

std::string AaeFormatKey() { return AaeHead(kAaeFormat); }

std::string AaeRebuildPrefix() { return AaeHead(kAaeRebuild); }

std::string AaeRebuildKey(uint32_t partition) {
  std::string out = AaeHead(kAaeRebuild);
  AppendU32(&out, partition);
  return out;
}

std::string AaeRetiredSegmentSpace() { return AaeHead(kAaeSegment); }

std::string AaeIndexPrefix(uint32_t partition) {
  std::string out = AaeHead(kAaeIndex);
  AppendU32(&out, partition);
  return out;
}

std::string AaeIndexPrefix(uint32_t partition, uint32_t segment) {
  std::string out = AaeIndexPrefix(partition);
  AppendU32(&out, segment);
  return out;
}

std::string AaeIndexKey(uint32_t partition, uint32_t segment,
                        std::string_view type, std::string_view bucket,
                        std::string_view key) {
  std::string out;
  out.reserve(2 + 5 * kU32Bytes + type.size() + bucket.size() + key.size());
  out = AaeIndexPrefix(partition, segment);
  AppendNames(&out, type, bucket, key);
  return out;
}

bool DecodeAaeIndexKey(std::string_view encoded, AaeIndexKeyParts* out) {
  if (encoded.size() < 2 || encoded[0] != kAaeSpace ||
      encoded[1] != kAaeIndex) {
    return false;
  }
  encoded.remove_prefix(2);
  AaeIndexKeyParts parts;
  if (!ConsumeU32(&encoded, &parts.partition)) return false;
  if (!ConsumeU32(&encoded, &parts.segment)) return false;
  if (!ConsumeNamesToEnd(encoded, &parts.type, &parts.bucket, &parts.key)) {
    return false;
  }
  *out = std::move(parts);
  return true;
}

std::string AaeTombstonePrefix(uint32_t partition) {
  std::string out = AaeHead(kAaeTombstone);
  AppendU32(&out, partition);
  return out;
}

std::string AaeTombstoneKey(uint32_t partition, std::string_view type,
                            std::string_view bucket, std::string_view key) {
  std::string out = AaeTombstonePrefix(partition);
  AppendNames(&out, type, bucket, key);
  return out;
}

bool DecodeAaeTombstoneKey(std::string_view encoded, AaeIndexKeyParts* out) {
  if (encoded.size() < 2 || encoded[0] != kAaeSpace ||
      encoded[1] != kAaeTombstone) {
    return false;
  }
  encoded.remove_prefix(2);
  AaeIndexKeyParts parts;
  if (!ConsumeU32(&encoded, &parts.partition)) return false;
  if (!ConsumeNamesToEnd(encoded, &parts.type, &parts.bucket, &parts.key)) {
    return false;
  }
  *out = std::move(parts);
  return true;
}

std::string ObjectSpaceBegin() { return std::string(1, kObjectSpace); }

std::string ObjectSpaceEnd() { return PrefixEnd(ObjectSpaceBegin()); }

}  // namespace causeway::storage
