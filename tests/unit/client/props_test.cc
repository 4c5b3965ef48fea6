// Quorum, boolean and bucket-property parsing used by the CLI.

#include "client/props.h"

#include "gtest/gtest.h"

namespace causeway::client {
namespace {

TEST(ClientParseQuorumTest, SymbolicNamesMapToRiakWireValues) {
  EXPECT_EQ(ParseQuorum("one"), 0xFFFFFFFEu);
  EXPECT_EQ(ParseQuorum("quorum"), 0xFFFFFFFDu);
  EXPECT_EQ(ParseQuorum("all"), 0xFFFFFFFCu);
  EXPECT_EQ(ParseQuorum("default"), 0xFFFFFFFBu);
  EXPECT_EQ(ParseQuorum("ALL"), kQuorumAll);
}

TEST(ClientParseQuorumTest, NumbersAreReplicaCounts) {
  EXPECT_EQ(ParseQuorum("0"), 0u);
  EXPECT_EQ(ParseQuorum("3"), 3u);
  EXPECT_EQ(ParseQuorum("4294967290"), 4294967290u);
}

TEST(ClientParseQuorumTest, RejectsGarbageAndTheSymbolicRange) {
  for (const char* bad :
       {"", "two", "-1", "+3", "3x", " 3", "1.5", "4294967291", "4294967295",
        "99999999999999999999", "999999999999999999999"}) {
    EXPECT_FALSE(ParseQuorum(bad).has_value()) << bad;
  }
}

TEST(ClientQuorumNameTest, RoundTripsWithParse) {
  for (const char* text : {"one", "quorum", "all", "default", "0", "7"}) {
    auto wire = ParseQuorum(text);
    ASSERT_TRUE(wire.has_value()) << text;
    EXPECT_EQ(QuorumName(*wire), text);
  }
}

TEST(ClientParseBoolTest, AcceptsCommonSpellings) {
  for (const char* t : {"true", "TRUE", "yes", "on", "1"}) {
    EXPECT_EQ(ParseBool(t), true) << t;
  }
  for (const char* f : {"false", "False", "no", "off", "0"}) {
    EXPECT_EQ(ParseBool(f), false) << f;
  }
  for (const char* bad : {"", "2", "tru", "y"}) {
    EXPECT_FALSE(ParseBool(bad).has_value()) << bad;
  }
}

TEST(ClientApplyBucketPropTest, SetsEachKindOfField) {
  pbc::RpbBucketProps props;
  ASSERT_TRUE(ApplyBucketProp("n_val=5", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("allow_mult=true", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("last_write_wins=no", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("r=quorum", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("w=2", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("pr=one", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("pw=all", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("dw=default", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("rw=1", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("basic_quorum=1", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("notfound_ok=false", &props).ok());
  ASSERT_TRUE(ApplyBucketProp("datatype=counter", &props).ok());
  EXPECT_EQ(props.n_val(), 5u);
  EXPECT_TRUE(props.allow_mult());
  ASSERT_TRUE(props.has_last_write_wins());
  EXPECT_FALSE(props.last_write_wins());
  EXPECT_EQ(props.r(), kQuorumQuorum);
  EXPECT_EQ(props.w(), 2u);
  EXPECT_EQ(props.pr(), kQuorumOne);
  EXPECT_EQ(props.pw(), kQuorumAll);
  EXPECT_EQ(props.dw(), kQuorumDefault);
  EXPECT_EQ(props.rw(), 1u);
  EXPECT_TRUE(props.basic_quorum());
  ASSERT_TRUE(props.has_notfound_ok());
  EXPECT_FALSE(props.notfound_ok());
  EXPECT_EQ(props.datatype(), "counter");
}

TEST(ClientApplyBucketPropTest, UnknownNameListsTheValidOnes) {
  pbc::RpbBucketProps props;
  Status s = ApplyBucketProp("nval=3", &props);
  ASSERT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown bucket property 'nval'"),
            std::string::npos)
      << s.message();
  for (const std::string& name : BucketPropNames()) {
    EXPECT_NE(s.message().find(name), std::string::npos) << name;
  }
  EXPECT_FALSE(props.has_n_val());
}

TEST(ClientApplyBucketPropTest, RejectsBadValuesAndMissingEquals) {
  pbc::RpbBucketProps props;
  EXPECT_FALSE(ApplyBucketProp("n_val=0", &props).ok());
  EXPECT_FALSE(ApplyBucketProp("n_val=-1", &props).ok());
  EXPECT_FALSE(ApplyBucketProp("n_val=", &props).ok());
  EXPECT_FALSE(ApplyBucketProp("n_val=99999999999", &props).ok());
  EXPECT_FALSE(ApplyBucketProp("allow_mult=maybe", &props).ok());
  EXPECT_FALSE(ApplyBucketProp("r=most", &props).ok());
  Status s = ApplyBucketProp("n_val", &props);
  EXPECT_NE(s.message().find("NAME=VALUE"), std::string::npos) << s.message();
  EXPECT_FALSE(props.has_n_val());
  EXPECT_FALSE(props.has_allow_mult());
  EXPECT_FALSE(props.has_r());
}

TEST(ClientDescribeBucketPropsTest, ListsPresentFieldsInDisplayOrder) {
  pbc::RpbBucketProps props;
  props.set_r(kQuorumQuorum);
  props.set_n_val(3);
  props.set_allow_mult(false);
  std::vector<PropValue> values = DescribeBucketProps(props);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].name, "n_val");
  EXPECT_EQ(values[0].number, 3u);
  EXPECT_EQ(values[1].name, "allow_mult");
  EXPECT_EQ(values[1].kind, PropKind::kBool);
  EXPECT_FALSE(values[1].flag);
  EXPECT_EQ(values[2].name, "r");
  EXPECT_EQ(values[2].kind, PropKind::kQuorum);
  EXPECT_EQ(values[2].number, kQuorumQuorum);
}

}  // namespace
}  // namespace causeway::client
