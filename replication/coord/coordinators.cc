#include "replication/coord/coordinators.h"

#include <memory>
#include <string>
#include <utility>

#include "base/assert.h"

namespace causeway::replication::coord {
namespace {

class GetState : public std::enable_shared_from_this<GetState> {
 public:
  GetState(Env& env, Replicas& replicas, GetPlan plan,
           std::function<void(GetOutcome)> done)
      : env_(env),
        replicas_(replicas),
        plan_(std::move(plan)),
        done_(std::move(done)),
        replies_(plan_.targets.size()) {}

  void Start() {
    auto self = shared_from_this();
    // Only the planned targets: a fallback is asked where it is added.
    const size_t planned = plan_.targets.size();
    for (size_t i = 0; i < planned; ++i) Ask(i);
    // Local replicas answer at once; only wait for the others.
    if (arrived_ < asked()) {
      timer_ = env_.After(plan_.timeout_ms, [self] { self->OnTimeout(); });
    }
  }

 private:
  struct Reply {
    bool arrived = false;
    // Failed, and a fallback was asked in its place: not counted at all.
    bool replaced = false;
    Status status;
    object::Object object;
  };

  void Ask(size_t i) {
    auto self = shared_from_this();
    replicas_.Read(plan_.targets[i], plan_.key,
                   [self, i](Status s, object::Object o) {
                     self->OnReply(i, std::move(s), std::move(o));
                   });
  }

  // The replicas whose replies count: every one asked, less those replaced.
  uint32_t asked() const {
    return static_cast<uint32_t>(replies_.size()) - replaced_;
  }

  void OnReply(size_t i, Status s, object::Object o) {
    if (timed_out_) return;
    CAUSEWAY_ASSERT_MSG(!replies_[i].arrived && !replies_[i].replaced,
                        "one reply per replica asked");
    if (!s.ok() && !s.IsNotFound() && !answered_ && FailOver(i, s)) {
      // A fallback is no primary: pr may be out of reach now.
      Decide();
      return;
    }
    replies_[i] = Reply{true, false, std::move(s), std::move(o)};
    ++arrived_;
    const Reply& r = replies_[i];
    if (r.status.ok()) {
      ++found_;
      merged_.Merge(r.object, plan_.resolution);
      if (plan_.targets[i].primary) ++primary_ok_;
    } else if (r.status.IsNotFound()) {
      ++notfound_;
      if (plan_.notfound_ok && plan_.targets[i].primary) ++primary_ok_;
    } else {
      ++errors_;
      last_error_ = r.status;
    }
    CAUSEWAY_ASSERT(arrived_ <= asked());
    CAUSEWAY_ASSERT(found_ + notfound_ + errors_ == arrived_);
    CAUSEWAY_ASSERT(primary_ok_ <= arrived_);
    Decide();
    if (arrived_ == asked()) {
      if (timer_ != 0) env_.Cancel(timer_);
      Finish();
      Repair();
    }
  }

  // Asks the plan's fallback in place of replica `i`, which failed with
  // `why`; false when there is none.
  bool FailOver(size_t i, const Status& why) {
    if (!plan_.fallback) return false;
    std::optional<Target> next =
        plan_.fallback(plan_.targets[i], plan_.targets);
    if (!next) return false;
    replies_[i].replaced = true;
    ++replaced_;
    last_error_ = why;
    plan_.targets.push_back(std::move(*next));
    replies_.emplace_back();
    CAUSEWAY_ASSERT(replies_.size() == plan_.targets.size());
    Ask(plan_.targets.size() - 1);
    return true;
  }

  // Primaries asked that have not answered yet.
  uint32_t PendingPrimaries() const {
    uint32_t n = 0;
    for (size_t i = 0; i < replies_.size(); ++i) {
      n += plan_.targets[i].primary && !replies_[i].arrived &&
           !replies_[i].replaced;
    }
    return n;
  }

  void Decide() {
    if (answered_) return;
    const uint32_t n = asked();
    const uint32_t ok = found_ + (plan_.notfound_ok ? notfound_ : 0);
    const uint32_t pending = n - arrived_;
    if (ok >= plan_.r && primary_ok_ >= plan_.pr) {
      Answer(Result());
      return;
    }
    // With notfound_ok=false a missing value does not count towards r;
    // basic_quorum gives up once a majority says "not found".
    if (!plan_.notfound_ok && plan_.basic_quorum && notfound_ >= n / 2 + 1 &&
        found_ < plan_.r) {
      Answer(GetOutcome{Status::NotFound(), merged_});
      return;
    }
    const bool r_out = ok + pending < plan_.r;
    if (r_out || primary_ok_ + PendingPrimaries() < plan_.pr) {
      // Enough replicas answered, but without the value: that is "not
      // found". Too few answered at all: that is a failure.
      if (found_ + notfound_ >= plan_.r && primary_ok_ >= plan_.pr) {
        Answer(GetOutcome{Status::NotFound(), merged_});
      } else {
        Answer(GetOutcome{Failure(/*primaries=*/!r_out), {}});
      }
    }
  }

  // Names the setting that cannot be met (r, or pr when `primaries`).
  Status Failure(bool primaries) const {
    std::string what = primaries ? "pr=" + std::to_string(plan_.pr)
                                 : "r=" + std::to_string(plan_.r);
    std::string msg = what + " not met: " + std::to_string(found_ + notfound_) +
                      " of " + std::to_string(asked()) + " replicas replied";
    if (!last_error_.ok())
      msg += " (last error: " + last_error_.ToString() + ")";
    return Status::Unavailable(msg);
  }

  GetOutcome Result() const {
    if (found_ == 0 || merged_.empty() || merged_.IsTombstone()) {
      return GetOutcome{Status::NotFound(), merged_};
    }
    return GetOutcome{Status::Ok(), merged_};
  }

  void Answer(GetOutcome outcome) {
    CAUSEWAY_ASSERT_MSG(!answered_, "a get is answered once");
    answered_ = true;
    auto done = std::move(done_);
    done(std::move(outcome));
  }

  void OnTimeout() {
    if (answered_ && arrived_ == asked()) return;
    timed_out_ = true;
    if (!answered_) {
      // Name the setting that was not met: pr when enough replicas
      // answered for r but too few of them were primaries.
      const uint32_t ok = found_ + (plan_.notfound_ok ? notfound_ : 0);
      const bool r_met = ok >= plan_.r;
      std::string what = r_met ? "pr=" + std::to_string(plan_.pr)
                               : "r=" + std::to_string(plan_.r);
      std::string msg = what + " not met: " + std::to_string(arrived_) +
                        " of " + std::to_string(asked()) +
                        " replicas replied in time";
      if (r_met) {
        msg += " (" + std::to_string(primary_ok_) + " primaries)";
      }
      Answer(GetOutcome{Status::Timeout(msg), {}});
    }
    // No read repair from a partial view; anti-entropy covers the rest.
  }

  void Finish() {
    if (!answered_) Answer(Result());
  }

  // Every replica has answered: bring the stale ones up to the merged state.
  void Repair() {
    if (merged_.empty()) return;
    for (size_t i = 0; i < replies_.size(); ++i) {
      const Reply& r = replies_[i];
      if (!r.arrived) continue;  // replaced by a fallback
      bool stale = r.status.IsNotFound() ||
                   (r.status.ok() && !r.object.Descends(merged_));
      if (!stale) continue;
      replicas_.Write(plan_.targets[i], plan_.key, merged_, plan_.resolution,
                      [](Status) {});
    }
  }

  Env& env_;
  Replicas& replicas_;
  GetPlan plan_;
  std::function<void(GetOutcome)> done_;
  std::vector<Reply> replies_;
  object::Object merged_;
  TimerId timer_ = 0;
  uint32_t arrived_ = 0, found_ = 0, notfound_ = 0, errors_ = 0,
           primary_ok_ = 0, replaced_ = 0;
  Status last_error_;
  bool answered_ = false;
  bool timed_out_ = false;
};

class PutState : public std::enable_shared_from_this<PutState> {
 public:
  PutState(Env& env, Replicas& replicas, PutPlan plan, object::Object stored,
           std::function<void(Status)> done)
      : env_(env),
        replicas_(replicas),
        plan_(std::move(plan)),
        stored_(std::move(stored)),
        done_(std::move(done)) {}

  void Start() {
    const size_t n = plan_.targets.size();
    CAUSEWAY_ASSERT(plan_.coordinator_index < n);
    state_.assign(n, kWaiting);
    // The coordinator's own replica already holds the write. It counts
    // unless it is only an extra copy (a node gaining the key in a pending
    // ownership change), like any other replica's acknowledgement.
    const Target& own = plan_.targets[plan_.coordinator_index];
    state_[plan_.coordinator_index] = kReplied;
    if (own.counts) {
      acked_ = 1;
      replied_ = 1;
      if (own.primary) primary_acked_ = 1;
    }
    auto self = shared_from_this();
    Decide();
    for (size_t i = 0; i < n; ++i) {
      if (i != plan_.coordinator_index) Send(i);
    }
    if (replied_ < counting()) {
      timer_ = env_.After(plan_.timeout_ms, [self] { self->OnTimeout(); });
    }
  }

 private:
  enum SlotState : uint8_t { kWaiting, kReplied, kReplaced };

  void Send(size_t i) {
    auto self = shared_from_this();
    auto reply = [self, i](Status s) { self->OnReply(i, s); };
    if (plan_.delta) {
      replicas_.WriteDelta(plan_.targets[i], plan_.key, *plan_.delta,
                           std::move(reply));
    } else {
      replicas_.Write(plan_.targets[i], plan_.key, stored_, plan_.resolution,
                      std::move(reply));
    }
  }

  void OnReply(size_t i, const Status& s) {
    if (timed_out_) return;
    CAUSEWAY_ASSERT_MSG(state_[i] == kWaiting, "one reply per replica asked");
    if (!s.ok() && FailOver(i, s)) {
      // A fallback is no primary: pw may be out of reach now.
      Decide();
      return;
    }
    state_[i] = kReplied;
    if (!plan_.targets[i].counts) return;
    ++replied_;
    if (s.ok()) {
      ++acked_;
      if (plan_.targets[i].primary) ++primary_acked_;
    } else {
      last_error_ = s;
    }
    CAUSEWAY_ASSERT(replied_ <= counting());
    CAUSEWAY_ASSERT(primary_acked_ <= acked_ && acked_ <= replied_);
    Decide();
    if (replied_ == counting() && timer_ != 0) env_.Cancel(timer_);
  }

  // Sends the write to the plan's fallback in place of replica `i`, which
  // failed with `why`; false when there is none.
  bool FailOver(size_t i, const Status& why) {
    if (!plan_.fallback) return false;
    std::optional<Target> next =
        plan_.fallback(plan_.targets[i], plan_.targets);
    if (!next) return false;
    CAUSEWAY_ASSERT(next->counts);
    state_[i] = kReplaced;
    last_error_ = why;
    plan_.targets.push_back(std::move(*next));
    state_.push_back(kWaiting);
    CAUSEWAY_ASSERT(state_.size() == plan_.targets.size());
    Send(plan_.targets.size() - 1);
    return true;
  }

  // The replicas whose acknowledgements count: those asked, less extra
  // copies and those replaced by a fallback.
  uint32_t counting() const {
    uint32_t n = 0;
    for (size_t i = 0; i < state_.size(); ++i) {
      n += plan_.targets[i].counts && state_[i] != kReplaced;
    }
    return n;
  }

  // Counting primaries that have not answered yet.
  uint32_t PendingPrimaries() const {
    uint32_t n = 0;
    for (size_t i = 0; i < state_.size(); ++i) {
      const Target& t = plan_.targets[i];
      n += t.counts && t.primary && state_[i] == kWaiting;
    }
    return n;
  }

  // Acknowledgements mean "in the replica's storage log", so one ack
  // counts towards both w and dw.
  uint32_t needed() const { return std::max(plan_.w, plan_.dw); }

  void Decide() {
    if (answered_) return;
    const uint32_t pending = counting() - replied_;
    if (acked_ >= needed() && primary_acked_ >= plan_.pw) {
      Answer(Status::Ok());
    } else if (acked_ + pending < needed()) {
      Answer(Failure(/*primaries=*/false));
    } else if (primary_acked_ + PendingPrimaries() < plan_.pw) {
      Answer(Failure(/*primaries=*/true));
    }
  }

  // Names the setting that cannot be met and how far the replies got.
  Status Failure(bool primaries) const {
    std::string what = primaries            ? "pw=" + std::to_string(plan_.pw)
                       : plan_.dw > plan_.w ? "dw=" + std::to_string(plan_.dw)
                                            : "w=" + std::to_string(plan_.w);
    std::string msg = what + " not met: " + std::to_string(acked_) + " of " +
                      std::to_string(counting()) +
                      " reachable replicas acknowledged (" +
                      std::to_string(primary_acked_) + " primaries)";
    if (!last_error_.ok()) msg += "; last error: " + last_error_.ToString();
    return Status::Unavailable(msg);
  }

  void Answer(Status s) {
    CAUSEWAY_ASSERT_MSG(!answered_, "a write is answered once");
    answered_ = true;
    auto done = std::move(done_);
    done(s);
  }

  void OnTimeout() {
    timed_out_ = true;
    if (!answered_) {
      Status f = Failure(acked_ >= needed());
      Answer(Status::Timeout(f.message()));
    }
  }

  Env& env_;
  Replicas& replicas_;
  PutPlan plan_;
  object::Object stored_;
  std::function<void(Status)> done_;
  // One per target, in the order of plan_.targets.
  std::vector<SlotState> state_;
  TimerId timer_ = 0;
  uint32_t acked_ = 0, primary_acked_ = 0, replied_ = 0;
  Status last_error_;
  bool answered_ = false;
  bool timed_out_ = false;
};

}  // namespace

void StartGet(Env& env, Replicas& replicas, GetPlan plan,
              std::function<void(GetOutcome)> done) {
  std::make_shared<GetState>(env, replicas, std::move(plan), std::move(done))
      ->Start();
}

void StartReplicate(Env& env, Replicas& replicas, PutPlan plan,
                    object::Object stored, std::function<void(Status)> done) {
  std::make_shared<PutState>(env, replicas, std::move(plan), std::move(stored),
                             std::move(done))
      ->Start();
}

}  // namespace causeway::replication::coord
