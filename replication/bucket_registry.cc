#include "replication/bucket_registry.h"

#include "replication/core.h"
#include "storage/keys.h"

namespace causeway::replication {
namespace {

constexpr std::string_view kTypePrefix = "bucket-type/";
constexpr std::string_view kBucketPrefix = "bucket-props/";

// Type names cannot contain '/', so "type/bucket" is unambiguous.
Status CheckTypeName(const std::string& type) {
  if (type.empty()) return Status::InvalidArgument("empty bucket type name");
  if (type.find('/') != std::string::npos) {
    return Status::InvalidArgument("bucket type names cannot contain '/'");
  }
  return Status::Ok();
}

}  // namespace

BucketRegistry::BucketRegistry(storage::Engine& engine,
                               buckets::BucketPropsPatch defaults)
    : engine_(engine), defaults_(std::move(defaults)) {
  types_[kDefaultType] = {};
}

std::string BucketRegistry::TypeKey(const std::string& type) {
  return storage::MetaKey(std::string(kTypePrefix) + type);
}

std::string BucketRegistry::BucketKey(const std::string& type,
                                      const std::string& bucket) {
  return storage::MetaKey(std::string(kBucketPrefix) + type + "/" + bucket);
}

Status BucketRegistry::Load() {
  Status failure;
  auto load = [&](std::string_view prefix, auto&& store) {
    std::string begin = storage::MetaKey(prefix);
    std::string end = storage::PrefixEnd(begin);
    return engine_.Scan(
        begin, end, [&](std::string_view k, std::string_view v) {
          buckets::BucketPropsPatch patch;
          Status s = buckets::BucketPropsPatch::Decode(v, &patch);
          if (!s.ok()) {
            failure =
                Status::Corruption("bucket properties record: " + s.message());
            return false;
          }
          store(k.substr(begin.size()), std::move(patch));
          return true;
        });
  };
  Status s = load(kTypePrefix, [&](std::string_view name, auto patch) {
    types_[std::string(name)] = std::move(patch);
  });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  s = load(kBucketPrefix, [&](std::string_view name, auto patch) {
    size_t slash = name.find('/');
    if (slash == std::string_view::npos) return;
    buckets_[{std::string(name.substr(0, slash)),
              std::string(name.substr(slash + 1))}] = std::move(patch);
  });
  if (!s.ok()) return s;
  return failure;
}

bool BucketRegistry::TypeExists(const std::string& type) const {
  return types_.count(type) > 0;
}

buckets::BucketProps BucketRegistry::Base(const std::string& type) const {
  buckets::BucketProps props;
  defaults_.ApplyTo(&props);
  if (type != kDefaultType) props.allow_mult = true;
  auto it = types_.find(type);
  if (it != types_.end()) it->second.ApplyTo(&props);
  return props;
}

Status BucketRegistry::Props(const std::string& type, const std::string& bucket,
                             buckets::BucketProps* props) const {
  if (!TypeExists(type)) {
    return Status::InvalidArgument("bucket type '" + type +
                                   "' does not exist (create it with "
                                   "`causeway bucket-type set`)");
  }
  *props = Base(type);
  auto it = buckets_.find({type, bucket});
  if (it != buckets_.end()) it->second.ApplyTo(props);
  return Status::Ok();
}

Status BucketRegistry::SetBucket(const std::string& type,
                                 const std::string& bucket,
                                 const buckets::BucketPropsPatch& patch) {
  if (!TypeExists(type)) {
    return Status::InvalidArgument("bucket type '" + type + "' does not exist");
  }
  Status s = patch.Validate();
  if (!s.ok()) return s;
  buckets::BucketPropsPatch merged;
  auto it = buckets_.find({type, bucket});
  if (it != buckets_.end()) merged = it->second;
  merged.Overlay(patch);
  s = engine_.Put(BucketKey(type, bucket), merged.Encode(), {.sync = true});
  if (!s.ok()) return s;
  buckets_[{type, bucket}] = std::move(merged);
  return Status::Ok();
}

Status BucketRegistry::ResetBucket(const std::string& type,
                                   const std::string& bucket) {
  if (!TypeExists(type)) {
    return Status::InvalidArgument("bucket type '" + type + "' does not exist");
  }
  Status s = engine_.Delete(BucketKey(type, bucket), {.sync = true});
  if (!s.ok()) return s;
  buckets_.erase({type, bucket});
  return Status::Ok();
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
                               const buckets::BucketPropsPatch& patch) {
  Status s = CheckTypeName(type);
  if (!s.ok()) return s;
  s = patch.Validate();
  if (!s.ok()) return s;
  buckets::BucketPropsPatch merged;
  auto it = types_.find(type);
  if (it != types_.end()) merged = it->second;
  merged.Overlay(patch);
  s = engine_.Put(TypeKey(type), merged.Encode(), {.sync = true});
  if (!s.ok()) return s;
  types_[type] = std::move(merged);
  return Status::Ok();
}

}  // namespace causeway::replication
