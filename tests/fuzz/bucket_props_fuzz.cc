// Target "bucket_props": BucketPropsPatch::Decode, the bucket and bucket
// type property records in the metadata store and in gossip. Promises
// checked: an accepted record re-encodes to one that decodes to the same
// patch; validating, applying and overlaying it never crash.

#include <string_view>

#include "replication/buckets/bucket_props.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

using replication::buckets::BucketProps;
using replication::buckets::BucketPropsPatch;

void FuzzBucketProps(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  BucketPropsPatch patch;
  if (!BucketPropsPatch::Decode(input, &patch).ok()) return;

  const std::string encoded = patch.Encode();
  BucketPropsPatch again;
  FUZZ_CHECK(BucketPropsPatch::Decode(encoded, &again).ok());
  FUZZ_CHECK(again == patch);
  FUZZ_CHECK(again.Encode() == encoded);

  (void)patch.Validate();
  BucketProps props;
  patch.ApplyTo(&props);
  (void)props.resolution();
  BucketPropsPatch overlaid;
  overlaid.Overlay(patch);
  FUZZ_CHECK(overlaid == patch);
  FUZZ_CHECK(overlaid.empty() == patch.empty());
}

const Registration kRegistration("bucket_props", &FuzzBucketProps);

}  // namespace
}  // namespace causeway::fuzz
