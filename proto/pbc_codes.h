#pragma once
// Message codes of the client protocol: the byte that precedes each protobuf
// body on the wire (after the 4-byte big-endian length). Values are Riak's.

#include <cstdint>

namespace causeway::pbc {

enum class Code : uint8_t {
  kErrorResp = 0,
  kPingReq = 1,
  kPingResp = 2,
  kGetClientIdReq = 3,
  kGetClientIdResp = 4,
  kSetClientIdReq = 5,
  kSetClientIdResp = 6,
  kGetServerInfoReq = 7,
  kGetServerInfoResp = 8,
  kGetReq = 9,
  kGetResp = 10,
  kPutReq = 11,
  kPutResp = 12,
  kDelReq = 13,
  kDelResp = 14,
  kListBucketsReq = 15,
  kListBucketsResp = 16,
  kListKeysReq = 17,
  kListKeysResp = 18,
  kGetBucketReq = 19,
  kGetBucketResp = 20,
  kSetBucketReq = 21,
  kSetBucketResp = 22,
  kResetBucketReq = 29,
  kResetBucketResp = 30,
  kGetBucketTypeReq = 31,  // answered with kGetBucketResp
  kSetBucketTypeReq = 32,  // answered with kSetBucketResp
  kGetBucketKeyPreflistReq = 33,
  kGetBucketKeyPreflistResp = 34,
  kDtFetchReq = 80,
  kDtFetchResp = 81,
  kDtUpdateReq = 82,
  kDtUpdateResp = 83,
  // Causeway's own (proto/admin.proto); Riak leaves these codes unused.
  kClusterJoinReq = 200,
  kClusterJoinResp = 201,
  kClusterLeaveReq = 202,
  kClusterLeaveResp = 203,
  kClusterStatusReq = 204,
  kClusterStatusResp = 205,
  kCreateBucketTypeReq = 206,  // answered with kSetBucketResp
  kListBucketTypesReq = 207,
  kListBucketTypesResp = 208,
  kSecurityChangeReq = 209,
  kSecurityChangeResp = 210,
  kSecurityStatusReq = 211,
  kSecurityStatusResp = 212,
  // Riak's security: authentication and the switch to TLS (no body).
  kAuthReq = 253,
  kAuthResp = 254,
  kStartTls = 255,  // the request and its answer
};

// Bytes of the length prefix; the length counts the code byte and the body.
inline constexpr size_t kLengthPrefixBytes = 4;
inline constexpr uint32_t kDefaultMaxFrameBytes = 64u << 20;

// Error codes carried in RpbErrorResp.errcode. Riak clients only display
// them; these make the kind of failure machine-readable.
enum class ErrorCode : uint32_t {
  kGeneric = 0,
  kBadRequest = 1,
  kUnknownMessage = 2,
  kNotFound = 3,
  kUnavailable = 4,
  kTimeout = 5,
  kPreconditionFailed = 6,
  kInternal = 7,
  kFrameTooLarge = 8,
  // Security is enabled and the connection has not started TLS or has not
  // authenticated, or the credentials were refused.
  kUnauthenticated = 9,
  // The authenticated user holds no grant for the request.
  kPermissionDenied = 10,
};

}  // namespace causeway::pbc
