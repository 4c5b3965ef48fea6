// Reading settings: a TOML document, then command-line flags over it
// (node/config.h), both through the table in config_settings.h.

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "base/version.h"
#include "node/config.h"
#include "node/config_settings.h"

namespace causeway::node {
namespace {

using config_internal::FindSetting;
using config_internal::NormalizeKey;
using config_internal::RawValue;
using config_internal::Setting;
using config_internal::Settings;

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
  app.set_version_flag(
      "--version", std::string("causewayd ") + kVersion +
                       " (Riak protocol " CAUSEWAY_RIAK_PROTOCOL_VERSION ")");

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

// The --config file, if one was given, under the flags.
Status ReadConfigFile(const std::string& path, NodeOptions* options) {
  if (path.empty()) return Status::Ok();
  options->config_file = path;
  return ApplyTomlFile(path, options);
}

// The flags that were given (`flags` and `values` in Settings() order, as
// BuildApp made them), over what the file set.
Status ApplyFlags(const std::vector<CLI::Option*>& flags,
                  const std::vector<std::string>& values,
                  NodeOptions* options) {
  const auto& settings = Settings();
  for (size_t i = 0; i < settings.size(); ++i) {
    if (flags[i]->count() == 0) continue;
    RawValue v;
    v.text = values[i];
    Status s = settings[i].apply(v, options);
    if (!s.ok()) {
      return Status::InvalidArgument(settings[i].flag() + ": " + s.message());
    }
  }
  return Status::Ok();
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
  } catch (const CLI::CallForVersion& e) {
    result.action = ParsedCommandLine::Action::kHelp;
    result.help = e.what() + std::string("\n");
    return result;
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
  result.status = ReadConfigFile(config, &options);
  if (result.status.ok()) result.status = ApplyFlags(flags, values, &options);
  if (result.status.ok()) result.status = ValidateOptions(options);
  if (!result.status.ok()) return result;
  options.enable_fault_injection = faults;
  result.action = ParsedCommandLine::Action::kRun;
  result.options = std::move(options);
  return result;
}

}  // namespace causeway::node
