// Base64, UTF-8, JSON and the renderers behind the CLI's output.

#include "client/format.h"

#include "client/props.h"
#include "gtest/gtest.h"

namespace causeway::client {
namespace {

TEST(ClientBase64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(ClientBase64Test, DecodeRoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 37) {
    std::string in = all.substr(0, len);
    std::string out;
    ASSERT_TRUE(Base64Decode(Base64Encode(in), &out).ok()) << len;
    EXPECT_EQ(out, in);
  }
}

TEST(ClientBase64Test, DecodeIgnoresSurroundingWhitespace) {
  std::string out;
  ASSERT_TRUE(Base64Decode("  Zm9vYg==\n", &out).ok());
  EXPECT_EQ(out, "foob");
}

TEST(ClientBase64Test, DecodeRejectsMalformedInput) {
  std::string out = "unchanged";
  for (const char* bad : {"Zm9", "Zm9v!A==", "Z===", "====", "Zg=a", "Zm=v",
                          "Zm9vYg==Zm9v", "Zh==", "Zm9=", "Zm 9v"}) {
    EXPECT_FALSE(Base64Decode(bad, &out).ok()) << bad;
  }
  EXPECT_EQ(out, "unchanged");
}

TEST(ClientUtf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));           // é
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));          // €
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));      // emoji
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));  // NUL is valid
}

TEST(ClientUtf8Test, RejectsMalformedSequences) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xe2\x28\xa1"));      // bad continuation
}

TEST(ClientJsonTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(JsonString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonString("l1\nl2\t\r"), R"("l1\nl2\t\r")");
  EXPECT_EQ(JsonString(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(ClientJsonTest, NamesFallBackToBase64) {
  EXPECT_EQ(JsonName("key1"), R"("key1")");
  EXPECT_EQ(JsonName("\xff\xfe"), R"({"base64":"//4="})");
}

TEST(ClientJsonTest, ObjectBuilderSeparatesMembers) {
  EXPECT_EQ(JsonObject().str(), "{}");
  EXPECT_EQ(JsonObject()
                .Bool("a", true)
                .Number("b", -3)
                .Null("c")
                .String("d", "x")
                .Raw("e", JsonArray({"1", "2"}))
                .str(),
            R"({"a":true,"b":-3,"c":null,"d":"x","e":[1,2]})");
}

TEST(ClientTimestampTest, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(FormatTimestamp(0, 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(1714564800, 123456), "2024-05-01T12:00:00.123456Z");
  EXPECT_EQ(FormatTimestamp(1714564800, 5), "2024-05-01T12:00:00.000005Z");
}

Contents MakeContents(const std::vector<std::string>& values) {
  Contents contents;
  for (const std::string& v : values) {
    pbc::RpbContent* c = contents.Add();
    c->set_value(v);
    c->set_content_type("text/plain");
  }
  return contents;
}

TEST(ClientRenderObjectTextTest, SingleValueIsRawBytes) {
  Contents one = MakeContents({std::string("bin\0ary", 7)});
  ObjectTextOptions piped;
  EXPECT_EQ(RenderObjectText(one, piped), std::string("bin\0ary", 7));
}

TEST(ClientRenderObjectTextTest, TerminalGetsOneTrailingNewline) {
  ObjectTextOptions tty;
  tty.terminal = true;
  EXPECT_EQ(RenderObjectText(MakeContents({"v"}), tty), "v\n");
  EXPECT_EQ(RenderObjectText(MakeContents({"v\n"}), tty), "v\n");
}

TEST(ClientRenderObjectTextTest, SiblingsAreNumbered) {
  Contents three = MakeContents({"red", "green\n", "blue"});
  three.Mutable(1)->set_last_mod(1714564800);
  three.Mutable(1)->set_last_mod_usecs(42);
  three.Mutable(2)->clear_content_type();
  EXPECT_EQ(RenderObjectText(three, ObjectTextOptions()),
            "sibling 1 of 3: text/plain\n"
            "red\n"
            "sibling 2 of 3: text/plain, last modified "
            "2024-05-01T12:00:00.000042Z\n"
            "green\n"
            "sibling 3 of 3: no content type\n"
            "blue\n");
}

TEST(ClientRenderObjectTextTest, TombstoneSiblingIsMarked) {
  Contents two = MakeContents({"alive", ""});
  two.Mutable(1)->set_deleted(true);
  EXPECT_EQ(RenderObjectText(two, ObjectTextOptions()),
            "sibling 1 of 2: text/plain\nalive\n"
            "sibling 2 of 2: text/plain, deleted\n");
}

TEST(ClientRenderObjectJsonTest, TextAndBinaryValues) {
  Contents two = MakeContents({"hello", "\xff\x00"});
  two.Mutable(0)->set_last_mod(0);
  two.Mutable(1)->set_content_type("application/octet-stream");
  EXPECT_EQ(RenderObjectJson(true, two, "vc", true),
            R"({"found":true,"vclock":"dmM=","siblings":[)"
            R"({"value":"hello","base64":false,"content_type":"text/plain",)"
            R"("last_modified":"1970-01-01T00:00:00Z","deleted":false},)"
            R"({"value":"/w==","base64":true,)"
            R"("content_type":"application/octet-stream","last_modified":null,)"
            R"("deleted":false}]})");
}

TEST(ClientRenderObjectJsonTest, NotFoundWithoutVclock) {
  EXPECT_EQ(RenderObjectJson(false, Contents(), "", false),
            R"({"found":false,"vclock":null,"siblings":[]})");
}

TEST(ClientRenderObjectJsonTest, UsermetaIsListed) {
  Contents one = MakeContents({"v"});
  pbc::RpbPair* meta = one.Mutable(0)->add_usermeta();
  meta->set_key("color");
  meta->set_value("blue");
  std::string json = RenderObjectJson(true, one, "", false);
  EXPECT_NE(json.find(R"("usermeta":[{"key":"color","value":"blue"}])"),
            std::string::npos)
      << json;
}

TEST(ClientRenderBucketPropsTest, TextAndJson) {
  pbc::RpbBucketProps props;
  props.set_n_val(3);
  props.set_allow_mult(true);
  props.set_r(kQuorumQuorum);
  props.set_w(2);
  props.set_datatype("set");
  EXPECT_EQ(RenderBucketPropsText(props),
            "n_val: 3\nallow_mult: true\nr: quorum\nw: 2\ndatatype: set\n");
  EXPECT_EQ(RenderBucketPropsJson(props),
            R"({"n_val":3,"allow_mult":true,"r":"quorum","w":2,)"
            R"("datatype":"set"})");
}

TEST(ClientRenderPreflistTest, TextAndJson) {
  pbc::RpbGetBucketKeyPreflistResp resp;
  auto* a = resp.add_preflist();
  a->set_partition(7);
  a->set_node("node1@127.0.0.1");
  a->set_primary(true);
  auto* b = resp.add_preflist();
  b->set_partition(8);
  b->set_node("node2@127.0.0.1");
  b->set_primary(false);
  EXPECT_EQ(RenderPreflistText(resp),
            "7 node1@127.0.0.1 primary\n8 node2@127.0.0.1 fallback\n");
  EXPECT_EQ(RenderPreflistJson(resp),
            R"({"preflist":[{"partition":7,"node":"node1@127.0.0.1",)"
            R"("primary":true},{"partition":8,"node":"node2@127.0.0.1",)"
            R"("primary":false}]})");
}

}  // namespace
}  // namespace causeway::client
