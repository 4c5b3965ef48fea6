#pragma once
// TestCerts: a throwaway PKI for TLS tests, made with the `openssl` command
// in a fresh temporary directory: a CA, a server certificate for
// 127.0.0.1 (IP subject alternative name) signed by it, a client
// certificate with common name "alice" signed by it, and a second CA with
// a client certificate of its own that the first CA does not vouch for.
// Keys are unencrypted PEM. The directory is removed on destruction.

#include <string>

#include "base/status.h"

namespace causeway::testing {

class TestCerts {
 public:
  TestCerts() = default;
  ~TestCerts();
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  // Makes every file; fails with the command that failed and its output.
  Status Make();

  const std::string& dir() const { return dir_; }
  std::string ca() const { return dir_ + "/ca.pem"; }
  std::string server_cert() const { return dir_ + "/server.pem"; }
  std::string server_key() const { return dir_ + "/server.key"; }
  std::string client_cert() const { return dir_ + "/alice.pem"; }
  std::string client_key() const { return dir_ + "/alice.key"; }
  // Signed by another CA, which ca() does not trust.
  std::string rogue_ca() const { return dir_ + "/rogue-ca.pem"; }
  std::string rogue_client_cert() const { return dir_ + "/rogue.pem"; }
  std::string rogue_client_key() const { return dir_ + "/rogue.key"; }

 private:
  std::string dir_;
};

}  // namespace causeway::testing
