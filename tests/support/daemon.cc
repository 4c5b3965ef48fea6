#include "tests/support/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace causeway::testing {

namespace {

using Clock = std::chrono::steady_clock;

// Short polls keep tests quick; the deadlines, not the poll period, bound
// how long anything waits.
constexpr auto kPollInterval = std::chrono::milliseconds(10);

std::string DefaultBinary() {
  if (const char* env = std::getenv("CAUSEWAYD"); env != nullptr && *env) {
    return env;
  }
#ifdef CAUSEWAY_CAUSEWAYD_PATH
  return CAUSEWAY_CAUSEWAYD_PATH;
#else
  return "";
#endif
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return std::string("was killed by signal ") +
           std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

enum class PortField { kAbsent, kInvalid, kOk };

// Reads an unsigned port number after `"key"` and a colon.
PortField FindPort(const std::string& text, const std::string& key,
                   uint16_t* port) {
  const std::string quoted = "\"" + key + "\"";
  size_t pos = text.find(quoted);
  if (pos == std::string::npos) return PortField::kAbsent;
  pos += quoted.size();
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  if (pos >= text.size() || text[pos] != ':') return PortField::kInvalid;
  ++pos;
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  uint32_t value = 0;
  size_t digits = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    value = value * 10 + static_cast<uint32_t>(text[pos] - '0');
    if (value > 65535) return PortField::kInvalid;
    ++pos;
    ++digits;
  }
  if (digits == 0 || value == 0) return PortField::kInvalid;
  *port = static_cast<uint16_t>(value);
  return PortField::kOk;
}

}  // namespace

Status ParsePortsJson(const std::string& text, uint16_t* pb, uint16_t* http,
                      uint16_t* peer) {
  if (text.find('{') == std::string::npos ||
      text.find('}') == std::string::npos) {
    return Status::InvalidArgument("ports file is not a JSON object: " + text);
  }
  uint16_t p = 0, h = 0, r = 0;
  if (FindPort(text, "pb", &p) != PortField::kOk) {
    return Status::InvalidArgument("ports file has no valid \"pb\" port: " +
                                   text);
  }
  if (FindPort(text, "http", &h) != PortField::kOk) {
    return Status::InvalidArgument("ports file has no valid \"http\" port: " +
                                   text);
  }
  if (FindPort(text, "peer", &r) == PortField::kInvalid) {
    return Status::InvalidArgument("ports file has an invalid \"peer\" port: " +
                                   text);
  }
  *pb = p;
  *http = h;
  if (peer != nullptr) *peer = r;
  return Status::Ok();
}

Status ParsePortsJson(const std::string& text, uint16_t* pb, uint16_t* http) {
  return ParsePortsJson(text, pb, http, nullptr);
}

Status WriteSecretFile(const std::string& path, const std::string& secret) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IoError("cannot create " + path + ": " +
                           std::strerror(errno));
  }
  // The mode given to open() applies only to a new file.
  if (fchmod(fd, 0600) != 0) {
    const int err = errno;
    close(fd);
    return Status::IoError("cannot chmod " + path + ": " + std::strerror(err));
  }
  const std::string text = secret + "\n";
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      close(fd);
      return Status::IoError("cannot write " + path + ": " +
                             std::strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  if (close(fd) != 0) {
    return Status::IoError("cannot close " + path + ": " +
                           std::strerror(errno));
  }
  return Status::Ok();
}

std::string Daemon::peer_address() const {
  return "127.0.0.1:" + std::to_string(peer_port_);
}

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)),
      binary_(options_.binary.empty() ? DefaultBinary() : options_.binary) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") +
                        "/causeway-daemon-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) != nullptr) dir_ = buf.data();
}

Daemon::~Daemon() {
  if (running()) {
    Status s = Stop();
    if (!s.ok()) {
      std::fprintf(stderr, "Daemon: on teardown: %s\n", s.ToString().c_str());
    }
  }
  RemoveDir();
}

void Daemon::RemoveDir() {
  if (dir_.empty()) return;
  if (std::getenv("CAUSEWAY_KEEP_TEST_DIRS") != nullptr) {
    std::fprintf(stderr, "Daemon: kept %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string Daemon::LogTail(size_t max_bytes) const {
  std::ifstream in(log_path(), std::ios::binary);
  if (!in) return "(no node log at " + log_path() + ")";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  if (log.size() > max_bytes) {
    log = "[...]" + log.substr(log.size() - max_bytes);
  }
  return log;
}

Status Daemon::Start() {
  if (running()) return Status::InvalidArgument("daemon already running");
  if (dir_.empty()) {
    return Status::IoError(std::string("cannot create a temporary dir: ") +
                           std::strerror(errno));
  }
  if (binary_.empty() || access(binary_.c_str(), X_OK) != 0) {
    return Status::NotFound("no causewayd binary at '" + binary_ +
                            "' (build the causewayd target or set CAUSEWAYD)");
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir(), ec);
  if (ec) return Status::IoError("cannot create " + data_dir());
  std::filesystem::remove(ports_file(), ec);

  std::vector<std::string> args = {
      binary_,       "--data-dir", data_dir(),     "--pb-port", "0",
      "--http-port", "0",          "--ports-file", ports_file()};
  if (!options_.name.empty()) {
    args.insert(args.end(), {"--name", options_.name});
  }
  if (options_.peer) {
    Status s = WriteSecretFile(secret_path(), options_.cluster_secret);
    if (!s.ok()) return s;
    // A restart keeps the peer port: members reach the node at the address
    // they learned when it joined.
    const uint16_t peer_port =
        options_.peer_port != 0 ? options_.peer_port : peer_port_;
    args.insert(args.end(), {"--peer-host", "127.0.0.1", "--peer-port",
                             std::to_string(peer_port), "--cluster-secret-file",
                             secret_path()});
    if (!options_.cluster_name.empty()) {
      args.insert(args.end(), {"--cluster-name", options_.cluster_name});
    }
  } else {
    args.push_back("--no-peer");
  }
  args.insert(args.end(), options_.extra_args.begin(),
              options_.extra_args.end());
  // Everything the child needs is built before fork: between fork and exec
  // only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int log_fd =
      open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Status::IoError("cannot open " + log_path() + ": " +
                           std::strerror(errno));
  }
  std::string banner = "=== test harness: starting";
  for (const auto& a : args) banner += " " + a;
  banner += "\n";
  (void)!write(log_fd, banner.data(), banner.size());
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return Status::IoError(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // The daemon must not outlive a test process that crashes or is killed
    // by the CTest timeout before its destructors run.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    // Sockets the test holds must not leak into the daemon.
    close_range(3, ~0U, 0);
    execv(argv[0], argv.data());
    const char msg[] = "test harness: exec of causewayd failed\n";
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(127);
  }
  close(log_fd);
  if (null_fd >= 0) close(null_fd);
  pid_ = pid;

  const auto deadline = Clock::now() + options_.start_timeout;
  std::string last_parse_error;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      last_wait_status_ = status;
      return Status::Unavailable("causewayd " + DescribeWaitStatus(status) +
                                 " before writing its ports file; log:\n" +
                                 LogTail());
    }
    std::ifstream in(ports_file());
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      uint16_t peer_port = 0;
      Status s = ParsePortsJson(ss.str(), &pb_port_, &http_port_, &peer_port);
      if (s.ok() && options_.peer && peer_port == 0) {
        // The file is written once, whole: it will not gain a peer port.
        Kill();
        return Status::InvalidArgument(
            "causewayd was asked for a peer port but its ports file names "
            "none (" +
            ss.str() + "); it was killed; log:\n" + LogTail());
      }
      if (s.ok()) {
        peer_port_ = peer_port;
        return Status::Ok();
      }
      last_parse_error = s.ToString();
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  Kill();
  std::string why =
      last_parse_error.empty()
          ? "no ports file appeared"
          : "the ports file never became valid (" + last_parse_error + ")";
  return Status::Timeout(
      why + " within " + std::to_string(options_.start_timeout.count()) +
      " ms of starting causewayd (it was killed); log:\n" + LogTail());
}

bool Daemon::WaitUntil(Clock::time_point deadline) {
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      last_wait_status_ = r == pid_ ? status : -1;
      pid_ = -1;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status Daemon::Stop() {
  if (!running()) return Status::Ok();
  kill(pid_, SIGTERM);
  if (!WaitUntil(Clock::now() + options_.stop_timeout)) {
    Kill();
    return Status::Timeout("causewayd did not exit within " +
                           std::to_string(options_.stop_timeout.count()) +
                           " ms of SIGTERM and was killed; log:\n" + LogTail());
  }
  if (last_wait_status_ >= 0 && WIFEXITED(last_wait_status_) &&
      WEXITSTATUS(last_wait_status_) == 0) {
    return Status::Ok();
  }
  return Status::IoError("causewayd " + DescribeWaitStatus(last_wait_status_) +
                         " after SIGTERM; log:\n" + LogTail());
}

Status Daemon::WaitForExit(std::chrono::milliseconds timeout) {
  if (!running()) return Status::Ok();
  if (WaitUntil(Clock::now() + timeout)) return Status::Ok();
  return Status::Timeout(
      "causewayd (pid " + std::to_string(pid_) + ") still runs after " +
      std::to_string(timeout.count()) + " ms; log:\n" + LogTail());
}

void Daemon::Kill() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  last_wait_status_ = status;
  pid_ = -1;
}

}  // namespace causeway::testing
