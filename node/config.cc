#include "node/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include "base/host_port.h"
#include "base/printable.h"

namespace causeway::node {
namespace {

using replication::Quorum;

// A setting's value as it arrived: text from a flag, or a typed TOML value.
struct RawValue {
  enum class Source { kFlag, kTomlString, kTomlInteger, kTomlBool, kTomlOther };
  Source source = Source::kFlag;
  std::string text;  // flags and TOML strings
  int64_t integer = 0;
  bool boolean = false;
  std::string toml_type;  // for kTomlOther, to name it in the message

  bool is_text() const {
    return source == Source::kFlag || source == Source::kTomlString;
  }
};

// "got ..." part of an error message.
std::string Describe(const RawValue& v) {
  switch (v.source) {
    case RawValue::Source::kFlag:
    case RawValue::Source::kTomlString:
      return "'" + v.text + "'";
    case RawValue::Source::kTomlInteger:
      return std::to_string(v.integer);
    case RawValue::Source::kTomlBool:
      return v.boolean ? "true" : "false";
    case RawValue::Source::kTomlOther:
      return "a TOML " + v.toml_type;
  }
  return "?";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(c));
  return out;
}

// Strict decimal: digits only, no sign, no spaces, no overflow.
std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return std::nullopt;
    }
    v = v * 10 + digit;
  }
  return v;
}

Status GetString(const RawValue& v, std::string* out) {
  if (!v.is_text()) {
    return Status::InvalidArgument("expected a string, got " + Describe(v));
  }
  *out = v.text;
  return Status::Ok();
}

Status GetUint(const RawValue& v, uint64_t max, uint64_t* out) {
  std::optional<uint64_t> parsed;
  if (v.source == RawValue::Source::kTomlInteger) {
    if (v.integer >= 0) parsed = static_cast<uint64_t>(v.integer);
  } else if (v.is_text()) {
    parsed = ParseDecimal(v.text);
  }
  if (!parsed || *parsed > max) {
    return Status::InvalidArgument("expected an integer from 0 to " +
                                   std::to_string(max) + ", got " +
                                   Describe(v));
  }
  *out = *parsed;
  return Status::Ok();
}

Status GetBool(const RawValue& v, bool* out) {
  if (v.source == RawValue::Source::kTomlBool) {
    *out = v.boolean;
    return Status::Ok();
  }
  if (v.is_text()) {
    const std::string t = Lower(v.text);
    if (t == "true" || t == "yes" || t == "on" || t == "1") {
      *out = true;
      return Status::Ok();
    }
    if (t == "false" || t == "no" || t == "off" || t == "0") {
      *out = false;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(
      "expected true or false (or yes/no, on/off, 1/0), got " + Describe(v));
}

// Quorums are written as Riak writes them: one, quorum, all, default, or a
// replica count.
Status GetQuorum(const RawValue& v, Quorum* out) {
  constexpr uint64_t kMaxNumber = 1000;  // far above any n_val
  if (v.source == RawValue::Source::kTomlInteger) {
    if (v.integer >= 0 && static_cast<uint64_t>(v.integer) <= kMaxNumber) {
      *out = Quorum::Number(static_cast<uint32_t>(v.integer));
      return Status::Ok();
    }
  } else if (v.is_text()) {
    const std::string t = Lower(v.text);
    if (t == "one") {
      *out = Quorum::One();
      return Status::Ok();
    }
    if (t == "quorum") {
      *out = Quorum::Majority();
      return Status::Ok();
    }
    if (t == "all") {
      *out = Quorum::All();
      return Status::Ok();
    }
    if (t == "default") {
      *out = Quorum::Default();
      return Status::Ok();
    }
    if (std::optional<uint64_t> n = ParseDecimal(t); n && *n <= kMaxNumber) {
      *out = Quorum::Number(static_cast<uint32_t>(*n));
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(
      "expected one, quorum, all, default or a number of replicas, got " +
      Describe(v));
}

using Apply = std::function<Status(const RawValue&, NodeOptions*)>;

struct Setting {
  std::string name;  // TOML key; the flag is --name with '-' for '_'
  bool bucket_default;
  // A flag that takes no value on the command line (--no-peer); it still
  // accepts --no-peer=false, and a boolean in TOML.
  bool switch_flag;
  std::string value_name;  // shown in --help
  std::string default_text;
  std::string help;
  Apply apply;

  std::string flag() const {
    std::string f = "--" + name;
    std::replace(f.begin(), f.end(), '_', '-');
    return f;
  }
  std::string toml_key() const {
    return bucket_default ? "bucket_defaults." + name : name;
  }
};

Apply StringField(std::string NodeOptions::*field) {
  return [field](const RawValue& v, NodeOptions* o) {
    return GetString(v, &(o->*field));
  };
}

template <typename T>
Apply UintField(T NodeOptions::*field) {
  return [field](const RawValue& v, NodeOptions* o) {
    uint64_t n;
    Status s = GetUint(v, std::numeric_limits<T>::max(), &n);
    if (s.ok()) o->*field = static_cast<T>(n);
    return s;
  };
}

Apply BoolField(bool NodeOptions::*field) {
  return [field](const RawValue& v, NodeOptions* o) {
    return GetBool(v, &(o->*field));
  };
}

using Patch = replication::BucketPropsPatch;

Apply PatchBool(std::optional<bool> Patch::*field) {
  return [field](const RawValue& v, NodeOptions* o) {
    bool b;
    Status s = GetBool(v, &b);
    if (s.ok()) o->bucket_defaults.*field = b;
    return s;
  };
}

Apply PatchQuorum(std::optional<Quorum> Patch::*field) {
  return [field](const RawValue& v, NodeOptions* o) {
    Quorum q;
    Status s = GetQuorum(v, &q);
    if (s.ok()) o->bucket_defaults.*field = q;
    return s;
  };
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = [] {
    const NodeOptions d;
    std::vector<Setting> s;
    auto top = [&](std::string name, std::string value_name,
                   std::string default_text, std::string help, Apply apply) {
      s.push_back(Setting{std::move(name), false, false, std::move(value_name),
                          std::move(default_text), std::move(help),
                          std::move(apply)});
    };
    auto flag = [&](std::string name, std::string help, Apply apply) {
      s.push_back(Setting{std::move(name), false, true, "", "", std::move(help),
                          std::move(apply)});
    };
    auto bucket = [&](std::string name, std::string value_name,
                      std::string default_text, std::string help, Apply apply) {
      s.push_back(Setting{std::move(name), true, false, std::move(value_name),
                          std::move(default_text), std::move(help),
                          std::move(apply)});
    };
    top("name", "NAME", d.name, "Node name, as peers and clients see it",
        StringField(&NodeOptions::name));
    top("data_dir", "DIR", d.data_dir,
        "Data directory; the database lives in DIR/db",
        StringField(&NodeOptions::data_dir));
    top("pb_host", "HOST", d.pb_host, "Client protocol (PBC) listen address",
        StringField(&NodeOptions::pb_host));
    top("pb_port", "PORT", std::to_string(d.pb_port),
        "Client protocol port; 0 picks a free port",
        UintField(&NodeOptions::pb_port));
    top("http_host", "HOST", d.http_host, "Admin HTTP listen address",
        StringField(&NodeOptions::http_host));
    top("http_port", "PORT", std::to_string(d.http_port),
        "Admin HTTP port (/ping, /stats, /metrics); 0 picks a free port",
        UintField(&NodeOptions::http_port));
    top("ports_file", "FILE", "",
        "Once listening, write the bound ports to FILE as one line of JSON "
        "{\"pb\":N,\"http\":M,\"peer\":P} (\"peer\" only with a peer "
        "port; written atomically: temp file + rename)",
        StringField(&NodeOptions::ports_file));
    top("ring_size", "N", std::to_string(d.ring_size),
        "Ring partitions, a power of two from 1 to 1024",
        UintField(&NodeOptions::ring_size));
    top("log_level", "LEVEL", d.log_level,
        "Log level: trace, debug, info, warn or error",
        StringField(&NodeOptions::log_level));
    top("log_file", "FILE", "", "Log to FILE (appending) instead of stderr",
        StringField(&NodeOptions::log_file));
    top("max_frame_bytes", "N", std::to_string(d.max_frame_bytes),
        "Largest client frame accepted, in bytes (1024 to 1073741824)",
        UintField(&NodeOptions::max_frame_bytes));
    top("max_connections", "N", std::to_string(d.max_connections),
        "Client connections served at once; more are refused",
        UintField(&NodeOptions::max_connections));
    top("sync_writes", "BOOL", "false",
        "Sync every write to disk, whatever the request's dw",
        BoolField(&NodeOptions::sync_writes));
    top("write_buffer_mb", "MB", std::to_string(d.write_buffer_mb),
        "LevelDB memtable size in MiB (1 to 1024): larger flushes less "
        "often, smaller keeps each write's skip-list walk in cache; each "
        "node takes its own between 80% and 100% of it, so that nodes do "
        "not flush together",
        UintField(&NodeOptions::write_buffer_mb));
    top("block_cache_mb", "MB", std::to_string(d.block_cache_mb),
        "LevelDB block cache in MiB (1 to 65536)",
        UintField(&NodeOptions::block_cache_mb));
    top("compaction_idle", "BOOL", d.compaction_idle ? "true" : "false",
        "Run LevelDB's flush and compaction thread under SCHED_IDLE: only "
        "on a CPU nothing else wants, yielding it at once to request "
        "handling (false: at --compaction-nice)",
        BoolField(&NodeOptions::compaction_idle));
    top("compaction_nice", "N", std::to_string(d.compaction_nice),
        "Nice value (0 to 19) of LevelDB's flush and compaction thread "
        "when not idle: above 0, request handling goes first when the CPUs "
        "are busy",
        UintField(&NodeOptions::compaction_nice));
    top("object_cache_mb", "MB", std::to_string(d.object_cache_mb),
        "Recently read and written objects kept decoded in memory, in MiB "
        "(0 to 65536; 0: none): every write reads its key first",
        UintField(&NodeOptions::object_cache_mb));
    top("peer_host", "HOST", d.peer_host, "Peer (node-to-node) listen address",
        StringField(&NodeOptions::peer_host));
    top("peer_port", "PORT", std::to_string(d.peer_port),
        "Peer port; 0 picks a free port", UintField(&NodeOptions::peer_port));
    top("peer_advertise_host", "HOST", "",
        "Host other nodes use to reach this one (default: --peer-host; "
        "required when that is a wildcard such as 0.0.0.0)",
        StringField(&NodeOptions::peer_advertise_host));
    top("cluster_name", "NAME", d.cluster_name,
        "Cluster name; peers of another cluster are refused",
        StringField(&NodeOptions::cluster_name));
    top("cluster_secret_file", "FILE", "",
        "File holding the secret every node of the cluster shares (trailing "
        "whitespace ignored); required unless --no-peer. cluster/up makes "
        "one",
        StringField(&NodeOptions::cluster_secret_file));
    flag("no_peer",
         "Open no peer port: a standalone one-node cluster that cannot "
         "join others",
         BoolField(&NodeOptions::no_peer));
    top("down_after_ms", "MS", std::to_string(d.down_after_ms),
        "A peer not heard from for this long is taken as down "
        "(1000 to 600000)",
        UintField(&NodeOptions::down_after_ms));
    top("request_timeout_ms", "MS", std::to_string(d.request_timeout_ms),
        "Client requests waiting on peers fail after this long "
        "(100 to 3600000)",
        UintField(&NodeOptions::request_timeout_ms));
    top("aae", "BOOL", "true",
        "Active anti-entropy: exchange hash trees with the other replicas "
        "of each partition and repair what differs (trees are kept "
        "either way)",
        BoolField(&NodeOptions::aae));
    top("aae_exchange_interval_ms", "MS",
        std::to_string(d.aae_exchange_interval_ms),
        "Pause between two anti-entropy exchanges started by this node "
        "(1 to 3600000)",
        UintField(&NodeOptions::aae_exchange_interval_ms));
    top("tombstone_reap_delay_ms", "MS",
        std::to_string(d.tombstone_reap_delay_ms),
        "Age a tombstone must reach before it is reaped, once every primary "
        "holds it (0 keeps tombstones forever)",
        UintField(&NodeOptions::tombstone_reap_delay_ms));
    bucket("n_val", "N", "3",
           "Default bucket n_val: replicas per object (1-16)",
           [](const RawValue& v, NodeOptions* o) {
             uint64_t n;
             Status st = GetUint(v, std::numeric_limits<uint32_t>::max(), &n);
             if (st.ok()) o->bucket_defaults.n_val = static_cast<uint32_t>(n);
             return st;
           });
    bucket("allow_mult", "BOOL", "false",
           "Default allow_mult: keep concurrent writes as siblings",
           PatchBool(&Patch::allow_mult));
    bucket("last_write_wins", "BOOL", "false",
           "Default last_write_wins: the newest write replaces the object",
           PatchBool(&Patch::last_write_wins));
    bucket("r", "Q", "quorum", "Default read quorum", PatchQuorum(&Patch::r));
    bucket("w", "Q", "quorum", "Default write quorum", PatchQuorum(&Patch::w));
    bucket("dw", "Q", "quorum", "Default durable-write quorum",
           PatchQuorum(&Patch::dw));
    bucket("pr", "Q", "0", "Default primary read quorum",
           PatchQuorum(&Patch::pr));
    bucket("pw", "Q", "0", "Default primary write quorum",
           PatchQuorum(&Patch::pw));
    bucket("rw", "Q", "quorum", "Default delete quorum",
           PatchQuorum(&Patch::rw));
    bucket("notfound_ok", "BOOL", "true",
           "Default notfound_ok: a not-found reply counts toward r",
           PatchBool(&Patch::notfound_ok));
    bucket("basic_quorum", "BOOL", "false",
           "Default basic_quorum: give up once a majority says not found",
           PatchBool(&Patch::basic_quorum));
    return s;
  }();
  return settings;
}

std::string NormalizeKey(std::string_view key) {
  std::string k(key);
  std::replace(k.begin(), k.end(), '-', '_');
  return k;
}

const Setting* FindSetting(std::string_view key, bool bucket_default) {
  const std::string k = NormalizeKey(key);
  for (const Setting& s : Settings()) {
    if (s.bucket_default == bucket_default && s.name == k) return &s;
  }
  return nullptr;
}

RawValue FromToml(const toml::node& node) {
  RawValue v;
  if (const auto* s = node.as_string()) {
    v.source = RawValue::Source::kTomlString;
    v.text = s->get();
  } else if (const auto* i = node.as_integer()) {
    v.source = RawValue::Source::kTomlInteger;
    v.integer = i->get();
  } else if (const auto* b = node.as_boolean()) {
    v.source = RawValue::Source::kTomlBool;
    v.boolean = b->get();
  } else {
    v.source = RawValue::Source::kTomlOther;
    std::ostringstream type;
    type << node.type();
    v.toml_type = type.str();
  }
  return v;
}

std::string Where(std::string_view source, const toml::node& node) {
  std::string out(source);
  const auto& begin = node.source().begin;
  if (begin.line > 0) {
    out +=
        ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column);
  }
  return out;
}

Status ApplyTomlTable(const toml::table& table, bool bucket_defaults,
                      std::string_view source, NodeOptions* options) {
  for (auto&& [key, node] : table) {
    const std::string_view name = key.str();
    if (!bucket_defaults && NormalizeKey(name) == "bucket_defaults") {
      const toml::table* inner = node.as_table();
      if (inner == nullptr) {
        return Status::InvalidArgument(Where(source, node) +
                                       ": bucket_defaults must be a table");
      }
      Status s = ApplyTomlTable(*inner, true, source, options);
      if (!s.ok()) return s;
      continue;
    }
    const Setting* setting = FindSetting(name, bucket_defaults);
    if (setting == nullptr) {
      const std::string full = bucket_defaults
                                   ? "bucket_defaults." + std::string(name)
                                   : std::string(name);
      return Status::InvalidArgument(Where(source, node) +
                                     ": unknown setting '" + full + "'");
    }
    Status s = setting->apply(FromToml(node), options);
    if (!s.ok()) {
      return Status::InvalidArgument(Where(source, node) + ": " +
                                     setting->toml_key() + ": " + s.message());
    }
  }
  return Status::Ok();
}

std::string Footer() {
  std::string f;
  f += "Every flag except --config can also be set in the TOML file given by\n";
  f += "--config; flags override the file. File keys are the flag names with\n";
  f += "'_' for '-' (pb_port = 8087); the bucket defaults go in a\n";
  f += "[bucket_defaults] table (n_val = 3, allow_mult = true, r = "
       "\"quorum\").\n";
  f += "Q is one, quorum, all, default or a number of replicas. BOOL is\n";
  f += "true or false (also yes/no, on/off, 1/0).\n";
  f +=
      "A node joins a cluster through `causeway cluster join`; every node of\n";
  f += "a cluster needs the same --cluster-name and cluster secret.\n";
  f += "SIGTERM or SIGINT shuts the node down gracefully (exit 0), and so\n";
  f += "does leaving the cluster once the node's data is handed off; bad\n";
  f += "configuration exits 2.";
  return f;
}

// Builds the command-line parser; `values` receives one text per setting,
// in Settings() order, and `config` the --config path.
std::vector<CLI::Option*> BuildApp(CLI::App& app,
                                   std::vector<std::string>& values,
                                   std::string& config, bool& faults) {
  app.description(
      "causewayd: a Causeway node, a replicated key-value store that speaks "
      "the Riak PBC protocol.");
  app.footer(Footer());
  app.add_option("--config", config, "Read settings from this TOML file")
      ->type_name("FILE")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  const auto& settings = Settings();
  values.assign(settings.size(), std::string());
  std::vector<CLI::Option*> options;
  for (size_t i = 0; i < settings.size(); ++i) {
    const Setting& s = settings[i];
    CLI::Option* opt =
        s.switch_flag
            ? app.add_flag(s.flag(), values[i], s.help)
                  ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
            : app.add_option(s.flag(), values[i], s.help)
                  ->type_name(s.value_name)
                  ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    if (!s.default_text.empty()) opt->default_str(s.default_text);
    if (s.bucket_default) opt->group("Default bucket properties");
    options.push_back(opt);
  }
  // Not a Setting: a Setting would also be a TOML key.
  app.add_flag("--enable-fault-injection", faults,
               "TEST CLUSTERS ONLY: serve the /faults admin endpoints that "
               "drop, delay, duplicate and reorder peer messages, partition "
               "the cluster and skew the clock (command line only; never "
               "read from a config file)")
      ->group("Testing");
  return options;
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

Status Invalid(const std::string& setting, const std::string& flag,
               const std::string& what) {
  return Status::InvalidArgument(setting + " (" + flag + ") " + what);
}

Status CheckQuorum(const char* name, const char* flag,
                   const std::optional<Quorum>& q, uint32_t n_val,
                   uint32_t min) {
  if (!q || q->kind() != Quorum::Kind::kNumber) return Status::Ok();
  if (q->number() < min || q->number() > n_val) {
    return Invalid(std::string("bucket_defaults.") + name, flag,
                   "must be from " + std::to_string(min) + " to n_val (" +
                       std::to_string(n_val) + "), got " +
                       std::to_string(q->number()));
  }
  return Status::Ok();
}

// An IP literal that means "every interface": peers cannot dial it.
bool IsWildcardAddress(std::string_view host) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  unsigned char bytes[16];
  const int family = h.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (::inet_pton(family, h.c_str(), bytes) != 1) return false;
  const size_t n = family == AF_INET ? 4 : 16;
  return std::all_of(bytes, bytes + n, [](unsigned char b) { return b == 0; });
}

// Ports clash only when both are fixed and the hosts are the same (or one
// side listens everywhere).
bool PortsClash(uint16_t a_port, const std::string& a_host, uint16_t b_port,
                const std::string& b_host) {
  return a_port != 0 && a_port == b_port &&
         (a_host == b_host || IsWildcardAddress(a_host) ||
          IsWildcardAddress(b_host));
}

}  // namespace

Status ApplyToml(std::string_view toml_text, std::string_view source,
                 NodeOptions* options) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    return Status::InvalidArgument(
        std::string(source) + ":" + std::to_string(begin.line) + ":" +
        std::to_string(begin.column) + ": " + std::string(e.description()));
  }
  // Apply to a copy so that a bad file leaves `options` untouched.
  NodeOptions updated = *options;
  Status s = ApplyTomlTable(table, false, source, &updated);
  if (s.ok()) *options = std::move(updated);
  return s;
}

Status ApplyTomlFile(const std::string& path, NodeOptions* options) {
  // Config files are small; refuse anything that is clearly not one rather
  // than reading it into memory.
  constexpr std::streamoff kMaxBytes = 1 << 20;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot open config file '" + path + "'");
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) {
    return Status::InvalidArgument("cannot read config file '" + path + "'");
  }
  if (size > kMaxBytes) {
    return Status::InvalidArgument("config file '" + path + "' is over 1 MiB");
  }
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), size)) {
    return Status::InvalidArgument("cannot read config file '" + path + "'");
  }
  return ApplyToml(text, path, options);
}

Status ValidateOptions(const NodeOptions& o) {
  if (o.name.empty()) return Invalid("name", "--name", "must not be empty");
  if (o.name.size() > 255 || HasSpaceOrControl(o.name)) {
    return Invalid("name", "--name",
                   "must be at most 255 bytes without spaces or control "
                   "characters, got '" +
                       o.name + "'");
  }
  if (o.data_dir.empty()) {
    return Invalid("data_dir", "--data-dir", "must not be empty");
  }
  if (o.pb_host.empty()) {
    return Invalid("pb_host", "--pb-host", "must not be empty");
  }
  if (o.http_host.empty()) {
    return Invalid("http_host", "--http-host", "must not be empty");
  }
  if (PortsClash(o.pb_port, o.pb_host, o.http_port, o.http_host)) {
    return Invalid("http_port", "--http-port",
                   "must differ from pb_port (both are " +
                       std::to_string(o.pb_port) + ")");
  }
  if (!IsPowerOfTwo(o.ring_size) || o.ring_size > 1024) {
    return Invalid("ring_size", "--ring-size",
                   "must be a power of two from 1 to 1024, got " +
                       std::to_string(o.ring_size));
  }
  static const char* const kLevels[] = {"trace", "debug", "info", "warn",
                                        "error"};
  if (std::find(std::begin(kLevels), std::end(kLevels), o.log_level) ==
      std::end(kLevels)) {
    return Invalid(
        "log_level", "--log-level",
        "must be trace, debug, info, warn or error, got '" + o.log_level + "'");
  }
  if (o.max_frame_bytes < 1024 || o.max_frame_bytes > (1u << 30)) {
    return Invalid("max_frame_bytes", "--max-frame-bytes",
                   "must be from 1024 to 1073741824, got " +
                       std::to_string(o.max_frame_bytes));
  }
  if (o.max_connections < 1 || o.max_connections > (1u << 20)) {
    return Invalid(
        "max_connections", "--max-connections",
        "must be from 1 to 1048576, got " + std::to_string(o.max_connections));
  }
  if (o.cluster_name.empty() || o.cluster_name.size() > 255 ||
      HasSpaceOrControl(o.cluster_name)) {
    return Invalid("cluster_name", "--cluster-name",
                   "must be 1 to 255 bytes without spaces or control "
                   "characters, got '" +
                       o.cluster_name + "'");
  }
  if (!o.no_peer) {
    if (o.peer_host.empty()) {
      return Invalid("peer_host", "--peer-host", "must not be empty");
    }
    if (PortsClash(o.peer_port, o.peer_host, o.pb_port, o.pb_host)) {
      return Invalid("peer_port", "--peer-port",
                     "must differ from pb_port (both are " +
                         std::to_string(o.peer_port) + ")");
    }
    if (PortsClash(o.peer_port, o.peer_host, o.http_port, o.http_host)) {
      return Invalid("peer_port", "--peer-port",
                     "must differ from http_port (both are " +
                         std::to_string(o.peer_port) + ")");
    }
    if (HasSpaceOrControl(o.peer_advertise_host)) {
      return Invalid("peer_advertise_host", "--peer-advertise-host",
                     "must not hold spaces or control characters");
    }
    if (o.peer_advertise_host.empty() && IsWildcardAddress(o.peer_host)) {
      return Invalid("peer_advertise_host", "--peer-advertise-host",
                     "is required when peer_host is a wildcard address ('" +
                         o.peer_host +
                         "'): peers need an address they can dial");
    }
    if (IsWildcardAddress(o.peer_advertise_host)) {
      return Invalid("peer_advertise_host", "--peer-advertise-host",
                     "must be an address peers can dial, not the wildcard '" +
                         o.peer_advertise_host + "'");
    }
    if (o.cluster_secret_file.empty()) {
      return Invalid("cluster_secret_file", "--cluster-secret-file",
                     "is required unless --no-peer: every node of a cluster "
                     "proves the shared secret to its peers");
    }
  }
  if (o.down_after_ms < 1000 || o.down_after_ms > 600000) {
    return Invalid(
        "down_after_ms", "--down-after-ms",
        "must be from 1000 to 600000, got " + std::to_string(o.down_after_ms));
  }
  if (o.request_timeout_ms < 100 || o.request_timeout_ms > 3600000) {
    return Invalid("request_timeout_ms", "--request-timeout-ms",
                   "must be from 100 to 3600000, got " +
                       std::to_string(o.request_timeout_ms));
  }
  if (o.write_buffer_mb < 1 || o.write_buffer_mb > 1024) {
    return Invalid(
        "write_buffer_mb", "--write-buffer-mb",
        "must be from 1 to 1024, got " + std::to_string(o.write_buffer_mb));
  }
  if (o.block_cache_mb < 1 || o.block_cache_mb > 65536) {
    return Invalid(
        "block_cache_mb", "--block-cache-mb",
        "must be from 1 to 65536, got " + std::to_string(o.block_cache_mb));
  }
  if (o.compaction_nice > 19) {
    return Invalid(
        "compaction_nice", "--compaction-nice",
        "must be from 0 to 19, got " + std::to_string(o.compaction_nice));
  }
  if (o.object_cache_mb > 65536) {
    return Invalid(
        "object_cache_mb", "--object-cache-mb",
        "must be from 0 to 65536, got " + std::to_string(o.object_cache_mb));
  }
  if (o.aae_exchange_interval_ms < 1 || o.aae_exchange_interval_ms > 3600000) {
    return Invalid("aae_exchange_interval_ms", "--aae-exchange-interval-ms",
                   "must be from 1 to 3600000, got " +
                       std::to_string(o.aae_exchange_interval_ms));
  }
  const Patch& b = o.bucket_defaults;
  if (b.n_val && (*b.n_val < 1 || *b.n_val > 16)) {
    return Invalid("bucket_defaults.n_val", "--n-val",
                   "must be from 1 to 16, got " + std::to_string(*b.n_val));
  }
  const uint32_t n_val = b.n_val.value_or(replication::BucketProps{}.n_val);
  // A read or write that waits for zero replies means nothing; zero primaries
  // (pr, pw) and zero durable writes (dw) are ordinary.
  for (Status s : {CheckQuorum("r", "--r", b.r, n_val, 1),
                   CheckQuorum("w", "--w", b.w, n_val, 1),
                   CheckQuorum("rw", "--rw", b.rw, n_val, 1),
                   CheckQuorum("dw", "--dw", b.dw, n_val, 0),
                   CheckQuorum("pr", "--pr", b.pr, n_val, 0),
                   CheckQuorum("pw", "--pw", b.pw, n_val, 0)}) {
    if (!s.ok()) return s;
  }
  if (b.allow_mult.value_or(false) && b.last_write_wins.value_or(false)) {
    return Invalid("bucket_defaults.last_write_wins", "--last-write-wins",
                   "cannot be true together with allow_mult");
  }
  return Status::Ok();
}

std::string HelpText() {
  CLI::App app;
  app.name("causewayd");
  std::vector<std::string> values;
  std::string config;
  bool faults = false;
  BuildApp(app, values, config, faults);
  return app.help();
}

ParsedCommandLine ParseCommandLine(int argc, const char* const* argv) {
  ParsedCommandLine result;
  CLI::App app;
  app.name("causewayd");
  std::vector<std::string> values;
  std::string config;
  bool faults = false;
  std::vector<CLI::Option*> flags = BuildApp(app, values, config, faults);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.action = ParsedCommandLine::Action::kHelp;
    result.help = app.help();
    return result;
  } catch (const CLI::CallForAllHelp&) {
    result.action = ParsedCommandLine::Action::kHelp;
    result.help = app.help("", CLI::AppFormatMode::All);
    return result;
  } catch (const CLI::ParseError& e) {
    result.status = Status::InvalidArgument(e.what());
    return result;
  }

  NodeOptions options;
  if (!config.empty()) {
    options.config_file = config;
    Status s = ApplyTomlFile(config, &options);
    if (!s.ok()) {
      result.status = s;
      return result;
    }
  }
  const auto& settings = Settings();
  for (size_t i = 0; i < settings.size(); ++i) {
    if (flags[i]->count() == 0) continue;
    RawValue v;
    v.text = values[i];
    Status s = settings[i].apply(v, &options);
    if (!s.ok()) {
      result.status =
          Status::InvalidArgument(settings[i].flag() + ": " + s.message());
      return result;
    }
  }
  Status s = ValidateOptions(options);
  if (!s.ok()) {
    result.status = s;
    return result;
  }
  options.enable_fault_injection = faults;
  result.action = ParsedCommandLine::Action::kRun;
  result.options = std::move(options);
  return result;
}

replication::NodeConfig ToNodeConfig(const NodeOptions& options) {
  replication::NodeConfig config;
  config.name = options.name;
  config.ring_size = options.ring_size;
  config.default_props = options.bucket_defaults;
  config.always_sync = options.sync_writes;
  config.cluster_name = options.cluster_name;
  config.request_timeout_ms = options.request_timeout_ms;
  config.cluster_timing.down_after_ms = options.down_after_ms;
  config.aae_timing.enabled = options.aae;
  config.object_cache_bytes = size_t{options.object_cache_mb} << 20;
  config.aae_timing.exchange_interval_ms = options.aae_exchange_interval_ms;
  config.aae_timing.tombstone_reap_delay_ms = options.tombstone_reap_delay_ms;
  return config;
}

PeerTransportOptions ToPeerTransportOptions(const NodeOptions& options,
                                            std::string secret) {
  PeerTransportOptions peer;
  peer.host = options.peer_host;
  peer.port = options.peer_port;
  peer.node_name = options.name;
  peer.cluster_name = options.cluster_name;
  peer.secret = std::move(secret);
  // A value a client may write in one frame must also cross to the
  // replicas, inside an envelope with its clock and metadata, and an object
  // can hold several such values as siblings: allow twice the client frame
  // and some room. The queue must hold at least one such message, or it
  // would drop every one.
  const uint64_t frame =
      std::min<uint64_t>(2 * uint64_t{options.max_frame_bytes} + (1u << 20),
                         std::numeric_limits<uint32_t>::max());
  peer.max_frame_bytes =
      std::max<uint32_t>(peer.max_frame_bytes, static_cast<uint32_t>(frame));
  peer.max_queue_bytes =
      std::max<uint64_t>(peer.max_queue_bytes, peer.max_frame_bytes);
  return peer;
}

std::string PeerAddress(const NodeOptions& options, uint16_t bound_port) {
  const std::string& host = options.peer_advertise_host.empty()
                                ? options.peer_host
                                : options.peer_advertise_host;
  return FormatHostPort(host, bound_port);
}

Status ReadClusterSecret(const std::string& path, std::string* secret,
                         std::string* warning) {
  constexpr off_t kMaxBytes = 64 * 1024;
  if (warning != nullptr) warning->clear();
  const std::string what = "cluster secret file '" + path + "'";
  if (path.empty()) {
    return Status::InvalidArgument(
        "no cluster secret file given (--cluster-secret-file)");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return Status::InvalidArgument("cannot open " + what + ": " +
                                   std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return Status::InvalidArgument("cannot read " + what + ": " +
                                   std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(what + " is not a regular file");
  }
  if (st.st_size > kMaxBytes) {
    return Status::InvalidArgument(what +
                                   " is over 64 KiB; a secret is a "
                                   "line of random text");
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < content.size()) {
    const ssize_t n = ::read(fd, content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::InvalidArgument("cannot read " + what + ": " +
                                     std::strerror(errno));
    }
    if (n == 0) break;  // shrank while we read: use what is there
    got += static_cast<size_t>(n);
  }
  content.resize(got);
  while (!content.empty() &&
         std::isspace(static_cast<unsigned char>(content.back()))) {
    content.pop_back();
  }
  if (content.empty()) {
    return Status::InvalidArgument(what + " is empty");
  }
  if (warning != nullptr && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    *warning = what + " can be read by other users; chmod 600 it";
  }
  *secret = std::move(content);
  return Status::Ok();
}

// The nodes of a cluster receive the same writes, so memtables of one size
// would fill and flush at the same moments on every node. Each node takes
// its own size from the top fifth below the configured one (never above
// it, so write_buffer_mb stays the most memory a memtable takes);
// docs/design-notes.md has the measurements.
constexpr double kWriteBufferSpread = 0.2;

storage::LevelDbOptions ToLevelDbOptions(const NodeOptions& options,
                                         double draw) {
  draw = std::clamp(draw, 0.0, 1.0);
  const size_t configured = size_t{options.write_buffer_mb} << 20;
  storage::LevelDbOptions engine;
  engine.write_buffer_bytes = static_cast<size_t>(
      static_cast<double>(configured) * (1 - kWriteBufferSpread * draw));
  engine.block_cache_bytes = size_t{options.block_cache_mb} << 20;
  engine.background_idle = options.compaction_idle;
  engine.background_nice = static_cast<int>(options.compaction_nice);
  engine.defer_log_writes = true;
  return engine;
}

PbcServerOptions ToPbcServerOptions(const NodeOptions& options) {
  PbcServerOptions pbc;
  pbc.host = options.pb_host;
  pbc.port = options.pb_port;
  pbc.max_frame_bytes = options.max_frame_bytes;
  pbc.max_connections = options.max_connections;
  return pbc;
}

}  // namespace causeway::node
