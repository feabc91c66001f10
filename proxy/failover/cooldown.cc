#include "proxy/failover/cooldown.h"

#include <algorithm>
#include <cmath>

namespace llmesh::failover {

void Cooldown::Impose(MonoTime now, std::chrono::milliseconds hint, double jitter, Duration cap) {
  // NaN fails both comparisons of clamp's contract, so it is replaced before clamping.
  if (std::isnan(jitter)) jitter = kMinCooldownJitter;
  jitter = std::clamp(jitter, kMinCooldownJitter, kMaxCooldownJitter);
  const Duration::rep cap_ticks = std::max<Duration::rep>(cap.count(), 0);
  // Converted, scaled and compared with the cap in floating point, so that an absurd hint (a
  // retry-after of centuries) cannot overflow the tick count.
  const double hint_ticks =
      std::max(std::chrono::duration<double, Duration::period>(hint).count(), 0.0);
  const double scaled = hint_ticks * jitter;
  const Duration::rep length =
      scaled >= static_cast<double>(cap_ticks) ? cap_ticks : static_cast<Duration::rep>(scaled);
  const Duration::rep wanted = now.time_since_epoch().count() + length;

  Duration::rep current = deadline_.load(std::memory_order_relaxed);
  while (current < wanted &&
         !deadline_.compare_exchange_weak(current, wanted, std::memory_order_relaxed)) {
  }
}

bool Cooldown::Active(MonoTime now) const {
  return now.time_since_epoch().count() < deadline_.load(std::memory_order_relaxed);
}

Duration Cooldown::Remaining(MonoTime now) const {
  const Duration::rep left =
      deadline_.load(std::memory_order_relaxed) - now.time_since_epoch().count();
  return Duration(std::max<Duration::rep>(left, 0));
}

}  // namespace llmesh::failover
