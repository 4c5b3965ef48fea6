#include <gtest/gtest.h>

#include "replication/crdt/data_type.h"

namespace causeway::replication::crdt {
namespace {

TEST(DataTypeTable, NamesRoundTrip) {
  for (TypeTag tag : {TypeTag::kCounter, TypeTag::kSet, TypeTag::kMap,
                      TypeTag::kHll, TypeTag::kGSet}) {
    TypeTag parsed;
    ASSERT_TRUE(ParseTypeName(TypeName(tag), &parsed));
    EXPECT_EQ(parsed, tag);
  }
  TypeTag unused;
  EXPECT_FALSE(ParseTypeName("register", &unused));
  EXPECT_FALSE(ParseTypeName("", &unused));
}

}  // namespace
}  // namespace causeway::replication::crdt
