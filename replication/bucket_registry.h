#pragma once
// BucketRegistry: bucket types and per-bucket property overrides, persisted
// in the node's metadata key space and cached in memory. A bucket's
// effective properties are: Riak's defaults, overlaid by the node's
// configured defaults, by its type's patch, and by its own patch.
//
// The "default" type always exists. Other types exist once created with
// SetType; as in Riak, a new type starts with allow_mult=true.
// (The cluster issue gossips these; here they are node-local.)

#include <map>
#include <string>
#include <utility>

#include "replication/buckets/bucket_props.h"
#include "storage/engine.h"
#include "storage/status.h"

namespace causeway::replication {

class BucketRegistry {
 public:
  BucketRegistry(storage::Engine& engine, buckets::BucketPropsPatch defaults);

  // Loads persisted types and bucket patches.
  Status Load();

  bool TypeExists(const std::string& type) const;
  // InvalidArgument if the type does not exist.
  Status Props(const std::string& type, const std::string& bucket,
               buckets::BucketProps* props) const;
  Status SetBucket(const std::string& type, const std::string& bucket,
                   const buckets::BucketPropsPatch& patch);
  Status ResetBucket(const std::string& type, const std::string& bucket);
  Status TypeProps(const std::string& type, buckets::BucketProps* props) const;
  Status SetType(const std::string& type,
                 const buckets::BucketPropsPatch& patch);

 private:
  static std::string TypeKey(const std::string& type);
  static std::string BucketKey(const std::string& type,
                               const std::string& bucket);
  buckets::BucketProps Base(const std::string& type) const;

  storage::Engine& engine_;
  buckets::BucketPropsPatch defaults_;
  std::map<std::string, buckets::BucketPropsPatch> types_;
  std::map<std::pair<std::string, std::string>, buckets::BucketPropsPatch>
      buckets_;
};

}  // namespace causeway::replication
