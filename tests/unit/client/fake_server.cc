#include "tests/unit/client/fake_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "proto/riak.pb.h"

namespace causeway::client::testing {
namespace {

// Setup failures abort: a test without its server could only mislead.
void Check(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "FakeServer: " << what << " failed: " << std::strerror(errno)
              << "\n";
    std::abort();
  }
}

void WriteAll(int fd, const std::string& bytes, bool bytewise) {
  size_t off = 0;
  while (off < bytes.size()) {
    size_t chunk = bytewise ? 1 : bytes.size() - off;
    ssize_t n = ::send(fd, bytes.data() + off, chunk, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away; its test will say so
    off += static_cast<size_t>(n);
  }
}

}  // namespace

FakeServer::FakeServer(Handler handler) : handler_(std::move(handler)) {
  Check(::pipe(wake_pipe_) == 0, "pipe");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  Check(listen_fd_ >= 0, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  Check(
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0,
      "bind");
  Check(::listen(listen_fd_, 8) == 0, "listen");
  socklen_t len = sizeof(addr);
  Check(
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0,
      "getsockname");
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

FakeServer::~FakeServer() {
  char b = 0;
  (void)!::write(wake_pipe_[1], &b, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

std::vector<Request> FakeServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::string FakeServer::Frame(pbc::Code code, const std::string& body) {
  const uint32_t len = static_cast<uint32_t>(body.size() + 1);
  std::string out;
  out.push_back(static_cast<char>(len >> 24));
  out.push_back(static_cast<char>(len >> 16));
  out.push_back(static_cast<char>(len >> 8));
  out.push_back(static_cast<char>(len));
  out.push_back(static_cast<char>(code));
  return out + body;
}

std::string FakeServer::Frame(pbc::Code code,
                              const google::protobuf::MessageLite& message) {
  return Frame(code, message.SerializeAsString());
}

std::string FakeServer::ErrorFrame(const std::string& message,
                                   uint32_t errcode) {
  pbc::RpbErrorResp error;
  error.set_errmsg(message);
  error.set_errcode(errcode);
  return Frame(pbc::Code::kErrorResp, error);
}

void FakeServer::Run() {
  for (;;) {
    pollfd fds[2] = {{wake_pipe_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Serve(fd);
    ::close(fd);
  }
}

bool FakeServer::ReadExactly(int fd, char* data, size_t size) {
  while (size > 0) {
    pollfd fds[2] = {{wake_pipe_[0], POLLIN, 0}, {fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (fds[0].revents != 0) return false;
    ssize_t n = ::recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void FakeServer::Serve(int fd) {
  for (;;) {
    unsigned char header[5];
    if (!ReadExactly(fd, reinterpret_cast<char*>(header), 5)) return;
    const uint32_t len = (uint32_t{header[0]} << 24) |
                         (uint32_t{header[1]} << 16) |
                         (uint32_t{header[2]} << 8) | uint32_t{header[3]};
    // The tests never send more than a few KiB; anything else is a bug.
    if (len == 0 || len > (1u << 20)) return;
    Request req;
    req.code = header[4];
    req.body.resize(len - 1);
    if (len > 1 && !ReadExactly(fd, req.body.data(), req.body.size())) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    Reply reply = handler_(req);
    WriteAll(fd, reply.bytes, reply.write_bytewise);
    if (reply.close_after) return;
  }
}

uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  Check(fd >= 0, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Check(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0,
        "bind");
  socklen_t len = sizeof(addr);
  Check(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0,
        "getsockname");
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace causeway::client::testing
