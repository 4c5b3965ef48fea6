// The value parsers and the table of every setting (config_settings.h).

#include "node/config_settings.h"

#include <cctype>
#include <limits>
#include <optional>

namespace causeway::node::config_internal {
namespace {

using replication::Quorum;

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

}  // namespace

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
    top("admin_from_any_address", "BOOL", "false",
        "Serve cluster administration (join, leave, status) and bucket-type "
        "changes to clients on any address; by default only loopback "
        "clients may while security is off (with security on, the "
        "causeway.cluster_admin grant decides instead)",
        BoolField(&NodeOptions::admin_from_any_address));
    top("client_idle_timeout_ms", "MS",
        std::to_string(d.client_idle_timeout_ms),
        "Close a client connection with no request in progress and nothing "
        "received for this long (0 to 86400000; 0: never)",
        UintField(&NodeOptions::client_idle_timeout_ms));
    top("client_frame_deadline_ms", "MS",
        std::to_string(d.client_frame_deadline_ms),
        "Once a client frame's first byte is in, close the connection "
        "unless the whole frame arrives within this long (0 to 86400000; "
        "0: no deadline)",
        UintField(&NodeOptions::client_frame_deadline_ms));
    top("client_buffer_budget_mb", "MB",
        std::to_string(d.client_buffer_budget_mb),
        "Bytes of partial frames all client connections may hold together, "
        "in MiB (1 to 1048576; raised to max_frame_bytes if below it); a "
        "connection that would go over it is closed",
        UintField(&NodeOptions::client_buffer_budget_mb));
    top("tls_cert_file", "FILE", "",
        "PEM certificate chain of the client port: with tls_key_file, "
        "clients may switch to TLS (1.2 or later) with RpbStartTls, as Riak "
        "clients do when security is enabled",
        StringField(&NodeOptions::tls_cert_file));
    top("tls_key_file", "FILE", "",
        "PEM private key of tls_cert_file's certificate",
        StringField(&NodeOptions::tls_key_file));
    top("tls_ca_file", "FILE", "",
        "PEM CA certificates that client certificates are verified against "
        "(a client need not present one; a verified one's common name is "
        "what certificate sources match); empty: client certificates are "
        "not asked for",
        StringField(&NodeOptions::tls_ca_file));
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
    top("delta_buffer_deltas", "N", std::to_string(d.delta_buffer_deltas),
        "Data-type deltas that arrived before an earlier change of their "
        "origin, held until it comes (1 to 10000000); one more is refused "
        "and the full state fetched instead",
        UintField(&NodeOptions::delta_buffer_deltas));
    top("delta_buffer_mb", "MB", std::to_string(d.delta_buffer_mb),
        "Bytes of such early deltas held at most, in MiB (1 to 65536)",
        UintField(&NodeOptions::delta_buffer_mb));
    top("delta_buffer_timeout_ms", "MS",
        std::to_string(d.delta_buffer_timeout_ms),
        "How long an early delta waits for the change before it; then the "
        "replica fetches the full state from the sender (10 to 600000)",
        UintField(&NodeOptions::delta_buffer_timeout_ms));
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
    top("peer_max_unauthenticated", "N",
        std::to_string(d.peer_max_unauthenticated),
        "Inbound peer connections still in the handshake, at most; more are "
        "refused, and they never count against authenticated peers "
        "(1 to 65536)",
        UintField(&NodeOptions::peer_max_unauthenticated));
    top("peer_handshake_timeout_ms", "MS",
        std::to_string(d.peer_handshake_timeout_ms),
        "A peer connection not authenticated after this long is closed "
        "(100 to 600000)",
        UintField(&NodeOptions::peer_handshake_timeout_ms));
    flag("no_peer",
         "Open no peer port: a standalone one-node cluster that cannot "
         "join others",
         BoolField(&NodeOptions::no_peer));
    top("down_after_ms", "MS", std::to_string(d.down_after_ms),
        "A peer not heard from for this long is taken as down "
        "(1000 to 600000)",
        UintField(&NodeOptions::down_after_ms));
    top("peer_suspect_ms", "MS", std::to_string(d.peer_suspect_ms),
        "A peer not heard from (heartbeats included) for this long is "
        "suspect: new requests go to other replicas, and requests waiting "
        "on it fail over or fail now rather than at their timeout "
        "(100 to 600000, at most down_after_ms)",
        UintField(&NodeOptions::peer_suspect_ms));
    top("request_timeout_ms", "MS", std::to_string(d.request_timeout_ms),
        "Client requests waiting on peers fail after this long "
        "(100 to 3600000)",
        UintField(&NodeOptions::request_timeout_ms));
    top("max_clock_offset_ms", "MS", std::to_string(d.max_clock_offset_ms),
        "The most another node's clock may lead this one's: peer messages "
        "and objects stamped further ahead are refused, and a node whose "
        "clock is this far from most peers' warns (10 to 3600000)",
        UintField(&NodeOptions::max_clock_offset_ms));
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

}  // namespace causeway::node::config_internal
