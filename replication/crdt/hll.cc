// SKELETON: to be replaced by the real type.
#include "replication/crdt/types.h"

namespace causeway::replication::crdt {

std::unique_ptr<DataType> NewHll(uint32_t precision) { return nullptr; }
Status DecodeHll(std::string_view bytes, std::unique_ptr<DataType>* out) {
  return Status::Corruption("hll: not implemented");
}

}  // namespace causeway::replication::crdt
