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
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "replication/causal/dot.h"
#include "replication/causal/hlc.h"
#include "replication/causal/version_vector.h"

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
  kKeepSiblings,  // allow_mult=true: concurrent values all go to the client
  kNewest,        // allow_mult=false: the newest HLC timestamp among
                  // concurrent siblings wins (ties broken by dot)
  kLastWriteWins  // last_write_wins=true: the newest timestamp replaces the
                  // object outright, contexts ignored
};

class Object {
 public:
  Object() = default;

  const VersionVector& clock() const { return clock_; }
  const std::vector<Sibling>& siblings() const { return siblings_; }

  // Never written (no siblings at all).
  bool empty() const { return siblings_.empty(); }
  // Has siblings and every one is a tombstone.
  bool IsTombstone() const;
  // The siblings a client sees: those not deleted.
  std::vector<const Sibling*> LiveSiblings() const;

  // Applies a client write coordinated by `actor`. `content.dot` is ignored
  // and replaced by the minted dot, which is returned. `content.timestamp`
  // must already be set from the coordinator's HLC; it is raised, if need
  // be, above the context's stamp and above what the write overwrites here
  // (under kNewest, above every sibling held here).
  Dot Update(const VersionVector& context, Sibling content, ActorId actor,
             Resolution resolution);

  // Folds in another replica's state of the same key.
  void Merge(const Object& other, Resolution resolution);

  // True if this replica has seen everything `other` holds (merging `other`
  // would change nothing).
  bool Descends(const Object& other) const;

  bool operator==(const Object&) const = default;

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
  // Siblings sorted by dot, dots unique, every dot covered by the clock:
  // what Update and Merge keep true (asserted) and Decode checks.
  bool WellFormed() const;

  VersionVector clock_;
  std::vector<Sibling> siblings_;  // sorted by dot, dots unique
};

}  // namespace causeway::replication::object
