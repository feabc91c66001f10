// What the admin API's GetHealth reads: cluster-wide figures of route targets over the
// telemetry window, and the weights currently pushed with why (docs/control-plane.md,
// "Telemetry"; admin.proto, TargetHealth).
//
// The admin service composes the answer: routes and targets (in match order) from the store,
// operator overrides from the store, figures and weights from a HealthSource. Telemetry
// aggregation (controlplane/telemetry) and the weight loop implement it. Without a source
// GetHealth returns no routes.
//
// Threading: implementations must be safe to call from any thread (gRPC's sync server threads)
// and must not block beyond a short mutex. Plain values: no reference into the source survives
// the call.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "absl/time/time.h"
#include "controlplane/telemetry/telemetry_aggregator.h"
#include "controlplane/weights/weights.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

// Per route target: the SLO verdict depends on the route, and so does the weight.
struct RouteTargetWeight {
  bool slo_met = false;
  // Basis points of the target's priority tier, as last pushed.
  uint32_t weight = 0;
  llmesh::discovery::v1::WeightBasis basis = llmesh::discovery::v1::WEIGHT_BASIS_UNSPECIFIED;
  std::string reason;
};

// (route, provider, model).
using RouteTargetKey = std::tuple<std::string, std::string, std::string>;

// One consistent reading of the telemetry window and the weights.
struct HealthSnapshot {
  // Length of the sliding window the figures cover.
  absl::Duration window;
  // Sidecars whose reports are in the window.
  uint32_t reporting_sidecars = 0;
  // Per provider model (routes sharing a target share its figures); targets with no entry
  // are shown with zero figures.
  std::map<TargetKey, TargetHealthFigures> figures;
  // Route targets with no entry are shown with weight 0 and basis unspecified.
  std::map<RouteTargetKey, RouteTargetWeight> weights;
};

class HealthSource {
 public:
  virtual ~HealthSource() = default;

  // The current figures and weights. Never fails.
  virtual HealthSnapshot Health() const = 0;
};

}  // namespace llmesh::control
