// Router: orders a matched route's targets for one request.
//
// Request path: Codec (found the route with ConfigSnapshot::FindRoute) -> Router (this: reads
// the shared health of every target and draws the plan) -> FailoverExecutor (tries the plan).
// One Router per worker; Plan() reads only atomics and the immutable snapshot.
#pragma once

#include "absl/random/bit_gen_ref.h"
#include "common/clock.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/failover/failover.h"
#include "proxy/router/target_plan.h"

namespace llmesh::router {

class Router {
 public:
  explicit Router(const Clock& clock) : clock_(clock) {}

  // Tiers by priority, healthy targets first, weighted order inside a tier for strategy
  // weighted, ejected targets only when nothing healthy is left (never for batch requests),
  // cooling-down targets never. An empty order with all_cooling_down set means every target is
  // rate limited.
  TargetPlan Plan(const config::RouteSpec& route, failover::Priority priority, absl::BitGenRef rng) const;

 private:
  const Clock& clock_;
};

}  // namespace llmesh::router
