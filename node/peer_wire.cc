#include "node/peer_wire.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "base/coding.h"

namespace causeway::node::peer_wire {

namespace {

constexpr std::string_view kHelloMagic = "CWPH";
constexpr std::string_view kProofMagic = "CWPP";
constexpr std::string_view kChallengeMagic = "CWPC";
constexpr std::string_view kMacLabel = "causeway-peer-v2";

// Names are at most kMaxNameBytes long, so their lengths fit in a u16.
void PutName(std::string* out, std::string_view name) {
  coding::PutFixed16(out, static_cast<uint16_t>(name.size()));
  out->append(name);
}

// Reads a u16-length-prefixed string from `in` at `*pos`.
bool GetString(std::string_view in, size_t* pos, std::string* out) {
  std::string_view rest = in.substr(*pos);
  uint16_t len = 0;
  if (!coding::GetFixed16(&rest, &len) || rest.size() < len) return false;
  out->assign(rest.substr(0, len));
  *pos += 2 + size_t{len};
  return true;
}

// Checks `magic` and a supported version at the start of `body`; on success
// `*pos` is just past the version byte.
Status GetMagicAndVersion(std::string_view body, std::string_view magic,
                          std::string_view what, uint8_t* version,
                          size_t* pos) {
  if (body.size() < magic.size() + 1 || body.substr(0, magic.size()) != magic) {
    return Status::Corruption("not a Causeway peer " + std::string(what));
  }
  *pos = magic.size();
  *version = static_cast<uint8_t>(body[(*pos)++]);
  if (*version < kVersion) {
    return Status::Corruption("unsupported peer protocol version " +
                              std::to_string(*version));
  }
  return Status::Ok();
}

// Reads a nonce from `body` at `pos`.
bool GetNonce(std::string_view body, size_t pos, Nonce* nonce) {
  if (body.size() < pos || body.size() - pos < kNonceBytes) return false;
  std::copy_n(reinterpret_cast<const uint8_t*>(body.data() + pos), kNonceBytes,
              nonce->begin());
  return true;
}

void PutNonce(std::string* out, const Nonce& nonce) {
  out->append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
}

}  // namespace

std::string EncodeHello(const Hello& hello) {
  std::string out(kHelloMagic);
  out.push_back(static_cast<char>(hello.version));
  // Names are bounded by kMaxNameBytes on decode; never emit what a peer
  // would have to refuse anyway.
  const size_t cluster_len = std::min(hello.cluster.size(), kMaxNameBytes);
  const size_t node_len = std::min(hello.node.size(), kMaxNameBytes);
  PutName(&out, std::string_view(hello.cluster).substr(0, cluster_len));
  PutName(&out, std::string_view(hello.node).substr(0, node_len));
  PutNonce(&out, hello.nonce);
  return out;
}

Status DecodeHello(std::string_view body, Hello* hello) {
  size_t pos = 0;
  Status s =
      GetMagicAndVersion(body, kHelloMagic, "hello", &hello->version, &pos);
  if (!s.ok()) return s;
  if (!GetString(body, &pos, &hello->cluster) ||
      !GetString(body, &pos, &hello->node)) {
    return Status::Corruption("truncated hello");
  }
  if (hello->cluster.size() > kMaxNameBytes ||
      hello->node.size() > kMaxNameBytes) {
    return Status::Corruption("name too long in hello");
  }
  if (hello->node.empty()) return Status::Corruption("hello names no node");
  if (!GetNonce(body, pos, &hello->nonce)) {
    return Status::Corruption("truncated hello nonce");
  }
  return Status::Ok();
}

std::string EncodeChallenge(const Nonce& nonce) {
  std::string out(kChallengeMagic);
  out.push_back(static_cast<char>(kVersion));
  PutNonce(&out, nonce);
  return out;
}

Status DecodeChallenge(std::string_view body, Nonce* nonce) {
  size_t pos = 0;
  uint8_t version = 0;
  Status s =
      GetMagicAndVersion(body, kChallengeMagic, "challenge", &version, &pos);
  if (!s.ok()) return s;
  if (!GetNonce(body, pos, nonce)) {
    return Status::Corruption("truncated challenge nonce");
  }
  return Status::Ok();
}

std::string EncodeProof(std::string_view mac) {
  std::string out(kProofMagic);
  out.append(mac);
  return out;
}

Status DecodeProof(std::string_view body, std::string* mac) {
  if (body.size() != kProofMagic.size() + kMacBytes ||
      body.substr(0, kProofMagic.size()) != kProofMagic) {
    return Status::Corruption("not a Causeway peer proof");
  }
  mac->assign(body.substr(kProofMagic.size()));
  return Status::Ok();
}

std::string ComputeMac(std::string_view secret, Role prover_role,
                       std::string_view cluster, std::string_view prover,
                       std::string_view verifier,
                       const std::array<uint8_t, kNonceBytes>& prover_nonce,
                       const std::array<uint8_t, kNonceBytes>& verifier_nonce) {
  // Every variable-length part is length-prefixed, so no two different
  // (cluster, prover, verifier) triples feed the MAC the same bytes.
  std::string input(kMacLabel);
  input.push_back(static_cast<char>(prover_role));
  for (std::string_view part : {cluster, prover, verifier}) {
    PutName(&input, part.substr(0, kMaxNameBytes));
  }
  PutNonce(&input, prover_nonce);
  PutNonce(&input, verifier_nonce);

  static const unsigned char kEmptyKey = 0;
  const void* key = secret.empty() ? static_cast<const void*>(&kEmptyKey)
                                   : static_cast<const void*>(secret.data());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(),
           out, &out_len) == nullptr ||
      out_len != kMacBytes) {
    // Cannot happen with a working libcrypto; an empty MAC never verifies.
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

bool MacEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::array<char, 4> EncodeLength(uint32_t length) {
  return {static_cast<char>((length >> 24) & 0xff),
          static_cast<char>((length >> 16) & 0xff),
          static_cast<char>((length >> 8) & 0xff),
          static_cast<char>(length & 0xff)};
}

std::string Frame(std::string_view body) {
  const std::array<char, 4> header =
      EncodeLength(static_cast<uint32_t>(body.size()));
  std::string out(header.data(), header.size());
  out.append(body);
  return out;
}

void FrameDecoder::Feed(std::string_view bytes) {
  if (failed_) return;
  // Consumed bytes are dropped lazily, when they are the larger part.
  if (pos_ > 0 && pos_ >= buffer_.size() / 2) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

FrameDecoder::Result FrameDecoder::Next(std::string* frame) {
  if (failed_) return Result::kError;
  const size_t available = buffer_.size() - pos_;
  if (available < 4) return Result::kNeedMore;
  const uint32_t length = coding::DecodeFixed32(buffer_.data() + pos_);
  if (length > max_) {
    failed_ = true;
    bad_length_ = length;
    buffer_.clear();
    buffer_.shrink_to_fit();
    pos_ = 0;
    return Result::kError;
  }
  if (available - 4 < length) {
    // The length is within the limit: make room for the whole frame once
    // rather than growing the buffer read by read.
    if (pos_ > 0) {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    buffer_.reserve(size_t{4} + length);
    return Result::kNeedMore;
  }
  frame->assign(buffer_, pos_ + 4, length);
  pos_ += size_t{4} + length;
  if (pos_ == buffer_.size()) {
    pos_ = 0;
    // One large frame should not pin its buffer for the connection's life.
    if (buffer_.capacity() > (size_t{1} << 20)) {
      std::string().swap(buffer_);
    } else {
      buffer_.clear();
    }
  }
  return Result::kFrame;
}

}  // namespace causeway::node::peer_wire
