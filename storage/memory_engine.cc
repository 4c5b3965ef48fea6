// The in-memory Engine: an ordered std::map. Used by tests and by the
// simulator, where a "crashed" node restarts over the same engine object, so
// it must behave like LevelDB in everything but durability.

#include <map>
#include <string>

#include "storage/engine.h"

namespace causeway::storage {
namespace {

class MemoryEngine final : public Engine {
 public:
  Status Get(std::string_view key, std::string* value) override {
    auto it = map_.find(key);
    if (it == map_.end()) return Status::NotFound();
    value->assign(it->second);
    return Status::Ok();
  }

  Status Put(std::string_view key, std::string_view value,
             const WriteOptions& options) override {
    ++mutations_;
    auto it = map_.find(key);
    if (it == map_.end()) {
      map_.emplace(std::string(key), std::string(value));
    } else {
      it->second.assign(value.data(), value.size());
    }
    return Status::Ok();
  }

  Status Delete(std::string_view key, const WriteOptions& options) override {
    ++mutations_;
    auto it = map_.find(key);
    if (it != map_.end()) map_.erase(it);
    return Status::Ok();
  }

  // Nothing here can fail halfway, so applying the ops in order is atomic.
  Status Write(const WriteBatch& batch, const WriteOptions& options) override {
    for (const WriteBatch::Op& op : batch.ops()) {
      if (op.is_delete) {
        Delete(op.key, options);
      } else {
        Put(op.key, op.value, options);
      }
    }
    return Status::Ok();
  }

  // A visitor may write to the engine (a scan that reaps what it visits);
  // that would invalidate the map iterator, so after any mutation the scan
  // re-seeks past the last key it visited instead of stepping the iterator.
  // Unlike LevelDB's snapshot iterator, such writes ahead of the scan are
  // seen; callers must not rely on either behaviour.
  Status Scan(std::string_view begin, std::string_view end,
              const ScanVisitor& visit) override {
    std::string last_key;
    auto it = map_.lower_bound(begin);
    while (it != map_.end()) {
      if (!end.empty() && std::string_view(it->first) >= end) break;
      last_key.assign(it->first);
      uint64_t mutations_before = mutations_;
      if (!visit(it->first, it->second)) break;
      if (mutations_ != mutations_before) {
        it = map_.upper_bound(last_key);
      } else {
        ++it;
      }
    }
    return Status::Ok();
  }

 private:
  std::map<std::string, std::string, std::less<>> map_;
  uint64_t mutations_ = 0;
};

}  // namespace

std::unique_ptr<Engine> NewMemoryEngine() {
  return std::make_unique<MemoryEngine>();
}

}  // namespace causeway::storage
