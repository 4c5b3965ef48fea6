#pragma once
// Status: the result of an operation that can fail, carried across module
// lines instead of exceptions (as LevelDB does). Cheap to copy when ok.

#include <string>
#include <string_view>
#include <utility>

namespace causeway {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,
    kCorruption,
    kInvalidArgument,
    kIoError,
    kUnavailable,  // not enough replicas, overloaded, shutting down
    kTimeout,
    kPreconditionFailed,  // if_not_modified / if_none_match
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg = "not found") {
    return Status(Code::kNotFound, std::move(msg));
  }
  static Status Corruption(std::string msg) {
    return Status(Code::kCorruption, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status IoError(std::string msg) {
    return Status(Code::kIoError, std::move(msg));
  }
  static Status Unavailable(std::string msg) {
    return Status(Code::kUnavailable, std::move(msg));
  }
  static Status Timeout(std::string msg) {
    return Status(Code::kTimeout, std::move(msg));
  }
  static Status PreconditionFailed(std::string msg) {
    return Status(Code::kPreconditionFailed, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

inline std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not found: " + message_;
    case Code::kCorruption:
      return "corruption: " + message_;
    case Code::kInvalidArgument:
      return "invalid argument: " + message_;
    case Code::kIoError:
      return "I/O error: " + message_;
    case Code::kUnavailable:
      return "unavailable: " + message_;
    case Code::kTimeout:
      return "timeout: " + message_;
    case Code::kPreconditionFailed:
      return "precondition failed: " + message_;
  }
  return message_;
}

}  // namespace causeway
