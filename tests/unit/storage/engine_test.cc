// One suite, run against every Engine: the memory engine must behave like
// LevelDB in everything but durability, or simulator results mean nothing.

#include "storage/engine.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace causeway::storage {
namespace {

namespace fs = std::filesystem;

using Entries = std::vector<std::pair<std::string, std::string>>;

// A fresh directory under the test's TMPDIR, removed with everything in it
// when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (fs::temp_directory_path() / "causeway-storage-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp failed for " << tmpl;
      return;
    }
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct MemoryFactory {
  static constexpr bool kOnDisk = false;
  std::unique_ptr<Engine> Open() { return NewMemoryEngine(); }
};

struct LevelDbFactory {
  static constexpr bool kOnDisk = true;
  TempDir dir;
  std::unique_ptr<Engine> Open() {
    LevelDbOptions options;
    // Small buffers so tests also exercise flushed tables, not only the
    // memtable.
    options.write_buffer_bytes = 64 << 10;
    options.block_cache_bytes = 1 << 20;
    std::unique_ptr<Engine> engine;
    Status s = OpenLevelDb(dir.path(), options, &engine);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return engine;
  }
};

template <typename Factory>
class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = factory_.Open();
    ASSERT_NE(engine_, nullptr);
  }

  std::string MustGet(std::string_view key) {
    std::string value;
    Status s = engine_->Get(key, &value);
    EXPECT_TRUE(s.ok()) << "key " << testing::PrintToString(key) << ": "
                        << s.ToString();
    return value;
  }

  bool Absent(std::string_view key) {
    std::string value;
    return engine_->Get(key, &value).IsNotFound();
  }

  Entries ScanAll(std::string_view begin, std::string_view end) {
    Entries out;
    Status s =
        engine_->Scan(begin, end, [&](std::string_view k, std::string_view v) {
          out.emplace_back(std::string(k), std::string(v));
          return true;
        });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  void PutOk(std::string_view key, std::string_view value) {
    Status s = engine_->Put(key, value);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Factory factory_;
  std::unique_ptr<Engine> engine_;
};

using Engines = ::testing::Types<MemoryFactory, LevelDbFactory>;

class EngineNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kOnDisk ? "LevelDb" : "Memory";
  }
};

TYPED_TEST_SUITE(EngineTest, Engines, EngineNames);

TYPED_TEST(EngineTest, GetOfAbsentKeyIsNotFound) {
  std::string value = "untouched";
  Status s = this->engine_->Get("nope", &value);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
}

TYPED_TEST(EngineTest, PutThenGet) {
  this->PutOk("k1", "v1");
  this->PutOk("k2", "");
  EXPECT_EQ(this->MustGet("k1"), "v1");
  EXPECT_EQ(this->MustGet("k2"), "");
  EXPECT_TRUE(this->Absent("k3"));
}

TYPED_TEST(EngineTest, PutOverwrites) {
  this->PutOk("k", "first");
  this->PutOk("k", "second, and longer");
  EXPECT_EQ(this->MustGet("k"), "second, and longer");
  this->PutOk("k", "3");
  EXPECT_EQ(this->MustGet("k"), "3");
}

TYPED_TEST(EngineTest, DeleteRemovesAndAbsentDeleteIsOk) {
  this->PutOk("k", "v");
  ASSERT_TRUE(this->engine_->Delete("k").ok());
  EXPECT_TRUE(this->Absent("k"));
  Status s = this->engine_->Delete("never-written");
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = this->engine_->Delete("k");
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TYPED_TEST(EngineTest, BatchOpsAreAllVisibleAfterWrite) {
  this->PutOk("gone", "x");
  this->PutOk("changed", "old");
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Put("b", "2");
  batch.Put("changed", "new");
  batch.Delete("gone");
  ASSERT_EQ(batch.size(), 4u);
  ASSERT_TRUE(this->engine_->Write(batch).ok());
  EXPECT_EQ(this->MustGet("a"), "1");
  EXPECT_EQ(this->MustGet("b"), "2");
  EXPECT_EQ(this->MustGet("changed"), "new");
  EXPECT_TRUE(this->Absent("gone"));
}

TYPED_TEST(EngineTest, BatchAppliesOpsInOrder) {
  WriteBatch batch;
  batch.Put("k", "1");
  batch.Put("k", "2");
  batch.Put("d", "x");
  batch.Delete("d");
  batch.Delete("r");
  batch.Put("r", "back");
  ASSERT_TRUE(this->engine_->Write(batch).ok());
  EXPECT_EQ(this->MustGet("k"), "2");
  EXPECT_TRUE(this->Absent("d"));
  EXPECT_EQ(this->MustGet("r"), "back");
}

TYPED_TEST(EngineTest, EmptyBatchIsOk) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(this->engine_->Write(batch).ok());
  EXPECT_TRUE(this->ScanAll("", "").empty());
}

TYPED_TEST(EngineTest, ScanVisitsHalfOpenRangeInOrder) {
  // Inserted out of order on purpose.
  for (const char* k : {"d", "a", "c", "e", "b"}) {
    this->PutOk(k, std::string("v") + k);
  }
  Entries want = {{"b", "vb"}, {"c", "vc"}, {"d", "vd"}};
  EXPECT_EQ(this->ScanAll("b", "e"), want);
  // begin need not exist; end is exclusive even when present.
  want = {{"b", "vb"}, {"c", "vc"}};
  EXPECT_EQ(this->ScanAll("aa", "d"), want);
  // An empty end is unbounded.
  want = {{"c", "vc"}, {"d", "vd"}, {"e", "ve"}};
  EXPECT_EQ(this->ScanAll("c", ""), want);
  EXPECT_EQ(this->ScanAll("", "").size(), 5u);
  // Empty and inverted ranges visit nothing.
  EXPECT_TRUE(this->ScanAll("c", "c").empty());
  EXPECT_TRUE(this->ScanAll("d", "b").empty());
  EXPECT_TRUE(this->ScanAll("f", "").empty());
}

TYPED_TEST(EngineTest, ScanStopsWhenVisitorReturnsFalse) {
  for (int i = 0; i < 10; ++i) this->PutOk("k" + std::to_string(i), "v");
  std::vector<std::string> seen;
  Status s =
      this->engine_->Scan("", "", [&](std::string_view k, std::string_view) {
        seen.emplace_back(k);
        return seen.size() < 3;
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"k0", "k1", "k2"}));
}

TYPED_TEST(EngineTest, ScanSeesDeletesAndOverwrites) {
  this->PutOk("a", "1");
  this->PutOk("b", "2");
  this->PutOk("c", "3");
  ASSERT_TRUE(this->engine_->Delete("b").ok());
  this->PutOk("c", "33");
  Entries want = {{"a", "1"}, {"c", "33"}};
  EXPECT_EQ(this->ScanAll("", ""), want);
}

TYPED_TEST(EngineTest, VisitorMayDeleteWhatItVisits) {
  for (int i = 0; i < 5; ++i) this->PutOk("k" + std::to_string(i), "v");
  int visited = 0;
  Status s =
      this->engine_->Scan("", "", [&](std::string_view k, std::string_view) {
        ++visited;
        EXPECT_TRUE(this->engine_->Delete(std::string(k)).ok());
        return true;
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(visited, 5);
  EXPECT_TRUE(this->ScanAll("", "").empty());
}

TYPED_TEST(EngineTest, BinaryKeysAndValuesWithZeroAndFfBytes) {
  const std::string zero("\x00", 1);
  const std::string zero_zero("\x00\x00", 2);
  const std::string ff("\xff", 1);
  const std::string ff_ff("\xff\xff", 2);
  const std::string mid = std::string("a\x00z", 3);
  const std::string value("\x00\xff\x00\x01", 4);
  for (const std::string* k : {&ff_ff, &mid, &zero, &ff, &zero_zero}) {
    this->PutOk(*k, value + *k);
  }
  EXPECT_EQ(this->MustGet(mid), value + mid);
  EXPECT_TRUE(this->Absent(std::string("a", 1)));
  EXPECT_TRUE(this->Absent(std::string("a\x00", 2)));

  // Bytes compare unsigned: 0x00 first, 0xff last, shorter before longer.
  Entries all = this->ScanAll("", "");
  std::vector<std::string> keys;
  for (const auto& [k, v] : all) {
    keys.push_back(k);
    EXPECT_EQ(v, value + k);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{zero, zero_zero, mid, ff, ff_ff}));

  // A range bounded by binary keys.
  Entries ranged = this->ScanAll(zero_zero, ff);
  ASSERT_EQ(ranged.size(), 2u);
  EXPECT_EQ(ranged[0].first, zero_zero);
  EXPECT_EQ(ranged[1].first, mid);
}

TYPED_TEST(EngineTest, EmptyKeyIsAKey) {
  this->PutOk("", "empty");
  this->PutOk("a", "1");
  EXPECT_EQ(this->MustGet(""), "empty");
  Entries all = this->ScanAll("", "");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, "");
}

TYPED_TEST(EngineTest, SyncWritesAreReadable) {
  WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(this->engine_->Put("p", "1", sync).ok());
  WriteBatch batch;
  batch.Put("q", "2");
  ASSERT_TRUE(this->engine_->Write(batch, sync).ok());
  ASSERT_TRUE(this->engine_->Delete("p", sync).ok());
  EXPECT_TRUE(this->Absent("p"));
  EXPECT_EQ(this->MustGet("q"), "2");
}

TYPED_TEST(EngineTest, ManyKeysMatchAModel) {
  // Enough data to leave the memtable (64 KiB here) for table files, so scans
  // merge several sources; the std::map is the model both must agree with.
  std::map<std::string, std::string> model;
  const std::string big(300, 'x');
  for (int i = 0; i < 2000; ++i) {
    std::string key = "key" + std::to_string(i * 7919 % 2000);
    std::string value = big + std::to_string(i);
    this->PutOk(key, value);
    model[key] = value;
    if (i % 5 == 0) {
      std::string victim = "key" + std::to_string(i * 31 % 2000);
      ASSERT_TRUE(this->engine_->Delete(victim).ok());
      model.erase(victim);
    }
  }
  Entries want(model.begin(), model.end());
  EXPECT_EQ(this->ScanAll("", ""), want);
  auto lo = model.lower_bound("key1");
  auto hi = model.lower_bound("key5");
  Entries want_range(lo, hi);
  EXPECT_EQ(this->ScanAll("key1", "key5"), want_range);
}

TYPED_TEST(EngineTest, ApproximateDiskBytes) {
  // Random bytes, so that table compression cannot shrink them.
  std::mt19937 rng(3);
  for (int i = 0; i < 100; ++i) {
    std::string value(1000, '\0');
    for (char& c : value) c = static_cast<char>(rng());
    this->PutOk("k" + std::to_string(i), value);
  }
  if (TypeParam::kOnDisk) {
    // The log or the tables hold at least the 100 KB just written.
    EXPECT_GE(this->engine_->ApproximateDiskBytes(), 100u * 1000u);
  } else {
    EXPECT_EQ(this->engine_->ApproximateDiskBytes(), 0u);
  }
}

// --- LevelDB only: things a memory engine cannot have
// -------------------------

class LevelDbEngineTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> Open(LevelDbOptions options = {}) {
    std::unique_ptr<Engine> engine;
    Status s = OpenLevelDb(dir_.path(), options, &engine);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return engine;
  }
  TempDir dir_;
};

TEST_F(LevelDbEngineTest, ReopenKeepsData) {
  {
    std::unique_ptr<Engine> engine = Open();
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->Put("kept", "yes").ok());
    ASSERT_TRUE(engine->Put("deleted", "no").ok());
    ASSERT_TRUE(engine->Delete("deleted").ok());
    WriteBatch batch;
    batch.Put(std::string("\x00\xff", 2), std::string("\xff\x00", 2));
    ASSERT_TRUE(engine->Write(batch).ok());
    WriteOptions sync;
    sync.sync = true;
    ASSERT_TRUE(engine->Put("synced", "1", sync).ok());
  }
  std::unique_ptr<Engine> engine = Open();
  ASSERT_NE(engine, nullptr);
  std::string value;
  ASSERT_TRUE(engine->Get("kept", &value).ok());
  EXPECT_EQ(value, "yes");
  ASSERT_TRUE(engine->Get("synced", &value).ok());
  EXPECT_EQ(value, "1");
  ASSERT_TRUE(engine->Get(std::string("\x00\xff", 2), &value).ok());
  EXPECT_EQ(value, std::string("\xff\x00", 2));
  EXPECT_TRUE(engine->Get("deleted", &value).IsNotFound());
}

TEST_F(LevelDbEngineTest, ReopenAfterManyWritesKeepsEverything) {
  LevelDbOptions options;
  options.write_buffer_bytes = 64 << 10;
  {
    std::unique_ptr<Engine> engine = Open(options);
    ASSERT_NE(engine, nullptr);
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE(
          engine->Put("k" + std::to_string(i), std::string(200, 'a' + i % 26))
              .ok());
    }
  }
  std::unique_ptr<Engine> engine = Open(options);
  ASSERT_NE(engine, nullptr);
  int count = 0;
  ASSERT_TRUE(engine
                  ->Scan("", "",
                         [&](std::string_view k, std::string_view v) {
                           ++count;
                           return v.size() == 200;
                         })
                  .ok());
  EXPECT_EQ(count, 3000);
}

// One numeric field of /proc/self/task/*/stat for each of this process's
// threads other than the calling one: nice is field 19, the scheduling
// policy field 41.
std::vector<int> OtherThreadsStat(int wanted) {
  std::vector<int> out;
  const std::string self = std::to_string(gettid());
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/self/task", ec)) {
    if (task.path().filename() == self) continue;
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    // Fields after the command (in parentheses, which may hold spaces)
    // start with the state, field 3.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= wanted && fields >> field; ++i) {
      if (i == wanted) out.push_back(std::stoi(field));
    }
  }
  return out;
}

// Writes until some other thread of the process shows `value` in stat
// field `field` (LevelDB's background thread, once it has flushed).
bool FlushUntilAThreadShows(Engine& engine, int field, int value) {
  for (int i = 0; i < 20000; ++i) {
    if (!engine.Put("k" + std::to_string(i), std::string(200, 'x')).ok()) {
      return false;
    }
    if (i % 500 == 499) {
      for (int v : OtherThreadsStat(field)) {
        if (v == value) return true;
      }
    }
  }
  return false;
}

// Flushes and compactions run on LevelDB's background thread at the nice
// value asked for; this thread (serving requests on a node) keeps its own.
TEST_F(LevelDbEngineTest, BackgroundWorkRunsAtTheNiceValueAskedFor) {
  const int before = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  LevelDbOptions options;
  options.write_buffer_bytes = 64 << 10;  // flushes after a few writes
  options.background_nice = 7;
  std::unique_ptr<Engine> engine = Open(options);
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(FlushUntilAThreadShows(*engine, 19, 7))
      << "no thread at nice 7 after the flushes";
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), before);
}

// With background_idle the background thread runs under SCHED_IDLE; the
// calling thread keeps its policy.
TEST_F(LevelDbEngineTest, BackgroundWorkRunsUnderSchedIdleWhenAsked) {
  const int before = sched_getscheduler(0);
  ASSERT_NE(before, SCHED_IDLE);
  LevelDbOptions options;
  options.write_buffer_bytes = 64 << 10;
  options.background_idle = true;
  std::unique_ptr<Engine> engine = Open(options);
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(FlushUntilAThreadShows(*engine, 41, SCHED_IDLE))
      << "no thread under SCHED_IDLE after the flushes";
  EXPECT_EQ(sched_getscheduler(0), before);
}

// Whether this process may move a thread from SCHED_IDLE back to
// SCHED_OTHER (CAP_SYS_NICE, or an RLIMIT_NICE allowing nice 0).
bool MayLeaveSchedIdle() {
  bool allowed = false;
  std::thread probe([&] {
    sched_param param{};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0) return;
    allowed = pthread_setschedparam(pthread_self(), SCHED_OTHER, &param) == 0;
  });
  probe.join();
  return allowed;
}

// A write that has to wait for the background thread (here: tiny
// memtables filled by large values faster than the thread, under
// SCHED_IDLE, flushes and compacts them) raises that thread out of
// SCHED_IDLE where the process may, and is counted either way; nothing is
// lost. A stall before the thread has run its first task cannot raise it
// (it is not known yet), so the writes go on until one does.
TEST_F(LevelDbEngineTest, AWriterWaitingOnTheBackgroundThreadRaisesIt) {
  LevelDbOptions::Counters counters;
  LevelDbOptions options;
  options.write_buffer_bytes = 64 << 10;
  options.background_idle = true;
  options.counters = &counters;
  std::unique_ptr<Engine> engine = Open(options);
  ASSERT_NE(engine, nullptr);
  const bool may_raise = MayLeaveSchedIdle();
  const auto done = [&] {
    return counters.writer_stalls.load() >= 1 &&
           (!may_raise || counters.background_raises.load() >= 1);
  };
  std::mt19937_64 rng(11);
  // How soon a stall comes depends on the machine.
  constexpr int kMaxWrites = 4000;
  int written = 0;
  while (written < kMaxWrites && !done()) {
    std::string value(16 << 10, '\0');
    for (char& c : value) c = static_cast<char>(rng());
    ASSERT_TRUE(engine->Put("k" + std::to_string(written), value).ok());
    ++written;
  }
  EXPECT_GE(counters.writer_stalls.load(), 1u) << written << " writes";
  if (may_raise) {
    EXPECT_GE(counters.background_raises.load(), 1u) << written << " writes";
  } else {
    EXPECT_EQ(counters.background_raises.load(), 0u);
  }
  std::string value;
  for (int i = 0; i < written; ++i) {
    ASSERT_TRUE(engine->Get("k" + std::to_string(i), &value).ok()) << i;
  }
}

// The size of the database's log file (LevelDB's NNNNNN.log), as the OS
// has it.
uintmax_t LogBytes(const std::string& dir) {
  uintmax_t bytes = 0;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().extension() == ".log") bytes += fs::file_size(f.path());
  }
  return bytes;
}

// With deferred log writes the records wait in user space until FlushLog,
// then reach the file together; a sync write goes out at once.
TEST_F(LevelDbEngineTest, DeferredLogWritesReachTheFileOnFlushLog) {
  LevelDbOptions options;
  options.defer_log_writes = true;
  std::unique_ptr<Engine> engine = Open(options);
  ASSERT_NE(engine, nullptr);
  const uintmax_t empty = LogBytes(dir_.path());
  ASSERT_TRUE(engine->Put("a", "1").ok());
  ASSERT_TRUE(engine->Put("b", "2").ok());
  EXPECT_EQ(LogBytes(dir_.path()), empty);
  std::string value;
  ASSERT_TRUE(engine->Get("b", &value).ok());  // readable meanwhile
  EXPECT_EQ(value, "2");
  ASSERT_TRUE(engine->FlushLog().ok());
  const uintmax_t two = LogBytes(dir_.path());
  EXPECT_GT(two, empty);
  ASSERT_TRUE(engine->FlushLog().ok());  // nothing waiting: nothing to do
  EXPECT_EQ(LogBytes(dir_.path()), two);
  WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(engine->Put("c", "3", sync).ok());
  EXPECT_GT(LogBytes(dir_.path()), two);

  // Without the option every write reaches the file when it returns.
  engine.reset();
  engine = Open();
  ASSERT_NE(engine, nullptr);
  const uintmax_t before = LogBytes(dir_.path());
  ASSERT_TRUE(engine->Put("d", "4").ok());
  EXPECT_GT(LogBytes(dir_.path()), before);
  EXPECT_TRUE(engine->FlushLog().ok());
}

// What a process hands to the OS with FlushLog survives the process
// ending without a close (as on SIGKILL); a write made after the last
// FlushLog is lost with it, which is why a node flushes before replying.
// The small memtable makes LevelDB move to a new log several times on the
// way, and records overflow the file buffer: neither may lose a record.
// The child is a fresh process (threadsafe death test style), so LevelDB's
// background thread runs in it; it finds the directory in the environment.
TEST_F(LevelDbEngineTest, AProcessEndKeepsWhatFlushLogHandedOver) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  constexpr int kKeys = 3000;
  // Not overwritten: the child runs this line again, with its own dir_.
  ASSERT_EQ(setenv("CAUSEWAY_TEST_DB_DIR", dir_.path().c_str(), 0), 0);
  EXPECT_EXIT(
      {
        LevelDbOptions options;
        options.defer_log_writes = true;
        options.write_buffer_bytes = 64 << 10;
        std::unique_ptr<Engine> engine;
        const char* dir = getenv("CAUSEWAY_TEST_DB_DIR");
        if (dir == nullptr || !OpenLevelDb(dir, options, &engine).ok()) {
          _exit(2);
        }
        // The child's own fixture directory is not used (and _exit skips
        // its destructor).
        std::error_code ec;
        if (dir_.path() != dir) fs::remove_all(dir_.path(), ec);
        for (int i = 0; i < kKeys; ++i) {
          if (!engine->Put("k" + std::to_string(i), std::string(100, 'v'))
                   .ok()) {
            _exit(3);
          }
        }
        if (!engine->FlushLog().ok()) _exit(4);
        if (!engine->Put("waiting", "2").ok()) _exit(5);
        _exit(0);  // no close, no destructor
      },
      ::testing::ExitedWithCode(0), "");
  unsetenv("CAUSEWAY_TEST_DB_DIR");
  std::unique_ptr<Engine> engine = Open();
  ASSERT_NE(engine, nullptr);
  int found = 0;
  std::string value;
  for (int i = 0; i < kKeys; ++i) {
    found += engine->Get("k" + std::to_string(i), &value).ok();
  }
  EXPECT_EQ(found, kKeys);
  EXPECT_TRUE(engine->Get("waiting", &value).IsNotFound());
}

// A failed log write may have dropped records of writes that returned ok
// (LevelDB's file buffer is reset either way), so FlushLog reports the
// first failure from then on, even once writing works again. The child
// caps its file size (RLIMIT_FSIZE) so that a record overflowing the file
// buffer cannot be written.
TEST_F(LevelDbEngineTest, AFailedLogWriteMakesEveryLaterFlushLogFail) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        LevelDbOptions options;
        options.defer_log_writes = true;
        std::unique_ptr<Engine> engine;
        if (!OpenLevelDb(dir_.path(), options, &engine).ok()) _exit(2);
        if (!engine->Put("a", "1").ok() || !engine->FlushLog().ok()) {
          _exit(3);
        }
        signal(SIGXFSZ, SIG_IGN);
        rlimit limit{};
        if (getrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(4);
        const rlimit saved = limit;
        limit.rlim_cur = LogBytes(dir_.path()) + 1000;
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(5);
        bool failed = false;
        for (int i = 0; i < 100 && !failed; ++i) {
          failed = !engine->Put("k" + std::to_string(i), std::string(1000, 'v'))
                        .ok();
        }
        if (!failed) _exit(6);  // the cap did not bite
        if (setrlimit(RLIMIT_FSIZE, &saved) != 0) _exit(7);
        int code = 0;
        if (engine->FlushLog().ok()) code = 8;
        if (engine->FlushLog().ok()) code = 9;
        engine.reset();
        std::error_code ec;
        fs::remove_all(dir_.path(), ec);  // _exit skips the fixture's cleanup
        _exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(LevelDbEngineTest, MissingDirectoryWithoutCreateIsAnError) {
  LevelDbOptions options;
  options.create_if_missing = false;
  std::unique_ptr<Engine> engine;
  Status s = OpenLevelDb((fs::path(dir_.path()) / "absent").string(), options,
                         &engine);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(engine, nullptr);
}

TEST_F(LevelDbEngineTest, SecondOpenOfSameDirectoryIsAnIoError) {
  std::unique_ptr<Engine> first = Open();
  ASSERT_NE(first, nullptr);
  std::unique_ptr<Engine> second;
  Status s = OpenLevelDb(dir_.path(), {}, &second);
  EXPECT_EQ(s.code(), Status::Code::kIoError) << s.ToString();
  EXPECT_EQ(second, nullptr);
}

TEST_F(LevelDbEngineTest, GarbageManifestIsReported) {
  { ASSERT_NE(Open(), nullptr); }
  // Point CURRENT at a manifest full of garbage.
  {
    std::FILE* f =
        std::fopen((fs::path(dir_.path()) / "MANIFEST-999999").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a log file at all, not even close.......", f);
    std::fclose(f);
    f = std::fopen((fs::path(dir_.path()) / "CURRENT").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("MANIFEST-999999\n", f);
    std::fclose(f);
  }
  std::unique_ptr<Engine> engine;
  Status s = OpenLevelDb(dir_.path(), {}, &engine);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
}

}  // namespace
}  // namespace causeway::storage
