#pragma once
// Object: one key's replicated state, a dotted version vector set. It holds a
// causal context (the clock: every write this replica has seen, directly or
// through a descendant) and the siblings: concurrent values, each tagged with
// the dot of the write that made it. Tombstones are siblings with deleted set.
//
// The rules (Almeida et al., "Scalable and Accurate Causality Tracking for
// Eventually Consistent Stores"):
// - Update (a coordinated client write): mint the next dot for the actor,
//   drop the siblings whose dots the client's context covers, keep the rest,
//   add the new sibling. A client that read before writing thus replaces
//   exactly what it saw, and K interleaving clients leave at most K siblings.
// - Merge (replica to replica): keep a sibling if the other side has the same
//   dot or has not seen it; join the clocks. Commutative, associative and
//   idempotent, so re-delivery and reordering are harmless.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "replication/causal/dot.h"
#include "replication/causal/hlc.h"
#include "replication/causal/version_vector.h"
#include "replication/crdt/data_type.h"

namespace causeway::replication::object {

using causal::ActorId;
using causal::Dot;
using causal::HlcTimestamp;
using causal::VersionVector;

struct Link {
  std::string bucket;
  std::string key;
  std::string tag;
  bool operator==(const Link&) const = default;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Metadata {
  std::string content_type;
  std::string charset;
  std::string content_encoding;
  Pairs usermeta;
  Pairs indexes;
  std::vector<Link> links;
  bool operator==(const Metadata&) const = default;
};

struct Sibling {
  Dot dot;
  HlcTimestamp timestamp;  // when the coordinator minted it; last-modified
  bool deleted = false;
  std::string value;
  Metadata meta;
  bool operator==(const Sibling&) const = default;
};

// How concurrent siblings are resolved (from bucket properties).
enum class Resolution {
  kKeepSiblings,   // allow_mult=true: concurrent values all go to the client
  kNewest,         // allow_mult=false: the newest HLC timestamp among
                   // concurrent siblings wins (ties broken by dot)
  kLastWriteWins,  // last_write_wins=true: the newest timestamp replaces the
                   // object outright, contexts ignored
  kDataType        // a bucket type with a datatype: states merge (crdt/)
};

// One data-type update's change, as the replicas after its coordinator
// receive it: the dot says which copy made it (the origin) and its place in
// that origin's sequence (the origin's counter in the object's clock).
struct Delta {
  Dot dot;
  std::shared_ptr<const crdt::DataType> state;
};

// What applying a delta did.
enum class DeltaOrder {
  kApplied,    // it was the next of its origin
  kDuplicate,  // applied before: nothing changed
  kEarly,      // an earlier one of its origin is missing: nothing changed
};

// A data-type object (Resolution::kDataType) holds a state instead of
// siblings, and its clock counts, for each copy that coordinated updates
// (the origin), how many of that origin's changes the state holds: always
// a prefix of each origin's sequence, since deltas are applied in order
// (ApplyDelta) and full states merge as joins of such prefixes. A delete
// leaves a tombstone sibling instead of the state (datatype.cc says how a
// tombstone and a state merge).
class Object {
 public:
  Object() = default;

  const VersionVector& clock() const { return clock_; }
  const std::vector<Sibling>& siblings() const { return siblings_; }
  // The data-type state; null for key/value objects and tombstones.
  const crdt::DataType* data() const { return data_.get(); }

  // Never written (no siblings and no state).
  bool empty() const { return siblings_.empty() && data_ == nullptr; }
  // Has siblings and every one is a tombstone.
  bool IsTombstone() const;
  // The siblings a client sees: those not deleted.
  std::vector<const Sibling*> LiveSiblings() const;

  // Applies a client write coordinated by `actor`. `content.dot` is ignored
  // and replaced by the minted dot, which is returned. `content.timestamp`
  // must already be set from the coordinator's HLC; it is raised, if need
  // be, above the context's stamp and above what the write overwrites here
  // (under kNewest, above every sibling held here). Under kDataType the
  // only write is a delete: `content` is a tombstone.
  Dot Update(const VersionVector& context, Sibling content, ActorId actor,
             Resolution resolution);

  // Folds in another replica's state of the same key.
  void Merge(const Object& other, Resolution resolution);

  // True if this replica has seen everything `other` holds (merging `other`
  // would change nothing).
  bool Descends(const Object& other) const;

  // A data-type update coordinated by the copy whose actor is `actor`: the
  // change gets the actor's next dot, `op` is applied to the state (a new
  // one of `tag` when there is none), and `*delta` is what the other
  // replicas need. On error (crdt::DataType::Update's) nothing changes.
  Status UpdateData(crdt::TypeTag tag, const crdt::TypeParams& params,
                    const crdt::Operation& op, ActorId actor,
                    HlcTimestamp timestamp, const std::string* context,
                    Delta* delta);
  // Applies another copy's delta if it is the next of its origin. Another
  // type's delta is InvalidArgument and changes nothing.
  Status ApplyDelta(const Delta& delta, DeltaOrder* order);
  // Where a delta minted as `dot` falls in its origin's order here.
  DeltaOrder OrderOf(const causal::Dot& dot) const;

  bool operator==(const Object& other) const;

  // The on-disk and on-the-wire record (proto/records.proto's ObjectRecord;
  // record_codec.h describes the bytes). `replica_actor` is set only in a
  // replica's stored copy (see the record's comment); 0 leaves it out.
  std::string Encode(ActorId replica_actor = 0) const;
  // Rejects malformed input with Corruption; `out` is left unchanged then.
  // `replica_actor`, when given, receives the stored copy's minting actor
  // (0 when absent).
  static Status Decode(std::string_view bytes, Object* out,
                       ActorId* replica_actor = nullptr);

 private:
  // Applies the resolution, then Restamp.
  void Resolve(Resolution resolution);
  // Sets the clock's stamp to the newest sibling timestamp.
  void Restamp();
  // Siblings sorted by dot, dots unique, every dot covered by the clock;
  // a state and siblings never together: what Update and Merge keep true
  // (asserted) and Decode checks.
  bool WellFormed() const;
  // Update, Merge and Descends for Resolution::kDataType (datatype.cc).
  Dot DeleteData(const VersionVector& context, Sibling tombstone,
                 ActorId actor);
  void MergeData(const Object& other);
  bool DescendsData(const Object& other) const;
  // The state, cloned first if another object shares it.
  crdt::DataType& MutableData();

  VersionVector clock_;
  std::vector<Sibling> siblings_;  // sorted by dot, dots unique
  // Shared between copies of an object until one of them changes it.
  std::shared_ptr<crdt::DataType> data_;
};

}  // namespace causeway::replication::object
