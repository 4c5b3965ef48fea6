// Target "peer_wire": the peer transport's pure parsing (node/peer_wire.h):
// hello and proof bodies, and the incremental frame reader. The
// first byte picks what the rest is:
//   0 mod 4: a hello body. Accepted: names within bounds, a node named, and
//            EncodeHello of the result decodes to the same hello.
//   1 mod 4: a proof body. Accepted: a MAC of kMacBytes that re-encodes to
//            the input.
//   3 mod 4: a challenge body. Accepted: re-encoding the nonce gives back
//            the input up to the bytes a later version may append.
//   2 mod 4: two bytes of frame limit (scaled), one byte of chunk size, then
//            a byte stream fed in chunks. Frames come out whole and within
//            the limit, and re-framing them gives back exactly the bytes
//            consumed; after an error the reader stays failed.

#include <algorithm>
#include <string>
#include <string_view>

#include "node/peer_wire.h"
#include "tests/fuzz/fuzz_target.h"

namespace causeway::fuzz {
namespace {

namespace pw = node::peer_wire;

void FuzzHello(std::string_view body) {
  pw::Hello hello;
  if (!pw::DecodeHello(body, &hello).ok()) return;
  FUZZ_CHECK(hello.version >= pw::kVersion);
  FUZZ_CHECK(!hello.node.empty());
  FUZZ_CHECK(hello.cluster.size() <= pw::kMaxNameBytes);
  FUZZ_CHECK(hello.node.size() <= pw::kMaxNameBytes);
  const std::string encoded = pw::EncodeHello(hello);
  // Trailing bytes are ignored on decode, so the encoding is a prefix.
  FUZZ_CHECK(body.substr(0, encoded.size()) == encoded);
  pw::Hello again;
  FUZZ_CHECK(pw::DecodeHello(encoded, &again).ok());
  FUZZ_CHECK(again.version == hello.version && again.cluster == hello.cluster &&
             again.node == hello.node && again.nonce == hello.nonce);
}

void FuzzProof(std::string_view body) {
  std::string mac;
  if (!pw::DecodeProof(body, &mac).ok()) return;
  FUZZ_CHECK(mac.size() == pw::kMacBytes);
  FUZZ_CHECK(pw::EncodeProof(mac) == body);
  FUZZ_CHECK(pw::MacEquals(mac, mac));
}

void FuzzChallenge(std::string_view body) {
  pw::Nonce nonce{};
  if (!pw::DecodeChallenge(body, &nonce).ok()) return;
  const std::string encoded = pw::EncodeChallenge(nonce);
  // The version byte may be later than ours; the rest must match.
  FUZZ_CHECK(body.size() >= encoded.size());
  FUZZ_CHECK(body.substr(0, 4) == encoded.substr(0, 4));
  FUZZ_CHECK(body.substr(5, pw::kNonceBytes) == encoded.substr(5));
}

void FuzzFrames(std::string_view in) {
  if (in.size() < 3) return;
  // Limits up to 64 KiB keep each input cheap while still letting lengths
  // land on both sides of the limit.
  const uint32_t limit = (uint32_t{static_cast<uint8_t>(in[0])} << 8) |
                         static_cast<uint8_t>(in[1]);
  const size_t chunk = 1 + static_cast<uint8_t>(in[2]) % 64;
  const std::string_view stream = in.substr(3);

  pw::FrameDecoder decoder(limit);
  std::string reframed;
  size_t fed = 0;
  bool failed = false;
  while (fed < stream.size() && !failed) {
    const std::string_view piece = stream.substr(fed, chunk);
    decoder.Feed(piece);
    fed += piece.size();
    for (;;) {
      std::string frame;
      const pw::FrameDecoder::Result r = decoder.Next(&frame);
      if (r == pw::FrameDecoder::Result::kNeedMore) break;
      if (r == pw::FrameDecoder::Result::kError) {
        failed = true;
        FUZZ_CHECK(decoder.failed());
        FUZZ_CHECK(decoder.bad_length() > limit);
        break;
      }
      FUZZ_CHECK(frame.size() <= limit);
      reframed += pw::Frame(frame);
    }
  }
  FUZZ_CHECK(reframed.size() <= fed);
  FUZZ_CHECK(stream.substr(0, reframed.size()) == reframed);
  if (failed) {
    std::string frame;
    decoder.Feed("more");
    FUZZ_CHECK(decoder.Next(&frame) == pw::FrameDecoder::Result::kError);
  } else {
    // Whatever was not framed is still buffered.
    FUZZ_CHECK(decoder.buffered() == fed - reframed.size());
  }
}

void FuzzPeerWire(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1),
                              size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzHello(rest);
      break;
    case 1:
      FuzzProof(rest);
      break;
    case 3:
      FuzzChallenge(rest);
      break;
    default:
      FuzzFrames(rest);
      break;
  }
}

const Registration kRegistration("peer_wire", &FuzzPeerWire);

}  // namespace
}  // namespace causeway::fuzz
