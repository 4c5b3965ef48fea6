#include "tests/unit/client/cli_harness.h"

#include <sstream>

#include "client/cli.h"
#include "proto/riak.pb.h"

namespace causeway::client::testing {

CliResult RunTool(std::vector<std::string> args, const RunOptions& options) {
  args.insert(args.begin(), "causeway");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::istringstream in(options.stdin_data);
  std::ostringstream out, err;
  cli::CliIo io;
  io.in = &in;
  io.out = &out;
  io.err = &err;
  io.out_is_terminal = options.terminal;
  io.getenv = [&](const std::string& name) -> std::optional<std::string> {
    auto it = options.env.find(name);
    if (it == options.env.end()) return std::nullopt;
    return it->second;
  };
  CliResult r;
  r.code = cli::RunCli(static_cast<int>(argv.size()), argv.data(), io);
  r.out = out.str();
  r.err = err.str();
  return r;
}

FakeNode::FakeNode()
    : server_([this](const Request& req) {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = replies_.find(static_cast<pbc::Code>(req.code));
        if (it == replies_.end()) {
          return Reply{FakeServer::ErrorFrame(
              "no canned reply for code " + std::to_string(req.code), 2)};
        }
        return Reply{it->second};
      }) {}

void FakeNode::Answer(pbc::Code request, std::string bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  replies_[request] = std::move(bytes);
}

void FakeNode::AnswerGet(const std::vector<std::string>& values,
                         const std::string& vclock) {
  pbc::RpbGetResp resp;
  if (!vclock.empty()) resp.set_vclock(vclock);
  for (const std::string& v : values) {
    pbc::RpbContent* c = resp.add_content();
    c->set_value(v);
    c->set_content_type("text/plain");
  }
  Answer(pbc::Code::kGetReq, FakeServer::Frame(pbc::Code::kGetResp, resp));
}

std::vector<uint8_t> FakeNode::codes() const {
  std::vector<uint8_t> out;
  for (const Request& r : server_.requests()) out.push_back(r.code);
  return out;
}

}  // namespace causeway::client::testing
