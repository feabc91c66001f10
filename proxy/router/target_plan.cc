#include "proxy/router/target_plan.h"

#include <algorithm>

#include "absl/random/distributions.h"

namespace llmesh::router {
namespace {

using failover::TargetState;
using Order = absl::InlinedVector<uint16_t, 8>;

// Reorders order[begin, end) (one tier) by weighted draws without replacement. std::rotate moves
// each drawn target to the front while keeping the rest in list order, which is what leaves the
// weight-0 targets at the end in list order once the positive weights are used up.
void ShuffleTierByWeight(absl::Span<const PlanCandidate> candidates, Order& order, size_t begin,
                         size_t end, absl::BitGenRef gen) {
  for (size_t pos = begin; pos + 1 < end; ++pos) {
    uint64_t remaining = 0;
    for (size_t i = pos; i < end; ++i) remaining += candidates[order[i]].weight;
    if (remaining == 0) return;
    uint64_t draw = absl::Uniform<uint64_t>(gen, 0, remaining);
    size_t picked = pos;
    while (draw >= candidates[order[picked]].weight) {
      draw -= candidates[order[picked]].weight;
      ++picked;
    }
    std::rotate(order.begin() + pos, order.begin() + picked, order.begin() + picked + 1);
  }
}

}  // namespace

TargetPlan PlanTargets(absl::Span<const PlanCandidate> candidates, PlanStrategy strategy,
                       absl::BitGenRef gen) {
  candidates = candidates.subspan(0, std::min(candidates.size(), kMaxPlanCandidates));
  TargetPlan plan;
  bool any_healthy = false;
  size_t cooling = 0;
  Duration shortest = Duration::max();
  for (const PlanCandidate& candidate : candidates) {
    switch (candidate.state) {
      case TargetState::kHealthy:
        any_healthy = true;
        break;
      case TargetState::kCoolingDown:
        ++cooling;
        shortest = std::min(shortest, std::max(candidate.cooldown_remaining, Duration::zero()));
        break;
      case TargetState::kEjected:
        break;
    }
  }
  if (cooling > 0) plan.shortest_cooldown = shortest;
  if (cooling > 0 && cooling == candidates.size()) {
    plan.all_cooling_down = true;
    return plan;
  }

  const TargetState wanted = any_healthy ? TargetState::kHealthy : TargetState::kEjected;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].state == wanted) plan.order.push_back(static_cast<uint16_t>(i));
  }
  plan.panic = !any_healthy && !plan.order.empty();

  // The index breaks ties, so the unstable (allocation-free) sort keeps list order in a tier.
  std::sort(plan.order.begin(), plan.order.end(), [&](uint16_t a, uint16_t b) {
    if (candidates[a].drained != candidates[b].drained) return candidates[b].drained;
    if (candidates[a].priority != candidates[b].priority) {
      return candidates[a].priority < candidates[b].priority;
    }
    return a < b;
  });

  if (strategy == PlanStrategy::kWeighted) {
    // Drained targets form tiers of their own after the rest; their weights are 0, so they
    // keep list order.
    auto same_tier = [&](uint16_t a, uint16_t b) {
      return candidates[a].priority == candidates[b].priority && candidates[a].drained == candidates[b].drained;
    };
    size_t begin = 0;
    while (begin < plan.order.size()) {
      size_t end = begin + 1;
      while (end < plan.order.size() && same_tier(plan.order[end], plan.order[begin])) {
        ++end;
      }
      ShuffleTierByWeight(candidates, plan.order, begin, end, gen);
      begin = end;
    }
  }
  return plan;
}

}  // namespace llmesh::router
