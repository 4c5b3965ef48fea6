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

// Relative weights of each operation kind. put and get are key/value
// requests (RpbPutReq, RpbGetReq); incr, dtget and sadd are data-type
// requests on a bucket type with a datatype: incr a DtUpdateReq adding 1 to
// a counter, sadd a DtUpdateReq adding a fresh random element to a set,
// dtget a DtFetchReq.
struct OpMix {
  uint32_t put = 0;
  uint32_t get = 0;
  uint32_t incr = 0;
  uint32_t dtget = 0;
  uint32_t sadd = 0;
  bool operator==(const OpMix&) const = default;

  uint64_t total() const { return uint64_t{put} + get + incr + dtget + sadd; }
  bool has_kv() const { return put > 0 || get > 0; }
  bool has_data_type() const { return incr > 0 || dtget > 0 || sadd > 0; }
};

// "put=P,get=G" with non-negative integer weights (an absent kind weighs 0);
// a bare name weighs 1, so "put" means puts only and "put,get" an even mix.
// Names: put, get, incr, dtget, sadd. At least one weight must be positive.
// Refused as well, since every request goes to one bucket type and a type
// either holds a datatype or plain objects, and one datatype only: a mix of
// key/value and data-type operations, and a mix of incr and sadd.
Status ParseMix(std::string_view text, OpMix* out);
// Why `mix` cannot be run (the checks of ParseMix), or Ok.
Status CheckMix(const OpMix& mix);

// Riak's symbolic quorum values, as carried in the uint32 r/w/dw fields.
inline constexpr uint32_t kQuorumOne = 0xFFFFFFFEu;
inline constexpr uint32_t kQuorumQuorum = 0xFFFFFFFDu;
inline constexpr uint32_t kQuorumAll = 0xFFFFFFFCu;
inline constexpr uint32_t kQuorumDefault = 0xFFFFFFFBu;

// A replica count ("2") or one of one, quorum, all, default.
Status ParseQuorum(std::string_view text, uint32_t* out);

}  // namespace causeway::bench
