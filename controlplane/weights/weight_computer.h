// WeightComputer: the control plane's interval loop over weights. Each call to Compute takes
// the window's telemetry, the routes' tiers and the live operator overrides, and returns per
// tier the new weights, why, and whether they are worth pushing to the sidecars (DESIGN.md §5).
//
// Per tier, per interval:
//   1. Current weights: the smoothed weights this computer produced last interval; a tier seen
//      for the first time starts at its static shares. A target new to a known tier starts at
//      0 (the others are rescaled to sum to 1) and, while its telemetry is missing, heads for
//      its static share for one interval and then holds what it reached until its telemetry
//      counts; a removed target's weight is dropped.
//   2. Targets: PlanTier (target_weights.h) — cheapest meeting the SLO takes the rest, others
//      probe, frozen targets (stale or too few samples) hold their current weight.
//   3. Smoothing: each weight moves by d_i = ewma_alpha × (target_i − current_i), then the
//      whole move is scaled by the largest λ in (0, 1] with |λ·d_i| ≤ bound_i for every i,
//      where bound_i = max_step × max(current_i, target_i, probe_floor). Scaling the move as a
//      whole (not clamping per target) keeps the sum at exactly 1 and never exceeds a bound.
//      The bound is relative: a falling weight loses at most 25% of what it has per interval;
//      a rising weight gains at most 25% of where it is heading; from zero, at most 25% of
//      max(target, probe_floor). When every |target_i − current_i| ≤ min(settle_epsilon,
//      bound_i), the tier lands exactly on its targets (EWMA alone never arrives). Exception:
//      when a target breaching the SLO holds more than its probe floor, the whole tier moves
//      to its targets in this interval — a degraded provider is left at once, while moving
//      traffic back onto a recovered one follows the bounded path.
//   4. Overrides (active while now < expires_at; a route-specific one beats a route-less one;
//      then drain beats weight, then the smaller weight): pinned targets get their weight
//      (drain = 0) at once, unbounded by the step — an operator's word is not smoothed; the
//      rest of the tier is shared by the others in proportion to their smoothed weights
//      (equally if those are all 0). Pins summing over the tier are scaled to fit it; a tier of
//      pinned targets only is scaled up to the total, and an all-drained tier is all zero.
//      Smoothed state is kept without overrides, so an expired override hands back to the
//      computation where it would have been.
//   5. Basis points: largest-remainder rounding to kWeightTotal; equal remainders go to the
//      smaller target key.
//   6. Hysteresis: publish when there is no published assignment yet, the tier's target set
//      changed, any target's reason kind changed (e.g. SLO breach, override), some target's
//      weight moved by more than hysteresis × max(published, new) (relative, so a move from
//      0 always counts), or the tier has settled on its targets and differs from what is
//      published (so hysteresis never strands the published weights short of the steady
//      state). Otherwise the published assignment stays in force.
// Deterministic: the same sequence of inputs and clock readings gives the same outputs;
// targets are processed and returned in TargetKey order, tiers in (route, priority) order.
//
// Threading: not thread-safe; one owner (the control plane's weight loop) calls Compute.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "controlplane/weights/weights.h"

namespace llmesh::control {

// OK when every option is in range: probe_floor in [0, 1), max_step > 0, hysteresis in [0, 1),
// ewma_alpha in (0, 1], settle_epsilon >= 0, cost_tie_tolerance >= 0, stale_after > 0.
// Otherwise INVALID_ARGUMENT naming the option and its value.
absl::Status ValidateWeightOptions(const WeightOptions& options);

class WeightComputer {
 public:
  // `clock` must outlive the computer. INVALID_ARGUMENT for invalid options.
  static absl::StatusOr<WeightComputer> Create(const WeightOptions& options, const Clock& clock);

  WeightComputer(WeightComputer&&) = default;
  WeightComputer& operator=(WeightComputer&&) = default;

  // One interval for every tier in `tiers`; state of tiers not listed is forgotten. Returns one
  // assignment per tier ordered by (route, priority). INVALID_ARGUMENT, with no state changed,
  // when two tiers share (route, priority), a tier lists a target twice, or an override's
  // weight exceeds kWeightTotal. Overrides for targets outside a tier are ignored.
  absl::StatusOr<std::vector<TierAssignment>> Compute(const std::vector<TierInput>& tiers,
                                                      const TelemetryWindow& telemetry,
                                                      const std::vector<WeightOverride>& overrides);

  const WeightOptions& options() const { return options_; }

 private:
  struct TierState {
    std::map<TargetKey, double> smoothed;
    std::vector<TargetWeight> published;
    bool has_published = false;
  };
  using TierId = std::pair<std::string, uint32_t>;

  WeightComputer(const WeightOptions& options, const Clock& clock) : options_(options), clock_(&clock) {}

  TierAssignment ComputeTier(const TierInput& tier, const TelemetryWindow& telemetry,
                             const std::vector<WeightOverride>& overrides, MonoTime now,
                             TierState* state);

  WeightOptions options_;
  const Clock* clock_;
  std::map<TierId, TierState> tiers_;
};

}  // namespace llmesh::control
