// Orders a route's targets for one request: which providers to try, and in what order.
//
// The Router matches a route, reads each target's shared health (failover::TargetHealth) into a
// PlanCandidate, and calls PlanTargets; the FailoverExecutor then walks `order`. Rules:
//   - Targets are grouped into tiers by ascending priority; a tier is exhausted before the next.
//   - Inside a tier, kFailover keeps the route's list order; kWeighted draws a weighted random
//     order without replacement (each next target picked with probability weight / remaining
//     weight). Weight-0 targets come after the weighted ones of their tier, in list order.
//   - Only healthy targets are tried while the route has at least one. When no target in the
//     whole route is healthy, the ejected ones are tried instead, in the same tier order (panic
//     mode, as in Envoy: better a suspect target than none).
//   - Cooling-down targets are never tried (the provider asked us to stay away). When every
//     target is cooling down, `order` is empty, `all_cooling_down` is set, and
//     `shortest_cooldown` says when the first one returns (the client's retry-after).
//   - Drained targets (a global weight of 0 from the control plane) come after every other
//     target the plan holds, whatever their tier, by tier then list order: they are tried
//     only when nothing else of the route could serve. Local health still applies to them
//     first: a drained target is planned only when its state is the one being planned.
// No heap allocation for routes of up to 8 targets.
//
// Threading: a pure function of its arguments; the random generator is the caller's (one per
// worker), so any thread may call it with its own generator.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "proxy/failover/target_health.h"

namespace llmesh::router {

enum class PlanStrategy : uint8_t {
  kFailover,  // Inside a tier, the route's list order.
  kWeighted,  // Inside a tier, weighted random order without replacement.
};

// One route target as the plan sees it; its index in the span is its position in the route.
struct PlanCandidate {
  uint32_t priority = 0;  // Lower is tried first.
  uint32_t weight = 1;    // Used by kWeighted only.
  failover::TargetState state = failover::TargetState::kHealthy;
  Duration cooldown_remaining = Duration::zero();  // Meaningful when state is kCoolingDown.
  bool drained = false;  // Global weight 0: planned after every target that is not drained.
};

struct TargetPlan {
  // Indexes into the candidates, in the order to try them.
  absl::InlinedVector<uint16_t, 8> order;
  // True when the route has targets and every one of them is cooling down.
  bool all_cooling_down = false;
  // The smallest cooldown_remaining among cooling-down targets (zero when none is cooling down);
  // the client's retry-after when all_cooling_down, or when every planned attempt failed.
  Duration shortest_cooldown = Duration::zero();
  // True when no target is healthy and `order` holds the ejected targets (panic mode).
  bool panic = false;
};

// Routes longer than this are planned on their first kMaxPlanCandidates targets only.
inline constexpr size_t kMaxPlanCandidates = UINT16_MAX;

// Builds the plan for one request. `gen` is drawn from only for kWeighted tiers of more than
// one target.
TargetPlan PlanTargets(absl::Span<const PlanCandidate> candidates, PlanStrategy strategy,
                       absl::BitGenRef gen);

}  // namespace llmesh::router
