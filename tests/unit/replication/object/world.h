#pragma once
// Test helpers for the object model: random contents, sealed records, and
// a World that plays
// one key on a few replicas, driven by a seeded generator through random
// client writes, deletes and replica-to-replica merges. Every state a replica
// passes through is kept, so the law tests have realistic objects to combine.

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "proto/records.pb.h"
#include "replication/causal/hlc.h"
#include "replication/object/object.h"

namespace causeway::replication::object::testing {

using Rng = std::mt19937_64;

inline std::string RandomBytes(Rng& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// CRC-32C written independently of the one in object.cc (bit by bit, no
// table), so the two check each other.
inline uint32_t SlowCrc32c(const std::string& data) {
  uint32_t crc = 0xFFFFFFFF;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) {
      crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
    }
  }
  return ~crc;
}

// Serializes a hand-built record and appends the checksum field, so tests
// reach the validation behind the checksum.
inline std::string Seal(const records::ObjectRecord& rec) {
  std::string body = rec.SerializeAsString();
  uint32_t crc = SlowCrc32c(body);
  body.push_back(static_cast<char>((15 << 3) | 5));
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(crc >> (8 * i)));
  return body;
}

inline Sibling RandomContent(Rng& rng) {
  Sibling s;
  s.value = RandomBytes(rng, 12);
  static const char* kTypes[] = {"", "application/json", "text/plain"};
  s.meta.content_type = kTypes[rng() % 3];
  if (rng() % 3 == 0) s.meta.charset = "utf-8";
  if (rng() % 4 == 0) s.meta.content_encoding = "gzip";
  for (size_t i = rng() % 3; i > 0; --i) {
    s.meta.usermeta.emplace_back(RandomBytes(rng, 4), RandomBytes(rng, 4));
  }
  for (size_t i = rng() % 3; i > 0; --i) {
    s.meta.indexes.emplace_back("idx_bin", RandomBytes(rng, 4));
  }
  for (size_t i = rng() % 2; i > 0; --i) {
    s.meta.links.push_back(Link{"b", RandomBytes(rng, 3), "tag"});
  }
  return s;
}

inline Object Merged(Object a, const Object& b, Resolution r) {
  a.Merge(b, r);
  return a;
}

inline HlcTimestamp NewestTimestamp(const Object& o) {
  HlcTimestamp t;
  for (const Sibling& s : o.siblings()) t = std::max(t, s.timestamp);
  return t;
}

class World {
 public:
  struct Options {
    Resolution resolution = Resolution::kKeepSiblings;
    int replicas = 3;
    // True: timestamps come from per-replica hybrid clocks with skewed
    // physical time, and a coordinator has observed the timestamps of what
    // its client read, so a write is always stamped after everything it
    // overwrites. False: timestamps are random and often tie.
    bool causal_clocks = true;
    // False: clients write only blind or with what they just read at the
    // coordinator, so everything a write overwrites is held there.
    bool remote_reads = true;
  };

  // What a client got from a read: the context to write with and the
  // newest timestamp it saw.
  struct Read {
    VersionVector context;
    HlcTimestamp newest;
  };

  World(uint64_t seed, Options options) : rng_(seed), options_(options) {
    for (int i = 0; i < options_.replicas; ++i) {
      Replica r;
      // Random 64-bit actors, as real replica incarnations have.
      r.actor = rng_();
      r.skew = static_cast<int64_t>(rng_() % 200) - 100;
      replicas_.push_back(r);
      history_.emplace_back(1, Object());
    }
  }

  void Run(int steps) {
    for (int i = 0; i < steps; ++i) Step();
  }

  void Step() {
    now_ += rng_() % 3;
    int r = static_cast<int>(rng_() % replicas_.size());
    switch (rng_() % 6) {
      case 0:
        reads_.push_back(ReadAt(r));
        if (reads_.size() > 6) reads_.erase(reads_.begin() + rng_() % 6);
        return;  // a read changes no replica
      case 1:
      case 2: {
        int from = static_cast<int>(rng_() % replicas_.size());
        MergeInto(r, replicas_[from].obj);
        break;
      }
      default:
        Write(r, PickRead(r), rng_() % 6 == 0);
        break;
    }
    Record(r);
  }

  Read ReadAt(int r) const {
    return Read{replicas_[r].obj.clock(), NewestTimestamp(replicas_[r].obj)};
  }

  // Coordinates one client write at replica `r`.
  Dot Write(int r, const Read& read, bool deleted) {
    Replica& rep = replicas_[r];
    Sibling content = RandomContent(rng_);
    content.deleted = deleted;
    if (deleted) content.value.clear();
    if (options_.causal_clocks) {
      rep.hlc.Observe(read.newest, Physical(r));
      content.timestamp = rep.hlc.Now(Physical(r));
    } else {
      content.timestamp =
          HlcTimestamp{rng_() % 8, static_cast<uint32_t>(rng_() % 2)};
    }
    return rep.obj.Update(read.context, content, rep.actor,
                          options_.resolution);
  }

  void MergeInto(int r, const Object& incoming) {
    Replica& rep = replicas_[r];
    if (options_.causal_clocks) {
      rep.hlc.Observe(NewestTimestamp(incoming), Physical(r));
    }
    rep.obj.Merge(incoming, options_.resolution);
  }

  void Record(int r) {
    history_[r].push_back(replicas_[r].obj);
    snapshots_.push_back(replicas_[r].obj);
  }

  const std::vector<Object>& snapshots() const { return snapshots_; }
  // Every state replica `r` has held, oldest first.
  const std::vector<Object>& history(int r) const { return history_[r]; }
  const Object& object(int r) const { return replicas_[r].obj; }
  ActorId actor(int r) const { return replicas_[r].actor; }
  int replicas() const { return static_cast<int>(replicas_.size()); }
  Rng& rng() { return rng_; }

 private:
  struct Replica {
    ActorId actor = 0;
    int64_t skew = 0;
    causal::HybridClock hlc;
    Object obj;
  };

  uint64_t Physical(int r) const { return now_ + replicas_[r].skew; }

  Read PickRead(int r) {
    switch (rng_() % 4) {
      case 0:
        return Read{};  // blind write
      case 1:
        return ReadAt(r);  // read-modify-write at the coordinator
      default:
        if (reads_.empty() || !options_.remote_reads) return ReadAt(r);
        return reads_[rng_() % reads_.size()];  // read earlier, anywhere
    }
  }

  Rng rng_;
  Options options_;
  uint64_t now_ = 1000000;
  std::vector<Replica> replicas_;
  std::vector<Read> reads_;
  std::vector<Object> snapshots_;
  std::vector<std::vector<Object>> history_;
};

}  // namespace causeway::replication::object::testing
