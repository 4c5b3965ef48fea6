#include "bench/pbc_frame.h"

namespace causeway::bench {
namespace {

void PutHeader(uint32_t length, uint8_t code, char* p) {
  p[0] = static_cast<char>((length >> 24) & 0xff);
  p[1] = static_cast<char>((length >> 16) & 0xff);
  p[2] = static_cast<char>((length >> 8) & 0xff);
  p[3] = static_cast<char>(length & 0xff);
  p[4] = static_cast<char>(code);
}

constexpr size_t kHeaderBytes = pbc::kLengthPrefixBytes + 1;

}  // namespace

void EncodeFrame(pbc::Code code, const google::protobuf::MessageLite& body,
                 std::string* out) {
  size_t body_size = body.ByteSizeLong();
  out->resize(kHeaderBytes + body_size);
  PutHeader(static_cast<uint32_t>(body_size + 1), static_cast<uint8_t>(code),
            out->data());
  body.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(out->data() + kHeaderBytes));
}

void EncodeRawFrame(uint8_t code, std::string_view body, std::string* out) {
  out->resize(kHeaderBytes + body.size());
  PutHeader(static_cast<uint32_t>(body.size() + 1), code, out->data());
  out->replace(kHeaderBytes, body.size(), body.data(), body.size());
}

Status DecodeFrameLength(const unsigned char header[pbc::kLengthPrefixBytes],
                         uint32_t max_frame_bytes, uint32_t* length) {
  uint32_t n = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
               (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  if (n == 0) {
    return Status::InvalidArgument("frame of length 0 has no message code");
  }
  if (n > max_frame_bytes) {
    return Status::InvalidArgument("frame of " + std::to_string(n) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(max_frame_bytes));
  }
  *length = n;
  return Status::Ok();
}

}  // namespace causeway::bench
