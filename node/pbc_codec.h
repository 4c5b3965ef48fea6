#pragma once
// The client protocol's framing, with no sockets: a frame is a 4-byte
// big-endian length N followed by N bytes, the first of which is the message
// code (proto/pbc_codes.h) and the rest the protobuf body.
//
// FrameDecoder is fed whatever bytes arrive, in pieces of any size, and
// yields whole frames. It promises that a hostile length costs nothing: a
// length of 0 or above the limit is rejected as soon as its 4 bytes are in,
// before any buffer is sized from it, and a frame's body grows only with the
// bytes actually received, never with the length a peer claims. After an
// error the decoder ignores all further input; frames completed before the
// bad header stay available so the caller can answer them first.
//
// The decoder owns the bytes it buffers; Next() hands a frame's body to the
// caller by move.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "proto/pbc_codes.h"

namespace google::protobuf {
class MessageLite;
}

namespace causeway::node {

struct Frame {
  uint8_t code = 0;  // not necessarily a known pbc::Code
  std::string body;
};

class FrameDecoder {
 public:
  enum class Error {
    kNone,
    kZeroLength,  // a frame must hold at least its code byte
    kTooLarge,    // the length is above max_frame_bytes
    kRefused,     // the admission check refused bytes (see set_admit)
  };
  // Asked before the decoder holds more of a frame: `bytes` is what it
  // would hold for the frame in progress (header, code and body, including
  // the first reservation made when a header announces its length). False
  // breaks the stream with kRefused before anything is allocated, and
  // drops the partial frame (partial_bytes() is 0 from then on).
  using Admit = std::function<bool(size_t bytes)>;

  // `max_frame_bytes` bounds the length field (code byte plus body); values
  // below 1 are raised to 1 so a bare code byte is always acceptable.
  explicit FrameDecoder(uint32_t max_frame_bytes = pbc::kDefaultMaxFrameBytes);
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  void set_admit(Admit admit) { admit_ = std::move(admit); }

  // Consumes `bytes`. Returns false once the stream is broken (now or
  // earlier); the rest of the input is then discarded.
  bool Feed(std::string_view bytes);

  // Moves the oldest complete frame into `*frame`; false when none is ready.
  bool Next(Frame* frame);

  size_t pending_frames() const { return frames_.size(); }
  bool failed() const { return error_ != Error::kNone; }
  Error error() const { return error_; }
  // The length field that broke the stream (meaningful when failed()).
  uint32_t rejected_length() const { return rejected_length_; }
  // A sentence for the peer and the log describing the error.
  std::string ErrorMessage() const;
  uint32_t max_frame_bytes() const { return max_frame_bytes_; }
  // Bytes held for the frame being received (header or body so far).
  size_t partial_bytes() const;

 private:
  // Starts the frame announced by header_; false if its length is refused.
  bool BeginFrame();
  // Runs the admission check; false (and kRefused) if it says no.
  bool CheckAdmit(size_t bytes);

  const uint32_t max_frame_bytes_;
  Error error_ = Error::kNone;
  uint32_t rejected_length_ = 0;
  Admit admit_;

  // Header being assembled.
  uint8_t header_[pbc::kLengthPrefixBytes] = {};
  size_t header_fill_ = 0;

  // Frame being assembled, once its header is accepted.
  bool in_frame_ = false;
  bool have_code_ = false;
  uint32_t frame_remaining_ = 0;  // bytes of this frame still to come
  Frame current_;

  std::deque<Frame> frames_;
};

// Encodes `message` as a frame. Should the body not fit a frame at all (over
// 4 GiB, or a message protobuf refuses to serialize), an RpbErrorResp frame
// saying so is returned instead, so the peer always receives a valid frame.
std::string EncodeFrame(pbc::Code code,
                        const google::protobuf::MessageLite& message);
// A frame whose body is empty (RpbPingResp, RpbDelResp, ...).
std::string EncodeFrame(pbc::Code code);
// A frame with an already-serialized body; `code` may be any byte. The body
// must be shorter than 4 GiB - 1 (checked: an error frame replaces it).
std::string EncodeRawFrame(uint8_t code, std::string_view body);
// An RpbErrorResp frame.
std::string EncodeErrorFrame(pbc::ErrorCode errcode, std::string_view errmsg);

}  // namespace causeway::node
