// Target "security_record": Record::Decode of replication/security, the
// users, sources, grants and enabled flag in the metadata store and in
// gossip. Promises checked: an accepted record re-encodes to the same
// bytes and keeps its key; merging it into a registry never crashes and
// leaves at most one record.

#include <string_view>

#include "replication/security/security_registry.h"
#include "storage/engine.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::security::Record;
using replication::security::SecurityRegistry;

void FuzzSecurityRecord(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Record r;
  if (!Record::Decode(input, &r).ok()) return;
  FUZZ_CHECK(r.Encode() == input);
  Record again;
  FUZZ_CHECK(Record::Decode(r.Encode(), &again).ok());
  FUZZ_CHECK(again.Key() == r.Key());

  auto engine = storage::NewMemoryEngine();
  SecurityRegistry registry(*engine);
  FUZZ_CHECK(registry.Merge(r));
  FUZZ_CHECK(!registry.Merge(r));
  FUZZ_CHECK(registry.Export().size() == 1);
  (void)registry.enabled();
  (void)registry.Users();
  (void)registry.Sources();
  (void)registry.Grants();
}

const Registration kRegistration("security_record", &FuzzSecurityRecord);

}  // namespace
}  // namespace causeway::fuzz
