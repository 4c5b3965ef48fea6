// Listing buckets and keys. The core answers in batches; replies go out
// in frames of bounded size as the batches arrive.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "node/pbc_handler_internal.h"
#include "node/stats.h"
#include "proto/riak.pb.h"

namespace causeway::node::pbc_internal {
namespace {

// A listing batch is split into frames of about this size, so one frame
// never carries a whole large bucket's keys.
constexpr size_t kListChunkBytes = 256 << 10;
// Per-item overhead of a repeated bytes field: tag plus length varint.
constexpr size_t kRepeatedBytesOverhead = 6;

// Sends `items` as frames of about kListChunkBytes each.
template <typename Resp, typename Add>
void SendChunked(PbcResponder& r, pbc::Code code,
                 std::vector<std::string> items, Add add) {
  Resp resp;
  size_t bytes = 0;
  for (auto& item : items) {
    size_t cost = item.size() + kRepeatedBytesOverhead;
    if (bytes > 0 && bytes + cost > kListChunkBytes) {
      r.Send(EncodeFrame(code, resp));
      resp.Clear();
      bytes = 0;
    }
    add(resp, std::move(item));
    bytes += cost;
  }
  if (bytes > 0) r.Send(EncodeFrame(code, resp));
}

// One listing in progress. The core calls back with batches; the first
// error or the batch marked done ends it, and later calls are ignored.
struct Listing {
  bool finished = false;
  std::vector<std::string> collected;  // non-streamed bucket lists
  size_t collected_bytes = 0;
};

}  // namespace

void HandleListBuckets(const StatePtr& st, const Frame& f,
                       const ResponderPtr& r) {
  pbc::RpbListBucketsReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "RpbListBucketsReq");
  }
  if (RefuseUnlessAllowed(*st, *r, Permission::kListBuckets,
                          TypeOrDefault(req.has_type(), req.type()), "")) {
    return;
  }
  ++st->stats.list_requests;
  std::string type = TypeOrDefault(req.has_type(), req.type());
  bool stream = req.stream();
  auto listing = std::make_shared<Listing>();
  auto add = [](pbc::RpbListBucketsResp& m, std::string&& s) {
    m.add_buckets(std::move(s));
  };
  // Room for the frame's own overhead under the limit.
  size_t limit =
      st->options.max_frame_bytes > 64 ? st->options.max_frame_bytes - 64 : 0;
  std::string what = "listing the buckets of type '" + Quote(type) + "'";
  st->core.ListBuckets(type, [st, r, listing, stream, add, limit, what](
                                 const Status& status,
                                 std::vector<std::string> items, bool done) {
    if (listing->finished) return;
    if (!status.ok()) {
      listing->finished = true;
      return FinishWithStatus(*r, what, status);
    }
    if (stream) {
      SendChunked<pbc::RpbListBucketsResp>(*r, pbc::Code::kListBucketsResp,
                                           std::move(items), add);
      if (done) {
        listing->finished = true;
        pbc::RpbListBucketsResp last;
        last.set_done(true);
        Finish(*r, EncodeFrame(pbc::Code::kListBucketsResp, last));
      }
      return;
    }
    for (auto& item : items) {
      listing->collected_bytes += item.size() + kRepeatedBytesOverhead;
      listing->collected.push_back(std::move(item));
    }
    if (listing->collected_bytes > limit) {
      listing->finished = true;
      listing->collected.clear();
      return Finish(*r, EncodeErrorFrame(
                            pbc::ErrorCode::kBadRequest,
                            what + " failed: too many buckets for one reply; "
                                   "ask with stream=true"));
    }
    if (done) {
      listing->finished = true;
      pbc::RpbListBucketsResp all;
      for (auto& b : listing->collected) all.add_buckets(std::move(b));
      listing->collected.clear();
      Finish(*r, EncodeFrame(pbc::Code::kListBucketsResp, all));
    }
  });
}

void HandleListKeys(const StatePtr& st, const Frame& f, const ResponderPtr& r) {
  pbc::RpbListKeysReq req;
  if (!req.ParseFromString(f.body)) {
    return FinishUnparsable(*st, *r, "RpbListKeysReq");
  }
  if (req.bucket().empty()) {
    return FinishBadRequest(*st, *r, "list keys: the bucket name is empty");
  }
  if (RefuseLongNames(*st, *r, "list keys", req.type(), req.bucket())) return;
  if (RefuseUnlessAllowed(*st, *r, Permission::kListKeys,
                          TypeOrDefault(req.has_type(), req.type()),
                          req.bucket())) {
    return;
  }
  ++st->stats.list_requests;
  std::string type = TypeOrDefault(req.has_type(), req.type());
  auto listing = std::make_shared<Listing>();
  auto add = [](pbc::RpbListKeysResp& m, std::string&& s) {
    m.add_keys(std::move(s));
  };
  std::string what =
      "listing the keys of " + DescribeBucket(type, req.bucket());
  st->core.ListKeys(
      type, req.bucket(),
      [r, listing, add, what](const Status& status,
                              std::vector<std::string> items, bool done) {
        if (listing->finished) return;
        if (!status.ok()) {
          listing->finished = true;
          return FinishWithStatus(*r, what, status);
        }
        SendChunked<pbc::RpbListKeysResp>(*r, pbc::Code::kListKeysResp,
                                          std::move(items), add);
        if (done) {
          listing->finished = true;
          pbc::RpbListKeysResp last;
          last.set_done(true);
          Finish(*r, EncodeFrame(pbc::Code::kListKeysResp, last));
        }
      });
}

}  // namespace causeway::node::pbc_internal
