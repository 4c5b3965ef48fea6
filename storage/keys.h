#pragma once
// Key encoding. One LevelDB holds several key spaces, told apart by a first
// byte. Object keys put the partition index right after it (big-endian), so
// one partition is one contiguous range for handoff and anti-entropy scans;
// within a partition, keys of one bucket are contiguous too.
//
//   'o' partition:u32be  lp(type) lp(bucket) lp(key)   objects
//   'm' name                                         node metadata
//   'h' ...                                          hints (cluster issue)
//   'a' ...                                          anti-entropy trees
//
// The anti-entropy space (replication/aae/tree.h says what it means):
//   'a' 'V'                                     trees format marker
//   'a' 'R' partition:u32be                     partition awaiting rebuild
//   'a' 'S' partition:u32be segment:u32be       one segment's hash
//   'a' 'K' partition:u32be segment:u32be lp(type) lp(bucket) lp(key)
//                                               one key's version hash
//   'a' 'T' partition:u32be lp(type) lp(bucket) lp(key)
//                                               a tombstone awaiting reaping
// Index entries sort by segment within a partition, so the keys of one
// segment are one short range.
//
// lp(s) is a 4-byte big-endian length followed by the bytes. Fixed-width
// lengths keep every bucket's keys under a single prefix.

#include <cstdint>
#include <string>
#include <string_view>

namespace causeway::storage {

inline constexpr char kObjectSpace = 'o';
inline constexpr char kMetaSpace = 'm';
inline constexpr char kHintSpace = 'h';
inline constexpr char kAaeSpace = 'a';

struct ObjectKeyParts {
  uint32_t partition = 0;
  std::string type;
  std::string bucket;
  std::string key;
  bool operator==(const ObjectKeyParts&) const = default;
};

std::string EncodeObjectKey(uint32_t partition, std::string_view type,
                            std::string_view bucket, std::string_view key);
// False for anything that is not a well-formed object key.
bool DecodeObjectKey(std::string_view encoded, ObjectKeyParts* out);

// [PartitionBegin(p), PartitionEnd(p)) holds exactly partition p's objects.
std::string PartitionBegin(uint32_t partition);
std::string PartitionEnd(uint32_t partition);
// Every object key of one bucket in one partition starts with this.
std::string BucketPrefix(uint32_t partition, std::string_view type,
                         std::string_view bucket);
// The smallest key greater than every key starting with `prefix` (empty if
// there is none, i.e. the prefix is all 0xff bytes).
std::string PrefixEnd(std::string_view prefix);

std::string MetaKey(std::string_view name);

struct AaeIndexKeyParts {
  uint32_t partition = 0;
  uint32_t segment = 0;
  std::string type;
  std::string bucket;
  std::string key;
  bool operator==(const AaeIndexKeyParts&) const = default;
};

std::string AaeFormatKey();
std::string AaeRebuildKey(uint32_t partition);
// Every rebuild marker starts with this.
std::string AaeRebuildPrefix();
// Format 1 of the trees kept segment hashes in records starting with this;
// they are derived in memory now and the records are deleted on upgrade.
std::string AaeRetiredSegmentSpace();
std::string AaeIndexKey(uint32_t partition, uint32_t segment,
                        std::string_view type, std::string_view bucket,
                        std::string_view key);
// Every index entry of one segment starts with this.
std::string AaeIndexPrefix(uint32_t partition, uint32_t segment);
// Every index entry of `partition` starts with this.
std::string AaeIndexPrefix(uint32_t partition);
// False for anything that is not a well-formed index key.
bool DecodeAaeIndexKey(std::string_view encoded, AaeIndexKeyParts* out);
std::string AaeTombstoneKey(uint32_t partition, std::string_view type,
                            std::string_view bucket, std::string_view key);
// Every tombstone entry of `partition` starts with this.
std::string AaeTombstonePrefix(uint32_t partition);
// False for anything that is not a well-formed tombstone key; `segment` is
// left 0.
bool DecodeAaeTombstoneKey(std::string_view encoded, AaeIndexKeyParts* out);

// All object keys: [ObjectSpaceBegin(), ObjectSpaceEnd()).
std::string ObjectSpaceBegin();
std::string ObjectSpaceEnd();

}  // namespace causeway::storage
