#pragma once
// storage::Engine: an ordered byte-string key-value store, the only way the
// rest of Causeway touches disk. Two implementations: LevelDB (the node) and
// an in-memory map (tests and the simulator); one test suite runs against
// both. Engines are used from one thread; they do no locking of their own
// beyond what the underlying library does.
//
// Keys are opaque here; storage/keys.h gives them structure (partition first,
// so a partition is one contiguous range).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace causeway::storage {

// An atomic group of writes: all are applied or none.
class WriteBatch {
 public:
  struct Op {
    bool is_delete;
    std::string key;
    std::string value;
  };

  void Put(std::string_view key, std::string_view value) {
    ops_.push_back(Op{false, std::string(key), std::string(value)});
  }
  void Delete(std::string_view key) {
    ops_.push_back(Op{true, std::string(key), {}});
  }
  void Clear() { ops_.clear(); }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

struct WriteOptions {
  // Synced to stable storage before returning (the `dw` durability level).
  bool sync = false;
};

// Called for each entry of a scan in key order; return false to stop early.
using ScanVisitor =
    std::function<bool(std::string_view key, std::string_view value)>;

class Engine {
 public:
  virtual ~Engine() = default;
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // NotFound if absent.
  virtual Status Get(std::string_view key, std::string* value) = 0;
  virtual Status Put(std::string_view key, std::string_view value,
                     const WriteOptions& options = {}) = 0;
  // Deleting an absent key is ok.
  virtual Status Delete(std::string_view key,
                        const WriteOptions& options = {}) = 0;
  virtual Status Write(const WriteBatch& batch,
                       const WriteOptions& options = {}) = 0;
  // Visits keys in [begin, end) in ascending order. An empty `end` means no
  // upper bound.
  virtual Status Scan(std::string_view begin, std::string_view end,
                      const ScanVisitor& visit) = 0;
  // Approximate bytes used on disk (0 for memory).
  virtual uint64_t ApproximateDiskBytes() { return 0; }

  // Hands every write that has returned to the operating system, so that
  // the end of this process (a crash, SIGKILL) cannot lose it; a crash of
  // the machine still can unless the write was synced. Only an engine that
  // defers its log writes (LevelDbOptions::defer_log_writes) has anything
  // to do; its user calls this before anything that depends on those
  // writes leaves the process. An error means writes that returned ok are
  // not in the log.
  virtual Status FlushLog() { return Status::Ok(); }
};

struct LevelDbOptions {
  size_t block_cache_bytes = 64 << 20;
  size_t write_buffer_bytes = 16 << 20;
  // LevelDB's flush and compaction thread runs under SCHED_IDLE (only when
  // a CPU is otherwise idle); false leaves its policy as it is.
  bool background_idle = false;
  // Nice value (0-19) of that thread; 0 leaves it as it is. No effect on
  // the share of a SCHED_IDLE thread.
  int background_nice = 0;
  // If set, counts what the background thread's handling did (for tests
  // and diagnostics); it must outlive the engine.
  struct Counters {
    // Times a write waited for the background thread (memtable full, or
    // too many level-0 files), and times that raised the thread from
    // SCHED_IDLE to SCHED_OTHER for the rest of its task.
    std::atomic<uint64_t> writer_stalls{0};
    std::atomic<uint64_t> background_raises{0};
  };
  Counters* counters = nullptr;
  // The log write of each Write waits in a user-space buffer until
  // FlushLog (or a sync write, or the buffer filling), so writes between two
  // FlushLog calls reach the OS in one system call.
  bool defer_log_writes = false;
  bool create_if_missing = true;
  bool paranoid_checks = false;
};

// Opens (creating if allowed) a LevelDB database in `dir`.
Status OpenLevelDb(const std::string& dir, const LevelDbOptions& options,
                   std::unique_ptr<Engine>* engine);

std::unique_ptr<Engine> NewMemoryEngine();

}  // namespace causeway::storage
