#pragma once
// The law test (law_test.cc) runs one set of laws over every data type.
// Each type contributes a LawCase from its own file through
// CAUSEWAY_LAW_CASE; law_test.cc checks that all five types did.

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "replication/crdt/data_type.h"

namespace causeway::replication::crdt::testing {

struct LawCase {
  std::string name;
  TypeTag tag = TypeTag::kCounter;
  TypeParams params;
  // A random operation valid for (or deliberately refused by) `state`,
  // drawn from a small universe of elements and fields so that histories
  // collide. Ops the state refuses are simply not applied by the harness.
  std::function<Operation(std::mt19937_64& rng, const DataType& state)>
      random_op;
  // Every operation of a small universe, for the exhaustive tests over short
  // histories.
  std::vector<Operation> small_universe;
};

std::vector<LawCase>& LawCases();

struct LawCaseRegistrar {
  explicit LawCaseRegistrar(LawCase c) { LawCases().push_back(std::move(c)); }
};

#define CAUSEWAY_LAW_CASE_CONCAT2(a, b) a##b
#define CAUSEWAY_LAW_CASE_CONCAT(a, b) CAUSEWAY_LAW_CASE_CONCAT2(a, b)
// At namespace scope in a test file: CAUSEWAY_LAW_CASE(MakeCounterCase());
#define CAUSEWAY_LAW_CASE(expr)                                   \
  static ::causeway::replication::crdt::testing::LawCaseRegistrar \
  CAUSEWAY_LAW_CASE_CONCAT(law_case_registrar_, __LINE__)(expr)

}  // namespace causeway::replication::crdt::testing
