#pragma once
// FakeServer: a tiny PBC server for client tests. It listens on 127.0.0.1
// port 0, serves one connection at a time on its own thread, reads each
// request frame, records it, and writes back whatever bytes the test's
// handler returns (well-formed frames, broken ones, or nothing). Owned by the
// test; the destructor stops the thread.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/message_lite.h"
#include "proto/pbc_codes.h"

namespace causeway::client::testing {

struct Request {
  uint8_t code = 0;
  std::string body;
};

struct Reply {
  std::string bytes;            // written as is
  bool close_after = false;     // then close the connection
  bool write_bytewise = false;  // one send() per byte, to split frames
};

class FakeServer {
 public:
  using Handler = std::function<Reply(const Request&)>;

  explicit FakeServer(Handler handler);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  uint16_t port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<Request> requests() const;

  // One frame: length prefix, code, body.
  static std::string Frame(pbc::Code code, const std::string& body = "");
  static std::string Frame(pbc::Code code,
                           const google::protobuf::MessageLite& message);
  static std::string ErrorFrame(const std::string& message, uint32_t errcode);

 private:
  void Run();
  // Serves one connection until it closes or the server stops.
  void Serve(int fd);
  bool ReadExactly(int fd, char* data, size_t size);

  Handler handler_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
uint16_t UnusedPort();

}  // namespace causeway::client::testing
