// Target "crdt_op": crdt::DecodeOperation, an update forwarded by another
// node. Promises checked: a refused input leaves the output unchanged; an
// accepted one re-encodes to bytes that decode to the same operation, and
// applying it to an empty state of every type either succeeds with a delta
// that merges back into the result or is refused without a change.

#include <memory>
#include <string_view>

#include "replication/crdt/data_type.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::crdt::CounterOp;
using replication::crdt::DataType;
using replication::crdt::Operation;
using replication::crdt::TypeTag;

void ApplyToEveryType(const Operation& op) {
  for (int t = 1; t <= 5; ++t) {
    std::unique_ptr<DataType> state = replication::crdt::NewDataType(
        static_cast<TypeTag>(t), replication::crdt::TypeParams());
    const std::string before = state->Encode();
    replication::crdt::UpdateArgs args;
    args.actor = 42;
    std::unique_ptr<DataType> delta;
    if (!state->Update(op, args, &delta).ok()) {
      FUZZ_CHECK(state->Encode() == before);
      continue;
    }
    std::unique_ptr<DataType> again = replication::crdt::NewDataType(
        static_cast<TypeTag>(t), replication::crdt::TypeParams());
    again->Merge(*delta);
    FUZZ_CHECK(again->Equal(*state));
  }
}

void FuzzCrdtOp(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Operation sentinel = CounterOp{7};
  Operation op = sentinel;
  if (!replication::crdt::DecodeOperation(input, &op).ok()) {
    FUZZ_CHECK(op == sentinel);
    return;
  }
  const std::string encoded = replication::crdt::EncodeOperation(op);
  Operation back;
  FUZZ_CHECK(replication::crdt::DecodeOperation(encoded, &back).ok());
  FUZZ_CHECK(back == op);
  ApplyToEveryType(op);
}

const Registration kRegistration("crdt_op", &FuzzCrdtOp);

}  // namespace
}  // namespace causeway::fuzz
