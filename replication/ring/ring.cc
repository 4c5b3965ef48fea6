#include "replication/ring/ring.h"

#include <algorithm>
#include <bit>

namespace causeway::replication::ring {
namespace {

// FNV-1a over the bytes, then the splitmix64 finaliser so that similar keys
// spread over the whole space (FNV alone clusters in the high bits).
class Hasher {
 public:
  void Bytes(std::string_view s) {
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= 0x100000001b3ULL;
    }
  }
  // Length-prefixed, so ("ab","c") and ("a","bc") differ.
  void Field(std::string_view s) {
    uint64_t n = s.size();
    for (int i = 0; i < 8; ++i) {
      char byte = static_cast<char>((n >> (8 * i)) & 0xff);
      Bytes(std::string_view(&byte, 1));
    }
    Bytes(s);
  }
  uint64_t Finish() const {
    uint64_t z = h_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

uint64_t HashKey(std::string_view type, std::string_view bucket,
                 std::string_view key) {
  Hasher h;
  h.Field(type);
  h.Field(bucket);
  h.Field(key);
  return h.Finish();
}

Ring::Ring(std::vector<NodeName> owners) : owners_(std::move(owners)) {
  CAUSEWAY_ASSERT(!owners_.empty() && std::has_single_bit(owners_.size()));
  shift_ = 64 - std::countr_zero(owners_.size());
}

Ring Ring::SingleOwner(uint32_t size, const NodeName& node) {
  return Ring(std::vector<NodeName>(size, node));
}

uint32_t Ring::PartitionOf(uint64_t hash) const {
  // shift_ == 64 (a one-partition ring) would be undefined behaviour.
  return shift_ >= 64 ? 0 : static_cast<uint32_t>(hash >> shift_);
}

std::vector<PreflistMember> Ring::Preflist(uint32_t partition,
                                           uint32_t n_val) const {
  CAUSEWAY_ASSERT(partition < size());
  std::vector<PreflistMember> list;
  const uint32_t n = size();
  for (uint32_t step = 0; step < n && list.size() < n_val; ++step) {
    uint32_t p = (partition + step) % n;
    const NodeName& owner = owners_[p];
    bool taken = std::any_of(list.begin(), list.end(),
                             [&](const auto& m) { return m.node == owner; });
    if (!taken) list.push_back(PreflistMember{p, owner});
  }
  return list;
}

}  // namespace causeway::replication::ring
