// The target weights of one tier for one interval: where the tier's traffic should go if it
// could move there at once. WeightComputer (weight_computer.h) then smooths, bounds and
// publishes the move; this file only decides the destination and why.
//
// Rule, per target of the tier (ordered by TargetKey):
//   1. Frozen: no telemetry, telemetry older than stale_after, or fewer than min_samples
//      requests. Its data says nothing, so its target is its previous weight (the weight it
//      holds now), or its static share when it has none yet.
//   2. Breaching: it exceeds some bound of the route SLO. Target: probe_floor.
//   3. Healthy: it meets the SLO. The cheapest cost per success (with those within
//      cost_tie_tolerance of it, sharing equally) gets everything the others leave; every other
//      healthy target gets probe_floor.
// "Cheapest first" becomes "cheapest takes the rest, everyone else probes" rather than shares
// inversely proportional to cost: the route's objective is the lowest cost that meets the SLO,
// and any share given to a costlier healthy target is money spent for nothing; the probe floor
// keeps every other target's telemetry alive, so a cheaper target that recovers is seen meeting
// the SLO again and takes the traffic back (DESIGN.md §5, issue 4 acceptance 5). Spreading for
// capacity is the job of the SLO's rate-limited share: a cheapest target pushed into 429s
// breaches and drops to the floor.
// When no target meets the SLO: the breaching targets' share (beyond their floors) goes to the
// frozen targets in proportion to their weights — unknown beats known-bad, and the extra
// traffic gives them samples; with no frozen target to take it, the whole tier falls back to
// its static shares (the sidecars' own behaviour without a control plane).
// If the fixed shares (floors and frozen weights) leave the cheapest less than probe_floor, it
// gets probe_floor and all targets are scaled to sum to 1.
//
// Pure function of its arguments; callable from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controlplane/weights/weights.h"

namespace llmesh::control {

struct TargetPlan {
  TargetKey target;
  double share = 0;  // Target weight, a fraction of the tier; the plan sums to 1.
  WeightReason reason = WeightReason::kStale;
  std::string reason_text;
};

// The tier's static shares in the order of `targets`: static_weight / sum, or equal shares
// when every static weight is zero. Empty for an empty tier.
std::vector<double> StaticShares(const std::vector<TierInput::Target>& targets);

// Whether `key` meets `slo` on enough fresh samples (the rule's "healthy"): false when it is
// frozen (no, stale or too few samples) or breaching.
bool MeetsSlo(const TargetKey& key, const RouteSlo& slo, const TelemetryWindow& telemetry,
              const WeightOptions& options, MonoTime now);

// The target weights of a tier. Preconditions: `targets` ordered by key without duplicates;
// `current[i]` is the weight targets[i] holds now (a fraction), or nullopt when it has none
// (new target); `now` is the clock's now. Returns one plan per target, same order.
std::vector<TargetPlan> PlanTier(const std::vector<TierInput::Target>& targets,
                                 const std::vector<std::optional<double>>& current,
                                 const RouteSlo& slo, const TelemetryWindow& telemetry,
                                 const WeightOptions& options, MonoTime now);

}  // namespace llmesh::control
