#pragma once
// JSON for the node's own documents (/stats, /cluster, /faults, the ports
// file): one small writer every producer uses, since they render a few
// documents of counters and names and a JSON library would be more than
// they need. Strings are escaped so that any bytes, including invalid UTF-8
// from a config file or a client, come out as a valid JSON string.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::node {

// Appends `text` as a quoted JSON string: quote, backslash and control
// characters escaped, invalid UTF-8 sequences replaced by U+FFFD.
void AppendJsonString(std::string* out, std::string_view text);

// Returns `text` with invalid UTF-8 sequences replaced by U+FFFD; valid text
// comes back unchanged.
std::string SanitizeUtf8(std::string_view text);

// Appends one JSON value to a string: objects and arrays nest, the writer
// places the commas, keys and strings are escaped (AppendJsonString).
// Compact output, no spaces. The caller keeps the structure right: a Key()
// before each value inside an object, none inside an array, every Begin*
// closed by its End*. `out` must outlive the writer.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // The key of the next value inside an object.
  void Key(std::string_view key);
  void String(std::string_view v);
  void Uint(uint64_t v);
  void Int(int64_t v);
  void Bool(bool v);
  void Null();
  // A value already rendered as JSON.
  void Raw(std::string_view json);
  // An array of strings.
  void Strings(const std::vector<std::string>& values);

 private:
  // Puts the comma before a value that is not the first in its container.
  void Separate();
  void Open(char c);
  void Close(char c);

  std::string* out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace causeway::node
