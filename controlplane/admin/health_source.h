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
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

// Telemetry is per provider model: routes sharing a target share these figures.
struct TargetFigures {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  // Successful attempts; zero when there is none.
  absl::Duration latency_p50;
  absl::Duration latency_p95;
  absl::Duration latency_p99;
  // Successful streamed attempts; zero when there is none.
  absl::Duration ttft_p50;
  absl::Duration ttft_p95;
  absl::Duration ttft_p99;
  // In [0, 1]: provider-fault failures / attempts, 429s / attempts.
  double error_rate = 0;
  double rate_limited_share = 0;
  // All cost in the window / successes; 0 without success.
  double cost_per_success_usd = 0;
};

// Per route target: the SLO verdict depends on the route, and so does the weight.
struct TargetWeight {
  bool slo_met = false;
  // Basis points of the target's priority tier, as last pushed.
  uint32_t weight = 0;
  llmesh::discovery::v1::WeightBasis basis = llmesh::discovery::v1::WEIGHT_BASIS_UNSPECIFIED;
  std::string reason;
};

// (provider, model).
using TargetKey = std::tuple<std::string, std::string>;
// (route, provider, model).
using RouteTargetKey = std::tuple<std::string, std::string, std::string>;

// One consistent reading of the telemetry window and the weights.
struct HealthSnapshot {
  // Length of the sliding window the figures cover.
  absl::Duration window;
  // Sidecars whose reports are in the window.
  uint32_t reporting_sidecars = 0;
  // Targets with no entry are shown with zero figures.
  std::map<TargetKey, TargetFigures> figures;
  // Route targets with no entry are shown with weight 0 and basis unspecified.
  std::map<RouteTargetKey, TargetWeight> weights;
};

class HealthSource {
 public:
  virtual ~HealthSource() = default;

  // The current figures and weights. Never fails.
  virtual HealthSnapshot Health() const = 0;
};

}  // namespace llmesh::control
