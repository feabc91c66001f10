#include "proxy/failover/target_health.h"

#include "proxy/failover/classification.h"

namespace llmesh::failover {

TargetHealth::TargetHealth(OutlierSettings settings) : outlier_(settings) {}

TargetState TargetHealth::State(MonoTime now) const {
  if (cooldown_.Active(now)) return TargetState::kCoolingDown;
  if (outlier_.Ejected(now)) return TargetState::kEjected;
  return TargetState::kHealthy;
}

void TargetHealth::RecordOutcome(MonoTime now, std::optional<provider::FailureKind> failure) {
  if (!failure.has_value()) {
    successes_.fetch_add(1, std::memory_order_relaxed);
    outlier_.RecordSuccess(now);
    return;
  }
  if (IsHealthFailure(*failure)) {
    health_failures_.fetch_add(1, std::memory_order_relaxed);
    outlier_.RecordFailure(now);
    return;
  }
  non_health_failures_.fetch_add(1, std::memory_order_relaxed);
}

void TargetHealth::RecordRateLimit(MonoTime now, std::chrono::milliseconds hint, double jitter,
                                   Duration cap) {
  cooldown_.Impose(now, hint, jitter, cap);
}

}  // namespace llmesh::failover
