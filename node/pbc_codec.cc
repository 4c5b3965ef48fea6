#include "node/pbc_codec.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "proto/riak.pb.h"

namespace causeway::node {

namespace {

// A first reservation for a body, so small frames take one allocation while
// a peer that claims a large length and then stalls holds little memory.
constexpr size_t kInitialBodyReserve = 16 << 10;

// The largest body a frame can carry: the length field is 32 bits and also
// counts the code byte.
constexpr size_t kMaxBody = std::numeric_limits<uint32_t>::max() - 1;

// Error messages are for people; a bound keeps an error frame always small.
constexpr size_t kMaxErrorMessage = 4096;

void AppendLength(uint32_t length, std::string* out) {
  out->push_back(static_cast<char>((length >> 24) & 0xff));
  out->push_back(static_cast<char>((length >> 16) & 0xff));
  out->push_back(static_cast<char>((length >> 8) & 0xff));
  out->push_back(static_cast<char>(length & 0xff));
}

}  // namespace

FrameDecoder::FrameDecoder(uint32_t max_frame_bytes)
    : max_frame_bytes_(std::max<uint32_t>(max_frame_bytes, 1)) {}

bool FrameDecoder::Feed(std::string_view bytes) {
  while (!bytes.empty() && !failed()) {
    if (!in_frame_) {
      size_t take =
          std::min(bytes.size(), pbc::kLengthPrefixBytes - header_fill_);
      std::copy_n(bytes.data(), take, header_ + header_fill_);
      header_fill_ += take;
      bytes.remove_prefix(take);
      if (header_fill_ < pbc::kLengthPrefixBytes) break;
      if (!BeginFrame()) break;
      continue;
    }
    if (!have_code_) {
      current_.code = static_cast<uint8_t>(bytes.front());
      have_code_ = true;
      bytes.remove_prefix(1);
      --frame_remaining_;
    }
    size_t take = std::min<size_t>(bytes.size(), frame_remaining_);
    if (!CheckAdmit(pbc::kLengthPrefixBytes + 1 + current_.body.size() +
                    take)) {
      break;
    }
    current_.body.append(bytes.data(), take);
    bytes.remove_prefix(take);
    frame_remaining_ -= static_cast<uint32_t>(take);
    if (frame_remaining_ == 0) {
      frames_.push_back(std::move(current_));
      current_ = Frame();
      in_frame_ = false;
      have_code_ = false;
      header_fill_ = 0;
    }
  }
  return !failed();
}

bool FrameDecoder::BeginFrame() {
  uint32_t length = (static_cast<uint32_t>(header_[0]) << 24) |
                    (static_cast<uint32_t>(header_[1]) << 16) |
                    (static_cast<uint32_t>(header_[2]) << 8) |
                    static_cast<uint32_t>(header_[3]);
  // Checked before anything is sized from `length`.
  if (length == 0 || length > max_frame_bytes_) {
    error_ = length == 0 ? Error::kZeroLength : Error::kTooLarge;
    rejected_length_ = length;
    return false;
  }
  const size_t reserve = std::min<size_t>(length - 1, kInitialBodyReserve);
  if (!CheckAdmit(pbc::kLengthPrefixBytes + 1 + reserve)) {
    rejected_length_ = length;
    return false;
  }
  in_frame_ = true;
  have_code_ = false;
  frame_remaining_ = length;
  current_ = Frame();
  current_.body.reserve(reserve);
  return true;
}

bool FrameDecoder::CheckAdmit(size_t bytes) {
  if (!admit_ || admit_(bytes)) return true;
  error_ = Error::kRefused;
  // The stream is over: the frame in progress will never complete, so its
  // bytes are let go now rather than when the decoder goes.
  current_ = Frame();
  in_frame_ = false;
  have_code_ = false;
  header_fill_ = 0;
  return false;
}

bool FrameDecoder::Next(Frame* frame) {
  if (frames_.empty()) return false;
  *frame = std::move(frames_.front());
  frames_.pop_front();
  return true;
}

size_t FrameDecoder::partial_bytes() const {
  if (!in_frame_) return header_fill_;
  return pbc::kLengthPrefixBytes + (have_code_ ? 1 : 0) + current_.body.size();
}

std::string FrameDecoder::ErrorMessage() const {
  switch (error_) {
    case Error::kNone:
      return "no error";
    case Error::kZeroLength:
      return "frame length 0 is invalid: a frame holds at least a message "
             "code";
    case Error::kRefused:
      return "the server is holding too many bytes of unfinished frames";
    case Error::kTooLarge:
      return "frame of " + std::to_string(rejected_length_) +
             " bytes is over this server's limit of " +
             std::to_string(max_frame_bytes_) + " bytes";
  }
  return "unknown frame error";
}

std::string EncodeRawFrame(uint8_t code, std::string_view body) {
  if (body.size() > kMaxBody) {
    return EncodeErrorFrame(pbc::ErrorCode::kInternal,
                            "reply too large to send in one frame");
  }
  std::string out;
  out.reserve(pbc::kLengthPrefixBytes + 1 + body.size());
  AppendLength(static_cast<uint32_t>(body.size() + 1), &out);
  out.push_back(static_cast<char>(code));
  out.append(body);
  return out;
}

std::string EncodeFrame(pbc::Code code) {
  return EncodeRawFrame(static_cast<uint8_t>(code), {});
}

std::string EncodeFrame(pbc::Code code,
                        const google::protobuf::MessageLite& message) {
  size_t size = message.ByteSizeLong();
  // protobuf cannot serialize 2 GiB or more; the frame limit is lower still.
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      size > kMaxBody) {
    return EncodeErrorFrame(pbc::ErrorCode::kInternal,
                            "reply too large to send in one frame");
  }
  // A reply missing a required field is our bug; clients would reject it.
  if (!message.IsInitialized()) {
    return EncodeErrorFrame(pbc::ErrorCode::kInternal,
                            "internal error: reply lacks a required field");
  }
  std::string out;
  out.reserve(pbc::kLengthPrefixBytes + 1 + size);
  AppendLength(static_cast<uint32_t>(size + 1), &out);
  out.push_back(static_cast<char>(code));
  if (!message.AppendPartialToString(&out)) {
    return EncodeErrorFrame(pbc::ErrorCode::kInternal,
                            "internal error: could not encode the reply");
  }
  // ByteSizeLong was computed above; a mismatch would corrupt the stream.
  if (out.size() != pbc::kLengthPrefixBytes + 1 + size) {
    return EncodeErrorFrame(pbc::ErrorCode::kInternal,
                            "internal error: reply changed while encoding");
  }
  return out;
}

std::string EncodeErrorFrame(pbc::ErrorCode errcode, std::string_view errmsg) {
  pbc::RpbErrorResp resp;
  resp.set_errmsg(std::string(errmsg.substr(0, kMaxErrorMessage)));
  resp.set_errcode(static_cast<uint32_t>(errcode));
  std::string body;
  resp.SerializeToString(&body);  // small and fully initialized: cannot fail
  std::string out;
  AppendLength(static_cast<uint32_t>(body.size() + 1), &out);
  out.push_back(static_cast<char>(pbc::Code::kErrorResp));
  out.append(body);
  return out;
}

}  // namespace causeway::node
