#include "replication/buckets/bucket_props.h"

#include <charconv>
#include <climits>

#include "proto/records.pb.h"

namespace causeway::replication::buckets {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kMaxNVal = 16;
// Bucket datatypes Riak clients may set on a bucket type.
constexpr const char* kDatatypes[] = {"counter", "set", "map", "gset", "hll"};
constexpr size_t kMaxRecordBytes = 64 * 1024;
// Riak's range; replication/crdt/data_type.h has the same bounds, which
// this layer below it cannot include.
constexpr uint32_t kMinHllPrecision = 4;
constexpr uint32_t kMaxHllPrecision = 16;

template <typename T>
void Take(std::optional<T>* into, const std::optional<T>& from) {
  if (from.has_value()) *into = from;
}

template <typename T>
void Apply(T* into, const std::optional<T>& from) {
  if (from.has_value()) *into = *from;
}

Status CheckQuorum(const char* name, const std::optional<Quorum>& q,
                   const std::optional<uint32_t>& n_val) {
  if (!q || q->kind() != Quorum::Kind::kNumber) return Status::Ok();
  // No bucket can have more replicas than kMaxNVal, so a larger number can
  // never be met whatever n_val it is later combined with.
  uint32_t limit = n_val.value_or(kMaxNVal);
  if (q->number() > limit) {
    return Status::InvalidArgument(std::string(name) + " " + q->ToString() +
                                   " exceeds n_val " + std::to_string(limit));
  }
  return Status::Ok();
}

}  // namespace

Quorum Quorum::FromWire(uint32_t v) {
  switch (v) {
    case kWireOne:
      return One();
    case kWireQuorum:
      return Majority();
    case kWireAll:
      return All();
    case kWireDefault:
      return Default();
    default:
      return Number(v);
  }
}

uint32_t Quorum::ToWire() const {
  switch (kind_) {
    case Kind::kOne:
      return kWireOne;
    case Kind::kQuorum:
      return kWireQuorum;
    case Kind::kAll:
      return kWireAll;
    case Kind::kDefault:
      return kWireDefault;
    case Kind::kNumber:
      return number_;
  }
  return kWireDefault;
}

std::optional<Quorum> Quorum::Parse(const std::string& text) {
  if (text == "one") return One();
  if (text == "quorum") return Majority();
  if (text == "all") return All();
  if (text == "default") return Default();
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint32_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  // from_chars rejects signs and overflow; the whole text must be digits.
  if (ec != std::errc() || ptr != end) return std::nullopt;
  // Numbers that collide with the symbolic wire values would not survive a
  // trip through the client protocol.
  if (n >= kWireDefault) return std::nullopt;
  return Number(n);
}

std::string Quorum::ToString() const {
  switch (kind_) {
    case Kind::kOne:
      return "one";
    case Kind::kQuorum:
      return "quorum";
    case Kind::kAll:
      return "all";
    case Kind::kDefault:
      return "default";
    case Kind::kNumber:
      return std::to_string(number_);
  }
  return "default";
}

uint32_t Quorum::Resolve(uint32_t n_val, Quorum fallback) const {
  switch (kind_) {
    case Kind::kOne:
      return 1;
    case Kind::kQuorum:
      return n_val / 2 + 1;
    case Kind::kAll:
      return n_val;
    case Kind::kNumber:
      // Kept as asked: a number above n_val is an error the caller reports,
      // not something to quietly weaken.
      return number_;
    case Kind::kDefault:
      if (fallback.kind() == Kind::kDefault) return n_val / 2 + 1;
      return fallback.Resolve(n_val, Majority());
  }
  return n_val / 2 + 1;
}

void BucketPropsPatch::ApplyTo(BucketProps* props) const {
  Apply(&props->n_val, n_val);
  Apply(&props->allow_mult, allow_mult);
  Apply(&props->last_write_wins, last_write_wins);
  Apply(&props->r, r);
  Apply(&props->w, w);
  Apply(&props->pr, pr);
  Apply(&props->pw, pw);
  Apply(&props->dw, dw);
  Apply(&props->rw, rw);
  Apply(&props->basic_quorum, basic_quorum);
  Apply(&props->notfound_ok, notfound_ok);
  Apply(&props->datatype, datatype);
  Apply(&props->hll_precision, hll_precision);
}

void BucketPropsPatch::Overlay(const BucketPropsPatch& later) {
  Take(&n_val, later.n_val);
  Take(&allow_mult, later.allow_mult);
  Take(&last_write_wins, later.last_write_wins);
  Take(&r, later.r);
  Take(&w, later.w);
  Take(&pr, later.pr);
  Take(&pw, later.pw);
  Take(&dw, later.dw);
  Take(&rw, later.rw);
  Take(&basic_quorum, later.basic_quorum);
  Take(&notfound_ok, later.notfound_ok);
  Take(&datatype, later.datatype);
  Take(&hll_precision, later.hll_precision);
}

bool BucketPropsPatch::empty() const { return *this == BucketPropsPatch(); }

Status BucketPropsPatch::Validate() const {
  if (n_val && (*n_val < 1 || *n_val > kMaxNVal)) {
    return Status::InvalidArgument("n_val must be between 1 and " +
                                   std::to_string(kMaxNVal));
  }
  for (const auto& [name, q] :
       {std::pair{"r", &r}, std::pair{"w", &w}, std::pair{"pr", &pr},
        std::pair{"pw", &pw}, std::pair{"dw", &dw}, std::pair{"rw", &rw}}) {
    Status s = CheckQuorum(name, *q, n_val);
    if (!s.ok()) return s;
  }
  if (datatype && !datatype->empty()) {
    bool known = false;
    for (const char* t : kDatatypes) known = known || *datatype == t;
    if (!known) {
      return Status::InvalidArgument("unknown datatype '" + *datatype + "'");
    }
  }
  if (hll_precision && (*hll_precision < kMinHllPrecision ||
                        *hll_precision > kMaxHllPrecision)) {
    return Status::InvalidArgument("hll_precision must be between 4 and 16");
  }
  return Status::Ok();
}

std::string BucketPropsPatch::Encode() const {
  records::BucketPropsPatchRecord rec;
  rec.set_format_version(kFormatVersion);
  if (n_val) rec.set_n_val(*n_val);
  if (allow_mult) rec.set_allow_mult(*allow_mult);
  if (last_write_wins) rec.set_last_write_wins(*last_write_wins);
  if (r) rec.set_r(r->ToWire());
  if (w) rec.set_w(w->ToWire());
  if (pr) rec.set_pr(pr->ToWire());
  if (pw) rec.set_pw(pw->ToWire());
  if (dw) rec.set_dw(dw->ToWire());
  if (rw) rec.set_rw(rw->ToWire());
  if (basic_quorum) rec.set_basic_quorum(*basic_quorum);
  if (notfound_ok) rec.set_notfound_ok(*notfound_ok);
  if (datatype) rec.set_datatype(*datatype);
  if (hll_precision) rec.set_hll_precision(*hll_precision);
  return rec.SerializeAsString();
}

Status BucketPropsPatch::Decode(std::string_view bytes, BucketPropsPatch* out) {
  if (bytes.size() > kMaxRecordBytes) {
    return Status::Corruption("bucket props record too large");
  }
  records::BucketPropsPatchRecord rec;
  if (!rec.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corruption("bucket props record does not parse");
  }
  if (!rec.has_format_version() || rec.format_version() != kFormatVersion) {
    return Status::Corruption("bucket props record: unknown format version");
  }
  BucketPropsPatch p;
  if (rec.has_n_val()) p.n_val = rec.n_val();
  if (rec.has_allow_mult()) p.allow_mult = rec.allow_mult();
  if (rec.has_last_write_wins()) p.last_write_wins = rec.last_write_wins();
  if (rec.has_r()) p.r = Quorum::FromWire(rec.r());
  if (rec.has_w()) p.w = Quorum::FromWire(rec.w());
  if (rec.has_pr()) p.pr = Quorum::FromWire(rec.pr());
  if (rec.has_pw()) p.pw = Quorum::FromWire(rec.pw());
  if (rec.has_dw()) p.dw = Quorum::FromWire(rec.dw());
  if (rec.has_rw()) p.rw = Quorum::FromWire(rec.rw());
  if (rec.has_basic_quorum()) p.basic_quorum = rec.basic_quorum();
  if (rec.has_notfound_ok()) p.notfound_ok = rec.notfound_ok();
  if (rec.has_datatype()) p.datatype = rec.datatype();
  if (rec.has_hll_precision()) p.hll_precision = rec.hll_precision();
  // Only validated patches are ever stored, so one that fails now was
  // damaged on the way.
  Status valid = p.Validate();
  if (!valid.ok()) {
    return Status::Corruption("bucket props record: " + valid.message());
  }
  *out = std::move(p);
  return Status::Ok();
}

}  // namespace causeway::replication::buckets
