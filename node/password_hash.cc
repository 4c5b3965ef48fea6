#include "node/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <string>

namespace causeway::node {
namespace {

// Within what a record may hold and what PKCS5_PBKDF2_HMAC takes (int).
constexpr uint32_t kMinIterations = 1;
constexpr uint32_t kMaxIterations = 10'000'000;

bool Derive(std::string_view password, std::string_view salt,
            uint32_t iterations, std::string* key) {
  key->assign(kPasswordKeyBytes, '\0');
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()),
                           static_cast<int>(iterations), EVP_sha256(),
                           static_cast<int>(key->size()),
                           reinterpret_cast<unsigned char*>(key->data())) == 1;
}

}  // namespace

Status HashPassword(std::string_view password, uint32_t iterations,
                    replication::security::PasswordRecord* record) {
  if (password.empty()) return Status::InvalidArgument("the password is empty");
  if (password.size() > kMaxPasswordBytes) {
    return Status::InvalidArgument("passwords are at most " +
                                   std::to_string(kMaxPasswordBytes) +
                                   " bytes");
  }
  if (iterations < kMinIterations || iterations > kMaxIterations) {
    return Status::InvalidArgument("bad PBKDF2 iteration count");
  }
  replication::security::PasswordRecord r;
  r.algorithm = std::string(kPasswordAlgorithm);
  r.iterations = iterations;
  r.salt.assign(kPasswordSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(r.salt.data()),
                 static_cast<int>(r.salt.size())) != 1) {
    return Status::Unavailable("no random bytes for a password salt");
  }
  if (!Derive(password, r.salt, iterations, &r.key)) {
    return Status::Unavailable("PBKDF2 failed");
  }
  *record = std::move(r);
  return Status::Ok();
}

bool VerifyPassword(std::string_view password,
                    const replication::security::PasswordRecord& record) {
  // Records come from gossip too: check their shape before using them.
  if (record.algorithm != kPasswordAlgorithm ||
      record.iterations < kMinIterations ||
      record.iterations > kMaxIterations || record.salt.empty() ||
      record.key.size() != kPasswordKeyBytes ||
      password.size() > kMaxPasswordBytes) {
    return false;
  }
  std::string key;
  if (!Derive(password, record.salt, record.iterations, &key)) return false;
  return CRYPTO_memcmp(key.data(), record.key.data(), key.size()) == 0;
}

}  // namespace causeway::node
