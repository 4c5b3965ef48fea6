// Target "vclock": VersionVector::Decode, the `vclock` bytes every client
// sends back. Promises checked: a refused input leaves the output unchanged;
// an accepted one is sorted, zero-free, bounded, and canonical
// (Encode(Decode(x)) == x for any non-empty x, so a context survives a client
// round trip byte for byte).

#include <string_view>

#include "replication/causal/version_vector.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::causal::Dot;
using replication::causal::VersionVector;

void FuzzVclock(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  VersionVector sentinel;
  sentinel.Add(Dot{7, 3});
  VersionVector vv = sentinel;
  const Status s = VersionVector::Decode(input, &vv);
  if (!s.ok()) {
    FUZZ_CHECK(vv == sentinel);
    return;
  }
  FUZZ_CHECK(vv.entries().size() <= VersionVector::kMaxEntries);
  for (size_t i = 0; i < vv.entries().size(); ++i) {
    FUZZ_CHECK(vv.entries()[i].second > 0);
    if (i > 0) FUZZ_CHECK(vv.entries()[i - 1].first < vv.entries()[i].first);
  }
  const std::string encoded = vv.Encode();
  // No bytes at all is a blind write's context, the one non-canonical form.
  if (input.empty()) {
    FUZZ_CHECK(vv.empty());
  } else {
    FUZZ_CHECK(encoded == input);
  }

  VersionVector again;
  FUZZ_CHECK(VersionVector::Decode(encoded, &again).ok());
  FUZZ_CHECK(again == vv);
  // Merging a clock with itself changes nothing; it descends itself.
  VersionVector merged = vv;
  merged.Merge(vv);
  FUZZ_CHECK(merged == vv);
  FUZZ_CHECK(vv.Descends(vv));
  (void)vv.ToString();
}

const Registration kRegistration("vclock", &FuzzVclock);

}  // namespace
}  // namespace causeway::fuzz
