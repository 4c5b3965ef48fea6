#include "replication/listing/lister.h"

#include <algorithm>
#include <utility>

#include "proto/peer.pb.h"
#include "replication/ring/ring.h"

namespace causeway::replication::listing {

void Lister::ListBuckets(const std::string& type, ListCallback callback) {
  if (!registry_.TypeExists(type)) {
    callback(
        Status::InvalidArgument("bucket type '" + type + "' does not exist"),
        {}, true);
    return;
  }
  Next(Cursor{0, "", type, "", std::make_shared<std::set<std::string>>(),
              std::move(callback)});
}

void Lister::ListKeys(const std::string& type, const std::string& bucket,
                      ListCallback callback) {
  if (bucket.empty()) {
    callback(Status::InvalidArgument("bucket is empty"), {}, true);
    return;
  }
  if (!registry_.TypeExists(type)) {
    callback(
        Status::InvalidArgument("bucket type '" + type + "' does not exist"),
        {}, true);
    return;
  }
  Next(Cursor{0, "", type, bucket, nullptr, std::move(callback)});
}

void Lister::Next(Cursor cursor) {
  if (cursor.partition >= cluster_.state().size()) {
    cursor.callback(Status::Ok(), {}, true);
    return;
  }
  const NodeName holder = Holder(cursor.partition, cursor.type, cursor.bucket);
  if (holder.empty()) {
    const uint32_t p = cursor.partition;
    Deliver(std::move(cursor),
            Status::Unavailable("no live node holds partition " +
                                std::to_string(p)),
            {}, false);
    return;
  }
  if (holder == cluster_.self()) {
    std::vector<std::string> items;
    bool more = false;
    Status s = ListLocal(cursor.partition, cursor.type, cursor.bucket,
                         cursor.after, options_.page_keys, &items, &more);
    Deliver(std::move(cursor), std::move(s), std::move(items), more);
    return;
  }
  FetchPage(holder, cursor,
            [this, cursor, holder](Status s, std::vector<std::string> items,
                                   bool more) mutable {
              // The holder fell silent (the page failed when it turned
              // suspect): ask another replica of the partition, which
              // Holder now picks instead.
              if (!s.ok() && !cluster_.IsLive(holder)) {
                return Next(std::move(cursor));
              }
              Deliver(std::move(cursor), std::move(s), std::move(items), more);
            });
}

void Lister::Deliver(Cursor cursor, Status s, std::vector<std::string> items,
                     bool more) {
  if (!s.ok()) {
    cursor.callback(s, {}, true);
    return;
  }
  if (more && !items.empty()) {
    cursor.after = items.back();
  } else {
    cursor.after.clear();
    ++cursor.partition;
  }
  if (cursor.bucket.empty()) {
    std::erase_if(items, [&](const std::string& b) {
      return !cursor.seen_buckets->insert(b).second;
    });
  }
  if (!items.empty()) cursor.callback(Status::Ok(), std::move(items), false);
  // The next page on a later turn of the loop, so other requests go first.
  env_.After(0, [this, cursor = std::move(cursor)]() mutable {
    Next(std::move(cursor));
  });
}

NodeName Lister::Holder(uint32_t partition, const std::string& type,
                        const std::string& bucket) const {
  BucketProps props;
  if (!bucket.empty()) registry_.Props(type, bucket, &props);
  NodeName holder;
  for (const auto& m :
       cluster_.current_ring().Preflist(partition, props.n_val)) {
    if (m.node == cluster_.self()) return m.node;
    if (holder.empty() && cluster_.IsLive(m.node)) holder = m.node;
  }
  return holder;
}

void Lister::FetchPage(const NodeName& holder, const Cursor& cursor,
                       PageDone done) {
  peer::Envelope m;
  peer::ListRequest* l = m.mutable_list();
  l->set_partition(cursor.partition);
  l->set_type(cursor.type);
  l->set_bucket(cursor.bucket);
  l->set_buckets(cursor.bucket.empty());
  l->set_after(cursor.after);
  l->set_limit(static_cast<uint32_t>(options_.page_keys));
  messenger_.Request(
      holder, std::move(m), options_.timeout_ms,
      [done = std::move(done)](Status s, const peer::Envelope* reply) {
        std::vector<std::string> items;
        bool more = false;
        if (s.ok()) {
          const peer::ListReply& r = reply->list_reply();
          items.assign(r.items().begin(), r.items().end());
          more = r.more();
        }
        done(std::move(s), std::move(items), more);
      });
}

void Lister::ServePage(const NodeName&, const peer::Envelope& request,
                       Messenger::Respond respond) {
  const peer::ListRequest& l = request.list();
  std::vector<std::string> items;
  bool more = false;
  Status s = Status::InvalidArgument("partition out of range");
  if (l.partition() < cluster_.state().size()) {
    s = ListLocal(l.partition(), l.type(), l.buckets() ? "" : l.bucket(),
                  l.after(), std::min<size_t>(l.limit(), options_.page_keys),
                  &items, &more);
  }
  peer::Envelope reply;
  ToPeerResult(s, reply.mutable_list_reply()->mutable_result());
  for (auto& i : items) reply.mutable_list_reply()->add_items(i);
  reply.mutable_list_reply()->set_more(s.ok() && more);
  respond(std::move(reply));
}

Status Lister::ListLocal(uint32_t partition, const std::string& type,
                         const std::string& bucket, const std::string& after,
                         size_t limit, std::vector<std::string>* items,
                         bool* more) {
  *more = false;
  if (bucket.empty()) return store_.ListBuckets(partition, type, items);
  return store_.ListKeys(partition, type, bucket, after,
                         limit == 0 ? SIZE_MAX : limit, items, more);
}

}  // namespace causeway::replication::listing
