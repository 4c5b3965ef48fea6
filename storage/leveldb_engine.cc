// The LevelDB Engine: one database per node. The engine owns the DB, its
// block cache, its bloom filter policy and its Env (background priority,
// deferred log writes); the DB is closed before the objects it points to
// are freed.

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>

#include "storage/engine.h"

namespace causeway::storage {
namespace {

constexpr int kBloomBitsPerKey = 10;

Status FromLevelDb(const leveldb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsIOError()) return Status::IoError(s.ToString());
  // LevelDB reports "not supported" for options it cannot honour, which is a
  // caller error just like an invalid argument.
  if (s.IsInvalidArgument() || s.IsNotSupportedError()) {
    return Status::InvalidArgument(s.ToString());
  }
  return Status::IoError(s.ToString());
}

leveldb::Slice ToSlice(std::string_view s) {
  return leveldb::Slice(s.data(), s.size());
}

std::string_view ToView(const leveldb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

leveldb::WriteOptions ToLevelDb(const WriteOptions& options) {
  leveldb::WriteOptions out;
  out.sync = options.sync;
  return out;
}

// The Env every LevelDB engine runs on: LevelDB's default, with the
// changes below that an engine can ask for (docs/design-notes.md, "LevelDB's
// background thread", has the measurements behind them).
//
// Priority. LevelDB runs memtable flushes and compactions on the one
// background thread of its default Env. The wrapper lowers that thread's
// priority the first time it runs work of this database (SCHED_IDLE, or a
// nice value), so that when the CPUs are busy the threads serving requests
// go first and compactions take the idle time. Lowering priority needs no
// privilege; raising it back would, so a thread already lower stays so
// (the thread serves every database of the process).
//
// Stalls. A write waits for the background thread when the memtable is
// full and the one before is still being flushed, or when level 0 has too
// many files; under SCHED_IDLE that thread may then get no CPU for
// seconds. LevelDB logs "... waiting" from the writing thread just before
// it waits, so the engine watches its info log and then switches the
// background thread to SCHED_OTHER (at its nice value) until its task
// ends; the next task starts under SCHED_IDLE again. Leaving SCHED_IDLE
// needs CAP_SYS_NICE or an RLIMIT_NICE that allows the nice value; without
// either the raise fails and the write waits as before (counted:
// writer_stalls without background_raises).
//
// Deferred log writes. LevelDB appends each write batch to its log and
// then calls Flush, one write() per batch. With defer_log_writes the log
// file's Flush does nothing and the record waits in LevelDB's own 64 KiB
// file buffer until FlushLog, a sync, the buffer filling, or the file being
// closed when LevelDB moves to a new log. A node calls FlushLog before any
// reply leaves it, so all the writes one turn of its event loop made reach
// the OS together and none is acknowledged before it is there.
//
// A failed write() of the buffer drops what it held (LevelDB's file resets
// its buffer either way), and records of earlier writes that returned ok
// may be among them: in an Append that overflowed the buffer, a Sync, or
// the close of a log LevelDB moved away from. So the first such error
// sticks and every later FlushLog returns it; the caller must not
// acknowledge anything after that. LevelDB writes its log without holding
// its own mutex, from the thread calling Write: FlushLog must be called
// from that thread too. The mutex only guards which log is current and
// the error.
class EngineEnv final : public leveldb::EnvWrapper {
 public:
  explicit EngineEnv(const LevelDbOptions& options)
      : EnvWrapper(leveldb::Env::Default()),
        idle_(options.background_idle),
        nice_(options.background_nice),
        counters_(options.counters),
        defer_log_writes_(options.defer_log_writes) {}

  void Schedule(void (*fn)(void*), void* arg) override {
    if (!idle_ && nice_ <= 0) {
      target()->Schedule(fn, arg);
      return;
    }
    target()->Schedule(&Run, new Task{fn, arg, this});
  }

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewWritableFile(name, result);
    if (!s.ok()) return s;
    if (!defer_log_writes_ || !HasSuffix(name, ".log")) return s;
    auto* log = new DeferredLog(*result, this);
    std::lock_guard<std::mutex> lock(mu_);
    log_ = log;
    *result = log;
    return s;
  }

  // LevelDB's info log, watched for writes that wait on the background
  // thread.
  leveldb::Status NewLogger(const std::string& name,
                            leveldb::Logger** result) override {
    leveldb::Status s = target()->NewLogger(name, result);
    if (s.ok()) *result = new WatchedLog(*result, this);
    return s;
  }

  Status FlushLog() {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok() && log_ != nullptr) error_ = log_->FlushNow();
    return FromLevelDb(error_);
  }

 private:
  struct Task {
    void (*fn)(void*);
    void* arg;
    EngineEnv* env;
  };

  // Runs one task of LevelDB's background thread. The env is read only
  // before the task runs: once it returns, LevelDB may let the DB, and with
  // it this env, be destroyed.
  static void Run(void* p) {
    std::unique_ptr<Task> task(static_cast<Task*>(p));
    EngineEnv& env = *task->env;
    env.background_tid_.store(gettid(), std::memory_order_relaxed);
    thread_local int nice_applied = 0;
    // Also after a stall raised the thread for the task before.
    if (env.idle_ && sched_getscheduler(0) != SCHED_IDLE) {
      sched_param param{};
      param.sched_priority = 0;
      pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
    }
    if (env.nice_ > nice_applied &&
        setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), env.nice_) ==
            0) {
      nice_applied = env.nice_;
    }
    task->fn(task->arg);
  }

  // LevelDB names its log NNNNNN.log.
  static bool HasSuffix(std::string_view name, std::string_view suffix) {
    return name.size() > suffix.size() &&
           name.substr(name.size() - suffix.size()) == suffix;
  }

  // LevelDB's info log, passed through; a message that says a write is
  // about to wait for the background thread raises that thread first.
  class WatchedLog final : public leveldb::Logger {
   public:
    WatchedLog(leveldb::Logger* target, EngineEnv* env)
        : target_(target), env_(env) {}
    void Logv(const char* format, std::va_list ap) override {
      if (IsStall(format)) env_->OnWriterStall();
      target_->Logv(format, ap);
    }

    // LevelDB 1.23's words, from DBImpl::MakeRoomForWrite.
    static bool IsStall(std::string_view format) {
      return format.rfind("Current memtable full; waiting", 0) == 0 ||
             format.rfind("Too many L0 files; waiting", 0) == 0;
    }

   private:
    std::unique_ptr<leveldb::Logger> target_;
    EngineEnv* const env_;
  };

  // On the writing thread, before it waits for the background thread.
  void OnWriterStall() {
    if (counters_ != nullptr) {
      counters_->writer_stalls.fetch_add(1, std::memory_order_relaxed);
    }
    const pid_t tid = background_tid_.load(std::memory_order_relaxed);
    if (!idle_ || tid == 0) return;
    sched_param param{};
    param.sched_priority = 0;
    if (sched_setscheduler(tid, SCHED_OTHER, &param) == 0 &&
        counters_ != nullptr) {
      counters_->background_raises.fetch_add(1, std::memory_order_relaxed);
    }
  }

  class DeferredLog final : public leveldb::WritableFile {
   public:
    DeferredLog(leveldb::WritableFile* target, EngineEnv* env)
        : target_(target), env_(env) {}
    ~DeferredLog() override {
      env_->Forget(this);
      // Closing writes what waits in the buffer; LevelDB does not look.
      if (!closed_) env_->Failed(target_->Close());
    }
    leveldb::Status Append(const leveldb::Slice& data) override {
      return env_->Failed(target_->Append(data));
    }
    leveldb::Status Flush() override { return leveldb::Status::OK(); }
    leveldb::Status Sync() override { return env_->Failed(target_->Sync()); }
    leveldb::Status Close() override {
      closed_ = true;
      return env_->Failed(target_->Close());
    }
    // Called with the env's mutex held.
    leveldb::Status FlushNow() { return target_->Flush(); }

   private:
    std::unique_ptr<leveldb::WritableFile> target_;
    EngineEnv* const env_;
    bool closed_ = false;
  };

  void Forget(DeferredLog* log) {
    std::lock_guard<std::mutex> lock(mu_);
    if (log_ == log) log_ = nullptr;
  }

  // Keeps the first error of a log file operation; returns `s`.
  leveldb::Status Failed(leveldb::Status s) {
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.ok()) error_ = s;
    }
    return s;
  }

  const bool idle_;
  const int nice_;
  LevelDbOptions::Counters* const counters_;
  // LevelDB's background thread, once it has run a task of this database.
  std::atomic<pid_t> background_tid_{0};
  const bool defer_log_writes_;
  std::mutex mu_;
  DeferredLog* log_ = nullptr;  // the log LevelDB writes to now, if deferred
  leveldb::Status error_;       // the first failed log write, sticky
};

class LevelDbEngine final : public Engine {
 public:
  LevelDbEngine(std::string dir, std::unique_ptr<EngineEnv> env,
                std::unique_ptr<leveldb::Cache> cache,
                std::unique_ptr<const leveldb::FilterPolicy> filter,
                std::unique_ptr<leveldb::DB> db)
      : dir_(std::move(dir)),
        env_(std::move(env)),
        cache_(std::move(cache)),
        filter_(std::move(filter)),
        db_(std::move(db)) {}

  ~LevelDbEngine() override {
    // The DB refers to the cache and the filter policy until it is closed.
    db_.reset();
  }

  Status Get(std::string_view key, std::string* value) override {
    return FromLevelDb(db_->Get(leveldb::ReadOptions(), ToSlice(key), value));
  }

  Status Put(std::string_view key, std::string_view value,
             const WriteOptions& options) override {
    return FromLevelDb(
        db_->Put(ToLevelDb(options), ToSlice(key), ToSlice(value)));
  }

  Status Delete(std::string_view key, const WriteOptions& options) override {
    return FromLevelDb(db_->Delete(ToLevelDb(options), ToSlice(key)));
  }

  Status Write(const WriteBatch& batch, const WriteOptions& options) override {
    leveldb::WriteBatch lbatch;
    for (const WriteBatch::Op& op : batch.ops()) {
      if (op.is_delete) {
        lbatch.Delete(op.key);
      } else {
        lbatch.Put(op.key, op.value);
      }
    }
    return FromLevelDb(db_->Write(ToLevelDb(options), &lbatch));
  }

  Status Scan(std::string_view begin, std::string_view end,
              const ScanVisitor& visit) override {
    std::unique_ptr<leveldb::Iterator> it(
        db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(ToSlice(begin)); it->Valid(); it->Next()) {
      std::string_view key = ToView(it->key());
      if (!end.empty() && key >= end) break;
      if (!visit(key, ToView(it->value()))) break;
    }
    return FromLevelDb(it->status());
  }

  Status FlushLog() override { return env_->FlushLog(); }

  // The sum of the files in the directory: unlike GetApproximateSizes it
  // counts the log, the manifest and files awaiting deletion, which is what
  // an operator watching the disk sees.
  uint64_t ApproximateDiskBytes() override {
    namespace fs = std::filesystem;
    std::error_code ec;
    uint64_t total = 0;
    fs::directory_iterator it(dir_, ec);
    const fs::directory_iterator end;
    while (!ec && it != end) {
      std::error_code entry_ec;
      if (it->is_regular_file(entry_ec)) {
        uint64_t size = it->file_size(entry_ec);
        // A file compaction removed since listing is simply not counted.
        if (!entry_ec) total += size;
      }
      it.increment(ec);
    }
    return total;
  }

 private:
  const std::string dir_;
  std::unique_ptr<EngineEnv> env_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
};

}  // namespace

Status OpenLevelDb(const std::string& dir, const LevelDbOptions& options,
                   std::unique_ptr<Engine>* engine) {
  std::unique_ptr<leveldb::Cache> cache(
      leveldb::NewLRUCache(options.block_cache_bytes));
  std::unique_ptr<const leveldb::FilterPolicy> filter(
      leveldb::NewBloomFilterPolicy(kBloomBitsPerKey));

  auto env = std::make_unique<EngineEnv>(options);

  leveldb::Options lopts;
  lopts.env = env.get();
  lopts.create_if_missing = options.create_if_missing;
  lopts.paranoid_checks = options.paranoid_checks;
  lopts.write_buffer_size = options.write_buffer_bytes;
  lopts.block_cache = cache.get();
  lopts.filter_policy = filter.get();

  leveldb::DB* raw = nullptr;
  Status s = FromLevelDb(leveldb::DB::Open(lopts, dir, &raw));
  if (!s.ok()) return s;
  *engine = std::make_unique<LevelDbEngine>(dir, std::move(env),
                                            std::move(cache), std::move(filter),
                                            std::unique_ptr<leveldb::DB>(raw));
  return Status::Ok();
}

}  // namespace causeway::storage
