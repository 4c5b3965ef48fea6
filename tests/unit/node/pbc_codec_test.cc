// FrameDecoder and the frame encoders: frames survive any split of the byte
// stream, and hostile lengths are refused before they cost memory.

#include "node/pbc_codec.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "proto/riak.pb.h"

// The largest single allocation made while tracking is on. Replacing the
// global allocator is how a test can see that a claimed length never turns
// into a buffer.
namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest_allocation{0};
}  // namespace

// GCC cannot tell that these replace the global pair and warns that free()
// meets memory from operator new; here that is exactly the pairing.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > seen &&
           !g_largest_allocation.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace causeway::node {
namespace {

class AllocationTracker {
 public:
  AllocationTracker() {
    g_largest_allocation = 0;
    g_tracking = true;
  }
  ~AllocationTracker() { g_tracking = false; }
  size_t largest() const { return g_largest_allocation.load(); }
};

std::string Header(uint32_t length) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(length >> 24);
  h[1] = static_cast<char>(length >> 16);
  h[2] = static_cast<char>(length >> 8);
  h[3] = static_cast<char>(length);
  return h;
}

std::vector<Frame> Drain(FrameDecoder& d) {
  std::vector<Frame> out;
  Frame f;
  while (d.Next(&f)) out.push_back(std::move(f));
  return out;
}

// Three frames: a bare code, a real request, and one with binary bytes.
std::string SampleStream(std::vector<Frame>* expected) {
  pbc::RpbGetReq get;
  get.set_bucket("b");
  get.set_key(std::string("k\0\xff", 3));
  get.set_r(2);
  std::string body;
  get.SerializeToString(&body);
  std::string binary(300, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i);
  *expected = {Frame{1, ""}, Frame{9, body}, Frame{200, binary}};
  std::string stream;
  for (const auto& f : *expected) stream += EncodeRawFrame(f.code, f.body);
  return stream;
}

void ExpectFrames(const std::vector<Frame>& got,
                  const std::vector<Frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].code, want[i].code) << "frame " << i;
    EXPECT_EQ(got[i].body, want[i].body) << "frame " << i;
  }
}

TEST(FrameDecoderTest, WholeStreamAtOnce) {
  std::vector<Frame> want;
  std::string stream = SampleStream(&want);
  FrameDecoder d;
  EXPECT_TRUE(d.Feed(stream));
  EXPECT_EQ(d.pending_frames(), 3u);
  EXPECT_EQ(d.partial_bytes(), 0u);
  ExpectFrames(Drain(d), want);
  Frame f;
  EXPECT_FALSE(d.Next(&f));
}

TEST(FrameDecoderTest, ByteByByte) {
  std::vector<Frame> want;
  std::string stream = SampleStream(&want);
  FrameDecoder d;
  std::vector<Frame> got;
  for (size_t i = 0; i < stream.size(); ++i) {
    ASSERT_TRUE(d.Feed(stream.substr(i, 1)));
    for (auto& f : Drain(d)) got.push_back(std::move(f));
  }
  ExpectFrames(got, want);
  EXPECT_EQ(d.partial_bytes(), 0u);
}

TEST(FrameDecoderTest, EverySplitPointGivesTheSameFrames) {
  std::vector<Frame> want;
  std::string stream = SampleStream(&want);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder d;
    ASSERT_TRUE(d.Feed(stream.substr(0, cut)));
    ASSERT_TRUE(d.Feed(stream.substr(cut)));
    ExpectFrames(Drain(d), want);
  }
}

TEST(FrameDecoderTest, RandomChunking) {
  std::vector<Frame> want;
  std::string stream = SampleStream(&want);
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    FrameDecoder d;
    std::vector<Frame> got;
    size_t at = 0;
    while (at < stream.size()) {
      size_t n = std::uniform_int_distribution<size_t>(0, 40)(rng);
      ASSERT_TRUE(d.Feed(std::string_view(stream).substr(at, n)));
      at += n;
      for (auto& f : Drain(d)) got.push_back(std::move(f));
    }
    ExpectFrames(got, want);
  }
}

TEST(FrameDecoderTest, PartialBytesCountsWhatArrived) {
  FrameDecoder d;
  std::string frame = EncodeRawFrame(9, "hello");
  ASSERT_TRUE(d.Feed(frame.substr(0, 2)));
  EXPECT_EQ(d.partial_bytes(), 2u);
  ASSERT_TRUE(d.Feed(frame.substr(2, 5)));  // rest of header, code, "he"
  EXPECT_EQ(d.partial_bytes(), 7u);
  EXPECT_EQ(d.pending_frames(), 0u);
  ASSERT_TRUE(d.Feed(frame.substr(7)));
  EXPECT_EQ(d.partial_bytes(), 0u);
  EXPECT_EQ(d.pending_frames(), 1u);
}

TEST(FrameDecoderTest, ZeroLengthIsRejected) {
  FrameDecoder d;
  EXPECT_FALSE(d.Feed(Header(0)));
  EXPECT_TRUE(d.failed());
  EXPECT_EQ(d.error(), FrameDecoder::Error::kZeroLength);
  EXPECT_EQ(d.pending_frames(), 0u);
  EXPECT_NE(d.ErrorMessage().find("length 0"), std::string::npos);
}

TEST(FrameDecoderTest, FramesBeforeABadHeaderStayAvailable) {
  FrameDecoder d;
  std::string stream = EncodeRawFrame(1, "") + EncodeRawFrame(7, "") +
                       Header(0) + EncodeRawFrame(1, "");
  EXPECT_FALSE(d.Feed(stream));
  std::vector<Frame> got = Drain(d);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].code, 1);
  EXPECT_EQ(got[1].code, 7);
  EXPECT_TRUE(d.failed());
}

TEST(FrameDecoderTest, InputAfterAnErrorIsIgnored) {
  FrameDecoder d(100);
  EXPECT_FALSE(d.Feed(Header(101)));
  EXPECT_FALSE(d.Feed(EncodeRawFrame(1, "")));
  EXPECT_EQ(d.pending_frames(), 0u);
  EXPECT_EQ(d.error(), FrameDecoder::Error::kTooLarge);
  EXPECT_EQ(d.rejected_length(), 101u);
}

TEST(FrameDecoderTest, LengthAtTheLimitIsAcceptedAboveIsNot) {
  FrameDecoder at(10);
  EXPECT_TRUE(at.Feed(EncodeRawFrame(9, std::string(9, 'x'))));
  EXPECT_EQ(at.pending_frames(), 1u);

  FrameDecoder above(10);
  // Only the header is sent: the refusal cannot wait for the body.
  EXPECT_FALSE(above.Feed(Header(11)));
  EXPECT_EQ(above.error(), FrameDecoder::Error::kTooLarge);
  EXPECT_NE(above.ErrorMessage().find("11 bytes"), std::string::npos);
  EXPECT_NE(above.ErrorMessage().find("limit of 10"), std::string::npos);
}

TEST(FrameDecoderTest, ZeroLimitStillAllowsABareCode) {
  FrameDecoder d(0);
  EXPECT_EQ(d.max_frame_bytes(), 1u);
  EXPECT_TRUE(d.Feed(EncodeRawFrame(1, "")));
  EXPECT_EQ(d.pending_frames(), 1u);
  EXPECT_FALSE(d.Feed(EncodeRawFrame(1, "x")));
}

TEST(FrameDecoderTest, HugeLengthIsRejectedWithoutAllocating) {
  FrameDecoder d;  // default 64 MiB limit
  AllocationTracker tracker;
  EXPECT_FALSE(d.Feed(Header(0xFFFFFFFFu)));
  EXPECT_EQ(d.error(), FrameDecoder::Error::kTooLarge);
  EXPECT_LT(tracker.largest(), 4096u);
}

TEST(FrameDecoderTest, AllowedLargeLengthCostsOnlyWhatArrives) {
  // A peer that claims the full limit and sends a few bytes must not make
  // the decoder reserve the limit.
  FrameDecoder d(64u << 20);
  AllocationTracker tracker;
  EXPECT_TRUE(d.Feed(Header(64u << 20) + "\x0b" + "abc"));
  EXPECT_EQ(d.pending_frames(), 0u);
  EXPECT_EQ(d.partial_bytes(), 4u + 1u + 3u);
  EXPECT_LT(tracker.largest(), 1u << 20);
}

TEST(FrameDecoderTest, RandomBytesNeverBreakTheInvariants) {
  std::mt19937 rng(42);
  for (int round = 0; round < 500; ++round) {
    const uint32_t limit = 1 + rng() % 300;
    FrameDecoder d(limit);
    std::string junk(rng() % 2000, '\0');
    // Small lengths are likelier in the high bytes' absence.
    for (auto& c : junk) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
    size_t at = 0;
    while (at < junk.size()) {
      size_t n = 1 + rng() % 64;
      bool ok = d.Feed(std::string_view(junk).substr(at, n));
      at += n;
      EXPECT_EQ(ok, !d.failed());
      Frame f;
      while (d.Next(&f)) EXPECT_LT(f.body.size(), limit);
      EXPECT_LE(d.partial_bytes(), 4u + limit);
    }
  }
}

TEST(FrameEncodeTest, BareCodeFrame) {
  EXPECT_EQ(EncodeFrame(pbc::Code::kPingResp),
            std::string("\0\0\0\x01\x02", 5));
}

TEST(FrameEncodeTest, MessageFrameHasLengthCodeAndBody) {
  pbc::RpbGetServerInfoResp info;
  info.set_node("n");
  info.set_server_version("v");
  std::string body;
  info.SerializeToString(&body);
  std::string frame = EncodeFrame(pbc::Code::kGetServerInfoResp, info);
  ASSERT_EQ(frame.size(), 5 + body.size());
  EXPECT_EQ(frame.substr(0, 4), Header(static_cast<uint32_t>(body.size() + 1)));
  EXPECT_EQ(static_cast<uint8_t>(frame[4]), 8);
  EXPECT_EQ(frame.substr(5), body);
}

TEST(FrameEncodeTest, ErrorFrameRoundTrips) {
  std::string frame = EncodeErrorFrame(pbc::ErrorCode::kTimeout, "too slow");
  FrameDecoder d;
  ASSERT_TRUE(d.Feed(frame));
  Frame f;
  ASSERT_TRUE(d.Next(&f));
  EXPECT_EQ(f.code, 0);
  pbc::RpbErrorResp err;
  ASSERT_TRUE(err.ParseFromString(f.body));
  EXPECT_EQ(err.errmsg(), "too slow");
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kTimeout));
}

TEST(FrameEncodeTest, ErrorMessagesAreBounded) {
  std::string frame =
      EncodeErrorFrame(pbc::ErrorCode::kGeneric, std::string(100000, 'e'));
  EXPECT_LT(frame.size(), 5000u);
}

TEST(FrameEncodeTest, MessageMissingARequiredFieldBecomesAnError) {
  pbc::RpbGetReq incomplete;  // bucket and key are required
  incomplete.set_bucket("b");
  std::string frame = EncodeFrame(pbc::Code::kGetReq, incomplete);
  FrameDecoder d;
  ASSERT_TRUE(d.Feed(frame));
  Frame f;
  ASSERT_TRUE(d.Next(&f));
  EXPECT_EQ(f.code, 0);
  pbc::RpbErrorResp err;
  ASSERT_TRUE(err.ParseFromString(f.body));
  EXPECT_EQ(err.errcode(), static_cast<uint32_t>(pbc::ErrorCode::kInternal));
}

}  // namespace
}  // namespace causeway::node
