// The client connection bounds as plain logic: the buffer budget shared by
// all connections, the idle and frame-deadline clock, the log limiter, and
// the frame decoder's admission check that charges the budget.

#include "node/pbc_client_bounds.h"

#include <gtest/gtest.h>

#include <string>

#include "node/pbc_codec.h"

namespace causeway::node {
namespace {

using std::chrono::milliseconds;
using Clock = ConnectionClock::Clock;
using Expiry = ConnectionClock::Expiry;

TEST(BufferBudgetTest, GrowsUntilTheLimitAndShrinksFreely) {
  BufferBudget budget(100);
  uint64_t a = 0, b = 0;
  EXPECT_TRUE(budget.Resize(&a, 60));
  EXPECT_TRUE(budget.Resize(&b, 40));
  EXPECT_EQ(budget.used(), 100u);
  // One byte more for either is refused and changes nothing.
  EXPECT_FALSE(budget.Resize(&b, 41));
  EXPECT_EQ(b, 40u);
  EXPECT_EQ(budget.used(), 100u);
  EXPECT_TRUE(budget.Resize(&a, 10));
  EXPECT_TRUE(budget.Resize(&b, 90));
  EXPECT_TRUE(budget.Resize(&a, 0));
  EXPECT_TRUE(budget.Resize(&b, 0));
  EXPECT_EQ(budget.used(), 0u);
}

TEST(BufferBudgetTest, ZeroMeansNoLimit) {
  BufferBudget budget(0);
  uint64_t a = 0;
  EXPECT_TRUE(budget.Resize(&a, uint64_t{1} << 40));
  EXPECT_EQ(budget.used(), uint64_t{1} << 40);
}

TEST(ConnectionClockTest, IdleAfterTheTimeoutUnlessBusy) {
  const Clock::time_point t0{};
  ConnectionClock clock(milliseconds(300), milliseconds(0), t0);
  EXPECT_EQ(clock.Check(t0 + milliseconds(299), false), Expiry::kNone);
  EXPECT_EQ(clock.Check(t0 + milliseconds(300), false), Expiry::kIdle);
  EXPECT_EQ(clock.Check(t0 + milliseconds(900), true), Expiry::kNone);
  EXPECT_EQ(clock.NextCheck(false), t0 + milliseconds(300));
  EXPECT_EQ(clock.NextCheck(true), std::nullopt);
  clock.Activity(t0 + milliseconds(200));
  EXPECT_EQ(clock.Check(t0 + milliseconds(400), false), Expiry::kNone);
  EXPECT_EQ(clock.NextCheck(false), t0 + milliseconds(500));
}

TEST(ConnectionClockTest, FrameDeadlineCountsFromTheFirstWait) {
  const Clock::time_point t0{};
  ConnectionClock clock(milliseconds(0), milliseconds(1000), t0);
  EXPECT_EQ(clock.NextCheck(false), std::nullopt);
  clock.FrameWaiting(t0 + milliseconds(100));
  // Bytes trickling in neither restart the frame's clock nor help it.
  clock.Activity(t0 + milliseconds(600));
  clock.FrameWaiting(t0 + milliseconds(600));
  EXPECT_EQ(clock.NextCheck(true), t0 + milliseconds(1100));
  EXPECT_EQ(clock.Check(t0 + milliseconds(1099), false), Expiry::kNone);
  EXPECT_EQ(clock.Check(t0 + milliseconds(1100), false),
            Expiry::kFrameDeadline);
  clock.FrameDone();
  EXPECT_EQ(clock.Check(t0 + milliseconds(5000), false), Expiry::kNone);
}

TEST(ConnectionClockTest, TheEarlierBoundComesFirst) {
  const Clock::time_point t0{};
  ConnectionClock clock(milliseconds(300), milliseconds(100), t0);
  clock.FrameWaiting(t0);
  EXPECT_EQ(clock.NextCheck(false), t0 + milliseconds(100));
  EXPECT_EQ(clock.Check(t0 + milliseconds(400), false), Expiry::kFrameDeadline);
}

TEST(LogLimiterTest, OneLinePerIntervalCountingTheRest) {
  const Clock::time_point t0{};
  LogLimiter limiter(milliseconds(1000));
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.Allow(t0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limiter.Allow(t0 + milliseconds(10), &suppressed));
  EXPECT_FALSE(limiter.Allow(t0 + milliseconds(999), &suppressed));
  EXPECT_TRUE(limiter.Allow(t0 + milliseconds(1000), &suppressed));
  EXPECT_EQ(suppressed, 2u);
}

// Encodes a frame header announcing `length` bytes.
std::string Header(uint32_t length) {
  return std::string{static_cast<char>(length >> 24),
                     static_cast<char>(length >> 16),
                     static_cast<char>(length >> 8), static_cast<char>(length)};
}

TEST(FrameDecoderAdmitTest, AskedBeforeTheBodyIsReservedAndAsBytesArrive) {
  FrameDecoder decoder(1 << 20);
  std::vector<size_t> asked;
  decoder.set_admit([&](size_t bytes) {
    asked.push_back(bytes);
    return true;
  });
  ASSERT_TRUE(decoder.Feed(Header(11)));
  // The header's reservation: prefix, code and the 10-byte body.
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked.back(), 4u + 1 + 10);
  ASSERT_TRUE(
      decoder.Feed(std::string("\x01"
                               "abc",
                               4)));
  EXPECT_EQ(asked.back(), 4u + 1 + 3);
  ASSERT_TRUE(decoder.Feed("defghij"));
  EXPECT_EQ(asked.back(), 4u + 1 + 10);
  EXPECT_EQ(decoder.pending_frames(), 1u);
}

TEST(FrameDecoderAdmitTest, ARefusalBreaksTheStream) {
  FrameDecoder decoder(1 << 20);
  BufferBudget budget(17000);
  uint64_t held = 0;
  decoder.set_admit([&](size_t bytes) { return budget.Resize(&held, bytes); });
  // The header charges the first reservation (16 KiB), the bytes that come
  // charge what they are.
  ASSERT_TRUE(decoder.Feed(Header(20000)));
  EXPECT_GT(budget.used(), 16000u);
  ASSERT_TRUE(decoder.Feed("\x01" + std::string(900, 'x')));
  EXPECT_EQ(budget.used(), 4u + 1 + 900);
  EXPECT_FALSE(decoder.Feed(std::string(17000, 'x')));
  EXPECT_EQ(decoder.error(), FrameDecoder::Error::kRefused);
  EXPECT_EQ(budget.used(), 4u + 1 + 900);
  EXPECT_EQ(decoder.partial_bytes(), 0u);  // the dead frame is let go
  EXPECT_FALSE(decoder.ErrorMessage().empty());
}

TEST(FrameDecoderAdmitTest, AHeaderAloneCanBeRefused) {
  FrameDecoder decoder(1 << 20);
  decoder.set_admit([](size_t) { return false; });
  EXPECT_FALSE(decoder.Feed(Header(100)));
  EXPECT_EQ(decoder.error(), FrameDecoder::Error::kRefused);
  EXPECT_EQ(decoder.rejected_length(), 100u);
}

}  // namespace
}  // namespace causeway::node
