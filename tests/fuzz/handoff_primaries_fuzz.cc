// Target "handoff_primaries": handoff::DecodePrimaries, the value of a hint
// marker as read back from disk (the primaries still owed an object).
// Promises checked: decoding takes whole entries from the front and stops at
// the first cut-off one, so re-encoding what was decoded gives back exactly
// the bytes consumed (a prefix of the input, shorter only by a tail too
// short to be an entry); decoding that again gives the same names.

#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "replication/handoff/handoff.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::NodeName;
using replication::handoff::DecodePrimaries;
using replication::handoff::EncodePrimaries;

void FuzzHandoffPrimaries(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<NodeName> names = DecodePrimaries(input);

  const std::string encoded = EncodePrimaries(names);
  FUZZ_CHECK(encoded.size() <= input.size());
  FUZZ_CHECK(input.substr(0, encoded.size()) == encoded);
  // What is left is a cut-off entry: a lone length byte, or a length that
  // runs past the end.
  const std::string_view rest = input.substr(encoded.size());
  if (rest.size() >= 2) {
    const size_t len = coding::DecodeFixed16(rest.data());
    FUZZ_CHECK(rest.size() < 2 + len);
  }
  FUZZ_CHECK(DecodePrimaries(encoded) == names);
  // Appending a complete entry adds exactly that name.
  std::vector<NodeName> more = names;
  more.push_back("causeway@extra");
  FUZZ_CHECK(DecodePrimaries(EncodePrimaries(more)) == more);
}

const Registration kRegistration("handoff_primaries", &FuzzHandoffPrimaries);

}  // namespace
}  // namespace causeway::fuzz
