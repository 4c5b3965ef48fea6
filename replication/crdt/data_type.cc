// The type table: names, constructors and decoders of every data type.
#include "replication/crdt/data_type.h"

#include "replication/crdt/types.h"

namespace causeway::replication::crdt {
namespace {

struct TypeRow {
  TypeTag tag;
  const char* name;
  Status (*decode)(std::string_view, std::unique_ptr<DataType>*);
};

constexpr TypeRow kTypes[] = {
    {TypeTag::kCounter, "counter", DecodeCounter},
    {TypeTag::kSet, "set", DecodeSet},
    {TypeTag::kMap, "map", DecodeMap},
    {TypeTag::kHll, "hll", DecodeHll},
    {TypeTag::kGSet, "gset", DecodeGSet},
};

const TypeRow* Find(TypeTag tag) {
  for (const TypeRow& row : kTypes) {
    if (row.tag == tag) return &row;
  }
  return nullptr;
}

}  // namespace

const char* TypeName(TypeTag tag) {
  const TypeRow* row = Find(tag);
  return row ? row->name : "unknown";
}

bool ParseTypeName(std::string_view name, TypeTag* tag) {
  for (const TypeRow& row : kTypes) {
    if (name == row.name) {
      *tag = row.tag;
      return true;
    }
  }
  return false;
}

std::unique_ptr<DataType> NewDataType(TypeTag tag, const TypeParams& params) {
  switch (tag) {
    case TypeTag::kCounter:
      return NewCounter();
    case TypeTag::kSet:
      return NewSet();
    case TypeTag::kMap:
      return NewMap();
    case TypeTag::kHll:
      return NewHll(params.hll_precision);
    case TypeTag::kGSet:
      return NewGSet();
  }
  return nullptr;
}

Status DecodeDataType(TypeTag tag, std::string_view bytes,
                      std::unique_ptr<DataType>* out) {
  const TypeRow* row = Find(tag);
  if (row == nullptr) return Status::Corruption("unknown data type tag");
  return row->decode(bytes, out);
}

}  // namespace causeway::replication::crdt
