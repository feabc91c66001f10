#include "tests/fakes/fake_provider/fake_plan.h"

#include "common/status_macros.h"

namespace llmesh::fakes {

absl::StatusOr<Plan> Planner::MakePlan(const http::Request& request) {
  const uint64_t version = state_.script.version();
  if (version != script_version_) {
    script_ = state_.script.Load();
    script_version_ = version;
  }
  Plan plan;
  bool scripted = false;
  if (script_ && state_.script.TakeUse(*script_)) {
    plan.script = *script_;
    scripted = true;
  }
  for (const auto& field : request) {
    LLMESH_ASSIGN_OR_RETURN(bool applied,
                            ApplyFakeHeader(field.name_string(), field.value(), plan.script));
    scripted = scripted || applied;
  }
  LLMESH_RETURN_IF_ERROR(CheckScriptForFlavor(plan.script, state_.options.flavor));
  const double p = plan.script.fail_probability;
  plan.fail = scripted && (p <= 0.0 || p >= 1.0 || absl::Bernoulli(random_, p));
  if (plan.fail && plan.script.HasFailure()) {
    state_.stats.scripted_failures.fetch_add(1, std::memory_order_relaxed);
  }
  return plan;
}

}  // namespace llmesh::fakes
