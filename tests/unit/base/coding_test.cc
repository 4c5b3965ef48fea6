#include "base/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace causeway::coding {
namespace {

TEST(CodingTest, FixedIntsAreBigEndianAndSortAsNumbers) {
  std::string a, b;
  PutFixed32(&a, 0x01020304);
  EXPECT_EQ(a, std::string("\x01\x02\x03\x04", 4));
  PutFixed32(&b, 0x01020305);
  EXPECT_LT(a, b);
  std::string c;
  PutFixed64(&c, 0x0102030405060708ull);
  EXPECT_EQ(c, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(EncodeFixed64(0x0102030405060708ull), c);
  std::string d;
  PutFixed16(&d, 0xABCD);
  EXPECT_EQ(DecodeFixed16(d.data()), 0xABCD);
}

TEST(CodingTest, FixedIntsRoundTripAndRefuseShortInput) {
  std::string s;
  PutFixed16(&s, 7);
  PutFixed32(&s, 0xDEADBEEF);
  PutFixed64(&s, std::numeric_limits<uint64_t>::max());
  std::string_view in = s;
  uint16_t v16 = 0;
  uint32_t v32 = 0;
  uint64_t v64 = 0;
  ASSERT_TRUE(GetFixed16(&in, &v16));
  ASSERT_TRUE(GetFixed32(&in, &v32));
  ASSERT_TRUE(GetFixed64(&in, &v64));
  EXPECT_EQ(v16, 7);
  EXPECT_EQ(v32, 0xDEADBEEF);
  EXPECT_EQ(v64, std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(in.empty());

  std::string_view short_in("\x01\x02\x03", 3);
  EXPECT_FALSE(GetFixed32(&short_in, &v32));
  EXPECT_EQ(short_in.size(), 3u);  // unchanged
  EXPECT_FALSE(GetFixed64(&short_in, &v64));
}

TEST(CodingTest, LittleEndianFixedIntsPutTheLowByteFirst) {
  std::string s;
  PutFixed32LE(&s, 0x01020304);
  EXPECT_EQ(s, std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(DecodeFixed32LE(s.data()), 0x01020304u);
  s.clear();
  PutFixed64LE(&s, 0x0102030405060708ull);
  EXPECT_EQ(s, std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(DecodeFixed64LE(s.data()), 0x0102030405060708ull);
  for (uint64_t v : {uint64_t{0}, uint64_t{0xff}, ~uint64_t{0}}) {
    std::string b;
    PutFixed32LE(&b, static_cast<uint32_t>(v));
    PutFixed64LE(&b, v);
    ASSERT_EQ(b.size(), 12u);
    EXPECT_EQ(DecodeFixed32LE(b.data()), static_cast<uint32_t>(v));
    EXPECT_EQ(DecodeFixed64LE(b.data() + 4), v);
  }
}

TEST(CodingTest, VarintsRoundTripAtEveryLength) {
  for (int bits = 0; bits <= 64; ++bits) {
    const uint64_t v = bits == 64 ? std::numeric_limits<uint64_t>::max()
                                  : (uint64_t{1} << bits) - 1;
    std::string s;
    PutVarint64(&s, v);
    EXPECT_EQ(s.size(), VarintLength(v));
    std::string raw(VarintLength(v), '\0');
    EXPECT_EQ(EncodeVarint64(raw.data(), v), raw.data() + raw.size());
    EXPECT_EQ(raw, s);
    std::string_view in = s;
    uint64_t back = 0;
    ASSERT_TRUE(GetCanonicalVarint64(&in, &back)) << bits;
    EXPECT_EQ(back, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(CodingTest, VarintsRefuseTruncatedAndOverlongInput) {
  uint64_t v = 0;
  std::string_view truncated("\x80\x80", 2);
  EXPECT_FALSE(GetVarint64(&truncated, &v));
  EXPECT_EQ(truncated.size(), 2u);
  // Eleven bytes, and a tenth byte carrying more than the 64th bit.
  std::string_view eleven("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
  EXPECT_FALSE(GetVarint64(&eleven, &v));
  std::string_view too_big("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
  EXPECT_FALSE(GetVarint64(&too_big, &v));
}

TEST(CodingTest, OnlyTheLenientReaderAcceptsPaddedVarints) {
  const std::string padded("\x81\x00", 2);  // 1, written in two bytes
  uint64_t v = 0;
  std::string_view in = padded;
  EXPECT_FALSE(GetCanonicalVarint64(&in, &v));
  EXPECT_EQ(in.size(), 2u);
  ASSERT_TRUE(GetVarint64(&in, &v));
  EXPECT_EQ(v, 1u);
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, LengthPrefixedStringsRoundTripAndCheckTheLength) {
  std::string s;
  PutLengthPrefixed32(&s, "abc");
  PutLengthPrefixedVarint(&s, std::string(300, 'x'));
  PutLengthPrefixed32(&s, "");
  std::string_view in = s;
  std::string_view a, b, c;
  ASSERT_TRUE(GetLengthPrefixed32(&in, &a));
  ASSERT_TRUE(GetLengthPrefixedVarint(&in, &b));
  ASSERT_TRUE(GetLengthPrefixed32(&in, &c));
  EXPECT_EQ(a, "abc");
  EXPECT_EQ(b, std::string(300, 'x'));
  EXPECT_EQ(c, "");
  EXPECT_TRUE(in.empty());

  // A length beyond the input is refused, and nothing is consumed.
  std::string lie;
  PutFixed32(&lie, 1000);
  lie += "short";
  std::string_view lie_in = lie;
  EXPECT_FALSE(GetLengthPrefixed32(&lie_in, &a));
  EXPECT_EQ(lie_in.size(), lie.size());
  std::string vlie;
  PutVarint64(&vlie, 6);
  vlie += "five!";
  std::string_view vlie_in = vlie;
  EXPECT_FALSE(GetLengthPrefixedVarint(&vlie_in, &a));
  EXPECT_EQ(vlie_in.size(), vlie.size());
}

TEST(CodingTest, SixteenBitLengthPrefixes) {
  std::string s;
  PutLengthPrefixed16(&s, "ab");
  PutLengthPrefixed16(&s, std::string(0xffff, 'x'));
  EXPECT_EQ(s.substr(0, 6), std::string("\x00\x02"
                                        "ab"
                                        "\xff\xff",
                                        6));
  std::string_view in = s;
  for (std::string_view want :
       {std::string_view("ab"), std::string_view(s).substr(6)}) {
    std::string_view got;
    ASSERT_TRUE(GetLengthPrefixed16(&in, &got));
    EXPECT_EQ(got, want);
  }
  EXPECT_TRUE(in.empty());

  // Short lengths and lengths beyond the input are refused, consuming
  // nothing.
  for (std::string_view bad :
       {std::string_view("\x00", 1), std::string_view("\x00\x03"
                                                      "ab",
                                                      4)}) {
    std::string_view bad_in = bad;
    std::string_view got;
    EXPECT_FALSE(GetLengthPrefixed16(&bad_in, &got));
    EXPECT_EQ(bad_in, bad);
  }
}

}  // namespace
}  // namespace causeway::coding
