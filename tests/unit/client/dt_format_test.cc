// The grammar of `causeway map update` operations and the text and JSON
// forms of data-type values (client/dt_format.h), without a server.

#include "client/dt_format.h"

#include "base/printable.h"
#include "gtest/gtest.h"

namespace causeway::client {
namespace {

std::string FieldOf(const pbc::MapField& f) {
  return f.name() + "(" + MapFieldTypeName(f.type()) + ")";
}

std::string Join(const Elements& elements) {
  std::string out;
  for (const std::string& e : elements) out += (out.empty() ? "" : ",") + e;
  return out;
}

// A MapOp in a compact form: "-name(type)" for a remove, then each update
// as "name(type)" followed by its operation; nested maps in braces.
std::string Describe(const pbc::MapOp& op) {
  std::string out;
  for (const pbc::MapField& f : op.removes()) out += " -" + FieldOf(f);
  for (const pbc::MapUpdate& u : op.updates()) {
    out += " " + FieldOf(u.field());
    if (u.has_counter_op()) {
      out += "+=" + std::to_string(u.counter_op().increment());
    }
    if (u.has_set_op()) {
      out += "+[" + Join(u.set_op().adds()) + "]-[" +
             Join(u.set_op().removes()) + "]";
    }
    if (u.has_register_op()) out += "=\"" + u.register_op() + "\"";
    if (u.has_flag_op()) {
      out += u.flag_op() == pbc::MapUpdate::ENABLE ? "=on" : "=off";
    }
    if (u.has_map_op()) out += "{" + Describe(u.map_op()) + " }";
  }
  return out;
}

std::string Parsed(const std::vector<std::string>& ops) {
  pbc::MapOp op;
  Status s = ParseMapOps(ops, &op);
  if (!s.ok()) return "error: " + s.message();
  return Describe(op);
}

TEST(MapOpGrammarTest, EveryOperationAtTheTop) {
  EXPECT_EQ(Parsed({"visits:counter+=3"}), " visits(counter)+=3");
  EXPECT_EQ(Parsed({"visits:counter-=3"}), " visits(counter)+=-3");
  EXPECT_EQ(Parsed({"visits:counter+=-2"}), " visits(counter)+=-2");
  EXPECT_EQ(Parsed({"tags:set+=a"}), " tags(set)+[a]-[]");
  EXPECT_EQ(Parsed({"tags:set-=a"}), " tags(set)+[]-[a]");
  EXPECT_EQ(Parsed({"name:register=Ada"}), " name(register)=\"Ada\"");
  EXPECT_EQ(Parsed({"name:register="}), " name(register)=\"\"");
  EXPECT_EQ(Parsed({"admin:flag=on"}), " admin(flag)=on");
  EXPECT_EQ(Parsed({"admin:flag=off"}), " admin(flag)=off");
  for (const char* type : {"counter", "set", "register", "flag", "map"}) {
    EXPECT_EQ(Parsed({std::string("f:remove=") + type}),
              std::string(" -f(") + type + ")");
  }
}

TEST(MapOpGrammarTest, NestedPathsMergeIntoOneUpdatePerMap) {
  EXPECT_EQ(Parsed({"profile.visits:counter+=2", "tags:set+=a",
                    "profile.name:register=x", "profile.visits:counter-=5",
                    "tags:set+=b", "tags:set+=a", "tags:set-=c",
                    "profile.address.city:register=Oslo",
                    "profile.address.zip:remove=register"}),
            " profile(map){ visits(counter)+=-3 name(register)=\"x\""
            " address(map){ -zip(register) city(register)=\"Oslo\" } }"
            " tags(set)+[a,b]-[c]");
}

TEST(MapOpGrammarTest, FieldsOfDifferentTypesAreDifferentFields) {
  EXPECT_EQ(Parsed({"a:counter+=1", "a.b:flag=on", "a:remove=set"}),
            " -a(set) a(counter)+=1 a(map){ b(flag)=on }");
}

TEST(MapOpGrammarTest, ValuesAreTakenAsTheyAreAndBackslashEscapesThePath) {
  EXPECT_EQ(Parsed({"r:register=a=b:c.d"}), " r(register)=\"a=b:c.d\"");
  EXPECT_EQ(Parsed({"s:set+=x:y"}), " s(set)+[x:y]-[]");
  EXPECT_EQ(Parsed({"a\\.b:flag=on"}), " a.b(flag)=on");
  EXPECT_EQ(Parsed({"a\\:b.c\\\\:counter+=1"}), " a:b(map){ c\\(counter)+=1 }");
}

TEST(MapOpGrammarTest, BadSyntaxIsRefusedNamingTheOperation) {
  const std::vector<std::string> bad = {
      "",
      "visits",
      "visits+=1",
      ":counter+=1",
      "a..b:flag=on",
      "a.:flag=on",
      "a\\",
      "a:counter+=x",
      "a:counter+=1.5",
      "a:counter+=",
      "a:counter+= 1",
      "a:counter*=2",
      "a:set=x",
      "a:flag=yes",
      "a:flag=",
      "a:remove=list",
      "a:Counter+=1",
      "a:counter-=-9223372036854775808",
      "a:counter+=99999999999999999999",
  };
  for (const std::string& op : bad) {
    pbc::MapOp out;
    Status s = ParseMapOps({"ok:flag=on", op}, &out);
    EXPECT_FALSE(s.ok()) << op;
    EXPECT_NE(s.message().find("bad map operation '" + Printable(op) + "'"),
              std::string::npos)
        << s.message();
  }
  EXPECT_NE(Parsed({"a:counter*=2"}).find("expected PATH:counter+=N"),
            std::string::npos);
}

TEST(MapOpGrammarTest, ConflictingOperationsAreRefused) {
  EXPECT_EQ(Parsed({"a:register=1", "a:register=2"}),
            "error: bad map operation 'a:register=2': the register is set "
            "twice");
  EXPECT_EQ(Parsed({"a:flag=on", "a:flag=on"}),
            "error: bad map operation 'a:flag=on': the flag is set twice");
  EXPECT_EQ(Parsed({"a:set+=x", "a:set-=x"}),
            "error: bad map operation 'a:set-=x': element 'x' is both added "
            "and removed");
  EXPECT_EQ(Parsed({"m:remove=map", "m.b:flag=on"}),
            "error: bad map operation 'm.b:flag=on': field 'm' (map) is both "
            "removed and updated");
  EXPECT_EQ(Parsed({"m.b:flag=on", "m:remove=map"}),
            "error: bad map operation 'm:remove=map': field 'm' (map) is both "
            "removed and updated");
  EXPECT_EQ(Parsed({"c:counter+=9223372036854775807", "c:counter+=1"}),
            "error: bad map operation 'c:counter+=1': the steps of this "
            "counter add up past 64 bits");
  // Repeating a remove or an add is harmless and merged.
  EXPECT_EQ(Parsed({"a:remove=flag", "a:remove=flag"}), " -a(flag)");
}

TEST(MapOpGrammarTest, RemovesAnywhereNeedAContext) {
  auto removes = [](const std::vector<std::string>& ops) {
    pbc::MapOp op;
    EXPECT_TRUE(ParseMapOps(ops, &op).ok());
    return MapOpRemoves(op);
  };
  EXPECT_FALSE(removes({"a:counter-=1", "t:set+=x", "m.n.f:flag=off"}));
  EXPECT_TRUE(removes({"a:remove=counter"}));
  EXPECT_TRUE(removes({"t:set-=x"}));
  EXPECT_TRUE(removes({"m.n.t:set-=x"}));
  EXPECT_TRUE(removes({"m.n.f:remove=flag"}));
}

pbc::MapEntry* AddEntry(MapEntries* entries, const std::string& name,
                        pbc::MapField::MapFieldType type) {
  pbc::MapEntry* e = entries->Add();
  e->mutable_field()->set_name(name);
  e->mutable_field()->set_type(type);
  return e;
}

MapEntries SampleMap() {
  MapEntries top;
  pbc::MapEntry* profile = AddEntry(&top, "profile", pbc::MapField::MAP);
  AddEntry(profile->mutable_map_value(), "visits", pbc::MapField::COUNTER)
      ->set_counter_value(3);
  AddEntry(profile->mutable_map_value(), "old", pbc::MapField::MAP);
  pbc::MapEntry* tags = AddEntry(&top, "tags", pbc::MapField::SET);
  tags->add_set_value("a");
  tags->add_set_value("b\n");
  AddEntry(&top, "none", pbc::MapField::SET);
  AddEntry(&top, "name", pbc::MapField::REGISTER)->set_register_value("x\xff");
  AddEntry(&top, "admin", pbc::MapField::FLAG)->set_flag_value(true);
  AddEntry(&top, "a.b\\", pbc::MapField::COUNTER)->set_counter_value(-1);
  return top;
}

TEST(DtRenderTest, MapTextIsOneLinePerLeaf) {
  EXPECT_EQ(RenderMapText(SampleMap()),
            "profile.visits (counter) = 3\n"
            "profile.old (map) = {}\n"
            "tags (set) = a, b\\x0a\n"
            "none (set) = {}\n"
            "name (register) = \"x\\xff\"\n"
            "admin (flag) = true\n"
            "a.b\\x5c (counter) = -1\n");
  EXPECT_EQ(RenderMapText(MapEntries()), "");
}

TEST(DtRenderTest, MapJsonNestsObjectsKeyedByNameAndType) {
  EXPECT_EQ(
      RenderMapJson(SampleMap()),
      R"j({"map":{"profile (map)":{"visits (counter)":3,"old (map)":{}},)j"
      R"j("tags (set)":["a","b\n"],"none (set)":[],)j"
      R"j("name (register)":{"base64":"eP8="},"admin (flag)":true,)j"
      R"j("a.b\\x5c (counter)":-1}})j");
  EXPECT_EQ(RenderMapJson(MapEntries()), R"({"map":{}})");
}

TEST(DtRenderTest, Elements) {
  Elements elements;
  elements.Add()->assign("one");
  elements.Add()->assign("two\nlines");
  elements.Add()->assign("\xfe");
  EXPECT_EQ(RenderElementsText(elements), "one\ntwo\\x0alines\n\\xfe\n");
  EXPECT_EQ(RenderElementsJson(elements),
            R"({"elements":["one","two\nlines",{"base64":"/g=="}]})");
  EXPECT_EQ(RenderElementsJson(Elements()), R"({"elements":[]})");
}

}  // namespace
}  // namespace causeway::client
