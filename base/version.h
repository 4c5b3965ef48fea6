#pragma once
// Causeway's version: the one place it is written (the top CMakeLists.txt
// reads it from here for the project version).

#define CAUSEWAY_VERSION "0.1.0"

namespace causeway {

inline constexpr char kVersion[] = CAUSEWAY_VERSION;

// The Riak release whose client protocol Causeway speaks.
#define CAUSEWAY_RIAK_PROTOCOL_VERSION "2.2.3"

// What a node reports as server_version in RpbGetServerInfoResp. Riak
// clients read its leading number to decide which features the server has
// (data types and bucket types need 2.0 or later), so the Riak protocol
// version leads and Causeway's own follows.
inline constexpr char kServerVersion[] =
    CAUSEWAY_RIAK_PROTOCOL_VERSION "-causeway-" CAUSEWAY_VERSION;

}  // namespace causeway
