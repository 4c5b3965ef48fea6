#pragma once
// Riak's data-type messages (DtOp, DtValue, MapEntry) to and from the
// replication layer's crdt operations and values. The wire side is
// hostile: a DtOp is checked for shape (exactly the member its type needs,
// map nesting within crdt::kMaxMapDepth) here; sizes and counts are checked
// by the data type before anything changes.

#include <string>

#include "base/status.h"
#include "proto/riak.pb.h"
#include "replication/crdt/data_type.h"
#include "replication/crdt/operation.h"

namespace causeway::node {

// The operation a DtOp carries for a bucket type holding `type`:
// InvalidArgument (naming what is wrong) when it carries none, more than
// one, or one for another type.
Status OperationFromDtOp(const pbc::DtOp& dt, replication::crdt::TypeTag type,
                         replication::crdt::Operation* op);

// Riak's DataType enum value for `tag`.
pbc::DtFetchResp::DataType DtTypeOf(replication::crdt::TypeTag tag);

// Fills a DtFetchResp's value (a present DtValue, even when empty).
void FillDtValue(const replication::crdt::Value& value, pbc::DtValue* out);

// Fills the value fields of a DtUpdateResp.
void FillDtUpdateValue(const replication::crdt::Value& value,
                       pbc::DtUpdateResp* out);

}  // namespace causeway::node
