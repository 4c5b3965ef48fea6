// secure_test_node: a test-only single node whose client port runs TLS and
// Riak's security with a fixed, in-memory set of users and grants (the
// fake gate of the unit tests) over an in-memory store. It lets a client
// that knows only Riak (Basho's Node.js client) be checked against the
// real client port: STARTTLS, handshake, login, grants, refusals. Never a
// production binary; it holds passwords in plain text.
//
// Usage: secure_test_node --cert F --key F [--ca F] --ports-file F
//          [--user NAME:PASSWORD]... [--grant
//          USER:PERMISSION[:TYPE[:BUCKET]]]...
// Listens on 127.0.0.1 on a free port, writes {"pb": PORT} to the ports
// file once listening, and runs until SIGTERM or SIGINT.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "node/asio_env.h"
#include "node/pbc_server.h"
#include "node/stats.h"
#include "replication/core.h"
#include "storage/engine.h"
#include "tests/unit/node/fake_security_gate.h"

namespace {

using causeway::node::FakeSecurityGate;

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

int Usage(const std::string& problem) {
  std::cerr << "secure_test_node: " << problem
            << "\nusage: secure_test_node --cert F --key F [--ca F] "
               "--ports-file F [--user NAME:PASSWORD]... [--grant "
               "USER:PERMISSION[:TYPE[:BUCKET]]]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  causeway::node::PbcServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  std::string ports_file;
  FakeSecurityGate gate;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage(flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--cert") {
      options.tls_cert_file = value;
    } else if (flag == "--key") {
      options.tls_key_file = value;
    } else if (flag == "--ca") {
      options.tls_ca_file = value;
    } else if (flag == "--ports-file") {
      ports_file = value;
    } else if (flag == "--user") {
      size_t colon = value.find(':');
      if (colon == std::string::npos) return Usage("--user NAME:PASSWORD");
      gate.passwords[value.substr(0, colon)] = value.substr(colon + 1);
    } else if (flag == "--grant") {
      std::vector<std::string> parts = Split(value, ':');
      if (parts.size() < 2 || parts.size() > 4) {
        return Usage("--grant USER:PERMISSION[:TYPE[:BUCKET]]");
      }
      auto permission = causeway::node::ParsePermission(parts[1]);
      if (!permission) return Usage("unknown permission " + parts[1]);
      gate.grants.push_back({parts[0], *permission,
                             parts.size() > 2 ? parts[2] : "",
                             parts.size() > 3 ? parts[3] : ""});
    } else {
      return Usage("unknown flag " + flag);
    }
  }
  if (ports_file.empty()) return Usage("--ports-file is required");
  options.security = &gate;

  boost::asio::io_context io;
  causeway::node::AsioEnv env(io);
  std::unique_ptr<causeway::storage::Engine> engine =
      causeway::storage::NewMemoryEngine();
  causeway::replication::NodeConfig config;
  config.name = "secure-test@127.0.0.1";
  causeway::replication::NodeCore core(env, *engine, config);
  causeway::Status s = core.Open();
  if (!s.ok()) {
    std::cerr << "secure_test_node: " << s.ToString() << "\n";
    return 1;
  }
  causeway::node::Stats stats;
  causeway::node::PbcServer server(io, core, stats, options);
  s = server.Start();
  if (!s.ok()) {
    std::cerr << "secure_test_node: " << s.ToString() << "\n";
    return 1;
  }
  {
    std::ofstream out(ports_file + ".tmp");
    out << "{\"pb\": " << server.port() << "}\n";
  }
  std::rename((ports_file + ".tmp").c_str(), ports_file.c_str());

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) {
    server.Stop();
    env.CancelAll();
    io.stop();
  });
  io.run();
  std::cerr << "secure_test_node: stopped; tls handshakes "
            << stats.client_security.tls_handshakes << ", failed "
            << stats.client_security.tls_handshake_failures << ", logins "
            << stats.client_security.auth_successes << ", refused "
            << stats.client_security.auth_failures << ", permission denied "
            << stats.client_security.permission_denied << "\n";
  return 0;
}
