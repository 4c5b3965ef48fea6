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

std::string Parsed(const std::vector<std::string>& ops,
                   const std::vector<std::string>& removes = {}) {
  pbc::MapOp op;
  Status s = ParseMapOps(ops, removes, &op);
  if (!s.ok()) return "error: " + s.message();
  return Describe(op);
}

TEST(MapOpGrammarTest, EveryOperationAtTheTop) {
  EXPECT_EQ(Parsed({"visits_counter+=3"}), " visits(counter)+=3");
  EXPECT_EQ(Parsed({"visits_counter-=3"}), " visits(counter)+=-3");
  EXPECT_EQ(Parsed({"visits_counter+=-2"}), " visits(counter)+=-2");
  EXPECT_EQ(Parsed({"tags_set+=a"}), " tags(set)+[a]-[]");
  EXPECT_EQ(Parsed({"tags_set-=a"}), " tags(set)+[]-[a]");
  EXPECT_EQ(Parsed({"name_register=Ada"}), " name(register)=\"Ada\"");
  EXPECT_EQ(Parsed({"name_register="}), " name(register)=\"\"");
  EXPECT_EQ(Parsed({"admin_flag=on"}), " admin(flag)=on");
  EXPECT_EQ(Parsed({"admin_flag=off"}), " admin(flag)=off");
  for (const char* type : {"counter", "set", "register", "flag", "map"}) {
    EXPECT_EQ(Parsed({}, {std::string("f_") + type}),
              std::string(" -f(") + type + ")");
  }
  // The type is what follows the last '_'.
  EXPECT_EQ(Parsed({"page_views_counter+=1"}), " page_views(counter)+=1");
}

TEST(MapOpGrammarTest, NestedPathsMergeIntoOneUpdatePerMap) {
  EXPECT_EQ(
      Parsed({"profile_map.visits_counter+=2", "tags_set+=a",
              "profile_map.name_register=x", "profile_map.visits_counter-=5",
              "tags_set+=b", "tags_set+=a", "tags_set-=c",
              "profile_map.address_map.city_register=Oslo"},
             {"profile_map.address_map.zip_register"}),
      " profile(map){ address(map){ -zip(register)"
      " city(register)=\"Oslo\" } visits(counter)+=-3"
      " name(register)=\"x\" } tags(set)+[a,b]-[c]");
}

TEST(MapOpGrammarTest, FieldsOfDifferentTypesAreDifferentFields) {
  EXPECT_EQ(Parsed({"a_counter+=1", "a_map.b_flag=on"}, {"a_set"}),
            " -a(set) a(counter)+=1 a(map){ b(flag)=on }");
}

TEST(MapOpGrammarTest, ValuesAreTakenAsTheyAreAndBackslashEscapesThePath) {
  EXPECT_EQ(Parsed({"r_register=a=b:c.d"}), " r(register)=\"a=b:c.d\"");
  EXPECT_EQ(Parsed({"s_set+=x=y"}), " s(set)+[x=y]-[]");
  EXPECT_EQ(Parsed({"a\\.b_flag=on"}), " a.b(flag)=on");
  EXPECT_EQ(Parsed({"a\\=b_map.c\\\\_counter+=1"}),
            " a=b(map){ c\\(counter)+=1 }");
}

TEST(MapOpGrammarTest, BadSyntaxIsRefusedNamingTheOperation) {
  const std::vector<std::string> bad = {
      "",
      "visits",
      "visits+=1",
      "_counter+=1",
      "a_map..b_flag=on",
      "a_map._flag=on",
      "a_flag.b_flag=on",
      "a\\",
      "a_counter+=x",
      "a_counter+=1.5",
      "a_counter+=",
      "a_counter+= 1",
      "a_counter=2",
      "a_set=x",
      "a_register+=x",
      "a_flag=yes",
      "a_flag=",
      "a_map=x",
      "a_list+=1",
      "a_Counter+=1",
      "a_counter-=-9223372036854775808",
      "a_counter+=99999999999999999999",
  };
  for (const std::string& op : bad) {
    pbc::MapOp out;
    Status s = ParseMapOps({"ok_flag=on", op}, {}, &out);
    EXPECT_FALSE(s.ok()) << op;
    EXPECT_NE(s.message().find("bad map operation '" + Printable(op) + "'"),
              std::string::npos)
        << s.message();
  }
  for (const std::string& remove : {"a", "a_list", "a_flag.b_set", "_set"}) {
    pbc::MapOp out;
    EXPECT_FALSE(ParseMapOps({}, {remove}, &out).ok()) << remove;
  }
  EXPECT_NE(Parsed({"a_counter*2"}).find("expected NAME_counter+=N"),
            std::string::npos);
}

TEST(MapOpGrammarTest, ConflictingOperationsAreRefused) {
  EXPECT_EQ(Parsed({"a_register=1", "a_register=2"}),
            "error: bad map operation 'a_register=2': the register is set "
            "twice");
  EXPECT_EQ(Parsed({"a_flag=on", "a_flag=on"}),
            "error: bad map operation 'a_flag=on': the flag is set twice");
  EXPECT_EQ(Parsed({"a_set+=x", "a_set-=x"}),
            "error: bad map operation 'a_set-=x': element 'x' is both added "
            "and removed");
  EXPECT_EQ(Parsed({"m_map.b_flag=on"}, {"m_map"}),
            "error: bad map operation 'm_map.b_flag=on': field 'm' (map) is "
            "both removed and updated");
  EXPECT_EQ(Parsed({"c_counter+=9223372036854775807", "c_counter+=1"}),
            "error: bad map operation 'c_counter+=1': the steps of this "
            "counter add up past 64 bits");
  // Repeating a remove or an add is harmless and merged.
  EXPECT_EQ(Parsed({}, {"a_flag", "a_flag"}), " -a(flag)");
}

TEST(MapOpGrammarTest, RemovesAnywhereNeedAContext) {
  auto removes = [](const std::vector<std::string>& ops,
                    const std::vector<std::string>& fields = {}) {
    pbc::MapOp op;
    EXPECT_TRUE(ParseMapOps(ops, fields, &op).ok());
    return MapOpRemoves(op);
  };
  EXPECT_FALSE(removes({"a_counter-=1", "t_set+=x", "m_map.n_map.f_flag=off"}));
  EXPECT_TRUE(removes({}, {"a_counter"}));
  EXPECT_TRUE(removes({"t_set-=x"}));
  EXPECT_TRUE(removes({"m_map.n_map.t_set-=x"}));
  EXPECT_TRUE(removes({}, {"m_map.n_map.f_flag"}));
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
