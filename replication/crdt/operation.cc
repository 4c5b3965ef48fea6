// SKELETON: to be replaced by the operation codec.
#include "replication/crdt/operation.h"

namespace causeway::replication::crdt {

bool MapUpdate::operator==(const MapUpdate& other) const {
  if (!(field == other.field && counter_op == other.counter_op &&
        set_op == other.set_op && register_op == other.register_op &&
        flag_op == other.flag_op)) {
    return false;
  }
  if (!map_op || !other.map_op) return !map_op && !other.map_op;
  return *map_op == *other.map_op;
}

std::string EncodeOperation(const Operation& op) { return std::string(); }
Status DecodeOperation(std::string_view bytes, Operation* out) {
  return Status::InvalidArgument("operation codec: not implemented");
}

}  // namespace causeway::replication::crdt
