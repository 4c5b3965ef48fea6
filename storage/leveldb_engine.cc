// The LevelDB Engine: one database per node. The engine owns the DB, its
// block cache, its bloom filter policy and its Env (background priority
// and slices, deferred log writes); the DB is closed before the objects it
// points to are freed.

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
#include "storage/pacer.h"

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
// changes below that an engine can ask for.
//
// Priority. LevelDB runs memtable flushes and compactions on the one
// background thread of its default Env. The wrapper lowers that thread's
// priority the first time it runs work of this database, so that when the
// CPUs are busy the threads serving requests go first and compactions take
// the idle time. The nodes of a cluster receive the same writes and flush
// together; at the default priority each burst took cores from the logic
// threads. Two ways (bench/README.md has the measurements, 3 nodes on 2
// cores): a higher nice value only weighs the thread down, and once picked
// it still runs out its time slice while a logic thread that woke waits
// (put p99 at half the peak rate: a median of 24 ms at nice 0, 6-16 ms at
// nice 10). SCHED_IDLE runs it only on a core nobody else wants and gives
// the core back as soon as another thread wakes (3-6 ms, and a higher
// peak). Under lasting saturation compactions then fall behind until
// LevelDB's own write slowdown (8 level-0 files) throttles writes, which
// idles the CPU for them. Lowering priority needs no privilege; raising it
// back would, so a thread already lower stays so (the thread serves every
// database of the process).
//
// Slices. A CPU running only SCHED_IDLE work still counts as busy when
// the kernel places a thread that wakes, and it takes over threads waiting
// on the other CPUs only at its next periodic balance (the 4 ms tick here).
// A scheduler trace of 3 nodes on 2 cores at half the peak put rate showed
// just that during flushes and compactions: every logic thread and the
// load generator queued on one core for 1-4 ms at a time while the other
// ran compaction threads, and those moments made most of the put p99. So
// with background_slice the thread writes tables in slices and sleeps
// briefly after each: a core that goes idle pulls waiting threads over at
// once. The pacer ticks on every append to a table (each block of a few
// KiB and its trailer), only on the background thread while it runs this
// database's work, never with LevelDB's mutex held; tables written
// elsewhere (recovery in DB::Open) are not paced. Slices are wall time, so
// a thread that was preempted or waited for the disk may pause at its
// next append; cheap, and it keeps the clock read to a vDSO call. A
// SCHED_IDLE thread that sleeps runs again only when a CPU is idle, so on
// saturated CPUs a pause can last far longer than asked; a pause that
// overruns background_overrun ends the pauses for the rest of the task.
// That was not enough: in flat-out fills with slices, nodes now and then
// stopped serving their peers for 1-2 s (docs/design-notes.md), so the
// node leaves slices off unless asked (--compaction-slices).
//
// Stalls. A write waits for the background thread when the memtable is
// full and the one before is still being flushed, or when level 0 has too
// many files. Under SCHED_IDLE that thread then runs only when a CPU has
// nothing else to do, and on a machine kept busy by other processes (on
// one machine: the other nodes of a local cluster and their clients) the
// write waited seconds. LevelDB logs "... waiting" from the writing thread
// just before it waits, so the engine watches its info log and then
// switches the background thread to SCHED_OTHER (at its nice value) until
// its task ends; the next task starts under SCHED_IDLE again. Leaving
// SCHED_IDLE needs CAP_SYS_NICE or an RLIMIT_NICE that allows the nice
// value; without either the raise fails and the write waits as before
// (counted: writer_stalls without background_raises).
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
        slice_(options.background_slice),
        pause_(options.background_pause),
        overrun_(options.background_overrun),
        counters_(options.counters),
        defer_log_writes_(options.defer_log_writes) {}

  void Schedule(void (*fn)(void*), void* arg) override {
    if (!idle_ && nice_ <= 0 && slice_.count() <= 0) {
      target()->Schedule(fn, arg);
      return;
    }
    target()->Schedule(&Run, new Task{fn, arg, this});
  }

  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewWritableFile(name, result);
    if (!s.ok()) return s;
    if (slice_.count() > 0 && HasSuffix(name, ".ldb")) {
      *result = new PacedTable(*result);
      return s;
    }
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

  // The pacing of the background task running on this thread, if any.
  struct Pacing {
    Pacer pacer;
    LevelDbOptions::Counters* counters;
  };
  static inline thread_local Pacing* current_pacing = nullptr;

  // Sets current_pacing for the life of one task.
  class PacingScope {
   public:
    explicit PacingScope(Pacing* pacing) { current_pacing = pacing; }
    ~PacingScope() { current_pacing = nullptr; }
    PacingScope(const PacingScope&) = delete;
    PacingScope& operator=(const PacingScope&) = delete;
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
    if (env.slice_.count() <= 0) {
      task->fn(task->arg);
      return;
    }
    Pacing pacing{Pacer(env.slice_, env.pause_, env.overrun_), env.counters_};
    PacingScope scope(&pacing);
    task->fn(task->arg);
  }

  // LevelDB names its log NNNNNN.log and its tables NNNNNN.ldb.
  static bool HasSuffix(std::string_view name, std::string_view suffix) {
    return name.size() > suffix.size() &&
           name.substr(name.size() - suffix.size()) == suffix;
  }

  // A table file that gives the background thread's pacer a tick before
  // each append.
  class PacedTable final : public leveldb::WritableFile {
   public:
    explicit PacedTable(leveldb::WritableFile* target) : target_(target) {}
    leveldb::Status Append(const leveldb::Slice& data) override {
      Pacing* pacing = current_pacing;
      if (pacing != nullptr && pacing->pacer.Tick() &&
          pacing->counters != nullptr) {
        pacing->counters->background_pauses.fetch_add(
            1, std::memory_order_relaxed);
      }
      return target_->Append(data);
    }
    leveldb::Status Flush() override { return target_->Flush(); }
    leveldb::Status Sync() override { return target_->Sync(); }
    leveldb::Status Close() override { return target_->Close(); }

   private:
    std::unique_ptr<leveldb::WritableFile> target_;
  };

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
  const std::chrono::microseconds slice_;
  const std::chrono::microseconds pause_;
  const std::chrono::microseconds overrun_;
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
