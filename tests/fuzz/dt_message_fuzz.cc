// Target "dt_message": a DtUpdateReq body as a client sends it, through
// node::OperationFromDtOp for every type, and the resulting operation
// through a fresh state of that type and the node's value encoders.
//
// Promises checked: the body parses or is refused without trouble; an
// operation the converter accepts survives the forwarding codec
// (EncodeOperation / DecodeOperation) unchanged; an update either succeeds
// and its value fills a DtUpdateResp and a DtFetchResp that serialize and
// parse back, or is refused and changes nothing.

#include <memory>
#include <string>

#include "node/pbc_dt_convert.h"
#include "proto/riak.pb.h"
#include "replication/crdt/data_type.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

namespace crdt = replication::crdt;

void CheckUpdate(crdt::TypeTag tag, const crdt::Operation& op) {
  std::unique_ptr<crdt::DataType> state =
      crdt::NewDataType(tag, crdt::TypeParams());
  const std::string before = state->Encode();
  crdt::UpdateArgs args;
  args.actor = 9;
  std::unique_ptr<crdt::DataType> delta;
  if (!state->Update(op, args, &delta).ok()) {
    FUZZ_CHECK(state->Encode() == before);
    return;
  }
  pbc::DtUpdateResp update;
  node::FillDtUpdateValue(state->Read(), &update);
  pbc::DtFetchResp fetch;
  fetch.set_type(node::DtTypeOf(tag));
  node::FillDtValue(state->Read(), fetch.mutable_value());
  pbc::DtUpdateResp update_back;
  pbc::DtFetchResp fetch_back;
  FUZZ_CHECK(update_back.ParseFromString(update.SerializeAsString()));
  FUZZ_CHECK(fetch_back.ParseFromString(fetch.SerializeAsString()));
}

void FuzzDtMessage(const uint8_t* data, size_t size) {
  pbc::DtUpdateReq req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return;
  for (int t = 1; t <= 5; ++t) {
    const auto tag = static_cast<crdt::TypeTag>(t);
    crdt::Operation op;
    if (!node::OperationFromDtOp(req.op(), tag, &op).ok()) continue;
    crdt::Operation back;
    FUZZ_CHECK(crdt::DecodeOperation(crdt::EncodeOperation(op), &back).ok());
    FUZZ_CHECK(back == op);
    CheckUpdate(tag, op);
  }
}

const Registration kRegistration("dt_message", &FuzzDtMessage);

}  // namespace
}  // namespace causeway::fuzz
