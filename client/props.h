#pragma once
// Text forms of quorum values, booleans and bucket properties, shared by the
// CLI's flags (--r quorum), its NAME=VALUE property arguments and its
// output. Pure functions over the wire messages; nothing here talks to a
// server.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "proto/riak.pb.h"

namespace causeway::client {

// Riak's symbolic quorum values as carried in uint32 wire fields.
inline constexpr uint32_t kQuorumOne = 0xFFFFFFFE;
inline constexpr uint32_t kQuorumQuorum = 0xFFFFFFFD;
inline constexpr uint32_t kQuorumAll = 0xFFFFFFFC;
inline constexpr uint32_t kQuorumDefault = 0xFFFFFFFB;

// "one", "quorum", "all", "default" (any case) or a decimal replica count
// below the symbolic range; returns the wire value.
std::optional<uint32_t> ParseQuorum(std::string_view text);
// The inverse: a symbolic name or the decimal number.
std::string QuorumName(uint32_t wire);

// true/false, yes/no, on/off, 1/0 (any case).
std::optional<bool> ParseBool(std::string_view text);

// The property names `ApplyBucketProp` accepts, in display order.
const std::vector<std::string>& BucketPropNames();

// Applies one "NAME=VALUE" argument to `props`. InvalidArgument (with a
// message that lists the valid names, or says what values NAME takes) when
// the name is unknown or the value does not parse.
Status ApplyBucketProp(std::string_view assignment, pbc::RpbBucketProps* props);

// Kinds of value a property holds, for rendering.
enum class PropKind { kNumber, kBool, kQuorum, kText };

struct PropValue {
  std::string name;
  PropKind kind;
  uint64_t number = 0;  // kNumber, kQuorum (wire value)
  bool flag = false;    // kBool
  std::string text;     // kText
};

// The properties present in `props` that Causeway knows, in display order.
std::vector<PropValue> DescribeBucketProps(const pbc::RpbBucketProps& props);

}  // namespace causeway::client
