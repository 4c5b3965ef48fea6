#include "replication/coord/read_path.h"

#include <utility>

#include "replication/coord/quorum.h"

namespace causeway::replication::coord {

Status ReadPath::PlanRead(const ObjectId& id, const std::optional<Quorum>& r,
                          const std::optional<Quorum>& pr,
                          const std::optional<bool>& basic_quorum,
                          const std::optional<bool>& notfound_ok,
                          std::optional<uint64_t> timeout_ms, Route* route,
                          GetPlan* plan) const {
  Status s = CheckId(id, true);
  if (s.ok()) s = router_.Plan(id, /*for_write=*/false, route);
  const uint32_t n = route->props.n_val;
  if (s.ok()) {
    s = ResolveQuorum("r", r, route->props.r, n, route->replicas, &plan->r);
  }
  if (s.ok()) {
    s = ResolveQuorum("pr", pr, route->props.pr, n, route->replicas, &plan->pr);
  }
  if (!s.ok()) return s;
  plan->key = route->key;
  plan->targets = route->targets;
  plan->notfound_ok = notfound_ok.value_or(route->props.notfound_ok);
  plan->basic_quorum = basic_quorum.value_or(route->props.basic_quorum);
  plan->resolution = route->props.resolution();
  plan->timeout_ms = timeout_ms.value_or(timeout_ms_);
  plan->fallback = router_.FallbackFor(*route);
  return Status::Ok();
}

void ReadPath::Get(GetRequest request, std::function<void(GetResult)> done) {
  Route route;
  GetPlan plan;
  Status s = PlanRead(request.id, request.r, request.pr, request.basic_quorum,
                      request.notfound_ok, std::nullopt, &route, &plan);
  if (!s.ok()) {
    done(GetResult{s, {}, false});
    return;
  }
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

void ReadPath::Fetch(FetchRequest request,
                     std::function<void(FetchResult)> done) {
  Route route;
  GetPlan plan;
  crdt::TypeTag tag = crdt::TypeTag::kCounter;
  Status s = PlanRead(request.id, request.r, request.pr, request.basic_quorum,
                      request.notfound_ok, request.timeout_ms, &route, &plan);
  if (s.ok()) s = DataTypeOf(request.id, route.props, &tag);
  if (!s.ok()) {
    done(FetchResult{s, tag, {}, {}});
    return;
  }
  StartGet(env_, replicas_, std::move(plan),
           [done = std::move(done), tag,
            include_context = request.include_context](GetOutcome outcome) {
             FetchResult result{std::move(outcome.status), tag, {}, {}};
             const crdt::DataType* data = outcome.object.data();
             if (result.status.ok() && data == nullptr) {
               result.status = Status::Corruption(
                   "a key/value object in a data-type bucket");
             }
             if (result.status.ok()) {
               result.value = data->Read();
               if (include_context) result.context = data->Context();
             }
             result.value.type = tag;
             done(std::move(result));
           });
}

}  // namespace causeway::replication::coord
