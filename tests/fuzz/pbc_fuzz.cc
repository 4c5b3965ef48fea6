// Target "pbc": the client port without sockets. The input is a byte stream
// as a client would send it; it goes through node::FrameDecoder in chunks,
// and every frame the decoder yields goes to node::PbcHandler in front of a
// one-node core (harness.h), as a connection would hand them over: one
// request at a time, the next only after RequestDone().
//
// Input: byte 0 picks the chunk size the stream is fed in; byte 1 the frame
// limit (0: the default 64 MiB, else byte * 64, so the too-large path is
// reachable); the rest is the stream.
//
// Promises checked (node/pbc_codec.h, node/pbc_handler.h): every Send is
// exactly one whole frame; an RpbErrorResp body parses; nothing is sent
// after Close(); each request ends with exactly one RequestDone(), within a
// bounded amount of virtual time (no hang), and without closing the
// connection; a stream the decoder refuses is answered with one error frame
// and closed.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/pbc_codec.h"
#include "node/pbc_handler.h"
#include "node/stats.h"
#include "proto/riak.pb.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/harness.h"

namespace causeway::fuzz {
namespace {

// Bounds the work one input can ask for.
constexpr int kMaxRequests = 32;
// Virtual time a request may take: well past the core's request timeout.
constexpr int kMaxSteps = 64;
constexpr uint64_t kStepMs = 500;

class CheckingResponder : public node::PbcResponder {
 public:
  void Send(std::string frame) override {
    FUZZ_CHECK(!closed);
    FUZZ_CHECK(decoder.Feed(frame));
    node::Frame f;
    FUZZ_CHECK(decoder.Next(&f));
    FUZZ_CHECK(decoder.pending_frames() == 0);
    FUZZ_CHECK(decoder.partial_bytes() == 0);
    if (f.code == static_cast<uint8_t>(pbc::Code::kErrorResp)) {
      pbc::RpbErrorResp e;
      FUZZ_CHECK(e.ParseFromString(f.body));
    }
    ++frames;
  }
  void Close() override { closed = true; }
  void RequestDone() override { ++done; }
  bool FromLoopback() const override { return true; }
  node::Session& session() override { return session_state; }
  TlsStart StartTls() override { return TlsStart::kNotConfigured; }

  node::Session session_state = [] {
    node::Session s;
    s.address = "127.0.0.1";
    return s;
  }();

  // Replies are unbounded by the client's limit (a get may return a large
  // object), so this decoder takes anything up to the codec's maximum.
  node::FrameDecoder decoder{0xFFFFFFFFu};
  int frames = 0;
  int done = 0;
  bool closed = false;
};

void FuzzPbc(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const size_t chunk = 1 + data[0] % 64;
  const uint32_t limit =
      data[1] == 0 ? pbc::kDefaultMaxFrameBytes : uint32_t{data[1]} * 64;
  const std::string_view stream(reinterpret_cast<const char*>(data + 2),
                                size - 2);

  OneNode node;
  node::Stats stats;
  node::PbcHandlerOptions options;
  options.server_version = "causeway-fuzz";
  options.max_frame_bytes = limit;
  uint64_t clock_us = 0;
  options.clock_us = [&clock_us] { return clock_us += 3; };
  auto handler = std::make_unique<node::PbcHandler>(*node.core, stats, options);

  node::FrameDecoder decoder(limit);
  std::vector<std::shared_ptr<CheckingResponder>> served;
  size_t fed = 0;
  while (fed < stream.size() && served.size() < kMaxRequests) {
    const std::string_view piece = stream.substr(fed, chunk);
    fed += piece.size();
    const bool ok = decoder.Feed(piece);
    FUZZ_CHECK(ok == !decoder.failed());
    // Frames completed before a bad header are still answered.
    node::Frame frame;
    while (served.size() < kMaxRequests && decoder.Next(&frame)) {
      auto r = std::make_shared<CheckingResponder>();
      served.push_back(r);
      handler->Handle(std::move(frame), r);
      for (int step = 0; step < kMaxSteps && r->done == 0; ++step) {
        node.env.Advance(step < 4 ? 0 : kStepMs);
      }
      FUZZ_CHECK(r->done == 1);  // else the request hangs
      FUZZ_CHECK(!r->closed);
      FUZZ_CHECK(r->frames >= 1);
    }
    if (decoder.failed()) {
      FUZZ_CHECK(decoder.error() != node::FrameDecoder::Error::kNone);
      (void)decoder.ErrorMessage();
      CheckingResponder r;
      handler->RejectStream(decoder, r);
      FUZZ_CHECK(r.frames == 1);
      FUZZ_CHECK(r.closed);
      FUZZ_CHECK(r.done == 0);
      break;
    }
  }

  // Late callbacks (timers of finished requests) must not end a request
  // twice, with the handler alive or gone.
  node.env.Advance(5000);
  handler.reset();
  node.env.Advance(5000);
  for (const auto& r : served) FUZZ_CHECK(r->done == 1);
}

const Registration kRegistration("pbc", &FuzzPbc);

}  // namespace
}  // namespace causeway::fuzz
