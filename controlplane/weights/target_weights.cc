#include "controlplane/weights/target_weights.h"

#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace llmesh::control {
namespace {

enum class Assessment { kFrozen, kBreaching, kHealthy };

struct Verdict {
  Assessment assessment = Assessment::kFrozen;
  WeightReason frozen_reason = WeightReason::kStale;
  // For frozen targets: why, without the ": previous/static weight" suffix. For breaching
  // ones: the breached bounds.
  std::string why;
  double cost = 0;
};

int64_t Millis(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

std::string Percent(double fraction) { return absl::StrFormat("%.1f%%", fraction * 100); }

Verdict Assess(const TargetKey& key, const RouteSlo& slo, const TelemetryWindow& telemetry,
               const WeightOptions& options, MonoTime now) {
  Verdict v;
  auto it = telemetry.find(key);
  if (it == telemetry.end()) {
    v.why = "no telemetry";
    return v;
  }
  const TargetStats& s = it->second;
  if (now - s.updated_at > options.stale_after) {
    v.why = absl::StrFormat("stale input (no update for %ds > %ds)",
                            std::chrono::duration_cast<std::chrono::seconds>(now - s.updated_at).count(),
                            std::chrono::duration_cast<std::chrono::seconds>(options.stale_after).count());
    return v;
  }
  if (s.requests < options.min_samples) {
    v.frozen_reason = WeightReason::kInsufficientSamples;
    v.why = absl::StrFormat("insufficient samples (%d < %d)", s.requests, options.min_samples);
    return v;
  }
  const double requests = static_cast<double>(s.requests);
  const double error_rate = static_cast<double>(s.errors) / requests;
  const double limited_share = static_cast<double>(s.rate_limited) / requests;
  std::vector<std::string> breaches;
  if (error_rate > slo.max_error_rate) {
    breaches.push_back(absl::StrCat("error rate ", Percent(error_rate), " > SLO ", Percent(slo.max_error_rate)));
  }
  if (slo.max_p95_latency > Duration::zero() && s.p95_latency > slo.max_p95_latency) {
    breaches.push_back(absl::StrFormat("p95 %dms > SLO %dms", Millis(s.p95_latency), Millis(slo.max_p95_latency)));
  }
  if (slo.max_p95_ttft > Duration::zero() && s.p95_ttft > slo.max_p95_ttft) {
    breaches.push_back(
        absl::StrFormat("p95 TTFT %dms > SLO %dms", Millis(s.p95_ttft), Millis(slo.max_p95_ttft)));
  }
  if (limited_share > slo.max_rate_limited_share) {
    breaches.push_back(
        absl::StrCat("rate-limited ", Percent(limited_share), " > SLO ", Percent(slo.max_rate_limited_share)));
  }
  if (!breaches.empty()) {
    v.assessment = Assessment::kBreaching;
    v.why = absl::StrJoin(breaches, ", ");
    return v;
  }
  v.assessment = Assessment::kHealthy;
  // Unknown costs rank after every known one, so a target that reports no price never wins
  // over one that does.
  v.cost = std::isfinite(s.cost_per_success_usd) && s.cost_per_success_usd >= 0
               ? s.cost_per_success_usd
               : std::numeric_limits<double>::infinity();
  return v;
}

std::string Cost(double usd) {
  return std::isfinite(usd) ? absl::StrFormat("$%.6g/success", usd) : std::string("unknown cost");
}

}  // namespace

bool MeetsSlo(const TargetKey& key, const RouteSlo& slo, const TelemetryWindow& telemetry,
              const WeightOptions& options, MonoTime now) {
  return Assess(key, slo, telemetry, options, now).assessment == Assessment::kHealthy;
}

std::vector<double> StaticShares(const std::vector<TierInput::Target>& targets) {
  std::vector<double> shares(targets.size(), 0.0);
  double sum = 0;
  for (const auto& t : targets) sum += t.static_weight;
  for (size_t i = 0; i < targets.size(); ++i) {
    shares[i] = sum > 0 ? targets[i].static_weight / sum : 1.0 / static_cast<double>(targets.size());
  }
  return shares;
}

std::vector<TargetPlan> PlanTier(const std::vector<TierInput::Target>& targets,
                                 const std::vector<std::optional<double>>& current,
                                 const RouteSlo& slo, const TelemetryWindow& telemetry,
                                 const WeightOptions& options, MonoTime now) {
  const size_t n = targets.size();
  const std::vector<double> statics = StaticShares(targets);
  std::vector<Verdict> verdicts;
  verdicts.reserve(n);
  std::vector<TargetPlan> plan(n);
  double min_cost = std::numeric_limits<double>::infinity();
  size_t healthy = 0;
  size_t breaching = 0;
  double frozen_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    verdicts.push_back(Assess(targets[i].key, slo, telemetry, options, now));
    plan[i].target = targets[i].key;
    const Verdict& v = verdicts.back();
    switch (v.assessment) {
      case Assessment::kFrozen:
        plan[i].share = current[i].value_or(statics[i]);
        plan[i].reason = v.frozen_reason;
        plan[i].reason_text = absl::StrCat(v.why, current[i] ? ": previous weight" : ": static weight");
        frozen_sum += plan[i].share;
        break;
      case Assessment::kBreaching:
        ++breaching;
        plan[i].share = options.probe_floor;
        plan[i].reason = WeightReason::kSloBreach;
        plan[i].reason_text = absl::StrCat(v.why, ": probe floor");
        break;
      case Assessment::kHealthy:
        ++healthy;
        if (v.cost < min_cost || healthy == 1) min_cost = v.cost;
        break;
    }
  }

  if (healthy > 0) {
    // Everything at or within the tolerance above the cheapest is "the cheapest"; ties split
    // equally, so the outcome does not depend on input order.
    const double cutoff = min_cost * (1 + options.cost_tie_tolerance);
    std::vector<size_t> cheapest;
    std::string cheapest_names;
    for (size_t i = 0; i < n; ++i) {
      if (verdicts[i].assessment != Assessment::kHealthy) continue;
      if (verdicts[i].cost <= cutoff) {
        cheapest.push_back(i);
        absl::StrAppend(&cheapest_names, cheapest_names.empty() ? "" : ", ", ToString(targets[i].key));
      }
    }
    const size_t costlier = healthy - cheapest.size();
    const double fixed = frozen_sum + options.probe_floor * static_cast<double>(breaching + costlier);
    const double rest = 1.0 - fixed;
    const double each = std::max(rest / static_cast<double>(cheapest.size()), options.probe_floor);
    for (size_t i = 0; i < n; ++i) {
      if (verdicts[i].assessment != Assessment::kHealthy) continue;
      if (verdicts[i].cost <= cutoff) {
        plan[i].share = each;
        plan[i].reason = WeightReason::kCheapest;
        plan[i].reason_text = cheapest.size() == 1
                                  ? absl::StrCat("cheapest meeting SLO (", Cost(verdicts[i].cost), ")")
                                  : absl::StrCat("cheapest meeting SLO, tied with ", cheapest.size() - 1,
                                                 " (", Cost(verdicts[i].cost), ")");
      } else {
        plan[i].share = options.probe_floor;
        plan[i].reason = WeightReason::kCostlier;
        plan[i].reason_text = absl::StrCat("meets SLO, ", Cost(verdicts[i].cost), " > ", Cost(min_cost),
                                           " of ", cheapest_names, ": probe floor");
      }
    }
  } else if (frozen_sum > 0) {
    const double rest = std::max(0.0, 1.0 - options.probe_floor * static_cast<double>(breaching));
    for (size_t i = 0; i < n; ++i) {
      if (verdicts[i].assessment != Assessment::kFrozen) continue;
      plan[i].share = rest * plan[i].share / frozen_sum;
      if (breaching > 0) absl::StrAppend(&plan[i].reason_text, ", plus the share of targets breaching SLO");
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      plan[i].share = statics[i];
      if (verdicts[i].assessment == Assessment::kBreaching) {
        plan[i].reason = WeightReason::kNoTargetMeetsSlo;
        plan[i].reason_text = absl::StrCat(verdicts[i].why, "; no target meets SLO: static weight");
      }
    }
  }

  // Floors and frozen weights may exceed the tier (many targets, large frozen shares): scale
  // everything down so the plan still sums to 1.
  double sum = 0;
  for (const auto& p : plan) sum += p.share;
  if (sum > 0 && std::abs(sum - 1.0) > 1e-12) {
    for (auto& p : plan) p.share /= sum;
  }
  return plan;
}

}  // namespace llmesh::control
