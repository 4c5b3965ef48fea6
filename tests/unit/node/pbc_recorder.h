#pragma once
// A PbcResponder for tests of PbcHandler: it keeps what the handler sends,
// decoded back from the wire bytes with the real decoder, and checks that
// every Send carries exactly one whole frame and nothing follows Close().

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "node/pbc_codec.h"
#include "node/pbc_handler.h"

namespace causeway::node {

class Recorder : public PbcResponder {
 public:
  void Send(std::string frame) override {
    ASSERT_FALSE(closed) << "frame sent after Close()";
    ASSERT_TRUE(decoder.Feed(frame));
    Frame f;
    ASSERT_TRUE(decoder.Next(&f));
    ASSERT_EQ(decoder.pending_frames(), 0u) << "one Send, one frame";
    ASSERT_EQ(decoder.partial_bytes(), 0u) << "Send carried a partial frame";
    frames.push_back(std::move(f));
  }
  void Close() override { closed = true; }
  void RequestDone() override { ++done; }
  bool FromLoopback() const override { return loopback; }
  Session& session() override { return session_state; }
  TlsStart StartTls() override {
    ++tls_requests;
    return tls_answer;
  }

  FrameDecoder decoder;
  bool loopback = true;
  Session session_state = [] {
    Session s;
    s.address = "127.0.0.1";
    return s;
  }();
  // What StartTls() answers, and how often it was asked.
  TlsStart tls_answer = TlsStart::kNotConfigured;
  int tls_requests = 0;
  std::vector<Frame> frames;
  bool closed = false;
  int done = 0;
};

}  // namespace causeway::node
