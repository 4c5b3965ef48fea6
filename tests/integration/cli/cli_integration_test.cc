// The `causeway` binary against a real causewayd: a put/get/siblings/delete/
// list/bucket-props scenario, checked through stdout, stderr and the exit
// status (0 ok, 1 not found, 2 usage, 3 server error or unreachable).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/daemon.h"

extern char** environ;

namespace causeway {
namespace {

using testing::Daemon;

struct CliRun {
  int code = -1;  // exit status; -1 if it did not exit normally
  std::string out;
  std::string err;
};

// A run that has not finished by then is killed: a hung tool must fail the
// test, not stall it.
constexpr auto kRunDeadline = std::chrono::seconds(60);

// Runs the causeway binary with `args`, feeding `input` on stdin. The
// environment is this process's, without CAUSEWAY_NODE, plus `env`.
CliRun RunTool(const std::vector<std::string>& args,
               const std::string& input = "",
               const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv_store = {CAUSEWAY_CLI_PATH};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "CAUSEWAY_NODE=", 14) != 0) env_store.push_back(*e);
  }
  env_store.insert(env_store.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (std::string& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
      pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  CliRun run;
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return run;
  }
  // Write stdin and drain both outputs together, so neither side can block
  // the other on a full pipe.
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int in_fd = in[1];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int open_outputs = 2;
  const auto deadline = std::chrono::steady_clock::now() + kRunDeadline;
  bool killed = false;
  while (open_outputs > 0 || in_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd fds[3] = {
        {out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(fds, 3, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        (i == 0 ? run.out : run.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        (i == 0 ? out[0] : err[0]) = -1;
        --open_outputs;
      }
    }
    if (in_fd >= 0 && fds[2].revents != 0) {
      ssize_t n = write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
          written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out[0] >= 0) close(out[0]);
  if (err[0] >= 0) close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  EXPECT_FALSE(killed) << "causeway " << ::testing::PrintToString(args)
                       << " did not finish";
  if (WIFEXITED(status)) run.code = WEXITSTATUS(status);
  return run;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines = Lines(text);
  std::sort(lines.begin(), lines.end());
  return lines;
}

class CliIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<Daemon>();
    Status s = daemon_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    node_ = "127.0.0.1:" + std::to_string(daemon_->pb_port());
  }
  void TearDown() override {
    if (daemon_ != nullptr && daemon_->running()) {
      Status s = daemon_->Stop();
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }

  // Runs the tool against this test's node.
  CliRun Cli(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--node", node_, "--timeout", "30"});
    return RunTool(args, input);
  }

  std::unique_ptr<Daemon> daemon_;
  std::string node_;
};

#define EXPECT_EXIT_CODE(run, expected) \
  EXPECT_EQ((run).code, expected)       \
      << "stdout: " << (run).out << "\nstderr: " << (run).err

TEST_F(CliIntegrationTest, PingAndInfo) {
  CliRun r = Cli({"ping"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "pong\n");
  r = Cli({"info"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_NE(r.out.find("node: "), std::string::npos) << r.out;
  r = Cli({"info", "--json"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out.rfind("{\"node\":", 0), 0u) << r.out;
}

TEST_F(CliIntegrationTest, PutGetReplaceAndDelete) {
  CliRun r = Cli({"get", "kv", "k1"});
  EXPECT_EXIT_CODE(r, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "causeway: not found: kv/k1\n");

  EXPECT_EXIT_CODE(Cli({"put", "kv", "k1", "first"}), 0);
  r = Cli({"get", "kv", "k1"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "first");  // stdout is a pipe: no newline added

  // A plain put reads the context first, so it replaces the value.
  EXPECT_EXIT_CODE(Cli({"put", "kv", "k1", "second"}), 0);
  r = Cli({"get", "kv", "k1", "--json"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out.rfind("{\"found\":true,\"vclock\":\"", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"siblings\":[{\"value\":\"second\",\"base64\":false,"
                       "\"content_type\":\"text/plain\""),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("first"), std::string::npos) << r.out;

  r = Cli({"put", "--return-body", "kv", "k1", "third"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "third");

  EXPECT_EXIT_CODE(Cli({"delete", "kv", "k1"}), 0);
  r = Cli({"get", "kv", "k1", "--json"});
  EXPECT_EXIT_CODE(r, 1);
  EXPECT_EQ(r.out.rfind("{\"found\":false", 0), 0u) << r.out;
  r = Cli({"delete", "kv", "k1"});
  EXPECT_EXIT_CODE(r, 1);
  EXPECT_EQ(r.err, "causeway: not found: kv/k1\n");
}

TEST_F(CliIntegrationTest, SiblingsAreNumberedAndAPlainPutResolvesThem) {
  EXPECT_EXIT_CODE(Cli({"bucket", "set", "sib", "allow_mult=true"}), 0);
  EXPECT_EXIT_CODE(Cli({"put", "--blind", "sib", "k", "apple"}), 0);
  EXPECT_EXIT_CODE(Cli({"put", "--blind", "sib", "k", "banana"}), 0);

  CliRun r = Cli({"get", "sib", "k"});
  EXPECT_EXIT_CODE(r, 0);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0].rfind("sibling 1 of 2: text/plain", 0), 0u) << r.out;
  EXPECT_EQ(lines[2].rfind("sibling 2 of 2: text/plain", 0), 0u) << r.out;
  std::vector<std::string> values = {lines[1], lines[3]};
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"apple", "banana"}));

  r = Cli({"get", "sib", "k", "--json"});
  EXPECT_NE(r.out.find("\"value\":\"apple\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"value\":\"banana\""), std::string::npos) << r.out;

  // The context read by a plain put covers both siblings.
  EXPECT_EXIT_CODE(Cli({"put", "sib", "k", "cherry"}), 0);
  r = Cli({"get", "sib", "k"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "cherry");
}

TEST_F(CliIntegrationTest, ExplicitVclockFromGet) {
  EXPECT_EXIT_CODE(Cli({"bucket", "set", "vc", "allow_mult=true"}), 0);
  EXPECT_EXIT_CODE(Cli({"put", "vc", "k", "v1"}), 0);
  CliRun r = Cli({"get", "vc", "k", "--vclock"});
  EXPECT_EXIT_CODE(r, 0);
  // The value alone on stdout; the context on stderr.
  EXPECT_EQ(r.out, "v1");
  ASSERT_EQ(r.err.rfind("vclock: ", 0), 0u) << r.err;
  const std::string vclock = Lines(r.err)[0].substr(8);
  ASSERT_FALSE(vclock.empty());

  // A concurrent blind write makes a sibling; writing with the context read
  // before it keeps that sibling (it was not seen).
  EXPECT_EXIT_CODE(Cli({"put", "--blind", "vc", "k", "other"}), 0);
  EXPECT_EXIT_CODE(Cli({"put", "--vclock", vclock, "vc", "k", "v2"}), 0);
  r = Cli({"get", "vc", "k"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_NE(r.out.find("sibling 1 of 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nother\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nv2\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("v1"), std::string::npos) << r.out;

  // A context that is not base64 is a usage error; one the node cannot
  // decode is a server error.
  EXPECT_EXIT_CODE(Cli({"put", "--vclock", "%%%", "vc", "k", "x"}), 2);
  r = Cli({"put", "--vclock", "AAAA", "vc", "k", "x"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_EQ(r.err.rfind("causeway: server error: ", 0), 0u) << r.err;
}

TEST_F(CliIntegrationTest, BinaryValueFromStdin) {
  const std::string value("bin\0\xff\xfe\nary", 10);
  EXPECT_EXIT_CODE(Cli({"put", "--content-type", "application/octet-stream",
                        "raw", "k", "-"},
                       value),
                   0);
  CliRun r = Cli({"get", "raw", "k"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, value);
  r = Cli({"get", "raw", "k", "--json"});
  EXPECT_NE(r.out.find("\"value\":\"YmluAP/+CmFyeQ==\",\"base64\":true,"
                       "\"content_type\":\"application/octet-stream\""),
            std::string::npos)
      << r.out;
}

TEST_F(CliIntegrationTest, ListKeysAndBuckets) {
  for (const char* key : {"a", "b", "c"}) {
    EXPECT_EXIT_CODE(Cli({"put", "list1", key, "v"}), 0);
  }
  EXPECT_EXIT_CODE(Cli({"put", "list2", "z", "v"}), 0);
  CliRun r = Cli({"list-keys", "list1"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(SortedLines(r.out), (std::vector<std::string>{"a", "b", "c"}));
  r = Cli({"list-keys", "list2", "--json"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "{\"keys\":[\"z\"]}\n");
  r = Cli({"list-keys", "empty"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "");
  r = Cli({"list-buckets"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(SortedLines(r.out), (std::vector<std::string>{"list1", "list2"}));
}

TEST_F(CliIntegrationTest, BucketPropertiesSetGetReset) {
  CliRun r = Cli({"bucket", "get", "props"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_NE(r.out.find("n_val: 3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("allow_mult: false\n"), std::string::npos) << r.out;

  EXPECT_EXIT_CODE(Cli({"bucket", "set", "props", "n_val=2", "allow_mult=true",
                        "r=one", "notfound_ok=false"}),
                   0);
  r = Cli({"bucket", "get", "props", "--json"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_NE(r.out.find("\"n_val\":2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"allow_mult\":true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"r\":\"one\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"notfound_ok\":false"), std::string::npos) << r.out;

  EXPECT_EXIT_CODE(Cli({"bucket", "reset", "props"}), 0);
  r = Cli({"bucket", "get", "props"});
  EXPECT_NE(r.out.find("n_val: 3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("allow_mult: false\n"), std::string::npos) << r.out;

  // The node refuses a value out of range: a server error.
  r = Cli({"bucket", "set", "props", "n_val=1000"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_EQ(r.err.rfind("causeway: server error: ", 0), 0u) << r.err;
}

TEST_F(CliIntegrationTest, BucketTypesAndPreflists) {
  CliRun r = Cli({"bucket-type", "get", "default"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_NE(r.out.find("n_val: "), std::string::npos) << r.out;
  r = Cli({"bucket-type", "get", "no-such-type"});
  EXPECT_EXIT_CODE(r, 1);
  EXPECT_NE(r.err.find("no-such-type"), std::string::npos) << r.err;

  r = Cli({"preflist", "kv", "k"});
  EXPECT_EXIT_CODE(r, 0);
  std::vector<std::string> lines = Lines(r.out);
  EXPECT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_NE(line.find(" primary"), std::string::npos) << line;
  }
}

TEST_F(CliIntegrationTest, DataTypes) {
  for (const char* t : {"counter", "set", "map"}) {
    EXPECT_EXIT_CODE(Cli({"bucket-type", "create", std::string(t) + "s",
                          std::string("datatype=") + t}),
                     0);
  }
  CliRun r = Cli({"--type", "counters", "counter", "get", "c", "k"});
  EXPECT_EXIT_CODE(r, 1);
  EXPECT_EQ(r.err, "causeway: not found: c/k\n");
  EXPECT_EQ(Cli({"--type", "counters", "counter", "incr", "c", "k"}).out,
            "1\n");
  EXPECT_EQ(Cli({"--type", "counters", "counter", "decr", "c", "k", "5"}).out,
            "-4\n");
  EXPECT_EQ(
      Cli({"--type", "counters", "--json", "counter", "get", "c", "k"}).out,
      "{\"value\":-4}\n");

  EXPECT_EQ(Cli({"--type", "sets", "set", "add", "s", "k", "b", "a", "c"}).out,
            "a\nb\nc\n");
  r = Cli({"--type", "sets", "--json", "set", "remove", "s", "k", "b"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "{\"elements\":[\"a\",\"c\"]}\n");
  r = Cli({"--type", "sets", "set", "remove", "s", "k", "b"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_NE(r.err.find("not_present: b"), std::string::npos) << r.err;

  r = Cli({"--type", "maps", "map", "update", "m", "k",
           "profile_map.visits_counter+=3", "tags_set+=x", "tags_set+=y",
           "name_register=Ada", "admin_flag=on"});
  EXPECT_EXIT_CODE(r, 0);
  r = Cli({"--type", "maps", "map", "update", "m", "k", "tags_set-=x",
           "profile_map.visits_counter-=1", "--remove", "admin_flag"});
  EXPECT_EXIT_CODE(r, 0);
  r = Cli({"--type", "maps", "map", "get", "m", "k"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out,
            "name (register) = \"Ada\"\n"
            "profile.visits (counter) = 2\n"
            "tags (set) = y\n");

  // A type holding another data type is refused, by the node or the tool.
  EXPECT_EXIT_CODE(Cli({"--type", "sets", "counter", "incr", "s", "k"}), 3);
  EXPECT_EXIT_CODE(Cli({"--type", "sets", "counter", "get", "s", "k"}), 3);
  EXPECT_EXIT_CODE(Cli({"counter", "incr", "c", "k"}), 3);
}

TEST_F(CliIntegrationTest, UsageErrorsExitTwoAndSendNothing) {
  CliRun r = Cli({"get", "only-bucket"});
  EXPECT_EXIT_CODE(r, 2);
  r = Cli({"bucket", "set", "b", "replicas=3"});
  EXPECT_EXIT_CODE(r, 2);
  EXPECT_NE(r.err.find("valid names: n_val"), std::string::npos) << r.err;
  r = Cli({"get", "b", "k", "--r", "most"});
  EXPECT_EXIT_CODE(r, 2);
  EXPECT_EXIT_CODE(Cli({"no-such-command"}), 2);
  // None of these wrote anything.
  r = Cli({"bucket", "get", "b"});
  EXPECT_NE(r.out.find("n_val: 3\n"), std::string::npos) << r.out;
}

TEST_F(CliIntegrationTest, EmptyKeysAreUsageAndServerKeysAreExplicit) {
  EXPECT_EXIT_CODE(Cli({"get", "ek", ""}), 2);
  EXPECT_EXIT_CODE(Cli({"put", "ek", "", "v"}), 2);
  EXPECT_EXIT_CODE(Cli({"delete", "ek", ""}), 2);
  CliRun r = Cli({"list-keys", "ek"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "");
  // --server-key: the node makes the key, the tool prints it.
  r = Cli({"put", "ek", "--server-key", "made"});
  EXPECT_EXIT_CODE(r, 0);
  ASSERT_EQ(Lines(r.out).size(), 1u) << r.out;
  const std::string key = Lines(r.out)[0];
  ASSERT_FALSE(key.empty());
  r = Cli({"get", "ek", key});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "made");
}

TEST_F(CliIntegrationTest, PutFromAFileWithItsContentType) {
  const std::string path = ::testing::TempDir() + "causeway-cli-" +
                           std::to_string(::getpid()) + ".json";
  const std::string value = "{\"a\": [1, 2]}\n";
  std::ofstream(path, std::ios::binary) << value;
  EXPECT_EXIT_CODE(Cli({"put", "files", "doc", "--file", path}), 0);
  std::remove(path.c_str());
  CliRun r = Cli({"get", "files", "doc"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, value);
  r = Cli({"get", "files", "doc", "--json"});
  EXPECT_NE(r.out.find("\"content_type\":\"application/json\""),
            std::string::npos)
      << r.out;
}

TEST_F(CliIntegrationTest, MistypedCommandNamesTheNearest) {
  CliRun r = Cli({"gett", "b", "k"});
  EXPECT_EXIT_CODE(r, 2);
  EXPECT_NE(r.err.find("unknown command 'gett'; did you mean 'get'?"),
            std::string::npos)
      << r.err;
}

TEST_F(CliIntegrationTest, NodeFromTheEnvironment) {
  CliRun r = RunTool({"ping"}, "", {"CAUSEWAY_NODE=" + node_});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "pong\n");
}

TEST_F(CliIntegrationTest, StoppedNodeIsUnreachable) {
  ASSERT_TRUE(daemon_->Stop().ok());
  CliRun r = Cli({"get", "kv", "k"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_EQ(r.err, "causeway: cannot reach " + node_ +
                       ": connection refused (is the node running? see "
                       "cluster/up)\n");
}

// `security ...`: users, sources and grants round trip through a real node,
// survive a restart, and `security enable` is refused until an
// administrator could still log in.
TEST_F(CliIntegrationTest, SecurityCommands) {
  CliRun r = Cli({"security", "status"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "security: disabled\nusers: 0, sources: 0, grants: 0\n");

  r = Cli({"security", "enable"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_NE(r.err.find("lock every operator out"), std::string::npos) << r.err;

  // The password comes from stdin or a file, never from argv.
  r = Cli({"security", "add-user", "admin"}, "s3cret-pw\n");
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "user admin added\n");
  r = Cli({"security", "add-user", "nopw"});  // nothing on stdin
  EXPECT_EXIT_CODE(r, 2);
  EXPECT_NE(r.err.find("--no-password"), std::string::npos) << r.err;
  EXPECT_EXIT_CODE(Cli({"security", "add-user", "svc", "--no-password"}), 0);
  const std::string pw_file = ::testing::TempDir() + "causeway-cli-pw";
  {
    std::ofstream f(pw_file);
    f << "from-a-file\n";
  }
  EXPECT_EXIT_CODE(
      Cli({"security", "add-user", "app", "--password-file", pw_file}), 0);
  std::remove(pw_file.c_str());
  r = Cli({"security", "add-user", "admin"}, "again\n");
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;

  EXPECT_EXIT_CODE(
      Cli({"security", "add-source", "admin", "127.0.0.1/32", "password"}), 0);
  EXPECT_EXIT_CODE(Cli({"security", "add-source", "all", "::1/128", "trust"}),
                   0);
  r = Cli({"security", "add-source", "admin", "10.0.0.0/99", "password"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_NE(r.err.find("not a network"), std::string::npos) << r.err;
  EXPECT_EXIT_CODE(
      Cli({"security", "add-source", "admin", "10.0.0.0/8", "magic"}), 2);

  // The enable guard is still not met: no grant.
  EXPECT_EXIT_CODE(Cli({"security", "enable"}), 3);
  r = Cli({"security", "grant", "causeway.cluster_admin", "on", "any", "to",
           "admin"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "granted causeway.cluster_admin on any to admin\n");
  EXPECT_EXIT_CODE(Cli({"security", "grant", "riak_kv.get,riak_kv.put", "on",
                        "maps", "users", "to", "app,svc"}),
                   0);
  EXPECT_EXIT_CODE(Cli({"security", "grant", "riak_kv.list_keys", "on",
                        "default", "to", "all"}),
                   0);
  r = Cli({"security", "grant", "riak_kv.fly", "on", "any", "to", "app"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_NE(r.err.find("unknown permission"), std::string::npos) << r.err;
  EXPECT_EXIT_CODE(Cli({"security", "grant", "riak_kv.get", "to", "app"}), 2);
  EXPECT_EXIT_CODE(Cli({"security", "revoke", "riak_kv.put", "on", "maps",
                        "users", "from", "svc"}),
                   0);

  r = Cli({"security", "print-users"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "admin\tpassword\napp\tpassword\nsvc\tno password\n");
  r = Cli({"security", "print-sources"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "admin\t127.0.0.1/32\tpassword\nall\t::1/128\ttrust\n");
  r = Cli({"security", "print-grants", "svc"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out,
            "all\tdefault\triak_kv.list_keys\nsvc\tmaps users\triak_kv.get\n");
  r = Cli({"security", "print-grants"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(Lines(r.out).size(), 4u) << r.out;

  r = Cli({"--json", "security", "status"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out.rfind("{\"enabled\":false,\"users\":[{\"name\":\"admin\","
                        "\"has_password\":true}",
                        0),
            0u)
      << r.out;
  EXPECT_NE(r.out.find("{\"user\":\"app\",\"type\":\"maps\",\"bucket\":"
                       "\"users\",\"permissions\":[\"riak_kv.get\","
                       "\"riak_kv.put\"]}"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("s3cret"), std::string::npos);

  // del-user takes the user's sources and grants with it.
  EXPECT_EXIT_CODE(Cli({"security", "del-user", "app"}), 0);
  EXPECT_NE(Cli({"security", "del-user", "app"}).code, 0);
  r = Cli({"security", "print-grants", "app"});
  EXPECT_EQ(r.out, "all\tdefault\triak_kv.list_keys\n");

  // Everything is persisted.
  ASSERT_TRUE(daemon_->Stop().ok());
  ASSERT_TRUE(daemon_->Start().ok());
  node_ = "127.0.0.1:" + std::to_string(daemon_->pb_port());
  r = Cli({"security", "print-users"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "admin\tpassword\nsvc\tno password\n");

  // Now an administrator can log in: enabling is accepted. (Left last:
  // with security on, further requests must authenticate.)
  r = Cli({"security", "enable"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, "security enabled\n");
}

}  // namespace
}  // namespace causeway
