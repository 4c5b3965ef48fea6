#include "replication/bucket_registry.h"

#include <cctype>

#include "base/coding.h"
#include "storage/keys.h"

namespace causeway::replication {
namespace {

using buckets::kDefaultType;

constexpr std::string_view kPrefix = "bucket-props/";

constexpr size_t kMaxTypeNameBytes = 64;

// Type names are 1..64 of [A-Za-z0-9_-], so a typo such as
// "datatype=set" cannot become a type.
Status CheckTypeName(const std::string& type) {
  if (type.empty()) return Status::InvalidArgument("empty bucket type name");
  bool ok = type.size() <= kMaxTypeNameBytes;
  for (char c : type) {
    ok = ok &&
         (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  }
  if (!ok) {
    return Status::InvalidArgument(
        "bucket type names are 1 to 64 letters, digits, '_' or '-'");
  }
  return Status::Ok();
}

Status NoSuchType(const std::string& type) {
  return Status::InvalidArgument("bucket type '" + type +
                                 "' does not exist (create it with "
                                 "`causeway bucket-type create`)");
}

// Stored value: 8-byte big-endian timestamp, then the encoded patch.
std::string EncodeRecord(const BucketRegistry::Record& r) {
  return coding::EncodeFixed64(r.timestamp) + r.patch.Encode();
}

}  // namespace

BucketRegistry::BucketRegistry(storage::Engine& engine,
                               buckets::BucketPropsPatch defaults)
    : engine_(engine), defaults_(std::move(defaults)) {
  records_[{kDefaultType, ""}] = Record{kDefaultType, "", 0, {}};
}

// Type names cannot contain '/', so "type/bucket" is unambiguous.
std::string BucketRegistry::RecordKey(const Id& id) {
  return storage::MetaKey(std::string(kPrefix) + id.first + "/" + id.second);
}

Status BucketRegistry::Load() {
  std::string begin = storage::MetaKey(kPrefix);
  std::string end = storage::PrefixEnd(begin);
  Status failure;
  Status s =
      engine_.Scan(begin, end, [&](std::string_view k, std::string_view v) {
        std::string_view name = k.substr(begin.size());
        size_t slash = name.find('/');
        Record r;
        if (slash == std::string_view::npos ||
            !coding::GetFixed64(&v, &r.timestamp)) {
          failure = Status::Corruption("malformed bucket properties record");
          return false;
        }
        r.type = std::string(name.substr(0, slash));
        r.bucket = std::string(name.substr(slash + 1));
        Status d = buckets::BucketPropsPatch::Decode(v, &r.patch);
        if (!d.ok()) {
          failure =
              Status::Corruption("bucket properties record: " + d.message());
          return false;
        }
        Id id{r.type, r.bucket};
        records_[id] = std::move(r);
        return true;
      });
  return s.ok() ? failure : s;
}

bool BucketRegistry::TypeExists(const std::string& type) const {
  return records_.count({type, ""}) > 0;
}

buckets::BucketProps BucketRegistry::Base(const std::string& type) const {
  buckets::BucketProps props;
  defaults_.ApplyTo(&props);
  if (type != kDefaultType) props.allow_mult = true;
  auto it = records_.find({type, ""});
  if (it != records_.end()) it->second.patch.ApplyTo(&props);
  return props;
}

Status BucketRegistry::Props(const std::string& type, const std::string& bucket,
                             buckets::BucketProps* props) const {
  if (!TypeExists(type)) return NoSuchType(type);
  *props = Base(type);
  auto it = records_.find({type, bucket});
  if (it != records_.end()) it->second.patch.ApplyTo(props);
  return Status::Ok();
}

Status BucketRegistry::Store(Record record) {
  Id id{record.type, record.bucket};
  Status s = engine_.Put(RecordKey(id), EncodeRecord(record), {.sync = true});
  if (!s.ok()) return s;
  records_[id] = std::move(record);
  return Status::Ok();
}

// A type's datatype is fixed when it is created: keys already written under
// it hold that type's state, which another type cannot read (Riak refuses
// the change too).
Status BucketRegistry::CheckFixed(
    const std::string& type, const buckets::BucketPropsPatch& patch) const {
  if (!patch.datatype || *patch.datatype == Base(type).datatype) {
    return Status::Ok();
  }
  return Status::InvalidArgument("the datatype of bucket type '" + type +
                                 "' is fixed when the type is created");
}

Status BucketRegistry::SetBucket(const std::string& type,
                                 const std::string& bucket,
                                 const buckets::BucketPropsPatch& patch,
                                 uint64_t timestamp) {
  if (!TypeExists(type)) return NoSuchType(type);
  if (bucket.empty()) return Status::InvalidArgument("bucket is empty");
  Status s = patch.Validate();
  if (s.ok()) s = CheckFixed(type, patch);
  if (!s.ok()) return s;
  Record r{type, bucket, timestamp, {}};
  auto it = records_.find({type, bucket});
  if (it != records_.end()) {
    r.patch = it->second.patch;
    r.timestamp = std::max(timestamp, it->second.timestamp + 1);
  }
  r.patch.Overlay(patch);
  return Store(std::move(r));
}

Status BucketRegistry::ResetBucket(const std::string& type,
                                   const std::string& bucket,
                                   uint64_t timestamp) {
  if (!TypeExists(type)) return NoSuchType(type);
  if (bucket.empty()) return Status::InvalidArgument("bucket is empty");
  auto it = records_.find({type, bucket});
  if (it == records_.end()) return Status::Ok();
  return Store(
      Record{type, bucket, std::max(timestamp, it->second.timestamp + 1), {}});
}

Status BucketRegistry::TypeProps(const std::string& type,
                                 buckets::BucketProps* props) const {
  if (!TypeExists(type)) {
    return Status::NotFound("bucket type '" + type + "' does not exist");
  }
  *props = Base(type);
  return Status::Ok();
}

Status BucketRegistry::SetType(const std::string& type,
                               const buckets::BucketPropsPatch& patch,
                               uint64_t timestamp) {
  if (!TypeExists(type)) return NoSuchType(type);
  // As in Riak, the default type's properties are not a stored type: they
  // come from the node's [bucket_defaults], and a bucket changes its own.
  if (type == kDefaultType) {
    return Status::InvalidArgument(
        "the properties of the bucket type 'default' cannot be changed; set "
        "them on a bucket, or in node.toml's [bucket_defaults]");
  }
  Status s = patch.Validate();
  if (s.ok()) s = CheckFixed(type, patch);
  if (!s.ok()) return s;
  const Record& held = records_.at({type, ""});
  Record r{type, "", std::max(timestamp, held.timestamp + 1), held.patch};
  r.patch.Overlay(patch);
  return Store(std::move(r));
}

Status BucketRegistry::CreateType(const std::string& type,
                                  const buckets::BucketPropsPatch& patch,
                                  uint64_t timestamp) {
  Status s = CheckTypeName(type);
  if (s.ok() && TypeExists(type)) {
    s = Status::PreconditionFailed("bucket type '" + type + "' already exists");
  }
  if (s.ok()) s = patch.Validate();
  if (!s.ok()) return s;
  return Store(Record{type, "", timestamp, patch});
}

std::vector<std::string> BucketRegistry::TypeNames() const {
  std::vector<std::string> names;
  for (const auto& [id, r] : records_) {
    if (id.second.empty()) names.push_back(id.first);
  }
  return names;
}

std::vector<BucketRegistry::Record> BucketRegistry::Export() const {
  std::vector<Record> out;
  for (const auto& [id, r] : records_) out.push_back(r);
  return out;
}

bool BucketRegistry::Merge(const Record& record) {
  if (record.type.empty() || CheckTypeName(record.type).ok() == false) {
    return false;
  }
  auto it = records_.find({record.type, record.bucket});
  if (it != records_.end()) {
    // Equal times (two nodes, same HLC reading) fall back to the content,
    // so every node keeps the same record.
    const Record& held = it->second;
    if (held.timestamp > record.timestamp ||
        (held.timestamp == record.timestamp &&
         held.patch.Encode() >= record.patch.Encode())) {
      return false;
    }
  }
  return Store(record).ok();
}

}  // namespace causeway::replication
