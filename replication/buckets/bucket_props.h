#pragma once
// Bucket properties: how a bucket replicates and resolves. A bucket's
// effective properties are the node defaults, overlaid by its bucket type's,
// overlaid by its own. Defaults follow Riak's documented defaults.

#include <cstdint>
#include <optional>
#include <string>

#include "replication/object/object.h"

namespace causeway::replication::buckets {

// The bucket type every node has from the start.
inline constexpr const char* kDefaultType = "default";

// A quorum setting: a number of replicas or one of Riak's symbolic values.
class Quorum {
 public:
  // Riak's wire encoding of the symbolic values in uint32 fields.
  static constexpr uint32_t kWireOne = 0xFFFFFFFE;
  static constexpr uint32_t kWireQuorum = 0xFFFFFFFD;
  static constexpr uint32_t kWireAll = 0xFFFFFFFC;
  static constexpr uint32_t kWireDefault = 0xFFFFFFFB;

  enum class Kind { kDefault, kOne, kQuorum, kAll, kNumber };

  constexpr Quorum() = default;
  static constexpr Quorum Number(uint32_t n) {
    return Quorum(Kind::kNumber, n);
  }
  static constexpr Quorum One() { return Quorum(Kind::kOne, 0); }
  static constexpr Quorum Majority() { return Quorum(Kind::kQuorum, 0); }
  static constexpr Quorum All() { return Quorum(Kind::kAll, 0); }
  static constexpr Quorum Default() { return Quorum(Kind::kDefault, 0); }
  static Quorum FromWire(uint32_t v);
  uint32_t ToWire() const;
  // "one", "quorum", "all", "default" or a decimal number.
  static std::optional<Quorum> Parse(const std::string& text);
  std::string ToString() const;

  // The number of replicas this asks for out of n_val. kDefault resolves to
  // `fallback` first (the bucket's own setting).
  uint32_t Resolve(uint32_t n_val, Quorum fallback) const;

  Kind kind() const { return kind_; }
  uint32_t number() const { return number_; }
  bool operator==(const Quorum&) const = default;

 private:
  constexpr Quorum(Kind k, uint32_t n) : kind_(k), number_(n) {}
  Kind kind_ = Kind::kDefault;
  uint32_t number_ = 0;
};

struct BucketProps {
  uint32_t n_val = 3;
  bool allow_mult = false;
  bool last_write_wins = false;
  Quorum r = Quorum::Majority();
  Quorum w = Quorum::Majority();
  Quorum pr = Quorum::Number(0);
  Quorum pw = Quorum::Number(0);
  Quorum dw = Quorum::Majority();
  Quorum rw = Quorum::Majority();
  bool basic_quorum = false;
  bool notfound_ok = true;
  std::string datatype;         // empty: plain key/value
  uint32_t hll_precision = 14;  // hll types: registers are 2^hll_precision

  object::Resolution resolution() const {
    if (!datatype.empty()) return object::Resolution::kDataType;
    if (last_write_wins) return object::Resolution::kLastWriteWins;
    return allow_mult ? object::Resolution::kKeepSiblings
                      : object::Resolution::kNewest;
  }
  bool operator==(const BucketProps&) const = default;
};

// A partial set of properties, as sent by a client: only present fields
// change anything.
struct BucketPropsPatch {
  std::optional<uint32_t> n_val;
  std::optional<bool> allow_mult;
  std::optional<bool> last_write_wins;
  std::optional<Quorum> r, w, pr, pw, dw, rw;
  std::optional<bool> basic_quorum;
  std::optional<bool> notfound_ok;
  std::optional<std::string> datatype;
  std::optional<uint32_t> hll_precision;  // 4..16, as in Riak

  void ApplyTo(BucketProps* props) const;
  // Folds `later` on top of this one.
  void Overlay(const BucketPropsPatch& later);
  bool empty() const;
  // Checks ranges (n_val 1..16, numeric quorums <= n_val where known).
  Status Validate() const;
  // Versioned binary form for the metadata store.
  std::string Encode() const;
  static Status Decode(std::string_view bytes, BucketPropsPatch* out);
  bool operator==(const BucketPropsPatch&) const = default;
};

}  // namespace causeway::replication::buckets
