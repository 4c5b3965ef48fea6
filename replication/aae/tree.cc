#include "replication/aae/tree.h"

#include <algorithm>
#include <utility>

#include "base/coding.h"
#include "replication/aae/hash.h"
#include "storage/keys.h"

namespace causeway::replication::aae {
namespace {

// Distinct seeds keep the three uses of the hash independent: which segment
// a key falls in says nothing about its entry hash.
constexpr uint64_t kVersionSeed = 0x6361757365776179ULL;  // "causeway"
constexpr uint64_t kSegmentSeed = 0x7365676d656e7473ULL;  // "segments"
constexpr uint64_t kEntrySeed = 0x656e747279686173ULL;    // "entryhas"
// Format 1 also stored segment hashes; format 2 derives them from the index.
constexpr std::string_view kFormatVersion = "2";
constexpr std::string_view kFormatWithSegmentRecords = "1";

void AddPairs(Hasher& h, const object::Pairs& pairs) {
  h.Add(static_cast<uint64_t>(pairs.size()));
  for (const auto& [k, v] : pairs) h.Add(k).Add(v);
}

}  // namespace

std::string EncodeEntry(const IndexEntry& e) {
  std::string out;
  coding::PutFixed64LE(&out, e.version);
  if (e.tombstone_ms != 0) coding::PutFixed64LE(&out, e.tombstone_ms);
  return out;
}

bool DecodeEntry(std::string_view in, IndexEntry* e) {
  if (in.size() == 8) {
    *e = IndexEntry{coding::DecodeFixed64LE(in.data()), 0};
    return true;
  }
  if (in.size() != 16) return false;
  const uint64_t tombstone_ms = coding::DecodeFixed64LE(in.data() + 8);
  if (tombstone_ms == 0) return false;
  *e = IndexEntry{coding::DecodeFixed64LE(in.data()), tombstone_ms};
  return true;
}

uint64_t VersionHash(const object::Object& object) {
  Hasher h(kVersionSeed);
  const auto& clock = object.clock().entries();
  h.Add(static_cast<uint64_t>(clock.size()));
  for (const auto& [actor, counter] : clock) h.Add(actor).Add(counter);
  h.Add(static_cast<uint64_t>(object.siblings().size()));
  for (const object::Sibling& s : object.siblings()) {
    h.Add(s.dot.actor).Add(s.dot.counter).Add(s.timestamp.Pack());
    h.Add(uint64_t{s.deleted}).Add(s.value);
    h.Add(s.meta.content_type).Add(s.meta.charset).Add(s.meta.content_encoding);
    AddPairs(h, s.meta.usermeta);
    AddPairs(h, s.meta.indexes);
    h.Add(static_cast<uint64_t>(s.meta.links.size()));
    for (const auto& l : s.meta.links) h.Add(l.bucket).Add(l.key).Add(l.tag);
  }
  // Only data-type objects have a state, so key/value objects hash as they
  // always have.
  if (const crdt::DataType* data = object.data()) {
    h.Add(static_cast<uint64_t>(data->tag())).Add(data->Encode());
  }
  return h.Finish();
}

IndexEntry EntryOf(const object::Object& o) {
  IndexEntry e{VersionHash(o), 0};
  if (o.IsTombstone()) {
    for (const auto& sib : o.siblings()) {
      e.tombstone_ms = std::max(e.tombstone_ms, sib.timestamp.wall_ms);
    }
    e.tombstone_ms = std::max<uint64_t>(e.tombstone_ms, 1);
  }
  return e;
}

uint32_t SegmentOf(std::string_view type, std::string_view bucket,
                   std::string_view key) {
  uint64_t h = Hasher(kSegmentSeed).Add(type).Add(bucket).Add(key).Finish();
  return static_cast<uint32_t>(h % kSegments);
}

uint64_t EntryHash(std::string_view type, std::string_view bucket,
                   std::string_view key, uint64_t version) {
  return Hasher(kEntrySeed)
      .Add(type)
      .Add(bucket)
      .Add(key)
      .Add(version)
      .Finish();
}

Status Trees::Open() {
  std::string format;
  Status s = engine_.Get(storage::AaeFormatKey(), &format);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (s.ok() && format == kFormatWithSegmentRecords) {
    // Its index is this format's; only the segment records go.
    storage::WriteBatch retire;
    const std::string space = storage::AaeRetiredSegmentSpace();
    s = engine_.Scan(space, storage::PrefixEnd(space),
                     [&](std::string_view k, std::string_view) {
                       retire.Delete(k);
                       return true;
                     });
    if (s.ok()) s = engine_.Write(retire);
    if (s.ok()) {
      s = engine_.Put(storage::AaeFormatKey(), kFormatVersion, {.sync = true});
    }
    if (!s.ok()) return s;
    format = kFormatVersion;
  }
  if (s.ok() && format == kFormatVersion) {
    std::string prefix = storage::AaeRebuildPrefix();
    s = engine_.Scan(prefix, storage::PrefixEnd(prefix),
                     [&](std::string_view k, std::string_view) {
                       std::string_view rest = k.substr(prefix.size());
                       if (rest.size() == 4) {
                         StartRebuild(coding::DecodeFixed32(rest.data()),
                                      /*verify=*/true);
                       }
                       return true;
                     });
    if (!s.ok()) return s;
    // Every other partition with index entries sums its segment hashes.
    // (The index space ends where partition UINT32_MAX's entries end.)
    return ForEachPartition(
        storage::AaeIndexPrefix(0),
        storage::PrefixEnd(storage::AaeIndexPrefix(UINT32_MAX)),
        [](std::string_view k) -> std::optional<uint32_t> {
          storage::AaeIndexKeyParts parts;
          if (!storage::DecodeAaeIndexKey(k, &parts)) return std::nullopt;
          return parts.partition;
        },
        [](uint32_t p) { return storage::AaeIndexPrefix(p + 1); },
        [&](uint32_t p) {
          if (!rebuilding_.count(p)) StartRebuild(p, /*verify=*/false);
          return Status::Ok();
        });
  }
  // No trees (a store from before they existed) or trees of another
  // format: every partition holding objects is rebuilt.
  s = ForEachPartition(
      storage::ObjectSpaceBegin(), storage::ObjectSpaceEnd(),
      [](std::string_view k) -> std::optional<uint32_t> {
        storage::ObjectKeyParts parts;
        if (!storage::DecodeObjectKey(k, &parts)) return std::nullopt;
        return parts.partition;
      },
      [](uint32_t p) { return storage::PartitionBegin(p + 1); },
      [&](uint32_t p) { return RequestRebuild(p); });
  if (!s.ok()) return s;
  return engine_.Put(storage::AaeFormatKey(), kFormatVersion, {.sync = true});
}

Status Trees::ForEachPartition(
    std::string begin, const std::string& end,
    const std::function<std::optional<uint32_t>(std::string_view)>&
        partition_of,
    const std::function<std::string(uint32_t)>& after,
    const std::function<Status(uint32_t)>& visit) {
  // Jumps from one partition's first key to the next partition, rather
  // than reading every key.
  while (true) {
    std::optional<uint32_t> found;
    Status s =
        engine_.Scan(begin, end, [&](std::string_view k, std::string_view) {
          found = partition_of(k);
          return !found.has_value();
        });
    if (!s.ok()) return s;
    if (!found) return Status::Ok();
    s = visit(*found);
    if (!s.ok()) return s;
    if (*found == UINT32_MAX) return Status::Ok();
    begin = after(*found);
  }
}

std::vector<uint64_t>& Trees::Load(uint32_t partition) {
  auto [it, fresh] = segments_.try_emplace(partition);
  if (fresh) it->second.assign(kSegments, 0);
  return it->second;
}

void Trees::StartRebuild(uint32_t partition, bool verify) {
  Rebuild r;
  r.verify = verify;
  r.progress.partition = partition;
  r.progress.phase = verify ? 1 : 2;
  r.progress.sum_at_start = !verify;
  r.cursor = storage::PartitionBegin(partition);
  rebuilds_[partition] = std::move(r);  // one in progress starts over
  rebuilding_.insert(partition);
}

bool Trees::IndexTrusted(uint32_t partition) const {
  auto it = rebuilds_.find(partition);
  return it == rebuilds_.end() || !it->second.verify;
}

Status Trees::Stage(uint32_t partition, std::string_view type,
                    std::string_view bucket, std::string_view key,
                    const object::Object* object, storage::WriteBatch* batch,
                    Change* change, const Known* known) {
  change->valid = false;
  std::vector<uint64_t>& segs = Load(partition);
  const uint32_t segment = SegmentOf(type, bucket, key);
  const std::string index_key =
      storage::AaeIndexKey(partition, segment, type, bucket, key);
  std::string bytes;
  std::optional<IndexEntry> old;
  // The engine read is skipped when the caller just read the object: with
  // the tree ready, the index holds exactly that object's entry.
  Status s = Status::NotFound();
  if (known != nullptr && IndexTrusted(partition)) {
    old = *known;
  } else {
    s = engine_.Get(index_key, &bytes);
  }
  if (s.ok()) {
    IndexEntry e;
    if (DecodeEntry(bytes, &e)) {
      old = e;
    } else if (IndexTrusted(partition)) {
      // Its contribution to the segment is unknown: the rebuild works the
      // segment out again from the entries.
      s = RequestRebuild(partition);
      if (!s.ok()) return s;
    }
  } else if (!s.IsNotFound()) {
    return s;
  }
  std::optional<IndexEntry> now;
  if (object != nullptr) now = EntryOf(*object);
  change->entry = now;
  if (old.has_value() == now.has_value() &&
      (!old || old->version == now->version)) {
    return Status::Ok();
  }
  uint64_t h = segs[segment];
  if (old) h ^= EntryHash(type, bucket, key, old->version);
  // Built only when needed: most writes neither make nor replace a
  // tombstone.
  auto tomb_key = [&] {
    return storage::AaeTombstoneKey(partition, type, bucket, key);
  };
  if (now) {
    h ^= EntryHash(type, bucket, key, now->version);
    batch->Put(index_key, EncodeEntry(*now));
    if (now->tombstone_ms != 0) {
      batch->Put(tomb_key(), EncodeEntry(*now));
    } else if (old && old->tombstone_ms != 0) {
      batch->Delete(tomb_key());
    }
  } else {
    batch->Delete(index_key);
    if (old && old->tombstone_ms != 0) batch->Delete(tomb_key());
  }
  *change = Change{true, partition, segment, h, now};
  return Status::Ok();
}

Status Trees::Tombstones(uint32_t partition, uint64_t stamped_by_ms, size_t max,
                         std::vector<KeyVersion>* out) {
  // Young tombstones are skipped, but a bounded number of them, so a burst
  // of deletes cannot make one call read the whole list.
  size_t visited = 0;
  const std::string prefix = storage::AaeTombstonePrefix(partition);
  return engine_.Scan(
      prefix, storage::PrefixEnd(prefix),
      [&](std::string_view k, std::string_view v) {
        storage::AaeIndexKeyParts parts;
        IndexEntry e;
        if (storage::DecodeAaeTombstoneKey(k, &parts) && DecodeEntry(v, &e) &&
            e.tombstone_ms != 0 && e.tombstone_ms <= stamped_by_ms) {
          out->push_back(KeyVersion{std::move(parts.type),
                                    std::move(parts.bucket),
                                    std::move(parts.key), e.version});
        }
        return out->size() < max && ++visited < 20 * max;
      });
}

void Trees::Commit(const Change& change) {
  if (!change.valid) return;
  Load(change.partition)[change.segment] = change.segment_hash;
}

uint64_t Trees::Root(uint32_t partition) {
  uint64_t root = 0;
  for (uint64_t b : Branches(partition)) root ^= b;
  return root;
}

std::vector<uint64_t> Trees::Branches(uint32_t partition) {
  const std::vector<uint64_t>& segs = Load(partition);
  std::vector<uint64_t> out(kBranches, 0);
  for (uint32_t i = 0; i < kSegments; ++i) {
    out[i / kSegmentsPerBranch] ^= segs[i];
  }
  return out;
}

std::vector<uint64_t> Trees::BranchSegments(uint32_t partition,
                                            uint32_t branch) {
  const std::vector<uint64_t>& segs = Load(partition);
  if (branch >= kBranches) return {};
  auto first = segs.begin() + branch * kSegmentsPerBranch;
  return std::vector<uint64_t>(first, first + kSegmentsPerBranch);
}

uint64_t Trees::Segment(uint32_t partition, uint32_t segment) {
  if (segment >= kSegments) return 0;
  return Load(partition)[segment];
}

Status Trees::SegmentKeys(uint32_t partition, uint32_t segment,
                          std::vector<KeyVersion>* out) {
  std::string prefix = storage::AaeIndexPrefix(partition, segment);
  return engine_.Scan(
      prefix, storage::PrefixEnd(prefix),
      [&](std::string_view k, std::string_view v) {
        storage::AaeIndexKeyParts parts;
        IndexEntry e;
        // A malformed entry is left to the rebuild.
        if (storage::DecodeAaeIndexKey(k, &parts) && DecodeEntry(v, &e)) {
          out->push_back(KeyVersion{std::move(parts.type),
                                    std::move(parts.bucket),
                                    std::move(parts.key), e.version});
        }
        return true;
      });
}

Status Trees::RequestRebuild(uint32_t partition) {
  Status s = engine_.Put(storage::AaeRebuildKey(partition), "", {.sync = true});
  if (!s.ok()) return s;
  StartRebuild(partition, /*verify=*/true);
  return Status::Ok();
}

std::optional<RebuildProgress> Trees::progress(uint32_t partition) const {
  auto it = rebuilds_.find(partition);
  if (it == rebuilds_.end()) return std::nullopt;
  return it->second.progress;
}

Status Trees::Fix(uint32_t partition, std::string_view type,
                  std::string_view bucket, std::string_view key,
                  const object::Object* object) {
  storage::WriteBatch batch;
  Change change;
  Status s = Stage(partition, type, bucket, key, object, &batch, &change);
  if (!s.ok() || batch.empty()) return s;
  s = engine_.Write(batch);
  if (s.ok()) Commit(change);
  return s;
}

Status Trees::RebuildObjects(uint32_t partition, Rebuild& r, size_t budget) {
  struct Seen {
    storage::ObjectKeyParts parts;
    std::optional<object::Object> object;  // unset: undecodable, left alone
  };
  std::vector<Seen> seen;
  std::string last;
  Status s = engine_.Scan(r.cursor, storage::PartitionEnd(partition),
                          [&](std::string_view k, std::string_view v) {
                            last.assign(k);
                            Seen item;
                            if (!storage::DecodeObjectKey(k, &item.parts)) {
                              return seen.size() < budget;
                            }
                            object::Object o;
                            if (object::Object::Decode(v, &o).ok()) {
                              item.object = std::move(o);
                            }
                            seen.push_back(std::move(item));
                            return seen.size() < budget;
                          });
  if (!s.ok()) return s;
  // Applied after the scan: an engine need not allow writes mid-scan.
  for (const Seen& item : seen) {
    if (!item.object) continue;
    s = Fix(partition, item.parts.type, item.parts.bucket, item.parts.key,
            &*item.object);
    if (!s.ok()) return s;
  }
  r.progress.keys_scanned += seen.size();
  if (seen.size() < budget) {
    r.progress.phase = 2;
  } else {
    r.cursor = last + std::string(1, '\0');
  }
  return Status::Ok();
}

Status Trees::RebuildSegment(uint32_t partition, uint32_t segment, bool verify,
                             size_t* visited) {
  struct Entry {
    storage::AaeIndexKeyParts parts;
    std::string index_key;
    std::optional<IndexEntry> entry;
  };
  std::vector<Entry> entries;
  std::vector<std::string> malformed;
  std::string prefix = storage::AaeIndexPrefix(partition, segment);
  Status s = engine_.Scan(prefix, storage::PrefixEnd(prefix),
                          [&](std::string_view k, std::string_view v) {
                            Entry e;
                            e.index_key.assign(k);
                            IndexEntry entry;
                            if (!storage::DecodeAaeIndexKey(k, &e.parts)) {
                              malformed.emplace_back(k);
                              return true;
                            }
                            if (DecodeEntry(v, &entry)) e.entry = entry;
                            entries.push_back(std::move(e));
                            return true;
                          });
  if (!s.ok()) return s;
  *visited = entries.size() + malformed.size();
  uint64_t h = 0;
  if (!verify) {
    // The sum at start trusts the index; anything it cannot read turns it
    // into a full rebuild.
    for (const Entry& e : entries) {
      if (!e.entry ||
          SegmentOf(e.parts.type, e.parts.bucket, e.parts.key) != segment) {
        return RequestRebuild(partition);
      }
      h ^= EntryHash(e.parts.type, e.parts.bucket, e.parts.key,
                     e.entry->version);
    }
    if (!malformed.empty()) return RequestRebuild(partition);
    Load(partition)[segment] = h;
    return Status::Ok();
  }
  // Each entry is checked against its object: gone or undecodable objects
  // lose their entry, others get the version they really have.
  storage::WriteBatch batch;
  for (const std::string& k : malformed) batch.Delete(k);
  for (Entry& e : entries) {
    std::string bytes;
    std::optional<IndexEntry> actual;
    s = engine_.Get(storage::EncodeObjectKey(partition, e.parts.type,
                                             e.parts.bucket, e.parts.key),
                    &bytes);
    if (s.ok()) {
      object::Object o;
      if (object::Object::Decode(bytes, &o).ok()) actual = EntryOf(o);
    } else if (!s.IsNotFound()) {
      return s;
    }
    const std::string tomb_key = storage::AaeTombstoneKey(
        partition, e.parts.type, e.parts.bucket, e.parts.key);
    if (!actual ||
        SegmentOf(e.parts.type, e.parts.bucket, e.parts.key) != segment) {
      batch.Delete(e.index_key);
      if (!e.entry || e.entry->tombstone_ms != 0) batch.Delete(tomb_key);
      continue;
    }
    if (!e.entry || e.entry->version != actual->version ||
        e.entry->tombstone_ms != actual->tombstone_ms) {
      batch.Put(e.index_key, EncodeEntry(*actual));
      if (actual->tombstone_ms != 0) {
        batch.Put(tomb_key, EncodeEntry(*actual));
      } else {
        batch.Delete(tomb_key);
      }
    }
    h ^= EntryHash(e.parts.type, e.parts.bucket, e.parts.key, actual->version);
  }
  if (!batch.empty()) s = engine_.Write(batch);
  if (s.ok()) Load(partition)[segment] = h;
  return s;
}

Status Trees::RebuildStep(uint32_t partition, size_t budget, bool* done) {
  *done = false;
  auto it = rebuilds_.find(partition);
  if (it == rebuilds_.end()) {
    *done = true;
    return Status::Ok();
  }
  Rebuild& r = it->second;
  if (budget == 0) budget = 1;
  if (r.progress.phase == 1) return RebuildObjects(partition, r, budget);
  // Whole segments at a time, so a write between steps never meets a
  // half-summed segment: a segment not reached yet may hold anything, as
  // its sum replaces it.
  const bool verify = r.verify;
  size_t spent = 0;
  while (r.segment < kSegments && spent < budget) {
    size_t visited = 0;
    Status s = RebuildSegment(partition, r.segment, verify, &visited);
    if (!s.ok()) return s;
    // A sum that found a bad entry turned into a full rebuild, which
    // replaced `r`.
    if (r.verify != verify) return Status::Ok();
    ++r.segment;
    r.progress.segments_done = r.segment;
    r.progress.keys_scanned += visited;
    spent += 1 + visited;
  }
  if (r.segment < kSegments) return Status::Ok();
  if (verify) {
    Status s =
        engine_.Delete(storage::AaeRebuildKey(partition), {.sync = true});
    if (!s.ok()) return s;
    ++rebuilds_done_;
  }
  rebuilding_.erase(partition);
  rebuilds_.erase(partition);
  *done = true;
  return Status::Ok();
}

}  // namespace causeway::replication::aae
