#include "replication/buckets/bucket_props.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/records.pb.h"

namespace causeway::replication::buckets {
namespace {

using Rng = std::mt19937_64;

const std::vector<Quorum> kSymbolic = {Quorum::One(), Quorum::Majority(),
                                       Quorum::All(), Quorum::Default()};

TEST(QuorumTest, WireValuesRoundTrip) {
  EXPECT_EQ(Quorum::FromWire(0xFFFFFFFE), Quorum::One());
  EXPECT_EQ(Quorum::FromWire(0xFFFFFFFD), Quorum::Majority());
  EXPECT_EQ(Quorum::FromWire(0xFFFFFFFC), Quorum::All());
  EXPECT_EQ(Quorum::FromWire(0xFFFFFFFB), Quorum::Default());
  EXPECT_EQ(Quorum::FromWire(0), Quorum::Number(0));
  EXPECT_EQ(Quorum::FromWire(3), Quorum::Number(3));
  for (const Quorum& q : kSymbolic) {
    EXPECT_EQ(Quorum::FromWire(q.ToWire()), q);
  }
  Rng rng(1);
  for (int i = 0; i < 10000; ++i) {
    uint32_t v = static_cast<uint32_t>(rng() >> (rng() % 64));
    EXPECT_EQ(Quorum::FromWire(v).ToWire(), v);
  }
  for (uint32_t v = 0xFFFFFFF0; v != 0; ++v) {
    EXPECT_EQ(Quorum::FromWire(v).ToWire(), v);
  }
}

TEST(QuorumTest, ParseAndToStringRoundTrip) {
  for (const Quorum& q : kSymbolic) {
    EXPECT_EQ(Quorum::Parse(q.ToString()), q) << q.ToString();
  }
  EXPECT_EQ(Quorum::One().ToString(), "one");
  EXPECT_EQ(Quorum::Majority().ToString(), "quorum");
  EXPECT_EQ(Quorum::All().ToString(), "all");
  EXPECT_EQ(Quorum::Default().ToString(), "default");
  for (uint32_t n : {0u, 1u, 3u, 16u, 1000u, 0xFFFFFFFAu}) {
    EXPECT_EQ(Quorum::Parse(std::to_string(n)), Quorum::Number(n));
    EXPECT_EQ(Quorum::Number(n).ToString(), std::to_string(n));
  }
}

TEST(QuorumTest, ParseRejectsWhatIsNotAQuorum) {
  for (const char* bad : {"", "-1", "+1", "1.5", " 1", "1 ", "0x10", "ONE",
                          "quorumx", "4294967296", "99999999999", "4294967291",
                          "4294967295", "1e3", "three"}) {
    EXPECT_FALSE(Quorum::Parse(bad).has_value()) << bad;
  }
}

TEST(QuorumTest, ResolveExhaustiveOverNVal) {
  for (uint32_t n = 1; n <= 16; ++n) {
    EXPECT_EQ(Quorum::One().Resolve(n, Quorum::Default()), 1u);
    EXPECT_EQ(Quorum::Majority().Resolve(n, Quorum::Default()), n / 2 + 1);
    EXPECT_EQ(Quorum::All().Resolve(n, Quorum::Default()), n);
    for (uint32_t k = 0; k <= 20; ++k) {
      // Numbers stay as asked; callers compare them with n_val.
      EXPECT_EQ(Quorum::Number(k).Resolve(n, Quorum::One()), k);
      EXPECT_EQ(Quorum::Default().Resolve(n, Quorum::Number(k)), k);
    }
    EXPECT_EQ(Quorum::Default().Resolve(n, Quorum::Default()), n / 2 + 1);
    EXPECT_EQ(Quorum::Default().Resolve(n, Quorum::One()), 1u);
    EXPECT_EQ(Quorum::Default().Resolve(n, Quorum::All()), n);
    EXPECT_EQ(Quorum::Default().Resolve(n, Quorum::Majority()), n / 2 + 1);
  }
  EXPECT_EQ(Quorum::Majority().Resolve(3, Quorum::Default()), 2u);
  EXPECT_EQ(Quorum::Majority().Resolve(4, Quorum::Default()), 3u);
}

BucketPropsPatch RandomPatch(Rng& rng, bool valid = true) {
  auto quorum = [&]() -> std::optional<Quorum> {
    if (rng() % 2) return std::nullopt;
    if (rng() % 2) return kSymbolic[rng() % kSymbolic.size()];
    return Quorum::Number(static_cast<uint32_t>(rng() % 4));
  };
  BucketPropsPatch p;
  if (rng() % 2) p.n_val = valid ? 3 + rng() % 14 : rng() % 40;
  if (rng() % 2) p.allow_mult = rng() % 2;
  if (rng() % 2) p.last_write_wins = rng() % 2;
  p.r = quorum();
  p.w = quorum();
  p.pr = quorum();
  p.pw = quorum();
  p.dw = quorum();
  p.rw = quorum();
  if (rng() % 2) p.basic_quorum = rng() % 2;
  if (rng() % 2) p.notfound_ok = rng() % 2;
  if (rng() % 3 == 0) {
    static const char* kTypes[] = {"", "counter", "set", "map"};
    p.datatype = kTypes[rng() % 4];
  }
  return p;
}

TEST(BucketPropsPatchTest, DefaultsFollowRiak) {
  BucketProps p;
  EXPECT_EQ(p.n_val, 3u);
  EXPECT_FALSE(p.allow_mult);
  EXPECT_FALSE(p.last_write_wins);
  EXPECT_EQ(p.r, Quorum::Majority());
  EXPECT_EQ(p.pr, Quorum::Number(0));
  EXPECT_TRUE(p.notfound_ok);
  EXPECT_EQ(p.resolution(), object::Resolution::kNewest);
}

TEST(BucketPropsPatchTest, EmptyPatchChangesNothing) {
  BucketPropsPatch empty;
  EXPECT_TRUE(empty.empty());
  BucketProps p;
  p.n_val = 5;
  p.w = Quorum::All();
  BucketProps before = p;
  empty.ApplyTo(&p);
  EXPECT_EQ(p, before);
}

TEST(BucketPropsPatchTest, ApplyToChangesOnlyPresentFields) {
  BucketPropsPatch patch;
  patch.allow_mult = true;
  patch.r = Quorum::One();
  patch.datatype = "map";
  EXPECT_FALSE(patch.empty());
  BucketProps p;
  patch.ApplyTo(&p);
  BucketProps expected;
  expected.allow_mult = true;
  expected.r = Quorum::One();
  expected.datatype = "map";
  EXPECT_EQ(p, expected);
  // A datatype decides how writes merge, whatever allow_mult says.
  EXPECT_EQ(p.resolution(), object::Resolution::kDataType);
}

TEST(BucketPropsPatchTest, ApplyToSetsEveryPresentFieldAndNoOther) {
  Rng rng(5);
  for (int i = 0; i < 5000; ++i) {
    BucketPropsPatch patch = RandomPatch(rng);
    BucketProps start;
    start.n_val = 1;
    start.allow_mult = true;
    start.basic_quorum = true;
    start.notfound_ok = false;
    start.datatype = "gset";
    start.r = start.w = start.pr = start.pw = start.dw = start.rw =
        Quorum::Number(7);
    BucketProps p = start;
    patch.ApplyTo(&p);
    EXPECT_EQ(p.n_val, patch.n_val.value_or(start.n_val));
    EXPECT_EQ(p.allow_mult, patch.allow_mult.value_or(start.allow_mult));
    EXPECT_EQ(p.last_write_wins,
              patch.last_write_wins.value_or(start.last_write_wins));
    EXPECT_EQ(p.r, patch.r.value_or(start.r));
    EXPECT_EQ(p.w, patch.w.value_or(start.w));
    EXPECT_EQ(p.pr, patch.pr.value_or(start.pr));
    EXPECT_EQ(p.pw, patch.pw.value_or(start.pw));
    EXPECT_EQ(p.dw, patch.dw.value_or(start.dw));
    EXPECT_EQ(p.rw, patch.rw.value_or(start.rw));
    EXPECT_EQ(p.basic_quorum, patch.basic_quorum.value_or(start.basic_quorum));
    EXPECT_EQ(p.notfound_ok, patch.notfound_ok.value_or(start.notfound_ok));
    EXPECT_EQ(p.datatype, patch.datatype.value_or(start.datatype));
  }
}

TEST(BucketPropsPatchTest, OverlayThenApplyEqualsApplyingInTurn) {
  Rng rng(2);
  for (int i = 0; i < 5000; ++i) {
    BucketPropsPatch type = RandomPatch(rng), bucket = RandomPatch(rng);
    BucketProps start;
    start.n_val = 1 + rng() % 5;
    BucketProps in_turn = start;
    type.ApplyTo(&in_turn);
    bucket.ApplyTo(&in_turn);
    BucketPropsPatch folded = type;
    folded.Overlay(bucket);
    BucketProps at_once = start;
    folded.ApplyTo(&at_once);
    EXPECT_EQ(at_once, in_turn);
    // A present field of the later patch always wins.
    EXPECT_EQ(folded.w, bucket.w ? bucket.w : type.w);
    EXPECT_EQ(folded.empty(), type.empty() && bucket.empty());
  }
}

TEST(BucketPropsPatchTest, ValidateChecksRanges) {
  auto with = [](auto set) {
    BucketPropsPatch p;
    set(p);
    return p.Validate();
  };
  EXPECT_TRUE(with([](auto&) {}).ok());
  EXPECT_FALSE(with([](auto& p) { p.n_val = 0; }).ok());
  EXPECT_TRUE(with([](auto& p) { p.n_val = 1; }).ok());
  EXPECT_TRUE(with([](auto& p) { p.n_val = 16; }).ok());
  EXPECT_FALSE(with([](auto& p) { p.n_val = 17; }).ok());
  EXPECT_FALSE(with([](auto& p) {
                 p.n_val = 3;
                 p.r = Quorum::Number(4);
               }).ok());
  EXPECT_TRUE(with([](auto& p) {
                p.n_val = 3;
                p.dw = Quorum::Number(3);
                p.pr = Quorum::Number(0);
                p.w = Quorum::All();
              }).ok());
  // Without n_val in the patch only the absolute limit is known.
  EXPECT_TRUE(with([](auto& p) { p.rw = Quorum::Number(16); }).ok());
  EXPECT_FALSE(with([](auto& p) { p.rw = Quorum::Number(17); }).ok());
  EXPECT_FALSE(with([](auto& p) { p.pw = Quorum::Number(0xFFFFFFFA); }).ok());
  EXPECT_TRUE(with([](auto& p) { p.datatype = ""; }).ok());
  EXPECT_TRUE(with([](auto& p) { p.datatype = "counter"; }).ok());
  EXPECT_FALSE(with([](auto& p) { p.datatype = "banana"; }).ok());
  Status s = with([](auto& p) { p.n_val = 0; });
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
}

TEST(BucketPropsPatchTest, EncodeDecodeRoundTrip) {
  Rng rng(3);
  for (int i = 0; i < 5000; ++i) {
    BucketPropsPatch p = RandomPatch(rng);
    ASSERT_TRUE(p.Validate().ok());
    BucketPropsPatch back;
    back.n_val = 99;  // must be overwritten, not merged into
    ASSERT_TRUE(BucketPropsPatch::Decode(p.Encode(), &back).ok());
    EXPECT_EQ(back, p);
  }
  BucketPropsPatch back;
  ASSERT_TRUE(
      BucketPropsPatch::Decode(BucketPropsPatch().Encode(), &back).ok());
  EXPECT_TRUE(back.empty());
}

TEST(BucketPropsPatchTest, DecodeRejectsBadRecords) {
  auto expect_corrupt = [](const std::string& bytes, const char* what) {
    BucketPropsPatch out;
    out.n_val = 5;
    Status s = BucketPropsPatch::Decode(bytes, &out);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << what;
    EXPECT_EQ(out.n_val, 5u) << what;
    EXPECT_FALSE(out.allow_mult.has_value()) << what;
  };
  records::BucketPropsPatchRecord rec;
  expect_corrupt(rec.SerializeAsString(), "no version");
  rec.set_format_version(2);
  expect_corrupt(rec.SerializeAsString(), "version 2");
  rec.set_format_version(1);
  rec.set_n_val(0);
  rec.set_allow_mult(true);
  expect_corrupt(rec.SerializeAsString(), "n_val 0");
  rec.set_n_val(3);
  rec.set_r(5);
  expect_corrupt(rec.SerializeAsString(), "r above n_val");
  rec.set_r(Quorum::kWireAll);
  rec.set_datatype("nope");
  expect_corrupt(rec.SerializeAsString(), "unknown datatype");
  expect_corrupt("\xFF\xFF\xFF", "not protobuf");
  expect_corrupt(std::string(70 * 1024, '\0'), "oversized");
}

TEST(BucketPropsPatchTest, RandomBytesNeverCrashAndAcceptedOnesAreValid) {
  Rng rng(4);
  std::vector<std::string> seeds;
  for (int i = 0; i < 50; ++i) seeds.push_back(RandomPatch(rng).Encode());
  for (int i = 0; i < 50000; ++i) {
    std::string bytes;
    if (rng() % 2) {
      bytes.resize(rng() % 40);
      for (char& c : bytes) c = static_cast<char>(rng());
    } else {
      bytes = seeds[rng() % seeds.size()];
      for (int k = 1 + rng() % 3; k > 0 && !bytes.empty(); --k) {
        bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
      }
    }
    BucketPropsPatch out;
    Status s = BucketPropsPatch::Decode(bytes, &out);
    if (s.ok()) {
      EXPECT_TRUE(out.Validate().ok());
    } else {
      EXPECT_EQ(s.code(), Status::Code::kCorruption);
    }
  }
}

}  // namespace
}  // namespace causeway::replication::buckets
