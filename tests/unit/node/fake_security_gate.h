#pragma once
// A SecurityGate for tests: users with passwords, and grants on any, on a
// bucket type or on a type and bucket, all set by the test. It keeps the
// sessions it was asked to authenticate, so tests can check what the
// protocol layer told it.

#include <map>
#include <string>
#include <vector>

#include "node/security_gate.h"

namespace causeway::node {

class FakeSecurityGate : public SecurityGate {
 public:
  struct Grant {
    std::string user;
    Permission permission;
    std::string type;    // empty: any
    std::string bucket;  // empty: the whole type
  };

  bool Enabled() const override { return enabled; }

  Status Authenticate(const std::string& user, const std::string& password,
                      const Session& session) const override {
    seen.push_back(session);
    auto it = passwords.find(user);
    if (it == passwords.end()) return Status::InvalidArgument("unknown user");
    if (it->second != password) return Status::InvalidArgument("bad password");
    return Status::Ok();
  }

  bool Allowed(const std::string& user, Permission permission,
               const std::string& type,
               const std::string& bucket) const override {
    for (const Grant& g : grants) {
      if (g.user != user || g.permission != permission) continue;
      if (g.type.empty()) return true;
      if (g.type == type && (g.bucket.empty() || g.bucket == bucket)) {
        return true;
      }
    }
    return false;
  }

  bool enabled = true;
  std::map<std::string, std::string> passwords;
  std::vector<Grant> grants;
  mutable std::vector<Session> seen;
};

}  // namespace causeway::node
