#pragma once
// Parsers for causeway-bench's flag values. Each returns InvalidArgument with
// a message naming the bad part, so the CLI can print it as is.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace causeway::bench {

struct NodeAddress {
  std::string host;
  uint16_t port = 0;
  bool operator==(const NodeAddress&) const = default;
};

// "HOST:PORT[,HOST:PORT...]". IPv6 hosts go in brackets: "[::1]:8087".
Status ParseNodes(std::string_view text, std::vector<NodeAddress>* out);

// Relative weights of each operation kind.
struct OpMix {
  uint32_t put = 0;
  uint32_t get = 0;
  bool operator==(const OpMix&) const = default;
};

// "put=P,get=G" with non-negative integer weights (an absent kind weighs 0);
// a bare name weighs 1, so "put" means puts only and "put,get" an even mix.
// At least one weight must be positive.
Status ParseMix(std::string_view text, OpMix* out);

// Riak's symbolic quorum values, as carried in the uint32 r/w/dw fields.
inline constexpr uint32_t kQuorumOne = 0xFFFFFFFEu;
inline constexpr uint32_t kQuorumQuorum = 0xFFFFFFFDu;
inline constexpr uint32_t kQuorumAll = 0xFFFFFFFCu;
inline constexpr uint32_t kQuorumDefault = 0xFFFFFFFBu;

// A replica count ("2") or one of one, quorum, all, default.
Status ParseQuorum(std::string_view text, uint32_t* out);

}  // namespace causeway::bench
