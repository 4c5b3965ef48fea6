// Target "aae_records": the anti-entropy trees' persisted records.
// Byte 0 picks what the rest is:
//   0: an index entry value, aae::DecodeEntry. Refused input leaves the
//      output alone; accepted input is canonical (EncodeEntry gives it back).
//   1: an index key, storage::DecodeAaeIndexKey; 2: a tombstone key,
//      storage::DecodeAaeTombstoneKey. Accepted keys are canonical
//      (re-encoding the parts gives the input) and start with the prefix
//      their partition's scans use.
//   3: a store: records of [u8 key length][key][u8 value length][value],
//      written to an empty engine, then aae::Trees::Open. Rebuilds it
//      starts must finish in bounded steps and leave the trees Ready; a
//      second Open of the same engine then only sums the index, and (for a
//      store that already had a format) the segment hashes it computes are
//      the first one's (they are a pure function of the index).

#include <set>
#include <string>
#include <string_view>

#include "replication/aae/tree.h"
#include "storage/engine.h"
#include "storage/keys.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::aae::DecodeEntry;
using replication::aae::EncodeEntry;
using replication::aae::IndexEntry;
using replication::aae::Trees;
using storage::AaeIndexKeyParts;

void Entry(std::string_view input) {
  const IndexEntry sentinel{7, 3};
  IndexEntry e = sentinel;
  if (!DecodeEntry(input, &e)) {
    FUZZ_CHECK(e == sentinel);
    return;
  }
  FUZZ_CHECK(EncodeEntry(e) == input);
}

void IndexKey(std::string_view input) {
  AaeIndexKeyParts p;
  if (!storage::DecodeAaeIndexKey(input, &p)) return;
  FUZZ_CHECK(storage::AaeIndexKey(p.partition, p.segment, p.type, p.bucket,
                                  p.key) == input);
  FUZZ_CHECK(input.starts_with(storage::AaeIndexPrefix(p.partition)));
  FUZZ_CHECK(
      input.starts_with(storage::AaeIndexPrefix(p.partition, p.segment)));
  AaeIndexKeyParts t;
  FUZZ_CHECK(!storage::DecodeAaeTombstoneKey(input, &t));
}

void TombstoneKey(std::string_view input) {
  AaeIndexKeyParts p;
  if (!storage::DecodeAaeTombstoneKey(input, &p)) return;
  FUZZ_CHECK(p.segment == 0);
  FUZZ_CHECK(storage::AaeTombstoneKey(p.partition, p.type, p.bucket, p.key) ==
             input);
  FUZZ_CHECK(input.starts_with(storage::AaeTombstonePrefix(p.partition)));
  AaeIndexKeyParts i;
  FUZZ_CHECK(!storage::DecodeAaeIndexKey(input, &i));
}

bool Take(std::string_view* in, std::string_view* out) {
  if (in->empty()) return false;
  const size_t n = static_cast<uint8_t>((*in)[0]);
  if (in->size() < 1 + n) return false;
  *out = in->substr(1, n);
  in->remove_prefix(1 + n);
  return true;
}

// Runs every rebuild to its end; false if a step fails.
bool Drain(Trees& trees) {
  // Each step does up to 64 keys of work; a store holds far fewer.
  for (int steps = 0; !trees.rebuilding().empty(); ++steps) {
    FUZZ_CHECK(steps < 10000);
    const uint32_t p = *trees.rebuilding().begin();
    bool done = false;
    if (!trees.RebuildStep(p, 64, &done).ok()) return false;
  }
  return true;
}

void Store(std::string_view input) {
  auto engine = storage::NewMemoryEngine();
  std::string_view key, value;
  while (Take(&input, &key) && Take(&input, &value)) {
    FUZZ_CHECK(engine->Put(key, value, {}).ok());
  }
  // Only a store of a known format has its index trusted and summed at
  // Open; any other is rebuilt from its objects alone (index entries of
  // partitions without objects are neither summed nor removed then).
  std::string format;
  const bool known_format =
      engine->Get(storage::AaeFormatKey(), &format).ok() &&
      (format == "1" || format == "2");
  Trees trees(*engine);
  if (!trees.Open().ok()) return;
  std::set<uint32_t> seen = trees.rebuilding();
  if (!Drain(trees)) return;
  for (uint32_t p : seen) FUZZ_CHECK(trees.Ready(p));

  // Partitions with index entries, as the index says.
  const std::string index = storage::AaeIndexPrefix(0).substr(0, 2);
  FUZZ_CHECK(engine
                 ->Scan(index, storage::PrefixEnd(index),
                        [&](std::string_view k, std::string_view) {
                          AaeIndexKeyParts parts;
                          if (storage::DecodeAaeIndexKey(k, &parts)) {
                            seen.insert(parts.partition);
                          }
                          return seen.size() < 16;
                        })
                 .ok());
  Trees again(*engine);
  FUZZ_CHECK(again.Open().ok());
  // This Open only sums the index again: no full rebuild is left over.
  for (uint32_t p : again.rebuilding()) {
    FUZZ_CHECK(again.progress(p).has_value());
    FUZZ_CHECK(again.progress(p)->sum_at_start);
  }
  FUZZ_CHECK(Drain(again));
  if (!known_format) return;
  for (uint32_t p : seen) {
    for (uint32_t s = 0; s < replication::aae::kSegments; ++s) {
      FUZZ_CHECK(trees.Segment(p, s) == again.Segment(p, s));
    }
  }
}

void FuzzAaeRecords(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  switch (data[0] % 4) {
    case 0:
      Entry(input);
      break;
    case 1:
      IndexKey(input);
      break;
    case 2:
      TombstoneKey(input);
      break;
    default:
      Store(input);
      break;
  }
}

const Registration kRegistration("aae_records", &FuzzAaeRecords);

}  // namespace
}  // namespace causeway::fuzz
