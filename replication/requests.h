#pragma once
// The client requests NodeCore serves and what they answer: the vocabulary
// shared by the node's protocol front ends and the coordinators.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "replication/buckets/bucket_props.h"
#include "replication/causal/version_vector.h"
#include "replication/crdt/data_type.h"
#include "replication/env.h"
#include "replication/object/object.h"

namespace causeway::replication {

using buckets::BucketProps;
using buckets::BucketPropsPatch;
using buckets::kDefaultType;
using buckets::Quorum;

struct ObjectId {
  std::string type = kDefaultType;
  std::string bucket;
  std::string key;
};

struct GetRequest {
  ObjectId id;
  std::optional<Quorum> r, pr;
  std::optional<bool> basic_quorum, notfound_ok;
  // Return metadata only (values left empty).
  bool head = false;
  // When set and the object's clock equals it, the reply says `unchanged`.
  std::optional<causal::VersionVector> if_modified;
};

struct GetResult {
  // ok (found), NotFound, or an error (e.g. Unavailable: r not met;
  // InvalidArgument: unknown bucket type, quorum above n_val). Get, Put and
  // Delete on a bucket type that does not exist fail with InvalidArgument.
  Status status;
  // Merged object; for a deleted key, the tombstone (its clock is the
  // `deletedvclock`).
  object::Object object;
  bool unchanged = false;
};

struct PutRequest {
  // An empty key asks the node to generate one (returned in PutResult::key).
  ObjectId id;
  // The causal context the client read (decoded `vclock`); empty for a blind
  // write.
  causal::VersionVector context;
  // Value and metadata; dot, timestamp and deleted are set by the node.
  object::Sibling content;
  std::optional<Quorum> w, dw, pw;
  bool return_body = false;
  bool return_head = false;
  // Fail with PreconditionFailed unless the stored clock equals `context`.
  bool if_not_modified = false;
  // Fail with PreconditionFailed if a live object exists.
  bool if_none_match = false;
};

struct PutResult {
  Status status;
  std::string key;        // the generated key when the request had none
  object::Object object;  // filled when return_body or return_head
};

struct DeleteRequest {
  ObjectId id;
  causal::VersionVector context;
  std::optional<Quorum> rw, r, w, pr, pw, dw;
};

struct DeleteResult {
  Status status;
};

// Data types (bucket types with a `datatype` property).
struct FetchRequest {
  ObjectId id;
  std::optional<Quorum> r, pr;
  std::optional<bool> basic_quorum, notfound_ok;
  // Overrides the node's request timeout for this request.
  std::optional<uint64_t> timeout_ms;
  bool include_context = true;
};

struct FetchResult {
  // ok, NotFound (no value: never written, or deleted), or an error;
  // InvalidArgument when the bucket type has no datatype.
  Status status;
  crdt::TypeTag type = crdt::TypeTag::kCounter;  // the bucket type's
  crdt::Value value;
  std::string context;  // when asked for and the type has one
};

struct UpdateRequest {
  // An empty key asks the node to generate one (returned in the result).
  ObjectId id;
  crdt::Operation op;
  // The opaque context from an earlier fetch; needed to remove what the
  // replica coordinating the update has not observed itself.
  std::optional<std::string> context;
  std::optional<Quorum> w, dw, pw;
  std::optional<uint64_t> timeout_ms;
  bool return_body = false;
  bool include_context = true;
};

struct UpdateResult {
  // ok, or an error: InvalidArgument (no datatype, an operation for another
  // type, limits), PreconditionFailed (a remove of what was not observed),
  // Unavailable or Timeout (w, dw or pw not met).
  Status status;
  std::string key;  // the generated key when the request had none
  crdt::TypeTag type = crdt::TypeTag::kCounter;
  // Filled when return_body: the value at the coordinator after the update.
  crdt::Value value;
  std::string context;
};

struct PreflistEntry {
  uint32_t partition;
  NodeName node;
  bool primary;
};

// Streamed listing: called with batches, the last call has done=true (or a
// non-ok status, which also ends the stream).
using ListCallback = std::function<void(
    const Status& status, std::vector<std::string> items, bool done)>;

// InvalidArgument unless `id` names a bucket (and a key, when required).
Status CheckId(const ObjectId& id, bool key_required);

}  // namespace causeway::replication
