#include "proxy/router/router.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"

namespace llmesh::router {

const xds::AppliedWeights* Router::CurrentWeights() {
  if (global_weights_ == nullptr) return nullptr;
  const uint64_t generation = global_weights_->generation();
  if (generation != weights_generation_) {
    weights_ = global_weights_->Current();
    weights_generation_ = generation;
  }
  return weights_.get();
}

TargetPlan Router::Plan(const config::RouteSpec& route, failover::Priority priority, absl::BitGenRef rng) {
  const MonoTime now = clock_.Now();
  absl::InlinedVector<EffectiveWeight, 8> weights(route.targets.size());
  ResolveWeights(route, CurrentWeights(), now, absl::MakeSpan(weights));
  absl::InlinedVector<PlanCandidate, 8> candidates;
  candidates.reserve(route.targets.size());
  for (size_t i = 0; i < route.targets.size(); ++i) {
    const failover::TargetHealth& health = *route.targets[i].health;
    candidates.push_back(PlanCandidate{route.targets[i].priority, weights[i].weight, health.State(now),
                                       health.CooldownRemaining(now), weights[i].drained()});
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
