#include "node/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "base/version.h"

namespace causeway::node {
namespace {

using replication::Quorum;
using Action = ParsedCommandLine::Action;

// Exactly the given arguments.
ParsedCommandLine ParseRaw(std::initializer_list<std::string> args) {
  std::vector<std::string> storage = {"causewayd"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const auto& a : storage) argv.push_back(a.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

// With a cluster secret file named first, which a node with a peer port
// needs, so that tests about other settings need not repeat it (a later
// --cluster-secret-file or --no-peer in `args` still wins). Parsing does
// not read the file; the node does when it starts.
ParsedCommandLine Parse(std::initializer_list<std::string> args) {
  std::vector<std::string> storage = {"causewayd", "--cluster-secret-file",
                                      "secret"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const auto& a : storage) argv.push_back(a.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

// A TOML file in a per-test temporary directory.
class TempToml {
 public:
  explicit TempToml(const std::string& text) {
    dir_ = std::filesystem::temp_directory_path() /
           ("causeway-config-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "node.toml").string();
    std::ofstream(path_) << text;
  }
  ~TempToml() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string path_;
};

// The error message of a command line that must be rejected.
std::string ErrorOf(std::initializer_list<std::string> args) {
  ParsedCommandLine p = Parse(args);
  EXPECT_EQ(p.action, Action::kError);
  EXPECT_FALSE(p.status.ok());
  return p.status.message();
}

std::string TomlErrorOf(const std::string& toml) {
  NodeOptions o;
  Status s = ApplyToml(toml, "test.toml", &o);
  EXPECT_FALSE(s.ok()) << toml;
  return s.message();
}

TEST(NodeConfigTest, DefaultsMatchTheContract) {
  ParsedCommandLine p = Parse({});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  const NodeOptions& o = p.options;
  EXPECT_FALSE(o.no_peer);
  EXPECT_EQ(o.peer_host, "127.0.0.1");
  EXPECT_EQ(o.peer_port, 8097);
  EXPECT_EQ(o.peer_advertise_host, "");
  EXPECT_EQ(o.cluster_name, "causeway");
  EXPECT_EQ(o.cluster_secret_file, "secret");
  EXPECT_EQ(o.down_after_ms, 3000u);
  EXPECT_EQ(o.peer_suspect_ms, 1000u);
  EXPECT_EQ(o.request_timeout_ms, 10000u);
  EXPECT_EQ(o.max_clock_offset_ms, 500u);
  EXPECT_EQ(o.peer_max_unauthenticated, 32u);
  EXPECT_EQ(o.peer_handshake_timeout_ms, 2000u);
  EXPECT_EQ(o.name, "causeway@127.0.0.1");
  EXPECT_EQ(o.data_dir, "./var/data");
  EXPECT_EQ(o.pb_host, "127.0.0.1");
  EXPECT_EQ(o.pb_port, 8087);
  EXPECT_EQ(o.http_host, "127.0.0.1");
  EXPECT_EQ(o.http_port, 8098);
  EXPECT_EQ(o.ports_file, "");
  EXPECT_EQ(o.ring_size, 64u);
  EXPECT_EQ(o.log_level, "info");
  EXPECT_EQ(o.log_file, "");
  EXPECT_EQ(o.max_frame_bytes, 67108864u);
  EXPECT_EQ(o.max_connections, 1024u);
  EXPECT_FALSE(o.sync_writes);
  EXPECT_EQ(o.write_buffer_mb, 16u);
  EXPECT_EQ(o.block_cache_mb, 64u);
  EXPECT_EQ(o.object_cache_mb, 64u);
  EXPECT_TRUE(o.compaction_idle);
  EXPECT_EQ(o.compaction_nice, 10u);
  EXPECT_EQ(o.bucket_defaults, replication::BucketPropsPatch{});
}

TEST(NodeConfigTest, StorageSizesAreFlagsWithLimits) {
  ParsedCommandLine p =
      Parse({"--write-buffer-mb", "64", "--block-cache-mb", "512"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_EQ(p.options.write_buffer_mb, 64u);
  EXPECT_EQ(p.options.block_cache_mb, 512u);
  for (const char* mb : {"0", "1025"}) {
    std::string m = ErrorOf({"--write-buffer-mb", mb});
    EXPECT_NE(m.find("--write-buffer-mb"), std::string::npos) << m;
    EXPECT_NE(m.find("1 to 1024"), std::string::npos) << m;
  }
  std::string m = ErrorOf({"--block-cache-mb", "0"});
  EXPECT_NE(m.find("--block-cache-mb"), std::string::npos) << m;
  EXPECT_EQ(Parse({"--object-cache-mb", "0"}).options.object_cache_mb, 0u);
  EXPECT_EQ(Parse({"--compaction-nice", "0"}).options.compaction_nice, 0u);
  EXPECT_FALSE(Parse({"--compaction-idle", "false"}).options.compaction_idle);
  m = ErrorOf({"--compaction-nice", "20"});
  EXPECT_NE(m.find("--compaction-nice"), std::string::npos) << m;
  m = ErrorOf({"--object-cache-mb", "65537"});
  EXPECT_NE(m.find("--object-cache-mb"), std::string::npos) << m;
  EXPECT_EQ(ToNodeConfig(Parse({"--object-cache-mb", "3"}).options)
                .object_cache_bytes,
            size_t{3} << 20);
  EXPECT_NE(HelpText().find("--write-buffer-mb"), std::string::npos);
  EXPECT_NE(HelpText().find("--block-cache-mb"), std::string::npos);
}

TEST(NodeConfigTest, ClientBoundsAreSettingsWithLimits) {
  const NodeOptions d;
  EXPECT_EQ(d.client_idle_timeout_ms, 60000u);
  EXPECT_EQ(d.client_frame_deadline_ms, 10000u);
  EXPECT_EQ(d.client_buffer_budget_mb, 256u);
  ParsedCommandLine p =
      Parse({"--client-idle-timeout-ms", "0", "--client-frame-deadline-ms",
             "500", "--client-buffer-budget-mb", "128"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  PbcServerOptions pbc = ToPbcServerOptions(p.options);
  EXPECT_EQ(pbc.idle_timeout_ms, 0u);
  EXPECT_EQ(pbc.frame_deadline_ms, 500u);
  EXPECT_EQ(pbc.buffer_budget_bytes, uint64_t{128} << 20);
  // A budget below one largest frame is raised to it.
  pbc = ToPbcServerOptions(Parse({"--max-frame-bytes", "536870912",
                                  "--client-buffer-budget-mb", "1"})
                               .options);
  EXPECT_EQ(pbc.buffer_budget_bytes, uint64_t{536870912});
  std::string m = ErrorOf({"--client-buffer-budget-mb", "0"});
  EXPECT_NE(m.find("--client-buffer-budget-mb"), std::string::npos) << m;
  m = ErrorOf({"--client-idle-timeout-ms", "86400001"});
  EXPECT_NE(m.find("--client-idle-timeout-ms"), std::string::npos) << m;
  NodeOptions o;
  ASSERT_TRUE(ApplyToml("client_frame_deadline_ms = 2500", "t.toml", &o).ok());
  EXPECT_EQ(o.client_frame_deadline_ms, 2500u);
  for (const char* flag :
       {"--client-idle-timeout-ms", "--client-frame-deadline-ms",
        "--client-buffer-budget-mb"}) {
    EXPECT_NE(HelpText().find(flag), std::string::npos) << flag;
  }
}

TEST(NodeConfigTest, ClientTlsFilesAreSettingsThatGoTogether) {
  const NodeOptions d;
  EXPECT_TRUE(d.tls_cert_file.empty());
  EXPECT_TRUE(d.tls_ca_file.empty());
  ParsedCommandLine p = Parse({"--tls-cert-file", "node.pem", "--tls-key-file",
                               "node.key", "--tls-ca-file", "ca.pem"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  PbcServerOptions pbc = ToPbcServerOptions(p.options);
  EXPECT_EQ(pbc.tls_cert_file, "node.pem");
  EXPECT_EQ(pbc.tls_key_file, "node.key");
  EXPECT_EQ(pbc.tls_ca_file, "ca.pem");
  std::string m = ErrorOf({"--tls-cert-file", "node.pem"});
  EXPECT_NE(m.find("--tls-key-file"), std::string::npos) << m;
  m = ErrorOf({"--tls-key-file", "node.key"});
  EXPECT_NE(m.find("--tls-cert-file"), std::string::npos) << m;
  m = ErrorOf({"--tls-ca-file", "ca.pem"});
  EXPECT_NE(m.find("--tls-ca-file"), std::string::npos) << m;
  NodeOptions o;
  ASSERT_TRUE(ApplyToml("tls_cert_file = \"a.pem\"\ntls_key_file = \"a.key\"",
                        "t.toml", &o)
                  .ok());
  EXPECT_EQ(o.tls_cert_file, "a.pem");
  EXPECT_EQ(o.tls_key_file, "a.key");
  for (const char* flag :
       {"--tls-cert-file", "--tls-key-file", "--tls-ca-file"}) {
    EXPECT_NE(HelpText().find(flag), std::string::npos) << flag;
  }
}

// Each node's memtable is between 80% and 100% of --write-buffer-mb, never
// above it, and within LevelDB's range at both ends of the flag's range.
TEST(NodeConfigTest, TheMemtableSizeIsDrawnFromTheTopFifthBelowTheFlag) {
  NodeOptions o;
  o.write_buffer_mb = 100;
  const size_t configured = size_t{100} << 20;
  EXPECT_EQ(ToLevelDbOptions(o, 0).write_buffer_bytes, configured);
  EXPECT_EQ(ToLevelDbOptions(o, 0.5).write_buffer_bytes, configured * 9 / 10);
  const size_t top = ToLevelDbOptions(o, 0.999999).write_buffer_bytes;
  EXPECT_GE(top, configured * 8 / 10);
  EXPECT_LT(top, configured * 8 / 10 + 1024);
  // A draw outside [0, 1) cannot leave the range.
  EXPECT_EQ(ToLevelDbOptions(o, -3).write_buffer_bytes, configured);
  EXPECT_EQ(ToLevelDbOptions(o, 7).write_buffer_bytes, configured * 8 / 10);
  for (uint32_t mb : {1u, 1024u}) {
    o.write_buffer_mb = mb;
    for (double draw : {0.0, 0.999999}) {
      size_t bytes = ToLevelDbOptions(o, draw).write_buffer_bytes;
      EXPECT_GE(bytes, size_t{64} << 10) << mb << " MiB, draw " << draw;
      EXPECT_LE(bytes, size_t{1} << 30) << mb << " MiB, draw " << draw;
    }
  }
}

// The background thread runs under SCHED_IDLE by default, at a nice value
// with --compaction-idle false; the flag that made it pause between slices
// of work is gone. Every node defers its log writes.
TEST(NodeConfigTest, EngineSettingsFollowTheCompactionFlags) {
  NodeOptions o = Parse({"--block-cache-mb", "7"}).options;
  storage::LevelDbOptions idle = ToLevelDbOptions(o, 0);
  EXPECT_TRUE(idle.background_idle);
  EXPECT_EQ(idle.block_cache_bytes, size_t{7} << 20);
  EXPECT_TRUE(idle.defer_log_writes);
  o = Parse({"--compaction-idle", "false", "--compaction-nice", "12"}).options;
  storage::LevelDbOptions nice = ToLevelDbOptions(o, 0);
  EXPECT_FALSE(nice.background_idle);
  EXPECT_EQ(nice.background_nice, 12);
  EXPECT_TRUE(nice.defer_log_writes);
  ParsedCommandLine p = Parse({"--compaction-slices", "true"});
  EXPECT_EQ(p.action, ParsedCommandLine::Action::kError);
}

TEST(NodeConfigTest, FlagsSetEverySetting) {
  ParsedCommandLine p = Parse({"--name",
                               "node7@10.0.0.7",
                               "--data-dir",
                               "/tmp/x",
                               "--pb-host",
                               "0.0.0.0",
                               "--pb-port",
                               "0",
                               "--http-host",
                               "::1",
                               "--http-port",
                               "0",
                               "--ports-file",
                               "ports.json",
                               "--ring-size",
                               "128",
                               "--log-level",
                               "debug",
                               "--log-file",
                               "n.log",
                               "--max-frame-bytes",
                               "1048576",
                               "--max-connections",
                               "10",
                               "--sync-writes",
                               "yes",
                               "--n-val",
                               "5",
                               "--allow-mult",
                               "true",
                               "--last-write-wins",
                               "false",
                               "--r",
                               "one",
                               "--w",
                               "all",
                               "--dw",
                               "2",
                               "--pr",
                               "quorum",
                               "--pw",
                               "default",
                               "--rw",
                               "5",
                               "--notfound-ok",
                               "off",
                               "--basic-quorum",
                               "1"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  const NodeOptions& o = p.options;
  EXPECT_EQ(o.name, "node7@10.0.0.7");
  EXPECT_EQ(o.data_dir, "/tmp/x");
  EXPECT_EQ(o.pb_host, "0.0.0.0");
  EXPECT_EQ(o.pb_port, 0);
  EXPECT_EQ(o.http_host, "::1");
  EXPECT_EQ(o.http_port, 0);
  EXPECT_EQ(o.ports_file, "ports.json");
  EXPECT_EQ(o.ring_size, 128u);
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.log_file, "n.log");
  EXPECT_EQ(o.max_frame_bytes, 1048576u);
  EXPECT_EQ(o.max_connections, 10u);
  EXPECT_TRUE(o.sync_writes);
  const auto& b = o.bucket_defaults;
  EXPECT_EQ(b.n_val, 5u);
  EXPECT_EQ(b.allow_mult, true);
  EXPECT_EQ(b.last_write_wins, false);
  EXPECT_EQ(b.r, Quorum::One());
  EXPECT_EQ(b.w, Quorum::All());
  EXPECT_EQ(b.dw, Quorum::Number(2));
  EXPECT_EQ(b.pr, Quorum::Majority());
  EXPECT_EQ(b.pw, Quorum::Default());
  EXPECT_EQ(b.rw, Quorum::Number(5));
  EXPECT_EQ(b.notfound_ok, false);
  EXPECT_EQ(b.basic_quorum, true);
  EXPECT_FALSE(b.datatype.has_value());

  replication::NodeConfig core = ToNodeConfig(o);
  EXPECT_EQ(core.name, "node7@10.0.0.7");
  EXPECT_EQ(core.ring_size, 128u);
  EXPECT_TRUE(core.always_sync);
  EXPECT_EQ(core.default_props, b);

  PbcServerOptions pbc = ToPbcServerOptions(o);
  EXPECT_EQ(pbc.host, "0.0.0.0");
  EXPECT_EQ(pbc.port, 0);
  EXPECT_EQ(pbc.max_frame_bytes, 1048576u);
  EXPECT_EQ(pbc.max_connections, 10u);
}

TEST(NodeConfigTest, TomlSetsSettingsAndFlagsOverrideIt) {
  TempToml file(R"(# a node
name = "node2@127.0.0.1"
data_dir = "var/node2"
pb_port = 9087
http-port = 9187
ring_size = 16
log_level = "warn"
sync_writes = true
max_connections = 7

[bucket_defaults]
n_val = 2
allow_mult = true
r = "one"
w = 2
notfound_ok = false
)");
  ParsedCommandLine p =
      Parse({"--config", file.path(), "--pb-port", "9999", "--r", "all",
             "--pb-port", "9998", "--log-level", "error"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  const NodeOptions& o = p.options;
  EXPECT_EQ(o.config_file, file.path());
  EXPECT_EQ(o.name, "node2@127.0.0.1");  // from the file
  EXPECT_EQ(o.data_dir, "var/node2");
  EXPECT_EQ(o.pb_port, 9998);  // flag wins; the last of a repeated flag
  EXPECT_EQ(o.http_port, 9187);
  EXPECT_EQ(o.ring_size, 16u);
  EXPECT_EQ(o.log_level, "error");
  EXPECT_TRUE(o.sync_writes);
  EXPECT_EQ(o.max_connections, 7u);
  EXPECT_EQ(o.pb_host, "127.0.0.1");  // untouched default
  EXPECT_EQ(o.bucket_defaults.n_val, 2u);
  EXPECT_EQ(o.bucket_defaults.allow_mult, true);
  EXPECT_EQ(o.bucket_defaults.r, Quorum::All());
  EXPECT_EQ(o.bucket_defaults.w, Quorum::Number(2));
  EXPECT_EQ(o.bucket_defaults.notfound_ok, false);
  EXPECT_FALSE(o.bucket_defaults.dw.has_value());
}

TEST(NodeConfigTest, TheClusterScriptsConfigIsAccepted) {
  // The shape cluster/up writes.
  TempToml file(R"(# Settings of node1@127.0.0.1 (written by cluster/up).
name = "node1@127.0.0.1"
data_dir = "var/cluster/node1/data"
pb_host = "127.0.0.1"
pb_port = 8087
http_host = "127.0.0.1"
http_port = 8187
peer_host = "127.0.0.1"
peer_port = 8287
cluster_name = "causeway"
cluster_secret_file = "var/cluster/secret"
log_level = "info"
)");
  ParsedCommandLine p = ParseRaw({"--config", file.path()});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_EQ(p.options.http_port, 8187);
  EXPECT_EQ(p.options.peer_port, 8287);
  EXPECT_EQ(p.options.cluster_secret_file, "var/cluster/secret");
}

TEST(NodeConfigTest, HelpDocumentsEveryFlag) {
  ParsedCommandLine p = Parse({"--help"});
  ASSERT_EQ(p.action, Action::kHelp);
  for (const char* flag : {"--config",
                           "--name",
                           "--data-dir",
                           "--pb-host",
                           "--pb-port",
                           "--http-host",
                           "--http-port",
                           "--ports-file",
                           "--ring-size",
                           "--log-level",
                           "--log-file",
                           "--max-frame-bytes",
                           "--max-connections",
                           "--n-val",
                           "--allow-mult",
                           "--last-write-wins",
                           "--r",
                           "--w",
                           "--dw",
                           "--pr",
                           "--pw",
                           "--rw",
                           "--notfound-ok",
                           "--basic-quorum",
                           "--sync-writes",
                           "--peer-host",
                           "--peer-port",
                           "--peer-advertise-host",
                           "--cluster-name",
                           "--cluster-secret-file",
                           "--no-peer",
                           "--down-after-ms",
                           "--request-timeout-ms",
                           "bucket_defaults"}) {
    EXPECT_NE(p.help.find(flag), std::string::npos) << flag << "\n" << p.help;
  }
  EXPECT_EQ(HelpText(), p.help);
  EXPECT_EQ(Parse({"-h"}).action, Action::kHelp);
}

TEST(NodeConfigTest, VersionNamesCausewayAndTheRiakProtocol) {
  ParsedCommandLine p = Parse({"--version"});
  ASSERT_EQ(p.action, Action::kHelp);
  EXPECT_EQ(p.help, std::string("causewayd ") + causeway::kVersion +
                        " (Riak protocol 2.2.3)\n");
  EXPECT_NE(HelpText().find("--version"), std::string::npos);
  // Riak clients compare the leading number of server_version.
  EXPECT_EQ(std::string(causeway::kServerVersion).rfind("2.2.3-causeway-", 0),
            0u);
}

TEST(NodeConfigTest, RejectsBadFlagsWithMessages) {
  EXPECT_NE(ErrorOf({"--no-such-flag"}).find("no-such-flag"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"stray"}).find("stray"), std::string::npos);
  EXPECT_NE(ErrorOf({"--pb-port"}).find("pb-port"), std::string::npos);
  std::string m = ErrorOf({"--pb-port", "70000"});
  EXPECT_NE(m.find("--pb-port"), std::string::npos) << m;
  EXPECT_NE(m.find("70000"), std::string::npos) << m;
  m = ErrorOf({"--pb-port", "-1"});
  EXPECT_NE(m.find("pb-port"), std::string::npos) << m;
  m = ErrorOf({"--http-port", "80x"});
  EXPECT_NE(m.find("--http-port"), std::string::npos) << m;
  m = ErrorOf({"--allow-mult", "maybe"});
  EXPECT_NE(m.find("--allow-mult"), std::string::npos) << m;
  EXPECT_NE(m.find("maybe"), std::string::npos) << m;
  m = ErrorOf({"--r", "most"});
  EXPECT_NE(m.find("--r"), std::string::npos) << m;
  EXPECT_NE(m.find("quorum"), std::string::npos) << m;
  m = ErrorOf({"--max-frame-bytes", "99999999999"});
  EXPECT_NE(m.find("--max-frame-bytes"), std::string::npos) << m;
}

TEST(NodeConfigTest, RejectsInvalidValuesWithMessages) {
  for (const char* size : {"0", "48", "2048", "3"}) {
    std::string m = ErrorOf({"--ring-size", size});
    EXPECT_NE(m.find("ring_size"), std::string::npos) << m;
    EXPECT_NE(m.find("power of two"), std::string::npos) << m;
  }
  for (const char* size : {"1", "2", "1024"}) {
    EXPECT_EQ(Parse({"--ring-size", size}).action, Action::kRun) << size;
  }
  for (const char* n : {"0", "17"}) {
    std::string m = ErrorOf({"--n-val", n});
    EXPECT_NE(m.find("n_val"), std::string::npos) << m;
    EXPECT_NE(m.find("1 to 16"), std::string::npos) << m;
  }
  EXPECT_EQ(Parse({"--n-val", "16"}).action, Action::kRun);
  std::string m = ErrorOf({"--w", "4"});  // above the default n_val of 3
  EXPECT_NE(m.find("bucket_defaults.w"), std::string::npos) << m;
  EXPECT_EQ(Parse({"--w", "4", "--n-val", "5"}).action, Action::kRun);
  m = ErrorOf({"--r", "0"});
  EXPECT_NE(m.find("bucket_defaults.r"), std::string::npos) << m;
  EXPECT_EQ(Parse({"--pr", "0", "--dw", "0"}).action, Action::kRun);
  m = ErrorOf({"--log-level", "loud"});
  EXPECT_NE(m.find("log_level"), std::string::npos) << m;
  EXPECT_NE(m.find("loud"), std::string::npos) << m;
  m = ErrorOf({"--name", ""});
  EXPECT_NE(m.find("name"), std::string::npos) << m;
  m = ErrorOf({"--name", "has space"});
  EXPECT_NE(m.find("name"), std::string::npos) << m;
  m = ErrorOf({"--data-dir", ""});
  EXPECT_NE(m.find("data_dir"), std::string::npos) << m;
  m = ErrorOf({"--pb-port", "9000", "--http-port", "9000"});
  EXPECT_NE(m.find("http_port"), std::string::npos) << m;
  EXPECT_EQ(Parse({"--pb-port", "0", "--http-port", "0"}).action, Action::kRun);
  m = ErrorOf({"--max-frame-bytes", "10"});
  EXPECT_NE(m.find("max_frame_bytes"), std::string::npos) << m;
  m = ErrorOf({"--max-connections", "0"});
  EXPECT_NE(m.find("max_connections"), std::string::npos) << m;
  m = ErrorOf({"--allow-mult", "true", "--last-write-wins", "true"});
  EXPECT_NE(m.find("last_write_wins"), std::string::npos) << m;
}

TEST(NodeConfigTest, RejectsBadTomlWithMessages) {
  std::string m = TomlErrorOf("pb_port = \n");
  EXPECT_NE(m.find("test.toml:1"), std::string::npos) << m;
  m = TomlErrorOf("name = \"a\"\nnmae = \"b\"\n");
  EXPECT_NE(m.find("test.toml:2"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown setting 'nmae'"), std::string::npos) << m;
  m = TomlErrorOf("[bucket_defaults]\nn_vals = 3\n");
  EXPECT_NE(m.find("bucket_defaults.n_vals"), std::string::npos) << m;
  m = TomlErrorOf("n_val = 3\n");  // belongs in [bucket_defaults]
  EXPECT_NE(m.find("unknown setting 'n_val'"), std::string::npos) << m;
  m = TomlErrorOf("pb_port = \"eighty\"\n");
  EXPECT_NE(m.find("pb_port"), std::string::npos) << m;
  m = TomlErrorOf("pb_port = 65536\n");
  EXPECT_NE(m.find("65536"), std::string::npos) << m;
  m = TomlErrorOf("pb_port = -5\n");
  EXPECT_NE(m.find("-5"), std::string::npos) << m;
  m = TomlErrorOf("name = 5\n");
  EXPECT_NE(m.find("expected a string"), std::string::npos) << m;
  m = TomlErrorOf("sync_writes = 2.5\n");
  EXPECT_NE(m.find("sync_writes"), std::string::npos) << m;
  m = TomlErrorOf("bucket_defaults = 3\n");
  EXPECT_NE(m.find("must be a table"), std::string::npos) << m;
  m = TomlErrorOf("[bucket_defaults]\nr = \"several\"\n");
  EXPECT_NE(m.find("bucket_defaults.r"), std::string::npos) << m;
  m = TomlErrorOf("config = \"other.toml\"\n");
  EXPECT_NE(m.find("unknown setting 'config'"), std::string::npos) << m;
}

TEST(NodeConfigTest, ABadTomlLeavesOptionsUntouched) {
  NodeOptions o;
  ASSERT_FALSE(ApplyToml("name = \"x@y\"\nbogus = 1\n", "t", &o).ok());
  EXPECT_EQ(o.name, NodeOptions{}.name);
}

TEST(NodeConfigTest, ValuesFromTheFileAreValidatedToo) {
  TempToml file("ring_size = 100\n");
  std::string m = ErrorOf({"--config", file.path()});
  EXPECT_NE(m.find("ring_size"), std::string::npos) << m;
  // ... unless a flag fixes them.
  EXPECT_EQ(Parse({"--config", file.path(), "--ring-size", "128"}).action,
            Action::kRun);
}

TEST(NodeConfigTest, TheLastConfigFlagWins) {
  TempToml file("ring_size = 32\n");
  ParsedCommandLine p = Parse(
      {"--config", "/nonexistent/causeway/node.toml", "--config", file.path()});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_EQ(p.options.ring_size, 32u);
}

TEST(NodeConfigTest, MissingConfigFileIsAnError) {
  std::string m = ErrorOf({"--config", "/nonexistent/causeway/node.toml"});
  EXPECT_NE(m.find("/nonexistent/causeway/node.toml"), std::string::npos) << m;
}

TEST(NodeConfigTest, QuorumsAcceptRiakWordsAndNumbers) {
  NodeOptions o;
  ASSERT_TRUE(ApplyToml("[bucket_defaults]\nn_val = 5\nr = \"QUORUM\"\n"
                        "w = \"3\"\ndw = 0\npw = \"all\"\n",
                        "t", &o)
                  .ok());
  o.cluster_secret_file = "secret";
  EXPECT_EQ(o.bucket_defaults.r, Quorum::Majority());
  EXPECT_EQ(o.bucket_defaults.w, Quorum::Number(3));
  EXPECT_EQ(o.bucket_defaults.dw, Quorum::Number(0));
  EXPECT_EQ(o.bucket_defaults.pw, Quorum::All());
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(NodeConfigTest, PeerFlagsSetTheClusterSettings) {
  ParsedCommandLine p = ParseRaw(
      {"--peer-host", "10.0.0.5", "--peer-port", "0", "--peer-advertise-host",
       "node5.example", "--cluster-name", "prod", "--cluster-secret-file",
       "/etc/causeway/secret", "--down-after-ms", "5000", "--peer-suspect-ms",
       "700", "--request-timeout-ms", "2000", "--max-clock-offset-ms", "250"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  const NodeOptions& o = p.options;
  EXPECT_FALSE(o.no_peer);
  EXPECT_EQ(o.peer_host, "10.0.0.5");
  EXPECT_EQ(o.peer_port, 0);
  EXPECT_EQ(o.peer_advertise_host, "node5.example");
  EXPECT_EQ(o.cluster_name, "prod");
  EXPECT_EQ(o.cluster_secret_file, "/etc/causeway/secret");
  EXPECT_EQ(o.down_after_ms, 5000u);
  EXPECT_EQ(o.request_timeout_ms, 2000u);

  replication::NodeConfig core = ToNodeConfig(o);
  EXPECT_EQ(core.cluster_name, "prod");
  EXPECT_EQ(core.request_timeout_ms, 2000u);
  EXPECT_EQ(core.max_clock_offset_ms, 250u);
  EXPECT_EQ(core.cluster_timing.down_after_ms, 5000u);
  EXPECT_EQ(core.cluster_timing.suspect_after_ms, 700u);
  // Only the bound port settles it; the node fills it in.
  EXPECT_EQ(core.peer_address, "");
  EXPECT_EQ(PeerAddress(o, 41234), "node5.example:41234");
}

TEST(NodeConfigTest, UnauthenticatedPeerBoundsReachTheTransport) {
  ParsedCommandLine p = Parse({"--peer-max-unauthenticated", "8",
                               "--peer-handshake-timeout-ms", "750"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  const PeerTransportOptions peer = ToPeerTransportOptions(p.options, "s");
  EXPECT_EQ(peer.max_unauthenticated, 8u);
  EXPECT_EQ(peer.handshake_timeout_ms, 750u);
}

TEST(NodeConfigTest, PeerTransportOptionsCarryTheSettingsAndFitAnyObject) {
  ParsedCommandLine p =
      Parse({"--name", "n1@10.0.0.1", "--peer-host", "10.0.0.1", "--peer-port",
             "9100", "--cluster-name", "prod"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  PeerTransportOptions t = ToPeerTransportOptions(p.options, "s3cret");
  EXPECT_EQ(t.host, "10.0.0.1");
  EXPECT_EQ(t.port, 9100);
  EXPECT_EQ(t.node_name, "n1@10.0.0.1");
  EXPECT_EQ(t.cluster_name, "prod");
  EXPECT_EQ(t.secret, "s3cret");
  // A largest client write, its envelope and siblings fit in one peer frame,
  // and one such frame fits in a peer's queue.
  for (const char* frame : {"1024", "67108864", "1073741824"}) {
    p = Parse({"--max-frame-bytes", frame});
    ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
    t = ToPeerTransportOptions(p.options, "s");
    EXPECT_GT(t.max_frame_bytes, 2 * uint64_t{p.options.max_frame_bytes})
        << frame;
    EXPECT_GE(t.max_queue_bytes, t.max_frame_bytes) << frame;
    EXPECT_GE(t.max_frame_bytes, PeerTransportOptions{}.max_frame_bytes);
    EXPECT_GE(t.max_queue_bytes, PeerTransportOptions{}.max_queue_bytes);
  }
}

TEST(NodeConfigTest, PeerSettingsComeFromTomlToo) {
  TempToml file(R"(peer_host = "127.0.0.2"
peer-port = 9100
cluster_name = "staging"
cluster_secret_file = "secret.txt"
down_after_ms = 4000
peer_suspect_ms = 800
)");
  ParsedCommandLine p =
      ParseRaw({"--config", file.path(), "--cluster-name", "flagged"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_EQ(p.options.peer_host, "127.0.0.2");
  EXPECT_EQ(p.options.peer_port, 9100);
  EXPECT_EQ(p.options.cluster_name, "flagged");
  EXPECT_EQ(p.options.cluster_secret_file, "secret.txt");
  EXPECT_EQ(p.options.down_after_ms, 4000u);
  EXPECT_EQ(p.options.peer_suspect_ms, 800u);

  TempToml standalone("no_peer = true\n");
  p = ParseRaw({"--config", standalone.path()});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_TRUE(p.options.no_peer);
  // A flag turns it back on, and then the secret file is needed again.
  p = ParseRaw({"--config", standalone.path(), "--no-peer=false"});
  ASSERT_EQ(p.action, Action::kError);
  std::string m = p.status.message();
  EXPECT_NE(m.find("cluster_secret_file"), std::string::npos) << m;

  m = TomlErrorOf("no_peer = \"sometimes\"\n");
  EXPECT_NE(m.find("no_peer"), std::string::npos) << m;
  m = TomlErrorOf("peer_port = 70000\n");
  EXPECT_NE(m.find("peer_port"), std::string::npos) << m;
}

TEST(NodeConfigTest, APeerPortNeedsASecretFileAndNoPeerNeedsNone) {
  ParsedCommandLine p = ParseRaw({});
  ASSERT_EQ(p.action, Action::kError);
  const std::string m = p.status.message();
  EXPECT_NE(m.find("--cluster-secret-file"), std::string::npos) << m;
  EXPECT_NE(m.find("--no-peer"), std::string::npos) << m;

  p = ParseRaw({"--no-peer"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_TRUE(p.options.no_peer);
  EXPECT_EQ(ParseRaw({"--no-peer", "--no-peer=false"}).action, Action::kError);
  EXPECT_EQ(ParseRaw({"--no-peer=yes"}).action, Action::kRun);
  EXPECT_NE(ErrorOf({"--no-peer=often"}).find("--no-peer"), std::string::npos);
  // An empty file name is no file.
  EXPECT_NE(ErrorOf({"--cluster-secret-file", ""}).find("cluster_secret_file"),
            std::string::npos);
}

TEST(NodeConfigTest, RejectsBadPeerSettingsWithMessages) {
  std::string m = ErrorOf({"--peer-port", "8087"});  // the client port
  EXPECT_NE(m.find("peer_port"), std::string::npos) << m;
  EXPECT_NE(m.find("pb_port"), std::string::npos) << m;
  m = ErrorOf({"--peer-port", "8098"});  // the admin port
  EXPECT_NE(m.find("http_port"), std::string::npos) << m;
  // Different hosts may share a port number, unless one is a wildcard.
  EXPECT_EQ(Parse({"--peer-port", "8087", "--peer-host", "127.0.0.2"}).action,
            Action::kRun);
  m = ErrorOf({"--peer-port", "8087", "--pb-host", "0.0.0.0"});
  EXPECT_NE(m.find("peer_port"), std::string::npos) << m;
  // Port 0 never clashes, and --no-peer turns the peer checks off.
  EXPECT_EQ(Parse({"--peer-port", "0", "--pb-port", "0"}).action, Action::kRun);
  EXPECT_EQ(ParseRaw({"--no-peer", "--peer-port", "8087"}).action,
            Action::kRun);

  for (const char* wildcard : {"0.0.0.0", "::", "[::]"}) {
    m = ErrorOf({"--peer-host", wildcard});
    EXPECT_NE(m.find("peer_advertise_host"), std::string::npos) << m;
    ParsedCommandLine p =
        Parse({"--peer-host", wildcard, "--peer-advertise-host", "10.1.2.3"});
    ASSERT_EQ(p.action, Action::kRun) << wildcard << p.status.ToString();
    EXPECT_EQ(PeerAddress(p.options, 8097), "10.1.2.3:8097");
  }
  m = ErrorOf({"--peer-advertise-host", "0.0.0.0"});
  EXPECT_NE(m.find("peer_advertise_host"), std::string::npos) << m;
  m = ErrorOf({"--peer-host", ""});
  EXPECT_NE(m.find("peer_host"), std::string::npos) << m;

  for (const char* name : {"", "two words", "tab\tbed"}) {
    m = ErrorOf({"--cluster-name", name});
    EXPECT_NE(m.find("cluster_name"), std::string::npos) << m;
  }
  EXPECT_NE(
      ErrorOf({"--cluster-name", std::string(256, 'c')}).find("cluster_name"),
      std::string::npos);
  EXPECT_EQ(Parse({"--cluster-name", std::string(255, 'c')}).action,
            Action::kRun);

  for (const char* ms : {"999", "600001"}) {
    m = ErrorOf({"--down-after-ms", ms});
    EXPECT_NE(m.find("down_after_ms"), std::string::npos) << m;
  }
  EXPECT_EQ(Parse({"--down-after-ms", "1000"}).action, Action::kRun);
  for (const char* ms : {"99", "3001"}) {
    m = ErrorOf({"--peer-suspect-ms", ms});
    EXPECT_NE(m.find("peer_suspect_ms"), std::string::npos) << m;
  }
  // Suspicion comes before the verdict, never after it.
  m = ErrorOf({"--down-after-ms", "2000", "--peer-suspect-ms", "2500"});
  EXPECT_NE(m.find("at most down_after_ms"), std::string::npos) << m;
  EXPECT_EQ(
      Parse({"--down-after-ms", "2000", "--peer-suspect-ms", "2000"}).action,
      Action::kRun);
  for (const char* ms : {"99", "3600001"}) {
    m = ErrorOf({"--request-timeout-ms", ms});
    EXPECT_NE(m.find("request_timeout_ms"), std::string::npos) << m;
  }
  for (const char* ms : {"9", "3600001"}) {
    m = ErrorOf({"--max-clock-offset-ms", ms});
    EXPECT_NE(m.find("max_clock_offset_ms"), std::string::npos) << m;
  }
  for (const char* n : {"0", "65537"}) {
    m = ErrorOf({"--peer-max-unauthenticated", n});
    EXPECT_NE(m.find("peer_max_unauthenticated"), std::string::npos) << m;
  }
  for (const char* ms : {"99", "600001"}) {
    m = ErrorOf({"--peer-handshake-timeout-ms", ms});
    EXPECT_NE(m.find("peer_handshake_timeout_ms"), std::string::npos) << m;
  }
}

TEST(NodeConfigTest, PeerAddressBracketsIpv6Literals) {
  NodeOptions o;
  o.peer_host = "::1";
  EXPECT_EQ(PeerAddress(o, 9), "[::1]:9");
  o.peer_host = "[::1]";
  EXPECT_EQ(PeerAddress(o, 9), "[::1]:9");
  o.peer_host = "127.0.0.1";
  EXPECT_EQ(PeerAddress(o, 65535), "127.0.0.1:65535");
  o.peer_advertise_host = "fe80::2";
  EXPECT_EQ(PeerAddress(o, 1), "[fe80::2]:1");
}

// A file in a per-test temporary directory, with the given mode.
class TempFile {
 public:
  TempFile(const std::string& content, std::filesystem::perms mode) {
    dir_ = std::filesystem::temp_directory_path() /
           ("causeway-secret-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "secret").string();
    std::ofstream(path_, std::ios::binary) << content;
    std::filesystem::permissions(path_, mode);
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string dir() const { return dir_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string path_;
};

constexpr auto kOwnerOnly =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;

TEST(ClusterSecretTest, ReadsTheFileLessTrailingWhitespace) {
  TempFile file("  s3cr3t value\n\r\n \t", kOwnerOnly);
  std::string secret, warning = "stale";
  Status s = ReadClusterSecret(file.path(), &secret, &warning);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Leading and inner whitespace is part of the secret.
  EXPECT_EQ(secret, "  s3cr3t value");
  EXPECT_EQ(warning, "");

  // Any bytes, including NUL and newlines inside.
  const std::string binary("a\0b\nc\xff", 6);
  TempFile raw(binary + "\n", kOwnerOnly);
  ASSERT_TRUE(ReadClusterSecret(raw.path(), &secret).ok());
  EXPECT_EQ(secret, binary);
}

TEST(ClusterSecretTest, WarnsWhenOthersCanReadIt) {
  TempFile file("hunter2\n", kOwnerOnly | std::filesystem::perms::group_read |
                                 std::filesystem::perms::others_read);
  std::string secret, warning;
  ASSERT_TRUE(ReadClusterSecret(file.path(), &secret, &warning).ok());
  EXPECT_EQ(secret, "hunter2");
  EXPECT_NE(warning.find(file.path()), std::string::npos) << warning;
  EXPECT_NE(warning.find("chmod 600"), std::string::npos) << warning;
  EXPECT_EQ(warning.find("hunter2"), std::string::npos) << warning;
}

TEST(ClusterSecretTest, UnusableFilesAreClearErrorsThatNeverShowTheContent) {
  std::string secret = "unchanged";
  auto error_of = [&](const std::string& path) {
    Status s = ReadClusterSecret(path, &secret);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << path;
    EXPECT_EQ(secret, "unchanged");
    return s.message();
  };

  TempFile file("x", kOwnerOnly);
  const std::string missing = file.dir() + "/no-such-secret";
  std::string m = error_of(missing);
  EXPECT_NE(m.find(missing), std::string::npos) << m;
  EXPECT_NE(m.find("cannot open"), std::string::npos) << m;

  TempFile empty("", kOwnerOnly);
  m = error_of(empty.path());
  EXPECT_NE(m.find("is empty"), std::string::npos) << m;
  TempFile blank(" \n\t\r\n", kOwnerOnly);
  m = error_of(blank.path());
  EXPECT_NE(m.find("is empty"), std::string::npos) << m;

  m = error_of(file.dir());
  EXPECT_NE(m.find("not a regular file"), std::string::npos) << m;

  TempFile huge(std::string(64 * 1024, 'k') + "Z", kOwnerOnly);
  m = error_of(huge.path());
  EXPECT_NE(m.find("64 KiB"), std::string::npos) << m;
  EXPECT_EQ(m.find("kkkk"), std::string::npos) << m;
  TempFile just_fits(std::string(64 * 1024, 'k'), kOwnerOnly);
  EXPECT_TRUE(ReadClusterSecret(just_fits.path(), &secret).ok());
  EXPECT_EQ(secret.size(), 64u * 1024);

  secret = "unchanged";
  m = error_of("");
  EXPECT_NE(m.find("--cluster-secret-file"), std::string::npos) << m;
}

TEST(NodeConfigTest, FaultInjectionIsAFlagOnlyAndOffByDefault) {
  ParsedCommandLine p = Parse({});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_FALSE(p.options.enable_fault_injection);
  p = Parse({"--enable-fault-injection"});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_TRUE(p.options.enable_fault_injection);

  // No config file can turn it on: it is not a TOML key at all.
  std::string m = TomlErrorOf("enable_fault_injection = true\n");
  EXPECT_NE(m.find("unknown setting 'enable_fault_injection'"),
            std::string::npos)
      << m;
  TempToml file("name = \"n1\"\n");
  p = Parse({"--config", file.path()});
  ASSERT_EQ(p.action, Action::kRun) << p.status.ToString();
  EXPECT_FALSE(p.options.enable_fault_injection);

  EXPECT_NE(HelpText().find("--enable-fault-injection"), std::string::npos);
}

}  // namespace
}  // namespace causeway::node
