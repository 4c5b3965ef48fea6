// Riak's Dt messages <-> crdt operations and values (pbc_dt_convert.h).
#include "node/pbc_dt_convert.h"

#include <memory>
#include <utility>

namespace causeway::node {
namespace {

namespace crdt = replication::crdt;

std::vector<std::string> Strings(
    const google::protobuf::RepeatedPtrField<std::string>& from) {
  return std::vector<std::string>(from.begin(), from.end());
}

Status FieldFromDt(const pbc::MapField& dt, crdt::FieldKey* field) {
  const int type = static_cast<int>(dt.type());
  if (type < static_cast<int>(crdt::FieldType::kCounter) ||
      type > static_cast<int>(crdt::FieldType::kMap)) {
    return Status::InvalidArgument("map field has an unknown type");
  }
  field->name = dt.name();
  field->type = static_cast<crdt::FieldType>(type);
  return Status::Ok();
}

Status MapOpFromDt(const pbc::MapOp& dt, size_t depth, crdt::MapOp* op);

// One MapUpdate: exactly the member the field's type names.
Status MapUpdateFromDt(const pbc::MapUpdate& dt, size_t depth,
                       crdt::MapUpdate* update) {
  Status s = FieldFromDt(dt.field(), &update->field);
  if (!s.ok()) return s;
  const int members = dt.has_counter_op() + dt.has_set_op() +
                      dt.has_register_op() + dt.has_flag_op() + dt.has_map_op();
  const std::string& name = update->field.name;
  bool matches = false;
  switch (update->field.type) {
    case crdt::FieldType::kCounter:
      matches = dt.has_counter_op();
      if (matches)
        update->counter_op = crdt::CounterOp{dt.counter_op().increment()};
      break;
    case crdt::FieldType::kSet:
      matches = dt.has_set_op();
      if (matches) {
        update->set_op = crdt::SetOp{Strings(dt.set_op().adds()),
                                     Strings(dt.set_op().removes())};
      }
      break;
    case crdt::FieldType::kRegister:
      matches = dt.has_register_op();
      if (matches) update->register_op = dt.register_op();
      break;
    case crdt::FieldType::kFlag:
      matches = dt.has_flag_op();
      if (matches) update->flag_op = dt.flag_op() == pbc::MapUpdate::ENABLE;
      break;
    case crdt::FieldType::kMap: {
      matches = dt.has_map_op();
      if (!matches) break;
      auto nested = std::make_shared<crdt::MapOp>();
      s = MapOpFromDt(dt.map_op(), depth + 1, nested.get());
      if (!s.ok()) return s;
      update->map_op = std::move(nested);
      break;
    }
  }
  if (!matches || members != 1) {
    return Status::InvalidArgument("the update of map field '" + name +
                                   "' must carry exactly the operation of "
                                   "its field type");
  }
  return Status::Ok();
}

Status MapOpFromDt(const pbc::MapOp& dt, size_t depth, crdt::MapOp* op) {
  if (depth > crdt::kMaxMapDepth) {
    return Status::InvalidArgument("maps nest deeper than " +
                                   std::to_string(crdt::kMaxMapDepth) +
                                   " levels");
  }
  for (const pbc::MapField& f : dt.removes()) {
    crdt::FieldKey key;
    Status s = FieldFromDt(f, &key);
    if (!s.ok()) return s;
    op->removes.push_back(std::move(key));
  }
  for (const pbc::MapUpdate& u : dt.updates()) {
    crdt::MapUpdate update;
    Status s = MapUpdateFromDt(u, depth, &update);
    if (!s.ok()) return s;
    op->updates.push_back(std::move(update));
  }
  return Status::Ok();
}

void FillMapEntries(const std::vector<crdt::MapEntry>& entries,
                    google::protobuf::RepeatedPtrField<pbc::MapEntry>* out) {
  for (const crdt::MapEntry& e : entries) {
    pbc::MapEntry* dt = out->Add();
    dt->mutable_field()->set_name(e.field.name);
    dt->mutable_field()->set_type(
        static_cast<pbc::MapField::MapFieldType>(e.field.type));
    switch (e.field.type) {
      case crdt::FieldType::kCounter:
        dt->set_counter_value(e.counter);
        break;
      case crdt::FieldType::kSet:
        for (const std::string& s : e.set) dt->add_set_value(s);
        break;
      case crdt::FieldType::kRegister:
        dt->set_register_value(e.register_value);
        break;
      case crdt::FieldType::kFlag:
        dt->set_flag_value(e.flag);
        break;
      case crdt::FieldType::kMap:
        FillMapEntries(e.map, dt->mutable_map_value());
        break;
    }
  }
}

// DtValue and DtUpdateResp name their value fields alike.
template <typename Message>
void FillValueFields(const crdt::Value& value, Message* out) {
  switch (value.type) {
    case crdt::TypeTag::kCounter:
      out->set_counter_value(value.counter);
      break;
    case crdt::TypeTag::kSet:
      for (const std::string& e : value.elements) out->add_set_value(e);
      break;
    case crdt::TypeTag::kGSet:
      for (const std::string& e : value.elements) out->add_gset_value(e);
      break;
    case crdt::TypeTag::kHll:
      out->set_hll_value(value.cardinality);
      break;
    case crdt::TypeTag::kMap:
      FillMapEntries(value.map, out->mutable_map_value());
      break;
  }
}

}  // namespace

Status OperationFromDtOp(const pbc::DtOp& dt, crdt::TypeTag type,
                         crdt::Operation* op) {
  const int members = dt.has_counter_op() + dt.has_set_op() + dt.has_map_op() +
                      dt.has_hll_op() + dt.has_gset_op();
  bool matches = false;
  switch (type) {
    case crdt::TypeTag::kCounter:
      matches = dt.has_counter_op();
      if (matches) *op = crdt::CounterOp{dt.counter_op().increment()};
      break;
    case crdt::TypeTag::kSet:
      matches = dt.has_set_op();
      if (matches) {
        *op = crdt::SetOp{Strings(dt.set_op().adds()),
                          Strings(dt.set_op().removes())};
      }
      break;
    case crdt::TypeTag::kGSet:
      matches = dt.has_gset_op();
      if (matches) *op = crdt::GSetOp{Strings(dt.gset_op().adds())};
      break;
    case crdt::TypeTag::kHll:
      matches = dt.has_hll_op();
      if (matches) *op = crdt::HllOp{Strings(dt.hll_op().adds())};
      break;
    case crdt::TypeTag::kMap: {
      matches = dt.has_map_op();
      if (!matches) break;
      crdt::MapOp map;
      Status s = MapOpFromDt(dt.map_op(), 1, &map);
      if (!s.ok()) return s;
      *op = std::move(map);
      break;
    }
  }
  if (!matches || members != 1) {
    return Status::InvalidArgument(
        std::string("the operation must be a ") + crdt::TypeName(type) +
        " operation: the bucket type holds " + crdt::TypeName(type) + "s");
  }
  return Status::Ok();
}

pbc::DtFetchResp::DataType DtTypeOf(crdt::TypeTag tag) {
  return static_cast<pbc::DtFetchResp::DataType>(tag);
}

void FillDtValue(const crdt::Value& value, pbc::DtValue* out) {
  FillValueFields(value, out);
}

void FillDtUpdateValue(const crdt::Value& value, pbc::DtUpdateResp* out) {
  FillValueFields(value, out);
}

}  // namespace causeway::node
