#pragma once
// Client-protocol framing as the bench sends it: a 4-byte big-endian length
// of what follows, the message code byte (proto/pbc_codes.h), the protobuf
// body. Kept separate from node/ so the bench measures the server through the
// wire format alone, not through shared code that could hide a mismatch.

#include <google/protobuf/message_lite.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "proto/pbc_codes.h"

namespace causeway::bench {

// Replaces *out with one frame holding `body`.
void EncodeFrame(pbc::Code code, const google::protobuf::MessageLite& body,
                 std::string* out);
// The same with an already-serialized body (tests use it to send odd codes).
void EncodeRawFrame(uint8_t code, std::string_view body, std::string* out);

// Decodes the length prefix. A frame must hold at least the code byte and at
// most `max_frame_bytes`; anything else is InvalidArgument, checked before
// the caller allocates for the rest.
Status DecodeFrameLength(const unsigned char header[pbc::kLengthPrefixBytes],
                         uint32_t max_frame_bytes, uint32_t* length);

}  // namespace causeway::bench
