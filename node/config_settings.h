#pragma once
// The settings table behind NodeOptions (node/config.h is the interface;
// this header is for node/config_*.cc only). One row per setting names its
// TOML key and flag, its --help text and how a value is applied to
// NodeOptions; flags and TOML are both read through the rows, so the two
// cannot disagree about a setting.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "node/config.h"

namespace causeway::node::config_internal {

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

// Checks `value` and stores it in the options; InvalidArgument saying what
// was expected otherwise (the caller adds which setting).
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

// Every setting, in --help order.
const std::vector<Setting>& Settings();

// `key` with '-' as '_', as TOML keys and setting names are written.
std::string NormalizeKey(std::string_view key);
// The setting named `key` ('-' and '_' alike) among the top-level settings
// or the bucket defaults; null if none.
const Setting* FindSetting(std::string_view key, bool bucket_default);

}  // namespace causeway::node::config_internal
