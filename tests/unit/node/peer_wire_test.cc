// The peer wire format without sockets: the frame decoder's limits and
// reassembly, hello and proof encodings (every truncation refused), and the
// MAC binding everything the handshake claims.

#include "node/peer_wire.h"

#include <gtest/gtest.h>

#include <string>

namespace causeway::node::peer_wire {
namespace {

using Result = FrameDecoder::Result;

std::string Header(uint32_t length) {
  std::array<char, 4> h = EncodeLength(length);
  return std::string(h.data(), h.size());
}

TEST(PeerWireFrames, ReassemblesFramesFedOneByteAtATime) {
  const std::string stream = Frame("alpha") + Frame("") + Frame("gamma!");
  FrameDecoder decoder(1024);
  std::vector<std::string> frames;
  std::string frame;
  for (char c : stream) {
    decoder.Feed(std::string_view(&c, 1));
    while (decoder.Next(&frame) == Result::kFrame) frames.push_back(frame);
  }
  EXPECT_EQ(frames, (std::vector<std::string>{"alpha", "", "gamma!"}));
  EXPECT_EQ(decoder.buffered(), 0u);
  EXPECT_FALSE(decoder.failed());
}

TEST(PeerWireFrames, LengthOverLimitFailsBeforeTheBodyArrives) {
  FrameDecoder decoder(100);
  decoder.Feed(Header(101));
  std::string frame;
  EXPECT_EQ(decoder.Next(&frame), Result::kError);
  EXPECT_TRUE(decoder.failed());
  EXPECT_EQ(decoder.bad_length(), 101u);
  EXPECT_EQ(decoder.buffered(), 0u);
  // Failed for good: later bytes are ignored.
  decoder.Feed(Frame("x"));
  EXPECT_EQ(decoder.Next(&frame), Result::kError);
}

TEST(PeerWireFrames, HugeLengthRefused) {
  FrameDecoder decoder(64u << 20);
  decoder.Feed(Header(0xffffffffu));
  std::string frame;
  EXPECT_EQ(decoder.Next(&frame), Result::kError);
  EXPECT_EQ(decoder.bad_length(), 0xffffffffu);
}

TEST(PeerWireFrames, FrameAtTheLimitAccepted) {
  FrameDecoder decoder(100);
  decoder.Feed(Frame(std::string(100, 'z')));
  std::string frame;
  ASSERT_EQ(decoder.Next(&frame), Result::kFrame);
  EXPECT_EQ(frame, std::string(100, 'z'));
  EXPECT_EQ(decoder.Next(&frame), Result::kNeedMore);
}

TEST(PeerWireFrames, LimitRisesBetweenFramesInOneFeed) {
  // A handshake frame and a large payload arrive in one read: the payload
  // must be judged by the limit in force when it is taken out.
  FrameDecoder decoder(kMaxHandshakeFrameBytes);
  decoder.Feed(Frame("proof") + Frame(std::string(10000, 'p')));
  std::string frame;
  ASSERT_EQ(decoder.Next(&frame), Result::kFrame);
  EXPECT_EQ(frame, "proof");
  decoder.set_max_frame_bytes(1 << 20);
  ASSERT_EQ(decoder.Next(&frame), Result::kFrame);
  EXPECT_EQ(frame.size(), 10000u);
}

TEST(PeerWireFrames, LimitAppliesToTheNextFrameInOneFeed) {
  FrameDecoder decoder(kMaxHandshakeFrameBytes);
  decoder.Feed(Frame("hello") + Frame(std::string(10000, 'p')));
  std::string frame;
  ASSERT_EQ(decoder.Next(&frame), Result::kFrame);
  EXPECT_EQ(decoder.Next(&frame), Result::kError);
  EXPECT_EQ(decoder.bad_length(), 10000u);
}

Hello SampleHello() {
  Hello hello;
  hello.cluster = "prod";
  hello.node = "causeway@10.0.0.1";
  for (size_t i = 0; i < kNonceBytes; ++i) hello.nonce[i] = uint8_t(i * 7);
  return hello;
}

TEST(PeerWireHello, RoundTrips) {
  const Hello hello = SampleHello();
  Hello decoded;
  ASSERT_TRUE(DecodeHello(EncodeHello(hello), &decoded).ok());
  EXPECT_EQ(decoded.version, kVersion);
  EXPECT_EQ(decoded.cluster, "prod");
  EXPECT_EQ(decoded.node, "causeway@10.0.0.1");
  EXPECT_EQ(decoded.nonce, hello.nonce);
}

TEST(PeerWireHello, EveryTruncationRefused) {
  const std::string bytes = EncodeHello(SampleHello());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Hello decoded;
    EXPECT_FALSE(
        DecodeHello(std::string_view(bytes).substr(0, n), &decoded).ok())
        << "prefix of " << n << " bytes";
  }
}

TEST(PeerWireHello, LaterVersionsMayAppendFields) {
  Hello hello = SampleHello();
  hello.version = kVersion + 1;
  Hello decoded;
  ASSERT_TRUE(DecodeHello(EncodeHello(hello) + "future", &decoded).ok());
  EXPECT_EQ(decoded.version, kVersion + 1);
  EXPECT_EQ(decoded.node, hello.node);
}

TEST(PeerWireHello, RefusesGarbageVersionZeroAndEmptyName) {
  Hello decoded;
  EXPECT_FALSE(DecodeHello("GET / HTTP/1.1\r\n\r\n", &decoded).ok());
  EXPECT_FALSE(DecodeHello("", &decoded).ok());
  Hello v0 = SampleHello();
  v0.version = 0;
  EXPECT_FALSE(DecodeHello(EncodeHello(v0), &decoded).ok());
  // Version 1 had the side that accepts name itself first.
  Hello v1 = SampleHello();
  v1.version = 1;
  EXPECT_FALSE(DecodeHello(EncodeHello(v1), &decoded).ok());
  Hello nameless = SampleHello();
  nameless.node.clear();
  EXPECT_FALSE(DecodeHello(EncodeHello(nameless), &decoded).ok());
}

TEST(PeerWireHello, LengthPrefixPastTheEndRefused) {
  std::string bytes = EncodeHello(SampleHello());
  // The cluster length field sits right after magic and version.
  bytes[5] = '\xff';
  bytes[6] = '\xff';
  Hello decoded;
  EXPECT_FALSE(DecodeHello(bytes, &decoded).ok());
}

TEST(PeerWireChallenge, CarriesTheNonceAndNothingElse) {
  const Nonce nonce = SampleHello().nonce;
  const std::string bytes = EncodeChallenge(nonce);
  EXPECT_EQ(bytes.size(), 4 + 1 + kNonceBytes);
  Nonce decoded{};
  ASSERT_TRUE(DecodeChallenge(bytes, &decoded).ok());
  EXPECT_EQ(decoded, nonce);
  ASSERT_TRUE(DecodeChallenge(bytes + "future", &decoded).ok());
}

TEST(PeerWireChallenge, EveryTruncationAndOtherFramesRefused) {
  const std::string bytes = EncodeChallenge(SampleHello().nonce);
  Nonce decoded{};
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(
        DecodeChallenge(std::string_view(bytes).substr(0, n), &decoded).ok())
        << "prefix of " << n << " bytes";
  }
  EXPECT_FALSE(DecodeChallenge(EncodeHello(SampleHello()), &decoded).ok());
  std::string old_version = bytes;
  old_version[4] = 1;
  EXPECT_FALSE(DecodeChallenge(old_version, &decoded).ok());
}

TEST(PeerWireProof, RoundTripsAndRefusesWrongSizes) {
  const std::string mac(kMacBytes, '\x5a');
  std::string decoded;
  ASSERT_TRUE(DecodeProof(EncodeProof(mac), &decoded).ok());
  EXPECT_EQ(decoded, mac);
  EXPECT_FALSE(DecodeProof(EncodeProof(mac.substr(1)), &decoded).ok());
  EXPECT_FALSE(DecodeProof(EncodeProof(mac + "x"), &decoded).ok());
  EXPECT_FALSE(DecodeProof(EncodeHello(SampleHello()), &decoded).ok());
}

TEST(PeerWireMac, BindsSecretRoleNamesAndNonces) {
  std::array<uint8_t, kNonceBytes> n1{}, n2{};
  n1.fill(1);
  n2.fill(2);
  const std::string base =
      ComputeMac("secret", Role::kInitiator, "c", "a", "b", n1, n2);
  ASSERT_EQ(base.size(), kMacBytes);
  EXPECT_EQ(base,
            ComputeMac("secret", Role::kInitiator, "c", "a", "b", n1, n2));
  EXPECT_NE(base,
            ComputeMac("secreT", Role::kInitiator, "c", "a", "b", n1, n2));
  EXPECT_NE(base,
            ComputeMac("secret", Role::kResponder, "c", "a", "b", n1, n2));
  EXPECT_NE(base,
            ComputeMac("secret", Role::kInitiator, "d", "a", "b", n1, n2));
  EXPECT_NE(base,
            ComputeMac("secret", Role::kInitiator, "c", "b", "a", n1, n2));
  EXPECT_NE(base,
            ComputeMac("secret", Role::kInitiator, "c", "a", "b", n2, n1));
  // Length prefixes: moving a byte from one name to the next changes it.
  EXPECT_NE(ComputeMac("s", Role::kInitiator, "ab", "c", "d", n1, n2),
            ComputeMac("s", Role::kInitiator, "a", "bc", "d", n1, n2));
  // An empty secret still yields a MAC (it just proves nothing).
  EXPECT_EQ(ComputeMac("", Role::kInitiator, "c", "a", "b", n1, n2).size(),
            kMacBytes);
}

TEST(PeerWireMac, EqualsComparesWholeValues) {
  const std::string a(kMacBytes, 'a');
  std::string b = a;
  EXPECT_TRUE(MacEquals(a, b));
  b.back() = 'b';
  EXPECT_FALSE(MacEquals(a, b));
  EXPECT_FALSE(MacEquals(a, a.substr(1)));
  EXPECT_FALSE(MacEquals("", ""));
}

}  // namespace
}  // namespace causeway::node::peer_wire
