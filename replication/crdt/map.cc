// SKELETON: to be replaced by the real type.
#include "replication/crdt/types.h"

namespace causeway::replication::crdt {

std::unique_ptr<DataType> NewMap() { return nullptr; }
Status DecodeMap(std::string_view bytes, std::unique_ptr<DataType>* out) {
  return Status::Corruption("map: not implemented");
}

}  // namespace causeway::replication::crdt
