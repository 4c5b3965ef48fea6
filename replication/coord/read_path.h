#pragma once
// ReadPath: a client read from request to answer. It plans the replicas
// (Router), resolves r and pr against the bucket's properties, and runs the
// get coordinator (coordinators.h), which also repairs stale replicas once
// every one has answered. A data-type fetch is the same read; the value is
// the merged state's.

#include <functional>

#include "replication/coord/coordinators.h"
#include "replication/coord/replicas.h"
#include "replication/coord/route.h"
#include "replication/env.h"
#include "replication/requests.h"

namespace causeway::replication::coord {

class ReadPath {
 public:
  // Every reference must outlive this object.
  ReadPath(Env& env, const Router& router, Replicas& replicas,
           uint64_t timeout_ms)
      : env_(env),
        router_(router),
        replicas_(replicas),
        timeout_ms_(timeout_ms) {}

  void Get(GetRequest request, std::function<void(GetResult)> done);
  // A data-type fetch: a get whose replicas' states merge into one value.
  void Fetch(FetchRequest request, std::function<void(FetchResult)> done);

 private:
  // Plans a read of `id`: the route and the coordinator's plan.
  Status PlanRead(const ObjectId& id, const std::optional<Quorum>& r,
                  const std::optional<Quorum>& pr,
                  const std::optional<bool>& basic_quorum,
                  const std::optional<bool>& notfound_ok,
                  std::optional<uint64_t> timeout_ms, Route* route,
                  GetPlan* plan) const;

  Env& env_;
  const Router& router_;
  Replicas& replicas_;
  const uint64_t timeout_ms_;
};

}  // namespace causeway::replication::coord
