// Key encoding, as laid out in keys.h. Every length and the partition are
// big-endian so that byte order (what LevelDB sorts by) equals numeric order.

#include "storage/keys.h"

#include <cstddef>

#include "base/coding.h"

namespace causeway::storage {
namespace {

constexpr size_t kU32Bytes = 4;

// The (type, bucket, key) that ends object, index and tombstone keys. The
// format cannot express a component of 4 GiB or more; such a key would be far
// beyond any frame limit, so reaching here with one is a caller bug.
void AppendNames(std::string* out, std::string_view type,
                 std::string_view bucket, std::string_view key) {
  coding::PutLengthPrefixed32(out, type);
  coding::PutLengthPrefixed32(out, bucket);
  coding::PutLengthPrefixed32(out, key);
}

// Reads the three names and requires that nothing follows them: trailing
// bytes mean this is not a key we wrote. Each length is checked against what
// is left before anything is copied, so a garbage length can neither read
// past the end nor force a large allocation.
bool ConsumeNamesToEnd(std::string_view in, std::string* type,
                       std::string* bucket, std::string* key) {
  std::string_view t, b, k;
  if (!coding::GetLengthPrefixed32(&in, &t) ||
      !coding::GetLengthPrefixed32(&in, &b) ||
      !coding::GetLengthPrefixed32(&in, &k) || !in.empty()) {
    return false;
  }
  type->assign(t);
  bucket->assign(b);
  key->assign(k);
  return true;
}

}  // namespace

std::string EncodeObjectKey(uint32_t partition, std::string_view type,
                            std::string_view bucket, std::string_view key) {
  std::string out;
  out.reserve(1 + 4 * kU32Bytes + type.size() + bucket.size() + key.size());
  out.push_back(kObjectSpace);
  coding::PutFixed32(&out, partition);
  AppendNames(&out, type, bucket, key);
  return out;
}

bool DecodeObjectKey(std::string_view encoded, ObjectKeyParts* out) {
  if (encoded.empty() || encoded.front() != kObjectSpace) return false;
  encoded.remove_prefix(1);
  ObjectKeyParts parts;
  if (!coding::GetFixed32(&encoded, &parts.partition)) return false;
  if (!ConsumeNamesToEnd(encoded, &parts.type, &parts.bucket, &parts.key)) {
    return false;
  }
  *out = std::move(parts);
  return true;
}

std::string PartitionBegin(uint32_t partition) {
  std::string out;
  out.push_back(kObjectSpace);
  coding::PutFixed32(&out, partition);
  return out;
}

std::string PartitionEnd(uint32_t partition) {
  // For the last partition this is the end of the object space itself.
  return PrefixEnd(PartitionBegin(partition));
}

std::string BucketPrefix(uint32_t partition, std::string_view type,
                         std::string_view bucket) {
  std::string out = PartitionBegin(partition);
  coding::PutLengthPrefixed32(&out, type);
  coding::PutLengthPrefixed32(&out, bucket);
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
  coding::PutFixed32(&out, partition);
  return out;
}

std::string AaeRetiredSegmentSpace() { return AaeHead(kAaeSegment); }

std::string AaeIndexPrefix(uint32_t partition) {
  std::string out = AaeHead(kAaeIndex);
  coding::PutFixed32(&out, partition);
  return out;
}

std::string AaeIndexPrefix(uint32_t partition, uint32_t segment) {
  std::string out = AaeIndexPrefix(partition);
  coding::PutFixed32(&out, segment);
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
  if (!coding::GetFixed32(&encoded, &parts.partition)) return false;
  if (!coding::GetFixed32(&encoded, &parts.segment)) return false;
  if (!ConsumeNamesToEnd(encoded, &parts.type, &parts.bucket, &parts.key)) {
    return false;
  }
  *out = std::move(parts);
  return true;
}

std::string AaeTombstonePrefix(uint32_t partition) {
  std::string out = AaeHead(kAaeTombstone);
  coding::PutFixed32(&out, partition);
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
  if (!coding::GetFixed32(&encoded, &parts.partition)) return false;
  if (!ConsumeNamesToEnd(encoded, &parts.type, &parts.bucket, &parts.key)) {
    return false;
  }
  *out = std::move(parts);
  return true;
}

std::string ObjectSpaceBegin() { return std::string(1, kObjectSpace); }

std::string ObjectSpaceEnd() { return PrefixEnd(ObjectSpaceBegin()); }

}  // namespace causeway::storage
