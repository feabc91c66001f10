#include "proxy/router/router.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"

namespace llmesh::router {

TargetPlan Router::Plan(const config::RouteSpec& route, failover::Priority priority,
                        absl::BitGenRef rng) const {
  const MonoTime now = clock_.Now();
  absl::InlinedVector<PlanCandidate, 8> candidates;
  candidates.reserve(route.targets.size());
  for (const config::TargetSpec& target : route.targets) {
    const failover::TargetHealth& health = *target.health;
    candidates.push_back(PlanCandidate{target.priority, target.weight, health.State(now),
                                       health.CooldownRemaining(now)});
  }
  const PlanStrategy strategy =
      route.strategy == config::v1::Route::FAILOVER ? PlanStrategy::kFailover : PlanStrategy::kWeighted;
  TargetPlan plan = PlanTargets(candidates, strategy, rng);
  if (priority == failover::Priority::kBatch) {
    // Batch work waits for a healthy provider rather than probing ejected ones.
    plan.order.erase(std::remove_if(plan.order.begin(), plan.order.end(),
                                    [&](uint16_t i) { return candidates[i].state == failover::TargetState::kEjected; }),
                     plan.order.end());
  }
  return plan;
}

}  // namespace llmesh::router
