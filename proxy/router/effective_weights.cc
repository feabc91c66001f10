#include "proxy/router/effective_weights.h"

#include <algorithm>
#include <optional>

#include "absl/container/inlined_vector.h"

namespace llmesh::router {
namespace {

// What one priority tier holds: the sum of its static weights, and whether the assignment names
// any of its targets.
struct Tier {
  uint32_t priority = 0;
  uint64_t static_sum = 0;
  bool global = false;
};

}  // namespace

std::string_view WeightSourceName(WeightSource source) {
  switch (source) {
    case WeightSource::kStatic: return "static";
    case WeightSource::kGlobal: return "global";
  }
  return "unknown";
}

void ResolveWeights(const config::RouteSpec& route, const xds::AppliedWeights* weights, MonoTime now,
                    absl::Span<EffectiveWeight> out) {
  const size_t n = std::min(out.size(), route.targets.size());
  if (weights == nullptr || !weights->Fresh(now)) {
    for (size_t i = 0; i < n; ++i) out[i] = EffectiveWeight{route.targets[i].weight, WeightSource::kStatic};
    return;
  }
  // Routes have a handful of tiers: a linear search beats a map and stays off the heap.
  absl::InlinedVector<Tier, 4> tiers;
  auto tier_of = [&](uint32_t priority) -> Tier& {
    for (Tier& tier : tiers) {
      if (tier.priority == priority) return tier;
    }
    return tiers.emplace_back(Tier{priority, 0, false});
  };
  for (size_t i = 0; i < n; ++i) {
    const config::TargetSpec& target = route.targets[i];
    Tier& tier = tier_of(target.priority);
    tier.static_sum += target.weight;
    const std::optional<uint32_t> assigned =
        weights->AssignedWeight(route.name, target.provider->name, target.model->name, now);
    if (assigned) {
      out[i] = EffectiveWeight{*assigned, WeightSource::kGlobal};
      tier.global = true;
    } else {
      out[i] = EffectiveWeight{target.weight, WeightSource::kStatic};
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (out[i].source == WeightSource::kGlobal) continue;
    const Tier& tier = tier_of(route.targets[i].priority);
    if (!tier.global || tier.static_sum == 0) continue;
    // Global weights are basis points of the tier; a target the assignment leaves out keeps
    // the share its static weight gives it, on the same scale.
    const uint64_t scaled = static_cast<uint64_t>(out[i].weight) * 10000 / tier.static_sum;
    out[i].weight = out[i].weight == 0 ? 0 : static_cast<uint32_t>(std::max<uint64_t>(scaled, 1));
  }
}

}  // namespace llmesh::router
