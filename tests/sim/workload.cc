#include "tests/sim/workload.h"

#include <algorithm>
#include <utility>

namespace causeway::sim {

using replication::kDefaultType;
using replication::ObjectId;
using replication::Quorum;
using replication::object::Resolution;
using replication::object::Sibling;

void Workload::MakeKeys() {
  const int mult = 2 + static_cast<int>(run_.Pick(3));
  const int lww = 1 + static_cast<int>(run_.Pick(2));
  const int newest = 1 + static_cast<int>(run_.Pick(2));
  for (int i = 0; i < mult; ++i) {
    mult_keys_.push_back(&checker_.AddKey(kMultBucket, "k" + std::to_string(i),
                                          Resolution::kKeepSiblings));
  }
  for (int i = 0; i < lww; ++i) {
    lww_keys_.push_back(&checker_.AddKey(kLwwBucket, "r" + std::to_string(i),
                                         Resolution::kLastWriteWins));
  }
  for (int i = 0; i < newest; ++i) {
    newest_keys_.push_back(&checker_.AddKey(
        kNewestBucket, "n" + std::to_string(i), Resolution::kNewest));
  }
}

std::optional<Quorum> Workload::RandomQuorum() {
  switch (run_.Pick(8)) {
    case 0:
      return Quorum::One();
    case 1:
      return Quorum::All();
    case 2:
      return Quorum::Majority();
    default:
      return std::nullopt;  // the bucket's default (quorum)
  }
}

void Workload::Think(Client& c) {
  c.busy = false;
  if (run_.stopping) return;
  c.busy = true;
  const uint64_t token = ++c.token;
  world().After(run_.Pick(60), [this, &c, token] {
    if (c.token == token) Step(c);
  });
}

void Workload::ArmTimeout(Client& c, uint64_t token,
                          std::function<void()> give_up) {
  world().After(kClientTimeoutMs, [this, &c, token, give_up] {
    if (c.token != token) return;
    give_up();
    Think(c);
  });
}

void Workload::Step(Client& c) {
  SimNode* via = run_.AnyUpMember();
  if (via == nullptr) return Think(c);
  const uint64_t group = run_.Pick(10);
  const auto& keys =
      group < 3 ? lww_keys_ : (group < 5 ? newest_keys_ : mult_keys_);
  KeyModel& k = *keys[run_.Pick(keys.size())];
  const uint64_t roll = run_.Pick(100);
  if (k.lww()) {
    if (roll < 55) return DoPut(c, *via, k, /*blind=*/true);
    if (roll < 70) return DoPut(c, *via, k, /*blind=*/false);
    if (roll < 95) return DoRead(c, *via, k, /*then=*/0);
    return DoRead(c, *via, k, /*then=*/2);
  }
  if (roll < 20) return DoRead(c, *via, k, /*then=*/0);
  if (roll < 55) return DoRead(c, *via, k, /*then=*/1);  // read-modify-write
  if (roll < 70) return DoPut(c, *via, k, /*blind=*/false);
  if (roll < 85) return DoPut(c, *via, k, /*blind=*/true);
  return DoRead(c, *via, k, /*then=*/2);  // read, then delete what was read
}

void Workload::DoRead(Client& c, SimNode& via, KeyModel& k, int then) {
  replication::GetRequest r;
  r.id = ObjectId{kDefaultType, k.bucket, k.key};
  r.r = RandomQuorum();
  if (run_.Chance(0.1)) r.notfound_ok = false;
  const uint64_t token = c.token;
  const std::string node = via.name();
  ++stats_.reads;
  ArmTimeout(c, token, [this, &c, &k, node] {
    run_.Log("c" + std::to_string(c.id) + " get " + k.Name() + " via " + node +
             ": no answer");
  });
  via.core().Get(std::move(r), [this, &c, &k, token, then,
                                node](replication::GetResult g) {
    if (c.token != token) return;
    ++c.token;
    world().Record(static_cast<uint64_t>(g.status.code()));
    run_.Log("c" + std::to_string(c.id) + " get " + k.Name() + " via " + node +
             ": " + g.status.ToString() + " " + Describe(g.object));
    const bool answered = g.status.ok() || g.status.IsNotFound();
    if (answered) {
      stats_.max_siblings =
          std::max<uint64_t>(stats_.max_siblings, g.object.siblings().size());
      checker_.CheckObject(k, g.object, "read by c" + std::to_string(c.id),
                           /*stored=*/false, /*count_writers=*/true);
      c.context[k.Name()] = g.object.clock();
    }
    // The follow-up runs as its own step, not inside the node's callback.
    if (answered && then != 0 && !run_.stopping) {
      const uint64_t next = ++c.token;
      world().After(run_.Pick(20), [this, &c, &k, then, next] {
        if (c.token != next) return;
        SimNode* v = run_.AnyUpMember();
        if (v == nullptr) return Think(c);
        if (then == 1) return DoPut(c, *v, k, /*blind=*/false);
        if (c.context[k.Name()].empty()) return Think(c);
        DoDelete(c, *v, k);
      });
      return;
    }
    Think(c);
  });
}

void Workload::DoPut(Client& c, SimNode& via, KeyModel& k, bool blind) {
  Attempt a;
  a.client = c.id;
  a.blind = blind;
  a.value = "c" + std::to_string(c.id) + "." + std::to_string(c.next_value++);
  if (!blind) a.context = c.context[k.Name()];
  a.via = via.name();
  a.issued_ms = world().now();
  const size_t index = checker_.NewAttempt(k, a);

  replication::PutRequest p;
  p.id = ObjectId{kDefaultType, k.bucket, k.key};
  p.context = a.context;
  p.content.value = a.value;
  p.content.meta.content_type = "text/plain";
  p.w = RandomQuorum();
  if (run_.Chance(0.1)) p.pw = Quorum::Number(1);
  // The reply carries the stored object: how the client learns the dot
  // and timestamp its write got.
  p.return_body = true;
  const uint64_t token = c.token;
  ArmTimeout(c, token, [this, &k, index] {
    Attempt& at = k.attempts[index];
    at.outcome = Outcome::kIndeterminate;
    at.status = "client timeout";
    ++stats_.indeterminate;
    run_.Log("c" + std::to_string(at.client) + " put " + k.Name() + " '" +
             at.value + "' via " + at.via + ": no answer");
  });
  via.core().Put(std::move(p), [this, &c, &k, token,
                                index](replication::PutResult r) {
    if (c.token != token) return;
    ++c.token;
    world().Record(static_cast<uint64_t>(r.status.code()));
    Attempt& at = k.attempts[index];
    at.status = r.status.ToString();
    run_.Log("c" + std::to_string(c.id) + " put " + k.Name() + " '" + at.value +
             "' ctx " + at.context.ToString() + " via " + at.via + ": " +
             at.status + (r.status.ok() ? " " + Describe(r.object) : ""));
    if (r.status.ok()) {
      at.outcome = Outcome::kAcked;
      ++stats_.acked;
      checker_.CheckObject(k, r.object, "returned to c" + std::to_string(c.id),
                           /*stored=*/true, /*count_writers=*/true);
      Attempt& again = k.attempts[index];
      bool present =
          std::any_of(r.object.siblings().begin(), r.object.siblings().end(),
                      [&](const Sibling& s) { return s.value == again.value; });
      if (!present) {
        checker_.Violation(k.Name(), k.Name() + ": acknowledged put '" +
                                         again.value +
                                         "' is missing from its own reply " +
                                         Describe(r.object));
      }
      c.context[k.Name()] = r.object.clock();
    } else if (r.status.code() == Status::Code::kInvalidArgument ||
               r.status.code() == Status::Code::kPreconditionFailed) {
      at.outcome = Outcome::kRejected;
    } else {
      at.outcome = Outcome::kIndeterminate;
      ++stats_.indeterminate;
    }
    Think(c);
  });
}

void Workload::DoDelete(Client& c, SimNode& via, KeyModel& k) {
  Attempt a;
  a.client = c.id;
  a.tombstone = true;
  a.context = c.context[k.Name()];
  a.via = via.name();
  a.issued_ms = world().now();
  const size_t index = checker_.NewAttempt(k, a);
  replication::DeleteRequest d;
  d.id = ObjectId{kDefaultType, k.bucket, k.key};
  d.context = a.context;
  d.w = RandomQuorum();
  const uint64_t token = c.token;
  ArmTimeout(c, token, [this, &k, index] {
    Attempt& at = k.attempts[index];
    at.outcome = Outcome::kIndeterminate;
    at.status = "client timeout";
    ++stats_.indeterminate;
  });
  via.core().Delete(
      std::move(d), [this, &c, &k, token, index](replication::DeleteResult r) {
        if (c.token != token) return;
        ++c.token;
        world().Record(static_cast<uint64_t>(r.status.code()));
        Attempt& at = k.attempts[index];
        at.status = r.status.ToString();
        run_.Log("c" + std::to_string(c.id) + " delete " + k.Name() + " ctx " +
                 at.context.ToString() + " via " + at.via + ": " + at.status);
        if (r.status.ok()) {
          at.outcome = Outcome::kAcked;
          ++stats_.acked;
        } else if (r.status.code() == Status::Code::kInvalidArgument ||
                   r.status.code() == Status::Code::kPreconditionFailed) {
          at.outcome = Outcome::kRejected;
        } else {
          at.outcome = Outcome::kIndeterminate;
          ++stats_.indeterminate;
        }
        Think(c);
      });
}

void Workload::Start(int clients) {
  clients_.resize(clients);
  for (int i = 0; i < clients; ++i) {
    clients_[i].id = i + 1;
    Think(clients_[i]);
  }
}

bool Workload::Idle() const {
  return std::none_of(clients_.begin(), clients_.end(),
                      [](const Client& c) { return c.busy; });
}

}  // namespace causeway::sim
