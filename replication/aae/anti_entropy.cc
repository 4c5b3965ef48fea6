#include "replication/aae/anti_entropy.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "proto/peer.pb.h"

namespace causeway::replication::aae {
namespace {

enum Level : uint32_t { kRoot = 0, kBranchLevel = 1, kSegmentLevel = 2 };

auto Name(const KeyVersion& k) { return std::tie(k.type, k.bucket, k.key); }

KeyVersion FromItem(const peer::AaeRepairItem& i) {
  return KeyVersion{i.type(), i.bucket(), i.key(), 0};
}

}  // namespace

// One exchange of one partition with one peer, driven by replies.
class AntiEntropy::Exchange
    : public std::enable_shared_from_this<AntiEntropy::Exchange> {
 public:
  using Done = std::function<void(Status, uint64_t repaired, uint64_t reaped)>;

  Exchange(AntiEntropy& ae, uint32_t partition, std::string peer, Done done)
      : ae_(ae),
        alive_(ae.alive_),
        partition_(partition),
        peer_(std::move(peer)),
        done_(std::move(done)) {}

  void Run() {
    if (!ae_.trees_.Ready(partition_)) {
      return Finish(Status::Unavailable("tree is being rebuilt"));
    }
    // The sole primary of its partition has no tree to compare with, only
    // its tombstones to reap.
    if (peer_ == ae_.host_.self()) return Reap();
    AskTree(kRoot, {}, [this](std::vector<uint64_t> theirs) {
      if (theirs.size() != 1) return Finish(Status::Corruption("bad root"));
      if (theirs[0] == ae_.trees_.Root(partition_)) return Reap();
      AskBranches();
    });
  }

 private:
  using Hashes = std::function<void(std::vector<uint64_t>)>;

  // Sends a request; `next` runs only if this exchange is still wanted and
  // the peer answered it with success.
  void Ask(peer::Envelope m, std::function<void(const peer::Envelope&)> next) {
    auto self = shared_from_this();
    ae_.Send(
        peer_, std::move(m),
        [self, next = std::move(next)](Status s, const peer::Envelope* reply) {
          if (!*self->alive_) return;
          if (reply != nullptr) self->ae_.CountReceived(reply->ByteSizeLong());
          if (!s.ok()) return self->Finish(s);
          next(*reply);
        });
  }

  void AskTree(uint32_t level, const std::vector<uint32_t>& branches,
               Hashes next) {
    peer::Envelope m;
    peer::AaeTreeRequest* r = m.mutable_aae_tree();
    r->set_partition(partition_);
    r->set_level(level);
    for (uint32_t b : branches) r->add_branches(b);
    Ask(std::move(m), [this, next = std::move(next)](const peer::Envelope& e) {
      const auto& h = e.aae_tree_reply().hashes();
      next(std::vector<uint64_t>(h.begin(), h.end()));
    });
  }

  void AskBranches() {
    AskTree(kBranchLevel, {}, [this](std::vector<uint64_t> theirs) {
      std::vector<uint64_t> ours = ae_.trees_.Branches(partition_);
      if (theirs.size() != ours.size()) {
        return Finish(Status::Corruption("bad branch count"));
      }
      std::vector<uint32_t> differ;
      for (uint32_t b = 0; b < kBranches; ++b) {
        if (ours[b] != theirs[b]) differ.push_back(b);
      }
      AskSegments(std::move(differ));
    });
  }

  void AskSegments(std::vector<uint32_t> branches) {
    AskTree(
        kSegmentLevel, branches,
        [this, branches](std::vector<uint64_t> theirs) {
          if (theirs.size() != branches.size() * kSegmentsPerBranch) {
            return Finish(Status::Corruption("bad segment count"));
          }
          size_t i = 0;
          for (uint32_t b : branches) {
            std::vector<uint64_t> ours =
                ae_.trees_.BranchSegments(partition_, b);
            for (uint32_t j = 0; j < kSegmentsPerBranch; ++j, ++i) {
              if (ours[j] != theirs[i] &&
                  segments_.size() < ae_.timing_.max_segments_per_exchange) {
                segments_.push_back(b * kSegmentsPerBranch + j);
              }
            }
          }
          AskKeys(0);
        });
  }

  // Compares the key lists of segments_[from...] a request at a time.
  void AskKeys(size_t from) {
    if (from >= segments_.size() ||
        repairs_.size() >= ae_.timing_.max_repairs_per_exchange) {
      return Repair(0);
    }
    const size_t to =
        std::min(segments_.size(), from + ae_.timing_.segments_per_request);
    peer::Envelope m;
    peer::AaeKeysRequest* r = m.mutable_aae_keys();
    r->set_partition(partition_);
    for (size_t i = from; i < to; ++i) r->add_segments(segments_[i]);
    Ask(std::move(m), [this, from, to](const peer::Envelope& e) {
      std::vector<KeyVersion> theirs;
      for (const auto& k : e.aae_keys_reply().keys()) {
        theirs.push_back(
            KeyVersion{k.type(), k.bucket(), k.key(), k.version()});
      }
      std::vector<KeyVersion> ours;
      for (size_t i = from; i < to; ++i) {
        Status s = ae_.trees_.SegmentKeys(partition_, segments_[i], &ours);
        if (!s.ok()) return Finish(s);
      }
      Compare(std::move(ours), std::move(theirs));
      AskKeys(to);
    });
  }

  void Compare(std::vector<KeyVersion> ours, std::vector<KeyVersion> theirs) {
    auto less = [](const KeyVersion& a, const KeyVersion& b) {
      return Name(a) < Name(b);
    };
    std::sort(ours.begin(), ours.end(), less);
    std::sort(theirs.begin(), theirs.end(), less);
    auto a = ours.begin();
    auto b = theirs.begin();
    auto differs = [&](const KeyVersion& k) {
      if (repairs_.size() >= ae_.timing_.max_repairs_per_exchange) return;
      // A key of a bucket with a small n_val may belong to only one of
      // the two; such a key is not copied to a node that should not hold
      // it.
      if (!ae_.host_.ShouldHold(ae_.host_.self(), partition_, k) ||
          !ae_.host_.ShouldHold(peer_, partition_, k)) {
        return;
      }
      repairs_.push_back(k);
    };
    while (a != ours.end() || b != theirs.end()) {
      if (b == theirs.end() || (a != ours.end() && less(*a, *b))) {
        differs(*a++);
      } else if (a == ours.end() || less(*b, *a)) {
        differs(*b++);
      } else {
        if (a->version != b->version) differs(*a);
        ++a;
        ++b;
      }
    }
  }

  void Repair(size_t from) {
    if (from >= repairs_.size()) return Finish(Status::Ok());
    const size_t to =
        std::min(repairs_.size(), from + ae_.timing_.repair_batch);
    peer::Envelope m;
    peer::AaeRepairRequest* r = m.mutable_aae_repair();
    r->set_partition(partition_);
    for (size_t i = from; i < to; ++i) {
      const KeyVersion& k = repairs_[i];
      peer::AaeRepairItem* item = r->add_items();
      item->set_type(k.type);
      item->set_bucket(k.bucket);
      item->set_key(k.key);
      object::Object o;
      Status s = ae_.host_.Read(partition_, k, &o);
      if (s.ok()) {
        item->set_object(o.Encode());
      } else if (!s.IsNotFound()) {
        return Finish(s);
      }
    }
    Ask(std::move(m), [this, from, to](const peer::Envelope& e) {
      for (const auto& item : e.aae_repair_reply().items()) {
        object::Object incoming, merged;
        KeyVersion k = FromItem(item);
        // Only keys this exchange asked about are taken.
        bool asked = false;
        for (size_t i = from; i < to && !asked; ++i) {
          asked = Name(repairs_[i]) == Name(k);
        }
        if (!asked) continue;
        if (!object::Object::Decode(item.object(), &incoming).ok()) continue;
        Status s = ae_.host_.Merge(partition_, k, incoming, &merged);
        if (!s.ok()) return Finish(s);
      }
      repaired_ += to - from;
      Repair(to);
    });
  }

  // The trees agree: tombstones old enough that every primary holds
  // identically, and no other node holds otherwise, may go.
  void Reap() {
    bool all_up = false;
    std::vector<std::string> members = ae_.host_.Members(&all_up);
    if (!all_up || ae_.timing_.tombstone_reap_delay_ms == 0) {
      return Finish(Status::Ok());
    }
    const uint64_t now = ae_.env_.WallMillis();
    const uint64_t delay = ae_.timing_.tombstone_reap_delay_ms;
    if (now <= delay) return Finish(Status::Ok());
    Status s = ae_.trees_.Tombstones(
        partition_, now - delay, ae_.timing_.max_reaps_per_exchange, &reap_);
    if (!s.ok()) return Finish(s);
    if (reap_.empty()) return Finish(Status::Ok());
    for (const auto& m : members) {
      if (m != ae_.host_.self()) others_.push_back(m);
    }
    agreed_.assign(reap_.size(), true);
    CheckReap(0);
  }

  // The keys of reap_ still agreed on, for `node` to confirm or remove.
  peer::Envelope ReapMessage(const std::string& node, bool remove,
                             std::vector<size_t>* index) {
    peer::Envelope m;
    peer::AaeReapRequest* r = m.mutable_aae_reap();
    r->set_partition(partition_);
    r->set_remove(remove);
    for (size_t i = 0; i < reap_.size(); ++i) {
      if (!agreed_[i]) continue;
      peer::AaeKeyVersion* k = r->add_keys();
      k->set_type(reap_[i].type);
      k->set_bucket(reap_[i].bucket);
      k->set_key(reap_[i].key);
      k->set_version(reap_[i].version);
      index->push_back(i);
    }
    return m;
  }

  void CheckReap(size_t peer) {
    if (peer >= others_.size()) return RemoveReaped(0);
    auto index = std::make_shared<std::vector<size_t>>();
    peer::Envelope m = ReapMessage(others_[peer], false, index.get());
    if (index->empty()) return CheckReap(peer + 1);
    ReapRequest(others_[peer], std::move(m),
                [this, peer, index](const std::vector<uint32_t>& held) {
                  std::vector<bool> ok(index->size(), false);
                  for (uint32_t h : held) {
                    if (h < ok.size()) ok[h] = true;
                  }
                  for (size_t j = 0; j < index->size(); ++j) {
                    if (!ok[j]) agreed_[(*index)[j]] = false;
                  }
                  CheckReap(peer + 1);
                });
  }

  void RemoveReaped(size_t peer) {
    if (peer >= others_.size()) {
      // Every other node has removed its copy (or kept one that changed
      // since); now ours, if it is still the tombstone they agreed on.
      for (size_t i = 0; i < reap_.size(); ++i) {
        if (!agreed_[i]) continue;
        object::Object o;
        if (!ae_.host_.Read(partition_, reap_[i], &o).ok()) continue;
        if (!o.IsTombstone() || VersionHash(o) != reap_[i].version) continue;
        if (ae_.host_.Remove(partition_, reap_[i]).ok()) ++reaped_;
      }
      return Finish(Status::Ok());
    }
    auto index = std::make_shared<std::vector<size_t>>();
    peer::Envelope m = ReapMessage(others_[peer], true, index.get());
    if (index->empty()) return RemoveReaped(peer + 1);
    ReapRequest(
        others_[peer], std::move(m),
        [this, peer](const std::vector<uint32_t>&) { RemoveReaped(peer + 1); });
  }

  void ReapRequest(const std::string& node, peer::Envelope m,
                   std::function<void(const std::vector<uint32_t>&)> next) {
    auto self = shared_from_this();
    ae_.Send(
        node, std::move(m),
        [self, next = std::move(next)](Status s, const peer::Envelope* reply) {
          if (!*self->alive_) return;
          if (reply != nullptr) self->ae_.CountReceived(reply->ByteSizeLong());
          if (!s.ok()) return self->Finish(s);
          const auto& h = reply->aae_reap_reply().held();
          next(std::vector<uint32_t>(h.begin(), h.end()));
        });
  }

  void Finish(Status s) {
    if (finished_) return;
    finished_ = true;
    Done done = std::move(done_);
    done(std::move(s), repaired_, reaped_);
  }

  AntiEntropy& ae_;
  std::shared_ptr<bool> alive_;
  const uint32_t partition_;
  const std::string peer_;
  Done done_;
  bool finished_ = false;
  std::vector<uint32_t> segments_;
  std::vector<KeyVersion> repairs_;
  uint64_t repaired_ = 0;
  std::vector<KeyVersion> reap_;
  std::vector<bool> agreed_;
  std::vector<std::string> others_;
  uint64_t reaped_ = 0;
};

AntiEntropy::AntiEntropy(Env& env, Trees& trees, Host& host, AaeTiming timing)
    : env_(env),
      trees_(trees),
      host_(host),
      timing_(timing),
      alive_(std::make_shared<bool>(true)) {
  totals_.enabled = timing.enabled;
}

AntiEntropy::~AntiEntropy() { *alive_ = false; }

void AntiEntropy::Start() {
  auto alive = alive_;
  env_.After(timing_.rebuild_tick_ms, [this, alive] {
    if (*alive) RebuildTick();
  });
  if (timing_.enabled) {
    env_.After(timing_.exchange_interval_ms, [this, alive] {
      if (*alive) Tick();
    });
  }
}

void AntiEntropy::RebuildTick() {
  if (!trees_.rebuilding().empty()) {
    uint32_t p = *trees_.rebuilding().begin();
    bool done = false;
    // A failed step is retried on the next tick; the tree stays not ready.
    trees_.RebuildStep(p, timing_.rebuild_keys_per_tick, &done);
  }
  // Idle, the check for new work (a tree found corrupt) is slower.
  auto alive = alive_;
  env_.After(trees_.rebuilding().empty() ? timing_.rebuild_idle_ms
                                         : timing_.rebuild_tick_ms,
             [this, alive] {
               if (*alive) RebuildTick();
             });
}

void AntiEntropy::Tick() {
  auto alive = alive_;
  auto again = [this, alive] {
    env_.After(timing_.exchange_interval_ms, [this, alive] {
      if (*alive) Tick();
    });
  };
  if (running_) return again();
  if (round_.empty()) {
    // A new round: every held partition with each of its live peers, in
    // an order that starts somewhere random so nodes do not all begin with
    // partition 0 together. A partition with no other primary at all (one
    // node, or n_val 1) is visited alone, so its tombstones are reaped too;
    // one whose other primaries are down waits for them.
    bool all_up = false;
    host_.Members(&all_up);
    for (uint32_t p : host_.HeldPartitions()) {
      std::vector<std::string> peers = host_.ExchangePeers(p);
      if (peers.empty() && all_up) peers.push_back(host_.self());
      for (const auto& peer : peers) round_.push_back({p, peer});
    }
    if (round_.empty()) return again();
    std::rotate(round_.begin(), round_.begin() + env_.Random() % round_.size(),
                round_.end());
    std::reverse(round_.begin(), round_.end());  // popped from the back
  }
  // Named copies, not a structured binding: lambdas capture them below.
  const uint32_t partition = round_.back().first;
  const std::string peer = round_.back().second;
  round_.pop_back();
  running_ = true;
  auto ex = std::make_shared<Exchange>(
      *this, partition, peer,
      [this, alive, partition, peer, again](Status s, uint64_t repaired,
                                            uint64_t reaped) {
        if (!*alive) return;
        running_ = false;
        Finished(partition, peer, std::move(s), repaired, reaped);
        again();
      });
  ex->Run();
}

void AntiEntropy::ExchangeNow(uint32_t partition, const std::string& peer,
                              std::function<void(Status)> done) {
  auto alive = alive_;
  auto ex = std::make_shared<Exchange>(
      *this, partition, peer,
      [this, alive, partition, peer, done = std::move(done)](
          Status s, uint64_t repaired, uint64_t reaped) {
        if (*alive) Finished(partition, peer, s, repaired, reaped);
        done(std::move(s));
      });
  ex->Run();
}

void AntiEntropy::Finished(uint32_t partition, const std::string& peer,
                           Status s, uint64_t repaired, uint64_t reaped) {
  PartitionAae& p = partitions_[partition];
  p.partition = partition;
  p.last_peer = peer;
  p.keys_repaired += repaired;
  p.tombstones_reaped += reaped;
  totals_.keys_repaired += repaired;
  totals_.tombstones_reaped += reaped;
  if (s.ok()) {
    ++p.exchanges;
    ++totals_.exchanges;
    p.last_exchange_wall_ms = env_.WallMillis();
    p.last_error.clear();
  } else {
    ++totals_.exchanges_failed;
    p.last_error = s.message();
  }
}

void AntiEntropy::Send(const std::string& to, peer::Envelope message,
                       Host::ReplyFn on_reply) {
  totals_.bytes_sent += message.ByteSizeLong();
  host_.Request(to, std::move(message), timing_.request_timeout_ms,
                std::move(on_reply));
}

template <typename ReplyBody>
void AntiEntropy::Answer(const peer::Envelope& request, uint32_t partition,
                         ReplyBody* (peer::Envelope::*reply_body)(),
                         const Messenger::Respond& respond,
                         const std::function<Status(ReplyBody*)>& serve) {
  totals_.bytes_received += request.ByteSizeLong();
  peer::Envelope reply;
  ReplyBody* out = (reply.*reply_body)();
  // A partition the ring does not have is refused before anything is loaded
  // for it: a peer cannot make this node hold trees that do not exist.
  Status s = partition < host_.RingSize()
                 ? serve(out)
                 : Status::InvalidArgument("no such partition");
  if (!s.ok()) out->Clear();
  ToPeerResult(s, out->mutable_result());
  totals_.bytes_sent += reply.ByteSizeLong();
  respond(std::move(reply));
}

void AntiEntropy::ServeTree(const NodeName&, const peer::Envelope& request,
                            Messenger::Respond respond) {
  const peer::AaeTreeRequest& r = request.aae_tree();
  Answer<peer::AaeTreeReply>(
      request, r.partition(), &peer::Envelope::mutable_aae_tree_reply, respond,
      [&](peer::AaeTreeReply* out) {
        if (!trees_.Ready(r.partition())) {
          return Status::Unavailable("tree is being rebuilt");
        }
        switch (r.level()) {
          case kRoot:
            out->add_hashes(trees_.Root(r.partition()));
            return Status::Ok();
          case kBranchLevel:
            for (uint64_t h : trees_.Branches(r.partition())) {
              out->add_hashes(h);
            }
            return Status::Ok();
          case kSegmentLevel:
            if (static_cast<size_t>(r.branches_size()) > kBranches) break;
            for (uint32_t b : r.branches()) {
              if (b >= kBranches) {
                return Status::InvalidArgument("no such branch");
              }
              for (uint64_t h : trees_.BranchSegments(r.partition(), b)) {
                out->add_hashes(h);
              }
            }
            return Status::Ok();
        }
        return Status::InvalidArgument("bad tree request");
      });
}

void AntiEntropy::ServeKeys(const NodeName&, const peer::Envelope& request,
                            Messenger::Respond respond) {
  const peer::AaeKeysRequest& r = request.aae_keys();
  Answer<peer::AaeKeysReply>(
      request, r.partition(), &peer::Envelope::mutable_aae_keys_reply, respond,
      [&](peer::AaeKeysReply* out) {
        if (!trees_.Ready(r.partition())) {
          return Status::Unavailable("tree is being rebuilt");
        }
        if (static_cast<size_t>(r.segments_size()) > kSegments) {
          return Status::InvalidArgument("too many segments");
        }
        std::vector<KeyVersion> keys;
        for (uint32_t seg : r.segments()) {
          if (seg >= kSegments) {
            return Status::InvalidArgument("no such segment");
          }
          Status s = trees_.SegmentKeys(r.partition(), seg, &keys);
          if (!s.ok()) return s;
        }
        for (const auto& k : keys) {
          peer::AaeKeyVersion* kv = out->add_keys();
          kv->set_type(k.type);
          kv->set_bucket(k.bucket);
          kv->set_key(k.key);
          kv->set_version(k.version);
        }
        return Status::Ok();
      });
}

void AntiEntropy::ServeRepair(const NodeName&, const peer::Envelope& request,
                              Messenger::Respond respond) {
  const peer::AaeRepairRequest& r = request.aae_repair();
  Answer<peer::AaeRepairReply>(
      request, r.partition(), &peer::Envelope::mutable_aae_repair_reply,
      respond, [&](peer::AaeRepairReply* out) {
        for (const auto& item : r.items()) {
          Status s = RepairOne(r.partition(), item, out);
          if (!s.ok()) return s;
        }
        return Status::Ok();
      });
}

// Merges what the peer sent for one key (or reads this replica's copy when
// it sent nothing) and adds this replica's object to `out` when it differs
// from what was sent.
Status AntiEntropy::RepairOne(uint32_t partition,
                              const peer::AaeRepairItem& item,
                              peer::AaeRepairReply* out) {
  KeyVersion k = FromItem(item);
  object::Object result;
  std::optional<uint64_t> sent;
  if (!item.object().empty()) {
    object::Object incoming;
    // A malformed object is skipped; the rest of the batch proceeds.
    if (!object::Object::Decode(item.object(), &incoming).ok()) {
      return Status::Ok();
    }
    sent = VersionHash(incoming);
    if (!host_.ShouldHold(host_.self(), partition, k)) return Status::Ok();
    Status s = host_.Merge(partition, k, incoming, &result);
    if (!s.ok()) return s;
  } else {
    Status s = host_.Read(partition, k, &result);
    if (s.IsNotFound()) return Status::Ok();
    if (!s.ok()) return s;
  }
  if (!result.empty() && (!sent || *sent != VersionHash(result))) {
    peer::AaeRepairItem* back = out->add_items();
    back->set_type(item.type());
    back->set_bucket(item.bucket());
    back->set_key(item.key());
    back->set_object(result.Encode());
  }
  return Status::Ok();
}

void AntiEntropy::ServeReap(const NodeName&, const peer::Envelope& request,
                            Messenger::Respond respond) {
  const peer::AaeReapRequest& r = request.aae_reap();
  Answer<peer::AaeReapReply>(
      request, r.partition(), &peer::Envelope::mutable_aae_reap_reply, respond,
      [&](peer::AaeReapReply* out) {
        for (int i = 0; i < r.keys_size(); ++i) {
          if (HoldsTombstone(r.partition(), r.keys(i), r.remove())) {
            out->add_held(static_cast<uint32_t>(i));
          }
        }
        return Status::Ok();
      });
}

// Whether this node may let the tombstone `kv` go: it holds exactly that
// tombstone (removing it too when `remove`), or, being no replica of the
// key, no copy at all.
bool AntiEntropy::HoldsTombstone(uint32_t partition,
                                 const peer::AaeKeyVersion& kv, bool remove) {
  KeyVersion k{kv.type(), kv.bucket(), kv.key(), kv.version()};
  object::Object o;
  Status read = host_.Read(partition, k, &o);
  if (read.IsNotFound()) {
    // No copy: fine for a node that is no replica of the key; a replica
    // without the tombstone has yet to receive it.
    return !host_.ShouldHold(host_.self(), partition, k);
  }
  if (!read.ok()) return false;
  if (!o.IsTombstone() || VersionHash(o) != kv.version()) return false;
  if (remove) {
    if (!host_.Remove(partition, k).ok()) return false;
    ++totals_.tombstones_reaped;
    PartitionAae& p = partitions_[partition];
    ++p.tombstones_reaped;
    p.partition = partition;
  }
  return true;
}

std::optional<uint64_t> AaeStatus::RootOf(uint32_t partition) const {
  for (const PartitionAae& p : partitions) {
    if (p.partition == partition) {
      return p.ready ? std::optional<uint64_t>(p.root) : std::nullopt;
    }
  }
  return std::nullopt;
}

AaeStatus AntiEntropy::status() {
  AaeStatus out = totals_;
  out.now_wall_ms = env_.WallMillis();
  out.rebuilds_done = trees_.rebuilds_done();
  out.rebuilds_pending = static_cast<uint32_t>(trees_.rebuilding().size());
  std::set<uint32_t> shown;
  for (uint32_t p : host_.HeldPartitions()) shown.insert(p);
  for (const auto& [p, _] : partitions_) shown.insert(p);
  for (uint32_t p : trees_.rebuilding()) shown.insert(p);
  for (uint32_t p : shown) {
    PartitionAae view;
    auto it = partitions_.find(p);
    if (it != partitions_.end()) view = it->second;
    view.partition = p;
    view.ready = trees_.Ready(p);
    view.root = view.ready ? trees_.Root(p) : 0;
    view.rebuild = trees_.progress(p);
    out.partitions.push_back(std::move(view));
  }
  return out;
}

}  // namespace causeway::replication::aae
