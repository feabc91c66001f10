#include "proxy/xds/global_weights.h"

#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"

namespace llmesh::xds {
namespace {

// Writes the map key of a target into `key`, reusing its capacity.
void TargetKey(std::string_view route, std::string_view provider, std::string_view model, std::string& key) {
  key.clear();
  key.append(route).push_back('\0');
  key.append(provider).push_back('\0');
  key.append(model);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const AppliedWeights>> AppliedWeights::Create(
    const llmesh::discovery::v1::WeightAssignment& assignment, std::string version, MonoTime applied_at) {
  std::vector<std::string> errors;
  const auto ttl = std::chrono::seconds(assignment.ttl().seconds()) +
                   std::chrono::nanoseconds(assignment.ttl().nanos());
  if (!assignment.has_ttl() || ttl <= std::chrono::nanoseconds::zero()) {
    errors.push_back(absl::StrCat("ttl: must be > 0, got ", assignment.ttl().seconds(), "s ",
                                  assignment.ttl().nanos(), "ns"));
  }
  auto weights = std::shared_ptr<AppliedWeights>(new AppliedWeights());
  for (int r = 0; r < assignment.routes_size(); ++r) {
    const auto& route = assignment.routes(r);
    if (route.route().empty()) errors.push_back(absl::StrCat("routes[", r, "].route: required"));
    for (int t = 0; t < route.targets_size(); ++t) {
      const auto& target = route.targets(t);
      std::string key;
      TargetKey(route.route(), target.provider(), target.model(), key);
      if (!weights->weights_.emplace(std::move(key), target.weight()).second) {
        errors.push_back(absl::StrCat("routes[", r, "].targets[", t, "]: duplicate target \"", target.provider(),
                                      "/", target.model(), "\""));
      }
    }
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  weights->assignment_ = assignment;
  weights->version_ = std::move(version);
  weights->applied_at_ = applied_at;
  weights->expires_at_ = applied_at + std::chrono::duration_cast<Duration>(ttl);
  return std::shared_ptr<const AppliedWeights>(std::move(weights));
}

std::optional<uint32_t> AppliedWeights::AssignedWeight(std::string_view route, std::string_view provider,
                                                       std::string_view model, MonoTime now) const {
  if (!Fresh(now)) return std::nullopt;
  // Read on workers for every target of a request: the key buffer is reused, not allocated.
  thread_local std::string key;
  TargetKey(route, provider, model, key);
  auto it = weights_.find(AbslView(key));
  if (it == weights_.end()) return std::nullopt;
  return it->second;
}

uint32_t GlobalWeights::EffectiveWeight(std::string_view route, std::string_view provider, std::string_view model,
                                        uint32_t static_weight, MonoTime now) const {
  std::shared_ptr<const AppliedWeights> weights = Current();
  if (weights == nullptr) return static_weight;
  return weights->AssignedWeight(route, provider, model, now).value_or(static_weight);
}

}  // namespace llmesh::xds
