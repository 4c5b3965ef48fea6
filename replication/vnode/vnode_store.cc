#include "replication/vnode/vnode_store.h"

#include <optional>

#include "storage/keys.h"

namespace causeway::replication::vnode {
namespace {

std::string Encoded(const Key& key) {
  return storage::EncodeObjectKey(key.partition, key.type, key.bucket, key.key);
}

}  // namespace

Status VnodeStore::Read(const Key& key, object::Object* out) {
  return Read(key, out, nullptr);
}

Status VnodeStore::Read(const Key& key, object::Object* out,
                        causal::ActorId* replica_actor) {
  std::string encoded = Encoded(key);
  known_valid_ = false;
  if (const ObjectCache::Entry* hit = cache_.Find(encoded)) {
    *out = hit->object;
    if (replica_actor != nullptr) *replica_actor = hit->replica_actor;
    if (trees_ != nullptr) {
      known_key_ = std::move(encoded);
      known_entry_ = hit->index_entry ? *hit->index_entry : aae::EntryOf(*out);
      known_valid_ = true;
    }
    return Status::Ok();
  }
  std::string bytes;
  Status s = engine_.Get(encoded, &bytes);
  if (s.IsNotFound() && trees_ != nullptr) {
    known_key_ = std::move(encoded);
    known_entry_.reset();
    known_valid_ = true;
  }
  if (!s.ok()) return s;
  causal::ActorId actor = 0;
  s = object::Object::Decode(bytes, out, &actor);
  if (!s.ok()) {
    return Status::Corruption("object " + key.bucket + "/" + key.key + ": " +
                              s.message());
  }
  if (replica_actor != nullptr) *replica_actor = actor;
  std::optional<aae::IndexEntry> entry;
  if (trees_ != nullptr) entry = aae::EntryOf(*out);
  cache_.Put(encoded, {*out, actor, entry, bytes.size()});
  if (trees_ != nullptr) {
    known_key_ = std::move(encoded);
    known_entry_ = entry;
    known_valid_ = true;
  }
  return Status::Ok();
}

Status VnodeStore::Write(const Key& key, object::Object object,
                         causal::ActorId replica_actor, bool sync) {
  std::string encoded = Encoded(key);
  storage::WriteBatch batch;
  std::string record = object.Encode(replica_actor);
  const size_t record_bytes = record.size();
  batch.Put(encoded, std::move(record));
  return Apply(key, std::move(encoded), &object, replica_actor, record_bytes,
               sync, batch);
}

Status VnodeStore::Remove(const Key& key) {
  std::string encoded = Encoded(key);
  storage::WriteBatch batch;
  batch.Delete(encoded);
  return Apply(key, std::move(encoded), nullptr, 0, 0, false, batch);
}

Status VnodeStore::Apply(const Key& key, std::string encoded,
                         object::Object* object, causal::ActorId replica_actor,
                         size_t record_bytes, bool sync,
                         storage::WriteBatch& batch) {
  aae::Trees::Change change;
  if (trees_ != nullptr) {
    const bool known = known_valid_ && known_key_ == encoded;
    known_valid_ = false;
    Status s =
        trees_->Stage(key.partition, key.type, key.bucket, key.key, object,
                      &batch, &change, known ? &known_entry_ : nullptr);
    if (!s.ok()) return s;
  }
  Status s = engine_.Write(batch, {.sync = sync});
  if (!s.ok() || object == nullptr) {
    // Removed, or what the engine holds now is not known.
    cache_.Erase(encoded);
    if (!s.ok()) return s;
  } else {
    cache_.Put(encoded,
               {std::move(*object), replica_actor, change.entry, record_bytes});
  }
  if (trees_ != nullptr) {
    trees_->Commit(change);
    known_key_ = std::move(encoded);
    known_entry_ = change.entry;
    known_valid_ = true;
  }
  return Status::Ok();
}

// The cache and a copy read from it share a data-type state (Object shares
// states copy-on-write), so changing the copy would first clone the whole
// state: the cost of an add to a large set would grow with the set twice
// over. Dropping the cache's reference first makes the copy the only owner;
// the write that follows puts the changed object back.
void VnodeStore::ReleaseCached(const Key& key) { cache_.Erase(Encoded(key)); }

Status VnodeStore::ReadToCoordinate(const Key& key, object::Object* current,
                                    causal::ActorId* actor) {
  Status s = Read(key, current, actor);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (*actor == 0) *actor = new_actor_();
  return Status::Ok();
}

Status VnodeStore::Coordinate(const Key& key,
                              const causal::VersionVector& context,
                              object::Sibling content,
                              object::Resolution resolution, bool sync,
                              object::Object* result) {
  object::Object current;
  causal::ActorId actor = 0;
  Status s = ReadToCoordinate(key, &current, &actor);
  if (!s.ok()) return s;
  // Data-type buckets refuse key/value writes before they get here (their
  // deletes come with Resolution::kDataType); a data type found under a
  // key/value write anyway (a record from outside) is refused too, not
  // given a sibling it cannot hold.
  if (current.data() != nullptr &&
      resolution != object::Resolution::kDataType) {
    return Status::InvalidArgument(
        "the key holds a data type; change it with a data-type update");
  }
  current.Update(context, std::move(content), actor, resolution);
  *result = current;
  s = Write(key, std::move(current), actor, sync);
  if (!s.ok()) *result = object::Object();
  return s;
}

Status VnodeStore::CoordinateUpdate(const Key& key, crdt::TypeTag tag,
                                    const crdt::TypeParams& params,
                                    const crdt::Operation& op,
                                    const std::string* context,
                                    causal::HlcTimestamp timestamp, bool sync,
                                    object::Delta* delta,
                                    object::Object* result) {
  object::Object current;
  causal::ActorId actor = 0;
  Status s = ReadToCoordinate(key, &current, &actor);
  if (!s.ok()) return s;
  ReleaseCached(key);
  s = current.UpdateData(tag, params, op, actor, timestamp, context, delta);
  if (!s.ok()) return s;
  *result = current;
  s = Write(key, std::move(current), actor, sync);
  if (!s.ok()) *result = object::Object();
  return s;
}

Status VnodeStore::ApplyDelta(const Key& key, const object::Delta& delta,
                              bool sync, object::DeltaOrder* order) {
  object::Object current;
  causal::ActorId actor = 0;
  Status s = Read(key, &current, &actor);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (current.OrderOf(delta.dot) == object::DeltaOrder::kApplied) {
    ReleaseCached(key);
  }
  s = current.ApplyDelta(delta, order);
  if (!s.ok() || *order != object::DeltaOrder::kApplied) return s;
  return Write(key, std::move(current), actor, sync);
}

Status VnodeStore::Merge(const Key& key, const object::Object& incoming,
                         object::Resolution resolution, bool sync,
                         object::Object* result) {
  object::Object current;
  causal::ActorId actor = 0;
  Status s = Read(key, &current, &actor);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (current.Descends(incoming)) {
    if (result != nullptr) *result = std::move(current);
    return Status::Ok();
  }
  current.Merge(incoming, resolution);
  if (result != nullptr) *result = current;
  s = Write(key, std::move(current), actor, sync);
  if (!s.ok() && result != nullptr) *result = object::Object();
  return s;
}

Status VnodeStore::ListKeys(uint32_t partition, const std::string& type,
                            const std::string& bucket, const std::string& after,
                            size_t limit, std::vector<std::string>* keys,
                            bool* more) {
  const std::string prefix = storage::BucketPrefix(partition, type, bucket);
  // The smallest encoded key above `after`'s.
  const std::string begin =
      after.empty() ? prefix
                    : storage::EncodeObjectKey(partition, type, bucket, after) +
                          std::string(1, '\0');
  *more = false;
  Status failure;
  Status s = engine_.Scan(
      begin, storage::PrefixEnd(prefix),
      [&](std::string_view k, std::string_view v) {
        if (keys->size() >= limit) {
          *more = true;
          return false;
        }
        storage::ObjectKeyParts parts;
        object::Object object;
        if (!storage::DecodeObjectKey(k, &parts)) {
          failure = Status::Corruption("malformed object key in " + bucket);
          return false;
        }
        Status d = object::Object::Decode(v, &object);
        if (!d.ok()) {
          failure = Status::Corruption("object " + bucket + "/" + parts.key +
                                       ": " + d.message());
          return false;
        }
        if (!object.IsTombstone() && !object.empty()) {
          keys->push_back(std::move(parts.key));
        }
        return true;
      });
  if (!s.ok()) return s;
  return failure;
}

Status VnodeStore::ListBuckets(uint32_t partition, const std::string& type,
                               std::vector<std::string>* buckets) {
  // Start at the first key of the type in this partition; each time a
  // bucket is found live, jump past all of its keys.
  std::string begin = storage::BucketPrefix(partition, type, "");
  // BucketPrefix(p, type, "") ends with the empty bucket's 4-byte length;
  // the type's range is that prefix minus the length field.
  std::string type_prefix = begin.substr(0, begin.size() - 4);
  std::string end = storage::PrefixEnd(type_prefix);
  Status failure;
  while (true) {
    std::string found_bucket;
    bool live = false;
    Status s =
        engine_.Scan(begin, end, [&](std::string_view k, std::string_view v) {
          storage::ObjectKeyParts parts;
          if (!storage::DecodeObjectKey(k, &parts)) {
            failure = Status::Corruption("malformed object key");
            return false;
          }
          if (!found_bucket.empty() || live) {
            if (parts.bucket != found_bucket) return false;  // next bucket
          }
          found_bucket = parts.bucket;
          object::Object object;
          Status d = object::Object::Decode(v, &object);
          if (!d.ok()) {
            failure = Status::Corruption("object " + parts.bucket + "/" +
                                         parts.key + ": " + d.message());
            return false;
          }
          if (!object.IsTombstone() && !object.empty()) {
            live = true;
            return false;  // one live key is enough
          }
          return true;
        });
    if (!s.ok()) return s;
    if (!failure.ok()) return failure;
    if (found_bucket.empty() && !live) return Status::Ok();  // exhausted
    if (live) buckets->push_back(found_bucket);
    begin = storage::PrefixEnd(
        storage::BucketPrefix(partition, type, found_bucket));
    if (begin.empty() || (!end.empty() && begin >= end)) return Status::Ok();
  }
}

}  // namespace causeway::replication::vnode
