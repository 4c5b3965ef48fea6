#pragma once
// Helpers for tests of the `causeway` tool: RunTool runs the whole CLI
// in-process (RunCli) with captured stdin/stdout/stderr and a fake
// environment; FakeNode is a FakeServer that answers each request code with
// canned bytes and records what the tool sent. Both are owned by the test.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/pbc_codes.h"
#include "tests/unit/client/fake_server.h"

namespace causeway::client::testing {

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string stdin_data;
  bool terminal = false;
  std::map<std::string, std::string> env;
};

// `args` without the program name.
CliResult RunTool(std::vector<std::string> args,
                  const RunOptions& options = {});

// Codes without a canned answer get an RpbErrorResp naming them (errcode 2,
// unknown message), as a node that does not serve them would.
class FakeNode {
 public:
  FakeNode();

  void Answer(pbc::Code request, std::string bytes);
  // A get reply with one text/plain sibling per value.
  void AnswerGet(const std::vector<std::string>& values,
                 const std::string& vclock);

  std::string node() const { return server_.endpoint(); }
  std::vector<Request> requests() const { return server_.requests(); }
  std::vector<uint8_t> codes() const;
  // The body of request `index`, parsed as M (fails the test if it is not).
  template <typename M>
  M Sent(size_t index) const {
    M message;
    std::vector<Request> reqs = server_.requests();
    EXPECT_LT(index, reqs.size());
    if (index < reqs.size()) {
      EXPECT_TRUE(message.ParseFromString(reqs[index].body));
    }
    return message;
  }

 private:
  std::mutex mu_;  // replies_ is read on the server's thread
  std::map<pbc::Code, std::string> replies_;
  FakeServer server_;
};

}  // namespace causeway::client::testing
