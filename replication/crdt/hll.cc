// hll: the HyperLogLog cardinality estimate (Flajolet, Fusy, Gandouet,
// Meunier, 2007), as a CRDT: a state is 2^p registers, an add raises one
// register, and merge is the register-wise maximum.
//
// Non-obvious choices:
// - The hash is written here, not taken from the standard library: states
//   are persisted and merged between nodes, so an element must land in the
//   same register with the same rank on every platform, build and run. It
//   is FNV-1a-64 over the element's bytes (offset basis 0xcbf29ce484222325,
//   prime 0x100000001b3) followed by the splitmix64 finaliser (shifts 30,
//   27, 31; multipliers 0xbf58476d1ce4e5b9, 0x94d049bb133111eb), which
//   spreads FNV's weak high bits over the whole word. Changing it changes
//   the meaning of every stored state.
// - Of the 64-bit hash, the top p bits pick the register and the rank is
//   the number of leading zeros of the remaining 64 - p bits plus one, so a
//   rank is in [1, 64 - p + 1] (the maximum when those bits are all zero).
// - Estimate: the raw estimate alpha_m * m^2 / sum(2^-rank); when it is at
//   most 2.5 m and some registers are zero, linear counting m * ln(m / V)
//   (V the zero registers) instead, which is near exact for small sets. No
//   large-range correction: with a 64-bit hash collisions of whole hashes
//   are negligible at any cardinality a register file can estimate.
// - Merging states of different precisions folds the finer one down, so
//   both end at the lower precision. The fold is exact: a register i with
//   rank r > 0 at precision q, folded to p < q (s = q - p), goes to
//   register i >> s; the low s bits of i (call them e) are the first s bits
//   of what precision p ranks, so its rank there is s - bit_width(e) + 1 if
//   e != 0 and s + r if e == 0; the folded register takes the maximum. The
//   result is the state the same adds would have built at precision p, so
//   merge stays commutative, associative and idempotent across precisions.
// - In memory a state is sparse (the non-zero registers, sorted) until
//   that would take more room than the dense array of 2^p ranks; a delta
//   holds only the registers its update raised, so it stays small. The
//   encoding likewise picks the smaller form, and the decoder accepts only
//   the form the encoder would have picked, so equal states have one
//   encoding.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
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
constexpr uint8_t kSparseForm = 0;
constexpr uint8_t kDenseForm = 1;
// Bytes of one in-memory sparse entry, against one byte per dense register.
constexpr size_t kSparseEntryBytes = sizeof(uint32_t) * 2;

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325u;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3u;
  }
  return h;
}

uint64_t SplitMix64Finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

uint64_t HashElement(std::string_view element) {
  return SplitMix64Finalize(Fnv1a64(element));
}

bool ValidPrecision(uint64_t p) {
  return p >= kMinHllPrecision && p <= kMaxHllPrecision;
}

uint32_t RegisterCount(uint32_t p) { return uint32_t{1} << p; }
uint32_t MaxRank(uint32_t p) { return 64 - p + 1; }

struct Register {
  uint32_t index = 0;
  uint32_t rank = 0;  // >= 1 in a list of registers
  bool operator==(const Register&) const = default;
};
using Registers = std::vector<Register>;  // sorted by index, strictly

Register Locate(uint64_t hash, uint32_t p) {
  const uint64_t rest = hash << p;  // the 64 - p bits below the index
  const uint32_t rank = rest == 0
                            ? MaxRank(p)
                            : static_cast<uint32_t>(std::countl_zero(rest)) + 1;
  return {static_cast<uint32_t>(hash >> (64 - p)), rank};
}

// Sorts by index and keeps the highest rank of each index.
void Normalize(Registers* regs) {
  std::sort(regs->begin(), regs->end(), [](Register a, Register b) {
    return a.index != b.index ? a.index < b.index : a.rank > b.rank;
  });
  regs->erase(
      std::unique(regs->begin(), regs->end(),
                  [](Register a, Register b) { return a.index == b.index; }),
      regs->end());
}

// The registers `regs` (at precision q) become at precision p <= q; see
// the file comment.
Registers Fold(const Registers& regs, uint32_t q, uint32_t p) {
  CAUSEWAY_ASSERT(p <= q);
  if (p == q) return regs;
  const uint32_t shift = q - p;
  Registers out;
  out.reserve(regs.size());
  for (const Register& r : regs) {
    const uint32_t extra = r.index & ((uint32_t{1} << shift) - 1);
    const uint32_t rank =
        extra != 0 ? shift - static_cast<uint32_t>(std::bit_width(extra)) + 1
                   : shift + r.rank;
    out.push_back({r.index >> shift, rank});
  }
  Normalize(&out);  // already sorted by index; keeps the max of each
  return out;
}

// The length of the sparse encoding's body (count, then index deltas and
// ranks).
size_t SparseBodyBytes(const Registers& regs) {
  size_t n = coding::VarintLength(regs.size());
  uint32_t previous = 0;
  for (const Register& r : regs) {
    n += coding::VarintLength(r.index - previous) + 1;
    previous = r.index;
  }
  return n;
}

class Hll final : public DataType {
 public:
  explicit Hll(uint32_t precision, Registers sparse = {})
      : precision_(precision), sparse_(std::move(sparse)) {
    CAUSEWAY_ASSERT(ValidPrecision(precision_));
    MaybeDensify();
  }
  Hll(uint32_t precision, std::vector<uint8_t> dense)
      : precision_(precision), dense_(std::move(dense)) {
    CAUSEWAY_ASSERT(ValidPrecision(precision_));
    CAUSEWAY_ASSERT(dense_.size() == RegisterCount(precision_));
  }

  TypeTag tag() const override { return TypeTag::kHll; }
  std::unique_ptr<DataType> Clone() const override {
    return std::make_unique<Hll>(*this);
  }
  Status Update(const Operation& op, const UpdateArgs& args,
                std::unique_ptr<DataType>* delta) override;
  void Merge(const DataType& other) override;
  bool Equal(const DataType& other) const override;
  Value Read() const override {
    Value value;
    value.type = TypeTag::kHll;
    value.cardinality = Estimate();
    return value;
  }
  std::string Context() const override { return std::string(); }
  std::string Encode() const override;

 private:
  bool dense() const { return !dense_.empty(); }
  uint32_t Get(uint32_t index) const;
  Registers NonZero() const;
  // Sets each register of `regs` (sorted, this precision) to the maximum of
  // its rank and the register's.
  void Raise(const Registers& regs);
  void MaybeDensify();
  uint64_t Estimate() const;

  uint32_t precision_;
  // Exactly one form is in use: dense_ (a rank per register) when it is
  // non-empty, else sparse_ (the non-zero registers).
  Registers sparse_;
  std::vector<uint8_t> dense_;
};

uint32_t Hll::Get(uint32_t index) const {
  if (dense()) return dense_[index];
  auto it = std::lower_bound(
      sparse_.begin(), sparse_.end(), index,
      [](const Register& r, uint32_t i) { return r.index < i; });
  return it != sparse_.end() && it->index == index ? it->rank : 0;
}

Registers Hll::NonZero() const {
  if (!dense()) return sparse_;
  Registers out;
  for (uint32_t i = 0; i < dense_.size(); ++i) {
    if (dense_[i] != 0) out.push_back({i, dense_[i]});
  }
  return out;
}

void Hll::MaybeDensify() {
  const uint32_t m = RegisterCount(precision_);
  if (dense() || sparse_.size() * kSparseEntryBytes <= m) return;
  dense_.assign(m, 0);
  for (const Register& r : sparse_) {
    dense_[r.index] = static_cast<uint8_t>(r.rank);
  }
  sparse_.clear();
  sparse_.shrink_to_fit();
}

void Hll::Raise(const Registers& regs) {
  if (dense()) {
    for (const Register& r : regs) {
      dense_[r.index] = std::max(dense_[r.index], static_cast<uint8_t>(r.rank));
    }
    return;
  }
  Registers merged;
  merged.reserve(sparse_.size() + regs.size());
  auto a = sparse_.begin();
  auto b = regs.begin();
  while (a != sparse_.end() || b != regs.end()) {
    if (b == regs.end() || (a != sparse_.end() && a->index < b->index)) {
      merged.push_back(*a++);
    } else if (a == sparse_.end() || b->index < a->index) {
      merged.push_back(*b++);
    } else {
      merged.push_back({a->index, std::max(a->rank, b->rank)});
      ++a;
      ++b;
    }
  }
  sparse_ = std::move(merged);
  MaybeDensify();
}

Status Hll::Update(const Operation& op, const UpdateArgs& args,
                   std::unique_ptr<DataType>* delta) {
  CAUSEWAY_ASSERT(args.actor != 0);
  const auto* hll_op = std::get_if<HllOp>(&op);
  if (hll_op == nullptr) {
    return Status::InvalidArgument("hll: not an hll operation");
  }
  if (hll_op->adds.size() > kMaxElementsPerOp) {
    return Status::InvalidArgument("hll: too many elements in one operation");
  }
  Registers raised;
  raised.reserve(hll_op->adds.size());
  for (const std::string& e : hll_op->adds) {
    if (e.size() > kMaxElementBytes) {
      return Status::InvalidArgument("hll: element too large");
    }
    raised.push_back(Locate(HashElement(e), precision_));
  }
  Normalize(&raised);
  std::erase_if(raised, [this](Register r) { return r.rank <= Get(r.index); });
  Raise(raised);
  *delta = std::make_unique<Hll>(precision_, std::move(raised));
  return Status::Ok();
}

void Hll::Merge(const DataType& other) {
  CAUSEWAY_ASSERT(other.tag() == tag());
  const auto& o = static_cast<const Hll&>(other);
  if (o.precision_ < precision_) {
    Registers mine = Fold(NonZero(), precision_, o.precision_);
    *this = Hll(o.precision_, std::move(mine));
  }
  if (dense() && o.dense() && o.precision_ == precision_) {
    for (size_t i = 0; i < dense_.size(); ++i) {
      dense_[i] = std::max(dense_[i], o.dense_[i]);
    }
    return;
  }
  Raise(Fold(o.NonZero(), o.precision_, precision_));
}

bool Hll::Equal(const DataType& other) const {
  if (other.tag() != tag()) return false;
  const auto& o = static_cast<const Hll&>(other);
  if (o.precision_ != precision_) return false;
  if (dense() && o.dense()) return dense_ == o.dense_;
  if (!dense() && !o.dense()) return sparse_ == o.sparse_;
  return NonZero() == o.NonZero();
}

// alpha_m, the bias constant of the raw estimate.
double Alpha(uint32_t m) {
  switch (m) {
    case 16:
      return 0.673;
    case 32:
      return 0.697;
    case 64:
      return 0.709;
    default:
      return 0.7213 / (1.0 + 1.079 / m);
  }
}

uint64_t Hll::Estimate() const {
  const uint32_t m = RegisterCount(precision_);
  // A histogram of ranks, summed in rank order, so the estimate does not
  // depend on the in-memory form (floating-point sums depend on order).
  uint32_t histogram[64 + 2] = {};
  if (dense()) {
    for (uint8_t rank : dense_) ++histogram[rank];
  } else {
    histogram[0] = m - static_cast<uint32_t>(sparse_.size());
    for (const Register& r : sparse_) ++histogram[r.rank];
  }
  double sum = 0;
  for (int rank = 0; rank < 64 + 2; ++rank) {
    sum += std::ldexp(static_cast<double>(histogram[rank]), -rank);
  }
  const uint32_t zeros = histogram[0];
  double estimate = Alpha(m) * m * m / sum;
  if (estimate <= 2.5 * m && zeros > 0) {
    estimate = m * std::log(static_cast<double>(m) / zeros);
  }
  return static_cast<uint64_t>(std::llround(estimate));
}

std::string Hll::Encode() const {
  const Registers regs = NonZero();
  const uint32_t m = RegisterCount(precision_);
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(precision_));
  if (SparseBodyBytes(regs) < m) {
    out.push_back(static_cast<char>(kSparseForm));
    coding::PutVarint64(&out, regs.size());
    uint32_t previous = 0;
    for (const Register& r : regs) {
      coding::PutVarint64(&out, r.index - previous);
      out.push_back(static_cast<char>(r.rank));
      previous = r.index;
    }
    return out;
  }
  out.push_back(static_cast<char>(kDenseForm));
  std::string dense(m, '\0');
  for (const Register& r : regs) dense[r.index] = static_cast<char>(r.rank);
  out += dense;
  return out;
}

// The sparse body at precision p; false if malformed or not canonical.
bool DecodeSparse(std::string_view in, uint32_t p, Registers* out) {
  const std::string_view body = in;
  const uint32_t m = RegisterCount(p);
  uint64_t count = 0;
  if (!coding::GetCanonicalVarint64(&in, &count)) return false;
  if (count > m || count > in.size() / 2) return false;
  Registers regs;
  regs.reserve(count);
  uint64_t index = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t step = 0;
    if (!coding::GetCanonicalVarint64(&in, &step) || in.empty()) return false;
    if ((i > 0 && step == 0) || step >= m || index + step >= m) return false;
    index += step;
    const uint32_t rank = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (rank == 0 || rank > MaxRank(p)) return false;
    regs.push_back({static_cast<uint32_t>(index), rank});
  }
  // Canonical: the encoder picks sparse only when it is the smaller form.
  if (!in.empty() || body.size() >= m) return false;
  *out = std::move(regs);
  return true;
}

// The dense body at precision p; false if malformed or not canonical.
bool DecodeDense(std::string_view in, uint32_t p, std::vector<uint8_t>* out) {
  const uint32_t m = RegisterCount(p);
  if (in.size() != m) return false;
  std::vector<uint8_t> dense(in.begin(), in.end());
  Registers regs;
  for (uint32_t i = 0; i < m; ++i) {
    if (dense[i] > MaxRank(p)) return false;
    if (dense[i] != 0) regs.push_back({i, dense[i]});
  }
  if (SparseBodyBytes(regs) < m) return false;  // should have been sparse
  *out = std::move(dense);
  return true;
}

}  // namespace

std::unique_ptr<DataType> NewHll(uint32_t precision) {
  CAUSEWAY_ASSERT(ValidPrecision(precision));
  return std::make_unique<Hll>(precision);
}

Status DecodeHll(std::string_view bytes, std::unique_ptr<DataType>* out) {
  if (bytes.size() < 3 || static_cast<uint8_t>(bytes[0]) != kFormatVersion) {
    return Status::Corruption("hll: unknown format version");
  }
  const uint32_t p = static_cast<uint8_t>(bytes[1]);
  if (!ValidPrecision(p)) return Status::Corruption("hll: bad precision");
  const uint8_t form = static_cast<uint8_t>(bytes[2]);
  const std::string_view body = bytes.substr(3);
  if (form == kSparseForm) {
    Registers regs;
    if (!DecodeSparse(body, p, &regs)) {
      return Status::Corruption("hll: malformed sparse registers");
    }
    *out = std::make_unique<Hll>(p, std::move(regs));
    return Status::Ok();
  }
  std::vector<uint8_t> dense;
  if (form != kDenseForm || !DecodeDense(body, p, &dense)) {
    return Status::Corruption("hll: malformed dense registers");
  }
  *out = std::make_unique<Hll>(p, std::move(dense));
  return Status::Ok();
}

}  // namespace causeway::replication::crdt
