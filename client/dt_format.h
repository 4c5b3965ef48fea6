#pragma once
// Riak data types in the CLI, without a server: the grammar of
// `causeway map update` operations, and the text and JSON forms of sets and
// maps. Pure functions, so both are testable on their own.
//
// Map operations, one per argument, fields named NAME_TYPE as in Riak's
// HTTP map API (the type is what follows the last '_'):
//
//   visits_counter+=1   visits_counter-=2     (a signed 64-bit step)
//   tags_set+=red       tags_set-=blue
//   name_register=alice
//   active_flag=on      active_flag=off
//   address_map.city_register=Seoul           (a field of a nested map)
//
// and removals of whole fields, given apart (`--remove tags_set`,
// `--remove address_map.city_register`). In a path a backslash takes the
// next character as part of the name (`a\.b_set` is the set "a.b"); the
// first unescaped '=' (with a '+' or '-' before it) ends the path, and
// the value is everything after it, as typed. Operations on the same map
// are merged into one MapUpdate of that map (a field appears once per
// level): set adds and removes accumulate, counter steps add up. Setting
// one register or flag twice, naming an element as both added and
// removed, or updating a field that is also removed is refused.

#include <string>
#include <vector>

#include "base/status.h"
#include "proto/riak.pb.h"

namespace causeway::client {

using MapEntries = google::protobuf::RepeatedPtrField<pbc::MapEntry>;
using Elements = google::protobuf::RepeatedPtrField<std::string>;

// Adds the operations in `ops` to `out`. InvalidArgument, naming the
// operation at fault, when one does not follow the grammar above; `out`
// is then partly built and must not be sent.
Status ParseMapOps(const std::vector<std::string>& ops,
                   const std::vector<std::string>& removes, pbc::MapOp* out);

// Whether `op`, at any depth, removes a field or a set element: such an
// update needs the context of a fetch.
bool MapOpRemoves(const pbc::MapOp& op);

// "counter", "set", "register", "flag", "map".
const char* MapFieldTypeName(pbc::MapField::MapFieldType type);

// One line per element, each in the Printable form (base/printable.h), so
// that an element holding a newline still takes one line.
std::string RenderElementsText(const Elements& elements);
// {"elements":[...]}, each element as JsonName (a string, or
// {"base64":..} when it is not UTF-8).
std::string RenderElementsJson(const Elements& elements);

// One line per leaf field, its path joined with '.':
//   profile.visits (counter) = 3
//   tags (set) = a, b
//   name (register) = "x"
//   admin (flag) = true
//   empty (map) = {}
// Names, elements and register values in the Printable form.
std::string RenderMapText(const MapEntries& entries);
// {"map":{...}}: an object per map, keyed "NAME (TYPE)" with NAME in the
// Printable form; counters are numbers, sets arrays, registers JsonName,
// flags booleans and maps nested objects of the same shape.
std::string RenderMapJson(const MapEntries& entries);

}  // namespace causeway::client
