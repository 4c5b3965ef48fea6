#pragma once
// The peer protocol's wire format, below the connections that carry it:
// frame lengths, the incremental frame decoder and the handshake messages
// with their MAC. Pure functions of bytes (OpenSSL for HMAC-SHA256 and the
// constant-time compare, nothing of Asio), so tests and fuzzers drive them
// directly; node/peer_link.h runs the handshake over a socket with them.
//
// Every frame is a 4-byte big-endian length and a body. The handshake:
//   initiator -> responder  hello (the initiator's names and nonce)
//   responder -> initiator  challenge (the responder's nonce, nothing else)
//   initiator -> responder  proof, with an empty verifier name
//   responder -> initiator  hello, then proof (only if the proof checked out)
// so the side that accepts says nothing identifying (cluster, node) until
// the caller has proved the cluster secret.
//   hello:     "CWPH" version:u8 cluster_len:u16 cluster node_len:u16 node
//              nonce[32]  (bytes after the nonce are ignored, for later
//              versions); the responder's hello repeats its challenge nonce
//   challenge: "CWPC" version:u8 nonce[32]  (later bytes ignored)
//   proof:     "CWPP" mac[32]
// mac = HMAC-SHA256(secret, "causeway-peer-v2" role:u8 cluster_len:u16
//       cluster prover_len:u16 prover verifier_len:u16 verifier
//       prover_nonce[32] verifier_nonce[32]), role 'I' for the side that
// connected and 'R' for the side that accepted. Binding the role, the names
// and both fresh nonces keeps a proof obtained on one connection from being
// replayed or reflected on another.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace causeway::node::peer_wire {

inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kMacBytes = 32;
inline constexpr uint8_t kVersion = 2;
// Frame limit before a connection is authenticated.
inline constexpr uint32_t kMaxHandshakeFrameBytes = 4096;
inline constexpr size_t kMaxNameBytes = 1024;

enum class Role : uint8_t { kInitiator = 'I', kResponder = 'R' };

struct Hello {
  uint8_t version = kVersion;
  std::string cluster;
  std::string node;
  std::array<uint8_t, kNonceBytes> nonce{};
};

std::string EncodeHello(const Hello& hello);
// Returns an error naming what is wrong with `body`.
Status DecodeHello(std::string_view body, Hello* hello);
using Nonce = std::array<uint8_t, kNonceBytes>;
std::string EncodeChallenge(const Nonce& nonce);
Status DecodeChallenge(std::string_view body, Nonce* nonce);
std::string EncodeProof(std::string_view mac);
Status DecodeProof(std::string_view body, std::string* mac);
std::string ComputeMac(std::string_view secret, Role prover_role,
                       std::string_view cluster, std::string_view prover,
                       std::string_view verifier,
                       const std::array<uint8_t, kNonceBytes>& prover_nonce,
                       const std::array<uint8_t, kNonceBytes>& verifier_nonce);
// Constant time in the length of the inputs.
bool MacEquals(std::string_view a, std::string_view b);

std::array<char, 4> EncodeLength(uint32_t length);
// `length` bytes framed.
std::string Frame(std::string_view body);

// Incremental frame reader. Bytes go in as they arrive; whole frames come
// out. A length over the current limit fails the decoder for good, before
// anything is allocated for that frame. The limit may change between
// frames (it rises once the handshake is done).
class FrameDecoder {
 public:
  enum class Result { kFrame, kNeedMore, kError };

  explicit FrameDecoder(uint32_t max_frame_bytes) : max_(max_frame_bytes) {}
  void set_max_frame_bytes(uint32_t max) { max_ = max; }

  void Feed(std::string_view bytes);
  Result Next(std::string* frame);
  bool failed() const { return failed_; }
  // The refused length, after kError.
  uint32_t bad_length() const { return bad_length_; }
  size_t buffered() const { return buffer_.size() - pos_; }

 private:
  uint32_t max_;
  std::string buffer_;
  size_t pos_ = 0;
  bool failed_ = false;
  uint32_t bad_length_ = 0;
};

}  // namespace causeway::node::peer_wire
