// The weight each target of a route is planned with: the control plane's global weight while
// its assignment is fresh, else the route's static weight (DESIGN.md §5; docs/control-plane.md,
// "Weights expire" and "The sidecar's weights").
//
// Request path: Router::Plan resolves the weights of the matched route, then combines them with
// each target's local health (ejection and cooldown keep excluding a target whatever its global
// weight) in PlanTargets. The admin /config_dump shows the same resolution.
//
// Rules, per priority tier of the route:
//   - No fresh assignment, or one that names no target of the tier: every target keeps its
//     static weight (config Target.weight).
//   - An assignment that names a target of the tier: the named targets take their assigned
//     weight (basis points of the tier; 0 = drained); a target it leaves out keeps its static
//     share of the tier, in basis points: weight × 10000 / (sum of the tier's static weights),
//     at least 1 — the static weight scaled to the tier, as the control plane would assign it.
// Lookups use the route's name (Route.name, or Route.model when the name is empty), as the
// control plane does.
//
// Threading: a pure function of its arguments; the AppliedWeights is immutable. No heap
// allocation beyond AppliedWeights::AssignedWeight's per-thread key buffer.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "common/clock.h"
#include "proxy/config/config_snapshot.h"
#include "proxy/xds/global_weights.h"

namespace llmesh::router {

enum class WeightSource : uint8_t {
  kStatic,  // The route's static weight, possibly scaled to a tier that has global weights.
  kGlobal,  // The fresh weight assignment of the control plane.
};

// "static" or "global", for /config_dump.
std::string_view WeightSourceName(WeightSource source);

struct EffectiveWeight {
  uint32_t weight = 1;
  WeightSource source = WeightSource::kStatic;

  // A global weight of 0: the target is tried only after every other target of the route.
  bool drained() const { return source == WeightSource::kGlobal && weight == 0; }
};

// Writes the effective weight of route.targets[i] into out[i] at `now`. `weights` may be null
// (no assignment applied yet). Precondition: out.size() == route.targets.size().
void ResolveWeights(const config::RouteSpec& route, const xds::AppliedWeights* weights, MonoTime now,
                    absl::Span<EffectiveWeight> out);

}  // namespace llmesh::router
