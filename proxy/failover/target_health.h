// Everything the workers share about the health of one provider+model (one route target).
//
// The FailoverExecutor records each attempt's outcome and each rate-limit hint here; the Router
// reads State() and CooldownRemaining() to build a request's plan; the admin /providers page and
// the llmesh_provider_state metric read the same. Combines a Cooldown (provider-requested
// back-off), an OutlierDetector (our own verdict from outcomes) and outcome totals.
//
// State precedence: when a target is both cooling down and ejected, State() reports
// kCoolingDown. The provider asked us to stay away, and the plan never tries a cooling-down
// target, whereas an ejected one may still be tried in panic mode; reporting the stricter state
// keeps the plan from sending traffic the provider has explicitly refused.
//
// Threading: one TargetHealth per provider+model for the whole process, held by unique_ptr in a
// registry so its address is stable; non-copyable and non-movable. Every method is lock-free and
// may be called from any thread (see the components for memory orders; the totals are relaxed
// counters).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "common/clock.h"
#include "proxy/failover/cooldown.h"
#include "proxy/failover/outlier_detector.h"
#include "proxy/provider/failure.h"

namespace llmesh::failover {

// Values match the llmesh_provider_state metric.
enum class TargetState : uint8_t { kHealthy = 0, kCoolingDown = 1, kEjected = 2 };

class TargetHealth {
 public:
  explicit TargetHealth(OutlierSettings settings = {});
  TargetHealth(const TargetHealth&) = delete;
  TargetHealth& operator=(const TargetHealth&) = delete;

  // kCoolingDown while the cooldown is active (even if also ejected), else kEjected while
  // ejected, else kHealthy.
  TargetState State(MonoTime now) const;

  // Records one attempt's outcome: nullopt for a success. A failure feeds outlier detection and
  // the health-failure total only when IsHealthFailure(kind); other kinds (auth, model not found,
  // quota, invalid request, context length) say nothing about the target's health and only
  // count in non_health_failures_total().
  void RecordOutcome(MonoTime now, std::optional<provider::FailureKind> failure);

  // Imposes a cooldown from a 429/503/529 hint; see Cooldown::Impose. Does not record an
  // outcome: call RecordOutcome for the failed attempt as well.
  void RecordRateLimit(MonoTime now, std::chrono::milliseconds hint, double jitter,
                       Duration cap = kDefaultCooldownCap);

  Duration CooldownRemaining(MonoTime now) const { return cooldown_.Remaining(now); }
  Duration EjectionRemaining(MonoTime now) const { return outlier_.EjectionRemaining(now); }

  const Cooldown& cooldown() const { return cooldown_; }
  const OutlierDetector& outlier_detector() const { return outlier_; }

  uint64_t successes_total() const { return successes_.load(std::memory_order_relaxed); }
  uint64_t health_failures_total() const {
    return health_failures_.load(std::memory_order_relaxed);
  }
  uint64_t non_health_failures_total() const {
    return non_health_failures_.load(std::memory_order_relaxed);
  }

 private:
  Cooldown cooldown_;
  OutlierDetector outlier_;
  std::atomic<uint64_t> successes_{0};
  std::atomic<uint64_t> health_failures_{0};
  std::atomic<uint64_t> non_health_failures_{0};
};

}  // namespace llmesh::failover
