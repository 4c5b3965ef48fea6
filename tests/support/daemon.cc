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

// Reads an unsigned port number after `"key"` and a colon.
bool FindPort(const std::string& text, const std::string& key, uint16_t* port) {
  const std::string quoted = "\"" + key + "\"";
  size_t pos = text.find(quoted);
  if (pos == std::string::npos) return false;
  pos += quoted.size();
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  if (pos >= text.size() || text[pos] != ':') return false;
  ++pos;
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  uint32_t value = 0;
  size_t digits = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    value = value * 10 + static_cast<uint32_t>(text[pos] - '0');
    if (value > 65535) return false;
    ++pos;
    ++digits;
  }
  if (digits == 0 || value == 0) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

Status ParsePortsJson(const std::string& text, uint16_t* pb, uint16_t* http) {
  if (text.find('{') == std::string::npos ||
      text.find('}') == std::string::npos) {
    return Status::InvalidArgument("ports file is not a JSON object: " + text);
  }
  uint16_t p = 0, h = 0;
  if (!FindPort(text, "pb", &p)) {
    return Status::InvalidArgument("ports file has no valid \"pb\" port: " +
                                   text);
  }
  if (!FindPort(text, "http", &h)) {
    return Status::InvalidArgument("ports file has no valid \"http\" port: " +
                                   text);
  }
  *pb = p;
  *http = h;
  return Status::Ok();
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
      Status s = ParsePortsJson(ss.str(), &pb_port_, &http_port_);
      if (s.ok()) return Status::Ok();
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

bool Daemon::WaitForExit(Clock::time_point deadline) {
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
  if (!WaitForExit(Clock::now() + options_.stop_timeout)) {
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
