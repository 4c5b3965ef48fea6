#pragma once
// DataType: the one interface every replicated data type implements, in the
// spirit of riak_dt: new, value, update (which returns a delta), merge (of a
// full state or a delta), equal, encode/decode, a type tag. A new type is
// one file and one row in the table of data_type.cc; one law test covers
// them all.
//
// Delta-state CRDTs (Almeida, Shoker, Baquero, "Delta State Replicated Data
// Types", 2018): a delta is itself a state of the same type, the smallest
// one that carries one update's change, so Merge takes either. Merge is a
// join: commutative, associative and idempotent, so states and deltas may
// be merged in any order and any number of times and replicas that merged
// the same things are Equal. (The replication layer still applies each
// origin's deltas in order, so a replica never shows a later change of an
// origin without its earlier ones; see vnode/delta_applier.h.)
//
// The types:
//   counter  PN-counter: increments and decrements by any actor.
//   set      add-wins observed-remove set without tombstones (ORSWOT): a
//            remove takes away the adds it observed; a concurrent add wins.
//   gset     grow-only set.
//   hll      HyperLogLog cardinality estimate (precision 4..16, Riak's
//            `hll_precision`, default 14).
//   map      fields named by (name, type) holding counters, sets,
//            registers (last writer wins on the HLC), flags (enable wins)
//            and maps. Removing a field removes what the remover observed
//            of it; a concurrent update survives the remove, with what the
//            remover had not observed.
//
// Not thread-safe; states are values (Clone copies).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replication/causal/dot.h"
#include "replication/causal/hlc.h"
#include "replication/crdt/operation.h"

namespace causeway::replication::crdt {

// Values are Riak's DtFetchResp.DataType.
enum class TypeTag : uint8_t {
  kCounter = 1,
  kSet = 2,
  kMap = 3,
  kHll = 4,
  kGSet = 5,
};

// The bucket property `datatype` names: "counter", "set", "map", "hll",
// "gset".
const char* TypeName(TypeTag tag);
// False for any other name.
bool ParseTypeName(std::string_view name, TypeTag* tag);

// Limits on what a client may build, checked before anything changes; an
// operation over one is refused with InvalidArgument. They bound the work
// and memory one request can cause; frames are bounded separately.
inline constexpr size_t kMaxElementBytes = size_t{64} << 10;  // set, gset, hll
inline constexpr size_t kMaxFieldNameBytes = 1024;
inline constexpr size_t kMaxRegisterBytes = size_t{1} << 20;
inline constexpr size_t kMaxElementsPerOp = 10000;  // adds + removes
inline constexpr size_t kMaxSetElements = 1000000;  // set and gset
inline constexpr size_t kMaxMapFields = 10000;      // in one map level
inline constexpr size_t kMaxMapDepth = 8;           // the top map is 1
inline constexpr uint32_t kMinHllPrecision = 4;
inline constexpr uint32_t kMaxHllPrecision = 16;
inline constexpr uint32_t kDefaultHllPrecision = 14;

// What a new state is made with (from bucket properties).
struct TypeParams {
  uint32_t hll_precision = kDefaultHllPrecision;
};

// A map entry's value, as a client sees it: the member matching
// `field.type` is meaningful.
struct MapEntry {
  FieldKey field;
  int64_t counter = 0;
  std::vector<std::string> set;  // sorted
  std::string register_value;
  bool flag = false;
  std::vector<MapEntry> map;  // sorted by field
  bool operator==(const MapEntry&) const = default;
};

// A state's value, as a client sees it: the member matching `type` is
// meaningful.
struct Value {
  TypeTag type = TypeTag::kCounter;
  int64_t counter = 0;
  std::vector<std::string> elements;  // set and gset, sorted
  std::vector<MapEntry> map;          // sorted by field
  uint64_t cardinality = 0;           // hll
  bool operator==(const Value&) const = default;
};

// What Update needs besides the operation.
struct UpdateArgs {
  // The replica copy that makes the change; dots it mints are its own.
  causal::ActorId actor = 0;
  // The coordinator's HLC time of the change (registers: last writer wins).
  causal::HlcTimestamp timestamp;
  // The opaque context the client read (Context() of the state it
  // fetched); null when the client sent none, and the state being updated
  // then stands for what the client saw.
  const std::string* context = nullptr;
};

class DataType {
 public:
  virtual ~DataType() = default;

  virtual TypeTag tag() const = 0;
  virtual std::unique_ptr<DataType> Clone() const = 0;

  // Applies `op` to this state and sets `*delta` to the change: merging it
  // into this state's former value, or into any state that has merged that
  // value, has the same effect as the update. Refused, with nothing changed:
  // an operation for another type or over a limit (InvalidArgument), a
  // malformed context (InvalidArgument), a remove of an element or field
  // that neither this state nor the given context has observed
  // (PreconditionFailed, naming it).
  // REQUIRES: args.actor != 0.
  virtual Status Update(const Operation& op, const UpdateArgs& args,
                        std::unique_ptr<DataType>* delta) = 0;

  // Joins `other`, a state or a delta of the same type, into this state.
  // REQUIRES: other.tag() == tag().
  virtual void Merge(const DataType& other) = 0;

  // Same state (as Encode would tell, without encoding).
  virtual bool Equal(const DataType& other) const = 0;

  virtual Value Read() const = 0;

  // The opaque context a client sends back with removes (set, map); empty
  // for types that need none. It names what this state has observed.
  virtual std::string Context() const = 0;

  // Canonical, versioned bytes: equal states encode to equal bytes.
  virtual std::string Encode() const = 0;
};

// An empty state of `tag`.
std::unique_ptr<DataType> NewDataType(TypeTag tag, const TypeParams& params);

// Decodes a state of `tag` (from disk or a peer: hostile bytes, decoded
// defensively). Corruption for malformed input; `out` is left unchanged
// then.
Status DecodeDataType(TypeTag tag, std::string_view bytes,
                      std::unique_ptr<DataType>* out);

}  // namespace causeway::replication::crdt
