// set: an add-wins observed-remove set without tombstones (ORSWOT). The
// state is a causal context and, for each element, the dots of the adds
// that made it present; see dot_store.h for the join. An add mints one dot
// and replaces the element's observed dots, so an element holds one dot per
// concurrent add; a remove takes the dots the remover observed, so an add
// it did not see survives.
//
// Encoding: version byte 1, the context, then the elements (varint count,
// then each element length-prefixed with its dots), in element order.
#include "base/assert.h"
#include "replication/crdt/dot_store.h"
#include "replication/crdt/types.h"

namespace causeway::replication::crdt {
namespace {

constexpr char kVersion = 1;

class SetState final : public DataType {
 public:
  TypeTag tag() const override { return TypeTag::kSet; }
  std::unique_ptr<DataType> Clone() const override {
    return std::make_unique<SetState>(*this);
  }

  Status Update(const Operation& op, const UpdateArgs& args,
                std::unique_ptr<DataType>* delta) override {
    CAUSEWAY_ASSERT(args.actor != 0);
    const SetOp* set_op = std::get_if<SetOp>(&op);
    if (set_op == nullptr) {
      return Status::InvalidArgument("not a set operation");
    }
    RemoveScope scope;
    Status s;
    if (!set_op->removes.empty())
      s = RemoveScope::Make(args.context, context_, &scope);
    auto d = std::make_unique<SetState>();
    DotMinter minter(context_, args.actor);
    if (s.ok()) {
      s = SetDelta(store_, *set_op, scope, &minter, &d->store_, &d->context_);
    }
    if (!s.ok()) return s;
    Merge(*d);
    *delta = std::move(d);
    return Status::Ok();
  }

  void Merge(const DataType& other) override {
    CAUSEWAY_ASSERT(other.tag() == tag());
    const auto& o = static_cast<const SetState&>(other);
    JoinSetStores(&store_, context_, o.store_, o.context_);
    context_.Merge(o.context_);
  }

  bool Equal(const DataType& other) const override {
    if (other.tag() != tag()) return false;
    const auto& o = static_cast<const SetState&>(other);
    return context_ == o.context_ && store_ == o.store_;
  }

  Value Read() const override {
    Value v;
    v.type = TypeTag::kSet;
    v.elements.reserve(store_.size());
    for (const auto& [element, dots] : store_) v.elements.push_back(element);
    return v;
  }

  std::string Context() const override { return context_.Encode(); }

  std::string Encode() const override {
    std::string out(1, kVersion);
    context_.EncodeTo(&out);
    PutSetStore(&out, store_);
    return out;
  }

  static Status Decode(std::string_view in, std::unique_ptr<DataType>* out) {
    auto state = std::make_unique<SetState>();
    if (in.empty() || in[0] != kVersion) {
      return Status::Corruption("set: unknown version");
    }
    in.remove_prefix(1);
    if (!CausalContext::DecodeFrom(&in, &state->context_) ||
        !GetSetStore(&in, state->context_, &state->store_) || !in.empty()) {
      return Status::Corruption("set: malformed state");
    }
    *out = std::move(state);
    return Status::Ok();
  }

 private:
  CausalContext context_;
  SetStore store_;
};

}  // namespace

std::unique_ptr<DataType> NewSet() { return std::make_unique<SetState>(); }

Status DecodeSet(std::string_view bytes, std::unique_ptr<DataType>* out) {
  return SetState::Decode(bytes, out);
}

}  // namespace causeway::replication::crdt
