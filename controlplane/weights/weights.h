// Value types of the control plane's weight computation: what goes in (windowed cluster
// telemetry per target, route SLOs, tiers, operator overrides) and what comes out (a weight
// and a reason per target of each route's priority tier).
//
// Where it sits: the telemetry aggregator merges the sidecars' reports over the sliding window
// into one TargetStats per provider+model; every interval the control plane hands those, the
// route tiers and the live overrides to a WeightComputer (weight_computer.h) and pushes the
// assignment it returns to the sidecars, which combine it with their local ejection/cooldown.
//
// Units: a tier's weights are integer basis points that sum to exactly kWeightTotal (10000)
// — integers, so that "sums to the total" holds exactly on every sidecar and in every test.
// The single exception is a tier whose every target is drained by an operator: all zeros.
// Shares in options (probe floor, steps, hysteresis) are fractions of the tier total in [0, 1].
//
// Threading: plain values; no shared state.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"

namespace llmesh::control {

// The sum of the weights of one tier (basis points of the tier's traffic).
inline constexpr uint32_t kWeightTotal = 10000;

// One upstream target: a provider and one of its models. Ordered by provider, then model; that
// order is the deterministic order of every output and the tie-break of every choice.
struct TargetKey {
  std::string provider;
  std::string model;

  friend auto operator<=>(const TargetKey&, const TargetKey&) = default;
  friend bool operator==(const TargetKey&, const TargetKey&) = default;
};

// "provider/model", for reasons and errors.
std::string ToString(const TargetKey& key);

// Cluster telemetry of one target merged over the sliding window (DESIGN.md §5).
// Counting rule: `requests` is the number of attempts in the window and the sample count;
// `errors` are failed attempts other than rate-limited ones; `rate_limited` are attempts
// answered 429 (or an equivalent rate-limit signal). The two are disjoint; the error rate is
// errors / requests and the rate-limited share rate_limited / requests.
struct TargetStats {
  uint64_t requests = 0;
  uint64_t successes = 0;
  uint64_t errors = 0;
  uint64_t rate_limited = 0;
  // p95 of total latency and of time to first token over the window; zero = no data (meets
  // any latency SLO).
  Duration p95_latency{};
  Duration p95_ttft{};
  // Window cost divided by successes, in USD. Negative or non-finite = unknown, ranked after
  // every known cost.
  double cost_per_success_usd = 0;
  // When the aggregator last merged a report for this target.
  MonoTime updated_at{};
};

// The window's telemetry of every target the aggregator knows, keyed and ordered by target.
using TelemetryWindow = std::map<TargetKey, TargetStats>;

// A route's service-level objective. A target meets it when every set bound holds; a bound is
// exceeded only when strictly greater.
struct RouteSlo {
  double max_error_rate = 0.05;
  // Zero = no bound.
  Duration max_p95_latency{};
  Duration max_p95_ttft{};
  double max_rate_limited_share = 0.10;
};

struct WeightOptions {
  // Share kept by every target that is assessed but not chosen (breaching the SLO, or meeting
  // it at a higher cost), so its telemetry keeps flowing.
  double probe_floor = 0.02;
  // Per interval a weight moves by at most max_step × max(previous, target, probe_floor).
  double max_step = 0.25;
  // A new assignment is published only when some weight moves by more than this fraction of
  // the larger of its published and new value (see WeightComputer for the exact rule).
  double hysteresis = 0.05;
  // Targets with fewer requests in the window get no weight from their data.
  uint64_t min_samples = 50;
  // EWMA factor: each interval a weight moves this fraction of the way to its target.
  double ewma_alpha = 0.5;
  // When every weight of a tier is within this share of its target, the tier settles exactly
  // on its targets (the EWMA alone would only approach them).
  double settle_epsilon = 0.005;
  // Healthy targets whose cost per success is within this fraction above the cheapest share
  // the cheapest's place equally (so near-equal prices do not flip-flop).
  double cost_tie_tolerance = 0.02;
  // Telemetry not updated for longer than this is ignored like missing telemetry.
  Duration stale_after = std::chrono::seconds(60);
};

// One priority tier of one route: the unit within which weights sum to kWeightTotal.
struct TierInput {
  struct Target {
    TargetKey key;
    // The configured weight (config Target.weight, default 1): the tier's starting shares and
    // the fallback when telemetry says nothing. If every target has 0, shares are equal.
    uint32_t static_weight = 1;
  };
  std::string route;
  uint32_t priority = 0;
  RouteSlo slo;
  std::vector<Target> targets;
};

// An operator's pin of one target's weight, until `expires_at` (exclusive).
struct WeightOverride {
  enum class Kind { kWeight, kDrain };
  Kind kind = Kind::kWeight;
  // Empty = every route that has this target.
  std::string route;
  TargetKey target;
  // Basis points of the tier for kWeight, at most kWeightTotal; ignored for kDrain (zero).
  uint32_t weight = 0;
  MonoTime expires_at{};
  // Free text shown in the reason, e.g. "incident 4711".
  std::string note;
};

// Why a target has its weight. The kind is what hysteresis compares; the text is for people.
enum class WeightReason {
  kCheapest,             // Cheapest meeting the SLO: gets the rest of the tier.
  kCostlier,             // Meets the SLO but costs more than the cheapest: probe floor.
  kSloBreach,            // Breaches the SLO: probe floor.
  kNoTargetMeetsSlo,     // Breaches the SLO and nothing else can take its share: static weight.
  kInsufficientSamples,  // Fewer than min_samples: previous (or static) weight.
  kStale,                // No telemetry, or none newer than stale_after: previous/static weight.
  kOverride,             // Pinned by an operator.
  kDrain,                // Drained by an operator.
};

struct TargetWeight {
  TargetKey target;
  uint32_t weight = 0;  // Basis points of the tier.
  // Basis points the computation is moving this target toward (before overrides); `weight`
  // reaches it when the tier settles.
  uint32_t goal = 0;
  WeightReason reason = WeightReason::kStale;
  std::string reason_text;  // e.g. "p95 2300ms > SLO 2000ms: probe floor".

  friend bool operator==(const TargetWeight&, const TargetWeight&) = default;
};

struct TierAssignment {
  std::string route;
  uint32_t priority = 0;
  // The weights this interval computed, ordered by target key; they sum to kWeightTotal (or
  // all zero when every target is drained).
  std::vector<TargetWeight> weights;
  // True when these weights are to be pushed; false when hysteresis holds the last published
  // assignment (then `published` still differs from `weights` only by small moves).
  bool publish = false;
  // The assignment in force on the sidecars after this interval: `weights` when published,
  // otherwise the last published ones.
  std::vector<TargetWeight> published;

  friend bool operator==(const TierAssignment&, const TierAssignment&) = default;
};

}  // namespace llmesh::control
