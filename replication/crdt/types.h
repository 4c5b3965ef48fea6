#pragma once
// The concrete types behind data_type.h, one file each. Only data_type.cc
// (the type table) and the tests include this header; everything else
// speaks the DataType interface.

#include <cstdint>
#include <memory>
#include <string_view>

#include "base/status.h"
#include "replication/crdt/data_type.h"

namespace causeway::replication::crdt {

std::unique_ptr<DataType> NewCounter();
Status DecodeCounter(std::string_view bytes, std::unique_ptr<DataType>* out);

std::unique_ptr<DataType> NewSet();
Status DecodeSet(std::string_view bytes, std::unique_ptr<DataType>* out);

std::unique_ptr<DataType> NewGSet();
Status DecodeGSet(std::string_view bytes, std::unique_ptr<DataType>* out);

// REQUIRES: kMinHllPrecision <= precision <= kMaxHllPrecision.
std::unique_ptr<DataType> NewHll(uint32_t precision);
Status DecodeHll(std::string_view bytes, std::unique_ptr<DataType>* out);

std::unique_ptr<DataType> NewMap();
Status DecodeMap(std::string_view bytes, std::unique_ptr<DataType>* out);

}  // namespace causeway::replication::crdt
