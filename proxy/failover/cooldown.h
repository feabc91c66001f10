// "Stay away until": the cooldown of one provider+model after a rate-limit or overload hint.
//
// When a provider answers 429/503/529 with a retry-after style hint, the FailoverExecutor moves
// the request on at once and imposes a cooldown on that provider+model; the Router's plan then
// never tries the target until the cooldown has passed (DESIGN.md §3). The duration is the hint
// times a jitter in [1.0, 1.5] (so that many clients do not return in lockstep), capped.
//
// Threading: one Cooldown is shared by all workers (it lives in TargetHealth). Every method is
// lock-free and may be called from any thread. The deadline is a single atomic word that guards
// no other memory, so relaxed ordering is enough: a reader sees either the old or the new
// deadline, and Impose only ever moves it later (compare-and-swap maximum).
#pragma once

#include <atomic>
#include <chrono>

#include "absl/random/distributions.h"
#include "common/clock.h"

namespace llmesh::failover {

inline constexpr double kMinCooldownJitter = 1.0;
inline constexpr double kMaxCooldownJitter = 1.5;
inline constexpr Duration kDefaultCooldownCap = std::chrono::seconds(300);

class Cooldown {
 public:
  Cooldown() = default;
  Cooldown(const Cooldown&) = delete;
  Cooldown& operator=(const Cooldown&) = delete;

  // Keeps the target away until now + min(hint × jitter, cap), or until the current deadline if
  // that is later (a short hint never shortens a long cooldown). `jitter` is drawn by the caller
  // (see DrawCooldownJitter) and clamped into [1.0, 1.5]; a negative hint counts as zero, a
  // negative cap as zero.
  void Impose(MonoTime now, std::chrono::milliseconds hint, double jitter,
              Duration cap = kDefaultCooldownCap);

  // True while `now` is before the deadline.
  bool Active(MonoTime now) const;

  // Time left until the deadline; zero when not active.
  Duration Remaining(MonoTime now) const;

 private:
  // Deadline as steady-clock ticks since the clock's epoch; 0 = never imposed (steady time is
  // always well past its epoch).
  std::atomic<Duration::rep> deadline_{0};
};

// Draws a cooldown jitter uniformly from [1.0, 1.5] with any uniform random bit generator
// (absl::BitGen, absl::BitGenRef, std::mt19937_64, ...). The generator is not shared: use one per
// worker.
template <typename URBG>
double DrawCooldownJitter(URBG&& gen) {
  return absl::Uniform(absl::IntervalClosedClosed, gen, kMinCooldownJitter, kMaxCooldownJitter);
}

}  // namespace llmesh::failover
