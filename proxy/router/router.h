// Router: orders a matched route's targets for one request.
//
// Request path: Codec (found the route with ConfigSnapshot::FindRoute) -> Router (this: resolves
// every target's weight from the control plane's global weights or the route's static ones,
// reads the shared health of every target and draws the plan) -> FailoverExecutor (tries the
// plan).
//
// Threading: one Router per worker, used on that worker's thread only. Plan() reads only
// atomics, the immutable snapshot and the worker's own copy of the latest weight assignment,
// which it refreshes when GlobalWeights::generation() moves (one atomic load per request; no
// lock, no shared reference count touched per request).
#pragma once

#include <cstdint>
#include <memory>

#include "absl/random/bit_gen_ref.h"
#include "common/clock.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/failover/failover.h"
#include "proxy/router/effective_weights.h"
#include "proxy/router/target_plan.h"
#include "proxy/xds/global_weights.h"

namespace llmesh::router {

class Router {
 public:
  // `weights` (the control plane's, published by the discovery client) may be null: static
  // weights only. `clock` and `weights` must outlive the router.
  explicit Router(const Clock& clock, const xds::GlobalWeights* weights = nullptr)
      : clock_(clock), global_weights_(weights) {}

  // Tiers by priority, healthy targets first, weighted order inside a tier for strategy
  // weighted (with ResolveWeights' effective weights), ejected targets only when nothing
  // healthy is left (never for batch requests), cooling-down targets never, drained targets
  // (global weight 0) after every other planned target. An empty order with all_cooling_down
  // set means every target is rate limited. Worker thread only.
  TargetPlan Plan(const config::RouteSpec& route, failover::Priority priority, absl::BitGenRef rng);

 private:
  // The latest published assignment, or null; refreshed when a new one was published.
  const xds::AppliedWeights* CurrentWeights();

  const Clock& clock_;
  const xds::GlobalWeights* global_weights_;
  std::shared_ptr<const xds::AppliedWeights> weights_;  // this worker's copy
  uint64_t weights_generation_ = 0;                      // generation weights_ was read at
};

}  // namespace llmesh::router
