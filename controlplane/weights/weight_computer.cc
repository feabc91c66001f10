#include "controlplane/weights/weight_computer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controlplane/weights/target_weights.h"

namespace llmesh::control {
namespace {

absl::Status OutOfRange(const char* name, double value, const char* range) {
  return absl::InvalidArgumentError(absl::StrFormat("weight options: %s: %g is not in %s", name, value, range));
}

// The override in force for one target of one tier, chosen independently of input order.
const WeightOverride* ActiveOverride(const std::string& route, const TargetKey& key,
                                     const std::vector<WeightOverride>& overrides, MonoTime now) {
  const WeightOverride* best = nullptr;
  auto rank = [](const WeightOverride& o) {
    // Smaller is stronger: route-specific, then drain, then the smaller weight.
    return std::make_tuple(o.route.empty() ? 1 : 0, o.kind == WeightOverride::Kind::kDrain ? 0 : 1,
                           o.kind == WeightOverride::Kind::kDrain ? 0u : o.weight);
  };
  for (const auto& o : overrides) {
    if (o.target != key || now >= o.expires_at) continue;
    if (!o.route.empty() && o.route != route) continue;
    if (best == nullptr || rank(o) < rank(*best)) best = &o;
  }
  return best;
}

std::string OverrideText(const WeightOverride& o, MonoTime now) {
  const int64_t left = std::chrono::duration_cast<std::chrono::seconds>(o.expires_at - now).count();
  std::string text = o.kind == WeightOverride::Kind::kDrain
                         ? absl::StrFormat("drain (operator, %ds left)", left)
                         : absl::StrFormat("override %d bp (operator, %ds left)", o.weight, left);
  if (!o.note.empty()) absl::StrAppend(&text, ": ", o.note);
  return text;
}

// Largest-remainder rounding of fractions summing to 1 (or all zero) to basis points summing
// to kWeightTotal (or all zero). Equal remainders favour the lower index (smaller key).
std::vector<uint32_t> ToBasisPoints(const std::vector<double>& shares) {
  const size_t n = shares.size();
  std::vector<uint32_t> bp(n, 0);
  double sum = 0;
  for (double s : shares) sum += s;
  if (n == 0 || sum <= 0) return bp;
  std::vector<double> remainder(n);
  uint32_t assigned = 0;
  for (size_t i = 0; i < n; ++i) {
    const double exact = shares[i] / sum * kWeightTotal;
    bp[i] = static_cast<uint32_t>(std::floor(exact));
    remainder[i] = exact - bp[i];
    assigned += bp[i];
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t k = 0; assigned < kWeightTotal; k = (k + 1) % n, ++assigned) ++bp[order[k]];
  return bp;
}

bool ShouldPublish(const std::vector<TargetWeight>& published, const std::vector<TargetWeight>& next,
                   bool settled, double hysteresis) {
  if (published.size() != next.size()) return true;
  bool differs = false;
  for (size_t i = 0; i < next.size(); ++i) {
    const TargetWeight& p = published[i];
    const TargetWeight& w = next[i];
    if (p.target != w.target || p.reason != w.reason) return true;
    const uint32_t delta = p.weight > w.weight ? p.weight - w.weight : w.weight - p.weight;
    if (delta > hysteresis * std::max(p.weight, w.weight)) return true;
    differs |= delta != 0;
  }
  return settled && differs;
}

}  // namespace

absl::Status ValidateWeightOptions(const WeightOptions& o) {
  if (!(o.probe_floor >= 0 && o.probe_floor < 1)) return OutOfRange("probe_floor", o.probe_floor, "[0, 1)");
  if (!(o.max_step > 0)) return OutOfRange("max_step", o.max_step, "(0, inf)");
  if (!(o.hysteresis >= 0 && o.hysteresis < 1)) return OutOfRange("hysteresis", o.hysteresis, "[0, 1)");
  if (!(o.ewma_alpha > 0 && o.ewma_alpha <= 1)) return OutOfRange("ewma_alpha", o.ewma_alpha, "(0, 1]");
  if (!(o.settle_epsilon >= 0)) return OutOfRange("settle_epsilon", o.settle_epsilon, "[0, inf)");
  if (!(o.cost_tie_tolerance >= 0)) {
    return OutOfRange("cost_tie_tolerance", o.cost_tie_tolerance, "[0, inf)");
  }
  if (o.stale_after <= Duration::zero()) {
    return absl::InvalidArgumentError("weight options: stale_after must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<WeightComputer> WeightComputer::Create(const WeightOptions& options, const Clock& clock) {
  if (absl::Status s = ValidateWeightOptions(options); !s.ok()) return s;
  return WeightComputer(options, clock);
}

absl::StatusOr<std::vector<TierAssignment>> WeightComputer::Compute(
    const std::vector<TierInput>& tiers, const TelemetryWindow& telemetry,
    const std::vector<WeightOverride>& overrides) {
  // Validate everything before touching state, so a bad input leaves the computer as it was.
  std::map<TierId, const TierInput*> ordered;
  for (const TierInput& tier : tiers) {
    if (!ordered.emplace(TierId(tier.route, tier.priority), &tier).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("route \"%s\" priority %d: tier listed twice", tier.route, tier.priority));
    }
    std::set<TargetKey> seen;
    for (const auto& t : tier.targets) {
      if (!seen.insert(t.key).second) {
        return absl::InvalidArgumentError(absl::StrFormat("route \"%s\" priority %d: target %s listed twice",
                                                          tier.route, tier.priority, ToString(t.key)));
      }
    }
  }
  for (const auto& o : overrides) {
    if (o.kind == WeightOverride::Kind::kWeight && o.weight > kWeightTotal) {
      return absl::InvalidArgumentError(
          absl::StrFormat("override for %s: weight %d exceeds %d", ToString(o.target), o.weight, kWeightTotal));
    }
  }

  const MonoTime now = clock_->Now();
  std::map<TierId, TierState> next_state;
  std::vector<TierAssignment> out;
  out.reserve(ordered.size());
  for (const auto& [id, tier] : ordered) {
    TierState state;
    if (auto it = tiers_.find(id); it != tiers_.end()) state = std::move(it->second);
    out.push_back(ComputeTier(*tier, telemetry, overrides, now, &state));
    next_state.emplace(id, std::move(state));
  }
  tiers_ = std::move(next_state);
  return out;
}

TierAssignment WeightComputer::ComputeTier(const TierInput& tier, const TelemetryWindow& telemetry,
                                           const std::vector<WeightOverride>& overrides, MonoTime now,
                                           TierState* state) {
  std::vector<TierInput::Target> targets = tier.targets;
  std::sort(targets.begin(), targets.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  const size_t n = targets.size();

  // 1. Current weights.
  std::vector<std::optional<double>> current(n);
  double known = 0;
  for (size_t i = 0; i < n; ++i) {
    if (auto it = state->smoothed.find(targets[i].key); it != state->smoothed.end()) {
      current[i] = it->second;
      known += it->second;
    }
  }
  std::vector<double> w(n);
  if (known <= 0) {
    // First sight of the tier, or nothing it held survives: start where sidecars are without
    // a control plane. `current` stays empty, so frozen targets say "static weight".
    w = StaticShares(targets);
    for (auto& c : current) c.reset();
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (current[i]) *current[i] /= known;
      w[i] = current[i].value_or(0.0);
    }
  }

  // 2. Targets.
  const std::vector<TargetPlan> plan = PlanTier(targets, current, tier.slo, telemetry, options_, now);

  // 3. Smoothing under the step bound.
  std::vector<double> bound(n);
  bool settle = true;
  for (size_t i = 0; i < n; ++i) {
    bound[i] = options_.max_step * std::max({w[i], plan[i].share, options_.probe_floor});
    const double gap = std::abs(plan[i].share - w[i]);
    settle &= gap <= std::min(options_.settle_epsilon, bound[i]);
  }
  // A target breaching its SLO is left at once, not eased away from: clients' failures and
  // slow answers are what the bound must never prolong. Its share goes to the others in the
  // same interval; only moving back onto a recovered target is smoothed.
  bool leave_breach = false;
  for (size_t i = 0; i < n; ++i) {
    leave_breach |= plan[i].reason == WeightReason::kSloBreach && w[i] > plan[i].share;
  }
  if (settle || leave_breach) {
    for (size_t i = 0; i < n; ++i) w[i] = plan[i].share;
  } else {
    double lambda = 1;
    std::vector<double> move(n);
    for (size_t i = 0; i < n; ++i) {
      move[i] = options_.ewma_alpha * (plan[i].share - w[i]);
      if (std::abs(move[i]) > bound[i]) lambda = std::min(lambda, bound[i] / std::abs(move[i]));
    }
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      w[i] = std::max(0.0, w[i] + lambda * move[i]);
      sum += w[i];
    }
    // Only rounding error separates the sum from 1; renormalising keeps it from drifting over
    // months of intervals.
    if (sum > 0) {
      for (double& x : w) x /= sum;
    }
  }
  state->smoothed.clear();
  for (size_t i = 0; i < n; ++i) state->smoothed.emplace(targets[i].key, w[i]);

  // 4. Overrides.
  std::vector<double> final_shares = w;
  std::vector<const WeightOverride*> pins(n, nullptr);
  double pinned = 0;
  double free_sum = 0;
  size_t free_count = 0;
  for (size_t i = 0; i < n; ++i) {
    pins[i] = ActiveOverride(tier.route, targets[i].key, overrides, now);
    if (pins[i] != nullptr) {
      final_shares[i] =
          pins[i]->kind == WeightOverride::Kind::kDrain ? 0.0 : static_cast<double>(pins[i]->weight) / kWeightTotal;
      pinned += final_shares[i];
    } else {
      free_sum += w[i];
      ++free_count;
    }
  }
  if (pinned > 1 || (free_count == 0 && pinned > 0)) {
    for (size_t i = 0; i < n; ++i) final_shares[i] = pins[i] != nullptr ? final_shares[i] / pinned : 0.0;
  } else if (free_count > 0 && pinned > 0) {
    const double rest = 1 - pinned;
    for (size_t i = 0; i < n; ++i) {
      if (pins[i] != nullptr) continue;
      final_shares[i] = free_sum > 0 ? rest * w[i] / free_sum : rest / static_cast<double>(free_count);
    }
  } else if (free_count > 0 && free_sum <= 0) {
    // Every free target's smoothed weight is 0 and the pins (all drains) hold nothing: the
    // tier's traffic still has to go somewhere.
    for (size_t i = 0; i < n; ++i) final_shares[i] = pins[i] != nullptr ? 0.0 : 1.0 / static_cast<double>(free_count);
  }

  // 5. Basis points and reasons.
  const std::vector<uint32_t> bp = ToBasisPoints(final_shares);
  std::vector<double> goals(n);
  for (size_t i = 0; i < n; ++i) goals[i] = plan[i].share;
  const std::vector<uint32_t> goal_bp = ToBasisPoints(goals);
  TierAssignment result;
  result.route = tier.route;
  result.priority = tier.priority;
  result.weights.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    TargetWeight tw;
    tw.target = targets[i].key;
    tw.weight = bp[i];
    tw.goal = goal_bp[i];
    if (pins[i] != nullptr) {
      tw.reason = pins[i]->kind == WeightOverride::Kind::kDrain ? WeightReason::kDrain : WeightReason::kOverride;
      tw.reason_text = OverrideText(*pins[i], now);
    } else {
      tw.reason = plan[i].reason;
      tw.reason_text = plan[i].reason_text;
    }
    result.weights.push_back(std::move(tw));
  }

  // 6. Hysteresis.
  result.publish = !state->has_published ||
                   ShouldPublish(state->published, result.weights, settle, options_.hysteresis);
  if (result.publish) {
    state->published = result.weights;
    state->has_published = true;
  }
  result.published = state->published;
  return result;
}

}  // namespace llmesh::control
