#pragma once
// Lister: listing a bucket type's buckets or a bucket's keys across the
// cluster. It visits one partition at a time, each from one live node that
// holds it (this one when it can), a page of keys at a time, so a long
// listing neither stalls other requests nor holds more than a page of a
// partition in memory. Results stream to the caller in batches; buckets,
// which span partitions, are reported once.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "replication/bucket_registry.h"
#include "replication/env.h"
#include "replication/membership/cluster.h"
#include "replication/messenger.h"
#include "replication/requests.h"
#include "replication/vnode/vnode_store.h"

namespace causeway::replication::listing {

class Lister {
 public:
  struct Options {
    // Keys per page, from this node's store or another node's.
    size_t page_keys = 1000;
    uint64_t timeout_ms = 10000;
  };

  // Every reference must outlive this object.
  Lister(Env& env, const membership::Cluster& cluster,
         const BucketRegistry& registry, vnode::VnodeStore& store,
         Messenger& messenger, Options options)
      : env_(env),
        cluster_(cluster),
        registry_(registry),
        store_(store),
        messenger_(messenger),
        options_(options) {}

  void ListBuckets(const std::string& type, ListCallback callback);
  void ListKeys(const std::string& type, const std::string& bucket,
                ListCallback callback);

  // One page of one partition for another node's listing (a row of the
  // Messenger's table).
  void ServePage(const NodeName& from, const peer::Envelope& request,
                 Messenger::Respond respond);

 private:
  // Where a listing stands: the next partition and the key after which its
  // next page starts. An empty `bucket` lists buckets.
  struct Cursor {
    uint32_t partition = 0;
    std::string after;
    std::string type;
    std::string bucket;
    std::shared_ptr<std::set<std::string>> seen_buckets;
    ListCallback callback;
  };
  using PageDone =
      std::function<void(Status, std::vector<std::string> items, bool more)>;

  void Next(Cursor cursor);
  // Delivers a page and moves the cursor on (to the rest of the partition
  // when the page was full, else to the next partition).
  void Deliver(Cursor cursor, Status s, std::vector<std::string> items,
               bool more);
  // The node to list `partition` from: this one if it holds it, else the
  // first live holder; empty when none is up.
  NodeName Holder(uint32_t partition, const std::string& type,
                  const std::string& bucket) const;
  void FetchPage(const NodeName& holder, const Cursor& cursor, PageDone done);
  // Buckets (empty `bucket`: all at once, they are few) or one page of
  // keys after `after` (`limit` 0: all of them) from this node's store.
  Status ListLocal(uint32_t partition, const std::string& type,
                   const std::string& bucket, const std::string& after,
                   size_t limit, std::vector<std::string>* items, bool* more);

  Env& env_;
  const membership::Cluster& cluster_;
  const BucketRegistry& registry_;
  vnode::VnodeStore& store_;
  Messenger& messenger_;
  const Options options_;
};

}  // namespace causeway::replication::listing
