#include "node/json.h"

#include <gtest/gtest.h>

#include <string>

namespace causeway::node {
namespace {

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(&out, text);
  return out;
}

TEST(NodeJsonTest, SanitizeUtf8KeepsValidTextAndReplacesTheRest) {
  EXPECT_EQ(SanitizeUtf8("plain"), "plain");
  EXPECT_EQ(SanitizeUtf8("\xe2\x82\xac"), "\xe2\x82\xac");          // euro
  EXPECT_EQ(SanitizeUtf8("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");  // emoji
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(SanitizeUtf8("\xc0\xaf"), r + r);                  // overlong
  EXPECT_EQ(SanitizeUtf8("\xed\xa0\x80"), r + r + r);          // surrogate
  EXPECT_EQ(SanitizeUtf8("\xf4\x90\x80\x80"), r + r + r + r);  // > U+10FFFF
  EXPECT_EQ(SanitizeUtf8("x\xe2\x82"), "x" + r + r);           // truncated
}

TEST(NodeJsonTest, StringsAreEscaped) {
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Quoted(std::string("\x01\0\x7f", 3)), "\"\\u0001\\u0000\\u007f\"");
  EXPECT_EQ(Quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(Quoted("a\xff"), "\"a\xef\xbf\xbd\"");
}

TEST(NodeJsonTest, WriterPlacesCommasAndNests) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("a");
  w.Uint(1);
  w.Key("b");
  w.Int(-2);
  w.Key("c");
  w.BeginArray();
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.EndArray();
  w.Key("d\"");
  w.String("x\n");
  w.Key("e");
  w.Strings({"p", "q"});
  w.Key("f");
  w.Raw("{\"pre\":0}");
  w.EndObject();
  EXPECT_EQ(out,
            "{\"a\":1,\"b\":-2,\"c\":[true,null,{},[]],\"d\\\"\":\"x\\n\","
            "\"e\":[\"p\",\"q\"],\"f\":{\"pre\":0}}");
}

TEST(NodeJsonTest, WriterAppendsToWhatIsThere) {
  std::string out = "x=";
  JsonWriter w(&out);
  w.Strings({});
  EXPECT_EQ(out, "x=[]");
}

}  // namespace
}  // namespace causeway::node
