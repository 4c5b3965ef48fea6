#pragma once
// A one-node NodeCore for fuzz targets: in-memory engine, ManualEnv, and a
// network that discards what the core sends (there are no peers to answer).
// Each input gets a fresh node, so an input's outcome never depends on the
// inputs before it and a saved input replays the same way.

#include <memory>
#include <string>

#include "replication/core.h"
#include "replication/network.h"
#include "storage/engine.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/support/manual_env.h"

namespace causeway::fuzz {

class DiscardNetwork : public replication::Network {
 public:
  void Send(const replication::NodeName&, const std::string&,
            std::string) override {
    ++sent;
  }
  uint64_t sent = 0;
};

struct OneNode {
  static constexpr const char* kName = "causeway@fuzz";

  OneNode() : engine(storage::NewMemoryEngine()) {
    replication::NodeConfig config;
    config.name = kName;
    config.peer_address = "127.0.0.1:1";
    // Small: each input builds a ring of its own.
    config.ring_size = 8;
    config.request_timeout_ms = 2000;
    core = std::make_unique<replication::NodeCore>(env, *engine, config);
    FUZZ_CHECK(core->Open().ok());
    core->AttachNetwork(&network);
    core->Start();
  }
  ~OneNode() {
    core->Close();
    core.reset();
  }

  testing::ManualEnv env;
  DiscardNetwork network;
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<replication::NodeCore> core;
};

}  // namespace causeway::fuzz
