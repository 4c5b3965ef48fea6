// gset: the grow-only set of byte strings. Add is the only operation;
// merge is union.
//
// Non-obvious choices:
// - Elements are kept in a sorted vector, not a std::set: it is compact,
//   merges in one linear pass and encodes in order. An update sorts its
//   (at most kMaxElementsPerOp) new elements and merges them in, so a large
//   set is walked once per update, not once per element.
// - The decoder enforces the element size limit (every element came
//   through Update, which enforces it) but not kMaxSetElements: merging
//   concurrent adds may legitimately pass that limit, which bounds what one
//   client may build, and a stored state must always decode. The count is
//   still bounded by the input's length.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/assert.h"
#include "base/coding.h"
#include "replication/crdt/types.h"

namespace causeway::replication::crdt {
namespace {

constexpr uint8_t kFormatVersion = 1;

// Sorted, strictly.
using Elements = std::vector<std::string>;

Elements Union(const Elements& a, const Elements& b) {
  Elements out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(),
                 std::back_inserter(out));
  return out;
}

class GSet final : public DataType {
 public:
  GSet() = default;
  explicit GSet(Elements elements) : elements_(std::move(elements)) {}

  TypeTag tag() const override { return TypeTag::kGSet; }
  std::unique_ptr<DataType> Clone() const override {
    return std::make_unique<GSet>(*this);
  }

  Status Update(const Operation& op, const UpdateArgs& args,
                std::unique_ptr<DataType>* delta) override;

  void Merge(const DataType& other) override {
    CAUSEWAY_ASSERT(other.tag() == tag());
    const auto& o = static_cast<const GSet&>(other);
    if (o.elements_.empty()) return;
    elements_ = Union(elements_, o.elements_);
  }

  bool Equal(const DataType& other) const override {
    if (other.tag() != tag()) return false;
    return elements_ == static_cast<const GSet&>(other).elements_;
  }

  Value Read() const override {
    Value value;
    value.type = TypeTag::kGSet;
    value.elements = elements_;
    return value;
  }

  std::string Context() const override { return std::string(); }
  std::string Encode() const override;

 private:
  // The adds of `op` not yet in this set, sorted and distinct; or an error
  // if the op is over a limit.
  Status NewElements(const GSetOp& op, Elements* fresh) const;

  Elements elements_;
};

Status GSet::NewElements(const GSetOp& op, Elements* fresh) const {
  if (op.adds.size() > kMaxElementsPerOp) {
    return Status::InvalidArgument("gset: too many elements in one operation");
  }
  for (const std::string& e : op.adds) {
    if (e.size() > kMaxElementBytes) {
      return Status::InvalidArgument("gset: element too large");
    }
  }
  Elements adds = op.adds;
  std::sort(adds.begin(), adds.end());
  adds.erase(std::unique(adds.begin(), adds.end()), adds.end());
  fresh->clear();
  std::set_difference(adds.begin(), adds.end(), elements_.begin(),
                      elements_.end(), std::back_inserter(*fresh));
  if (elements_.size() + fresh->size() > kMaxSetElements) {
    return Status::InvalidArgument("gset: set would exceed its size limit");
  }
  return Status::Ok();
}

Status GSet::Update(const Operation& op, const UpdateArgs& args,
                    std::unique_ptr<DataType>* delta) {
  CAUSEWAY_ASSERT(args.actor != 0);
  const auto* gset_op = std::get_if<GSetOp>(&op);
  if (gset_op == nullptr) {
    return Status::InvalidArgument("gset: not a gset operation");
  }
  Elements fresh;
  Status s = NewElements(*gset_op, &fresh);
  if (!s.ok()) return s;
  if (!fresh.empty()) elements_ = Union(elements_, fresh);
  *delta = std::make_unique<GSet>(std::move(fresh));
  return Status::Ok();
}

std::string GSet::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  coding::PutVarint64(&out, elements_.size());
  for (const std::string& e : elements_) {
    coding::PutLengthPrefixedVarint(&out, e);
  }
  return out;
}

// Reads the elements after the version byte; false on anything malformed.
bool DecodeElements(std::string_view in, Elements* out) {
  uint64_t count = 0;
  if (!coding::GetCanonicalVarint64(&in, &count)) return false;
  // Each element takes at least its one-byte length. No reserve: a string
  // object is larger than that byte, so elements grow only as they parse.
  if (count > in.size()) return false;
  Elements elements;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view e;
    if (!coding::GetLengthPrefixedVarint(&in, &e)) return false;
    if (e.size() > kMaxElementBytes) return false;
    if (!elements.empty() && !(elements.back() < e)) return false;
    elements.emplace_back(e);
  }
  if (!in.empty()) return false;
  *out = std::move(elements);
  return true;
}

}  // namespace

std::unique_ptr<DataType> NewGSet() { return std::make_unique<GSet>(); }

Status DecodeGSet(std::string_view bytes, std::unique_ptr<DataType>* out) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kFormatVersion) {
    return Status::Corruption("gset: unknown format version");
  }
  Elements elements;
  if (!DecodeElements(bytes.substr(1), &elements)) {
    return Status::Corruption("gset: malformed state");
  }
  *out = std::make_unique<GSet>(std::move(elements));
  return Status::Ok();
}

}  // namespace causeway::replication::crdt
