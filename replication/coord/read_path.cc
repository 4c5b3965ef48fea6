#include "replication/coord/read_path.h"

#include <utility>

#include "replication/coord/coordinators.h"
#include "replication/coord/quorum.h"

namespace causeway::replication::coord {

void ReadPath::Get(GetRequest request, std::function<void(GetResult)> done) {
  Status s = CheckId(request.id, true);
  Route route;
  if (s.ok()) s = router_.Plan(request.id, /*for_write=*/false, &route);
  GetPlan plan;
  const uint32_t n = route.props.n_val;
  if (s.ok()) {
    s = ResolveQuorum("r", request.r, route.props.r, n, route.replicas,
                      &plan.r);
  }
  if (s.ok()) {
    s = ResolveQuorum("pr", request.pr, route.props.pr, n, route.replicas,
                      &plan.pr);
  }
  if (!s.ok()) {
    done(GetResult{s, {}, false});
    return;
  }
  plan.key = route.key;
  plan.targets = route.targets;
  plan.notfound_ok = request.notfound_ok.value_or(route.props.notfound_ok);
  plan.basic_quorum = request.basic_quorum.value_or(route.props.basic_quorum);
  plan.resolution = route.props.resolution();
  plan.timeout_ms = timeout_ms_;
  StartGet(env_, replicas_, std::move(plan),
           [done = std::move(done),
            if_modified = std::move(request.if_modified)](GetOutcome outcome) {
             GetResult result{std::move(outcome.status),
                              std::move(outcome.object), false};
             if (result.status.ok() && if_modified &&
                 result.object.clock() == *if_modified) {
               result.unchanged = true;
             }
             done(std::move(result));
           });
}

}  // namespace causeway::replication::coord
