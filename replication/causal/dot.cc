#include "replication/causal/dot.h"

#include <cstdio>

namespace causeway::replication::causal {

std::string Dot::ToString() const {
  // Actors are random 64-bit ids, so hex keeps them short and fixed-width.
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%016llx:%llu",
                static_cast<unsigned long long>(actor),
                static_cast<unsigned long long>(counter));
  return buf;
}

}  // namespace causeway::replication::causal
