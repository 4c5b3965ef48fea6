// Target "crdt_state": crdt::DecodeDataType, the data-type state inside an
// object record and inside a peer's delta. The first input byte picks the
// type (tag = 1 + byte % 5); the rest is the state's bytes.
//
// Promises checked: a refused input leaves the output unchanged; an accepted
// one is canonical (Encode(Decode(x)) == x), reads without trouble, merges
// with itself and with an empty state into an equal state, and its context
// (for sets and maps) decodes as a client would send it back.

#include <memory>
#include <string_view>

#include "replication/crdt/data_type.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::crdt::DataType;
using replication::crdt::TypeTag;

void FuzzCrdtState(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const auto tag = static_cast<TypeTag>(1 + data[0] % 5);
  const std::string_view input(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  std::unique_ptr<DataType> state;
  if (!replication::crdt::DecodeDataType(tag, input, &state).ok()) {
    FUZZ_CHECK(state == nullptr);
    return;
  }
  FUZZ_CHECK(state != nullptr && state->tag() == tag);
  FUZZ_CHECK(state->Encode() == input);
  (void)state->Read();

  std::unique_ptr<DataType> merged = state->Clone();
  merged->Merge(*state);
  FUZZ_CHECK(merged->Equal(*state));
  std::unique_ptr<DataType> empty =
      replication::crdt::NewDataType(tag, replication::crdt::TypeParams());
  empty->Merge(*state);
  merged->Merge(*empty);
  FUZZ_CHECK(merged->Encode() == merged->Clone()->Encode());
  std::unique_ptr<DataType> back;
  FUZZ_CHECK(
      replication::crdt::DecodeDataType(tag, merged->Encode(), &back).ok());
  FUZZ_CHECK(back->Equal(*merged));
}

const Registration kRegistration("crdt_state", &FuzzCrdtState);

}  // namespace
}  // namespace causeway::fuzz
