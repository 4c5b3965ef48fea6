#include "tests/support/test_certs.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

namespace causeway::testing {
namespace {

// Runs `command` through the shell with its output captured; fails with
// both if it exits non-zero.
Status Run(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return Status::IoError("cannot run: " + command);
  std::string output;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof(buf), pipe))
    output.append(buf, n);
  int rc = ::pclose(pipe);
  if (rc != 0) {
    return Status::IoError("'" + command + "' failed (status " +
                           std::to_string(rc) + "): " + output);
  }
  return Status::Ok();
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return out ? Status::Ok() : Status::IoError("cannot write " + path);
}

// A CA: self-signed, allowed to sign certificates.
std::string MakeCa(const std::string& dir, const std::string& name,
                   const std::string& cn) {
  return "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
         "-nodes -days 2 -subj '/CN=" +
         cn +
         "' -addext 'basicConstraints=critical,CA:TRUE' -addext "
         "'keyUsage=critical,keyCertSign,cRLSign' -keyout '" +
         dir + "/" + name + ".key' -out '" + dir + "/" + name + ".pem'";
}

// A leaf key and certificate `name` with common name `cn`, signed by `ca`
// with the extensions in `ext` (a file).
std::vector<std::string> MakeLeaf(const std::string& dir, const std::string& ca,
                                  const std::string& name,
                                  const std::string& cn,
                                  const std::string& ext) {
  const std::string base = dir + "/" + name;
  return {
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-subj '/CN=" +
          cn + "' -keyout '" + base + ".key' -out '" + base + ".csr'",
      "openssl x509 -req -days 2 -in '" + base + ".csr' -CA '" + dir + "/" +
          ca + ".pem' -CAkey '" + dir + "/" + ca +
          ".key' -CAcreateserial -extfile '" + ext + "' -out '" + base +
          ".pem'",
  };
}

}  // namespace

TestCerts::~TestCerts() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Status TestCerts::Make() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "causeway-certs-XXXXXX")
          .string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::IoError("cannot make a temporary directory");
  }
  dir_ = pattern;
  const std::string server_ext = dir_ + "/server.ext";
  const std::string client_ext = dir_ + "/client.ext";
  Status s = WriteFile(server_ext,
                       "basicConstraints=CA:FALSE\n"
                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\n"
                       "subjectAltName=IP:127.0.0.1\n");
  if (s.ok()) {
    s = WriteFile(client_ext,
                  "basicConstraints=CA:FALSE\n"
                  "keyUsage=critical,digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=clientAuth\n");
  }
  if (!s.ok()) return s;
  std::vector<std::string> commands = {
      MakeCa(dir_, "ca", "Causeway Test CA"),
      MakeCa(dir_, "rogue-ca", "Some Other CA"),
  };
  for (auto& c : MakeLeaf(dir_, "ca", "server", "127.0.0.1", server_ext)) {
    commands.push_back(c);
  }
  for (auto& c : MakeLeaf(dir_, "ca", "alice", "alice", client_ext)) {
    commands.push_back(c);
  }
  for (auto& c : MakeLeaf(dir_, "rogue-ca", "rogue", "alice", client_ext)) {
    commands.push_back(c);
  }
  for (const std::string& command : commands) {
    s = Run(command);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace causeway::testing
