#include "replication/coord/quorum.h"

#include <algorithm>

namespace causeway::replication::coord {

using buckets::Quorum;

Status ResolveQuorum(const char* name, const std::optional<Quorum>& requested,
                     Quorum fallback, uint32_t n_val, uint32_t replicas,
                     uint32_t* count) {
  Quorum q = requested.value_or(Quorum::Default());
  if (q.kind() == Quorum::Kind::kDefault) q = fallback;
  if (q.kind() == Quorum::Kind::kDefault) q = Quorum::Majority();
  uint32_t wanted = 0;
  switch (q.kind()) {
    case Quorum::Kind::kOne:
      wanted = 1;
      break;
    case Quorum::Kind::kQuorum:
    case Quorum::Kind::kDefault:
      wanted = n_val / 2 + 1;
      break;
    case Quorum::Kind::kAll:
      wanted = n_val;
      break;
    case Quorum::Kind::kNumber:
      wanted = q.number();
      break;
  }
  if (wanted > n_val) {
    return Status::InvalidArgument(
        std::string(name) + "=" + std::to_string(wanted) +
        " is more than n_val=" + std::to_string(n_val));
  }
  *count = std::min(wanted, replicas);
  return Status::Ok();
}

}  // namespace causeway::replication::coord
