#pragma once
// BucketRegistry: bucket types and per-bucket property overrides, persisted
// in the node's metadata key space, cached in memory, and spread through the
// cluster by gossip. A bucket's effective properties are: Riak's defaults,
// overlaid by the node's configured defaults, by its type's patch, and by
// its own patch.
//
// Every record carries the hybrid-logical-clock time of the change that made
// it; merging keeps the newer record, so all nodes converge whatever order
// gossip arrives in. A reset is a record with an empty patch.
//
// The "default" type always exists. Other types exist once created with
// CreateType; as in Riak, a new type starts with allow_mult=true, and its
// datatype cannot change afterwards.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "replication/buckets/bucket_props.h"
#include "storage/engine.h"

namespace causeway::replication {

class BucketRegistry {
 public:
  struct Record {
    std::string type;
    std::string bucket;  // empty: the type's own record
    uint64_t timestamp = 0;
    buckets::BucketPropsPatch patch;
  };

  BucketRegistry(storage::Engine& engine, buckets::BucketPropsPatch defaults);

  // Loads persisted records.
  Status Load();

  bool TypeExists(const std::string& type) const;
  // InvalidArgument if the type does not exist.
  Status Props(const std::string& type, const std::string& bucket,
               buckets::BucketProps* props) const;
  Status SetBucket(const std::string& type, const std::string& bucket,
                   const buckets::BucketPropsPatch& patch, uint64_t timestamp);
  Status ResetBucket(const std::string& type, const std::string& bucket,
                     uint64_t timestamp);
  Status TypeProps(const std::string& type, buckets::BucketProps* props) const;
  // InvalidArgument for a type that does not exist, for "default" (whose
  // properties come from the node's defaults, as in Riak) or a datatype
  // change.
  Status SetType(const std::string& type,
                 const buckets::BucketPropsPatch& patch, uint64_t timestamp);
  // InvalidArgument for a malformed name or patch, PreconditionFailed if the
  // type exists.
  Status CreateType(const std::string& type,
                    const buckets::BucketPropsPatch& patch, uint64_t timestamp);
  // Every type, "default" included, sorted.
  std::vector<std::string> TypeNames() const;

  // Every record, for gossip.
  std::vector<Record> Export() const;
  // Adopts `record` if it is newer than what is held; true if it was.
  bool Merge(const Record& record);

 private:
  using Id = std::pair<std::string, std::string>;  // (type, bucket)
  Status Store(Record record);
  Status CheckFixed(const std::string& type,
                    const buckets::BucketPropsPatch& patch) const;
  static std::string RecordKey(const Id& id);
  buckets::BucketProps Base(const std::string& type) const;

  storage::Engine& engine_;
  buckets::BucketPropsPatch defaults_;
  std::map<Id, Record> records_;
};

}  // namespace causeway::replication
