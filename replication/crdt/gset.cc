// SKELETON: to be replaced by the real type.
#include "replication/crdt/types.h"

namespace causeway::replication::crdt {

std::unique_ptr<DataType> NewGSet() { return nullptr; }
Status DecodeGSet(std::string_view bytes, std::unique_ptr<DataType>* out) {
  return Status::Corruption("gset: not implemented");
}

}  // namespace causeway::replication::crdt
