// The checks around a bench run that need no connection: the config before
// it, the release time of a paced request, the tally's verdict after it.

#include <cmath>
#include <string>

#include "bench/load_generator.h"

namespace causeway::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Room for the request's own fields around the value.
constexpr uint32_t kRequestOverheadBytes = 4096;

}  // namespace

Status CheckConfig(const BenchConfig& c) {
  if (c.nodes.empty()) return Status::InvalidArgument("no nodes given");
  if (c.connections == 0) {
    return Status::InvalidArgument("connections must be at least 1");
  }
  if (!(c.rate >= 0) || !std::isfinite(c.rate)) {
    return Status::InvalidArgument("rate must be a number of ops/s >= 0");
  }
  if (c.pace_tick_us > 1'000'000) {
    return Status::InvalidArgument("pace tick must be at most 1000000 us");
  }
  if (!(c.duration_seconds > 0) || !std::isfinite(c.duration_seconds) ||
      c.duration_seconds > 365 * 24 * 3600.0) {
    return Status::InvalidArgument(
        "duration must be a positive number of seconds");
  }
  if (c.keys == 0) return Status::InvalidArgument("keys must be at least 1");
  Status s = CheckMix(c.mix);
  if (!s.ok()) return s;
  if (c.mix.has_data_type() && c.type.empty()) {
    return Status::InvalidArgument(
        "data-type operations (incr, dtget, sadd) need --type: a bucket type "
        "created with the matching datatype");
  }
  if (c.preload && c.mix.has_data_type() && c.mix.incr == 0 &&
      c.mix.sadd == 0) {
    return Status::InvalidArgument(
        "preload of a data-type mix writes with its incr or sadd; a mix of "
        "dtget alone has neither");
  }
  if (c.tally && !c.mix.has_data_type()) {
    return Status::InvalidArgument(
        "tally reads data types: the mix needs incr, dtget or sadd");
  }
  if (c.mix.sadd > 0 && c.value_size == 0) {
    return Status::InvalidArgument(
        "sadd adds random elements of --value-size bytes; 0 is none");
  }
  if (c.threads == 0 || c.threads > 64) {
    return Status::InvalidArgument("threads must be between 1 and 64");
  }
  if (c.request_timeout_ms == 0) {
    return Status::InvalidArgument("request timeout must be positive");
  }
  if (c.max_frame_bytes <= kRequestOverheadBytes ||
      c.value_size > c.max_frame_bytes - kRequestOverheadBytes) {
    return Status::InvalidArgument(
        "value size " + std::to_string(c.value_size) +
        " does not fit in a frame of " + std::to_string(c.max_frame_bytes) +
        " bytes");
  }
  if (c.bucket.empty()) return Status::InvalidArgument("bucket is empty");
  if (c.protocol == Protocol::kResp) {
    // A redis key is bucket:key and a value is plain bytes: there is no
    // bucket type, quorum or data type to send.
    if (c.mix.has_data_type() || c.tally) {
      return Status::InvalidArgument(
          "the resp protocol runs put and get only (SET and GET)");
    }
    if (!c.type.empty() || c.r || c.w || c.dw) {
      return Status::InvalidArgument(
          "--type, --r, --w and --dw have no meaning with the resp protocol");
    }
  }
  return Status::Ok();
}

Clock::time_point PacedRelease(Clock::time_point due, Clock::time_point origin,
                               std::chrono::microseconds tick) {
  if (tick.count() <= 0 || due < origin) return due;
  return origin + ((due - origin) / tick) * tick;
}

TallyCheck CheckTally(const BenchConfig& config, const BenchResult& result) {
  TallyCheck check;
  if (!result.tally || (config.mix.incr == 0 && config.mix.sadd == 0)) {
    return check;
  }
  const bool counter = config.mix.incr > 0;
  check.what = counter ? "increments" : "adds";
  for (const PhaseResult* phase :
       {&result.run, result.preload ? &*result.preload : nullptr}) {
    if (phase == nullptr) continue;
    const OpStats& s = counter ? phase->incr : phase->sadd;
    check.acknowledged += s.ops;
    check.unknown += s.errors;
  }
  const TallyResult& t = *result.tally;
  check.observed =
      counter ? t.counter_total : static_cast<int64_t>(t.set_elements);
  if (t.keys_failed > 0) {
    check.verdict = TallyCheck::Verdict::kIncomplete;
  } else if (check.observed >= 0 &&
             static_cast<uint64_t>(check.observed) >= check.acknowledged &&
             static_cast<uint64_t>(check.observed) - check.acknowledged <=
                 check.unknown) {
    check.verdict = TallyCheck::Verdict::kConsistent;
  } else {
    check.verdict = TallyCheck::Verdict::kInconsistent;
  }
  return check;
}

const char* VerdictName(TallyCheck::Verdict v) {
  switch (v) {
    case TallyCheck::Verdict::kNotApplicable:
      return "none";
    case TallyCheck::Verdict::kIncomplete:
      return "incomplete";
    case TallyCheck::Verdict::kConsistent:
      return "consistent";
    case TallyCheck::Verdict::kInconsistent:
      return "inconsistent";
  }
  return "?";
}

}  // namespace causeway::bench
