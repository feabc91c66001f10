#include "proxy/failover/outlier_detector.h"

#include <algorithm>

namespace llmesh::failover {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// Ejection word: deadline in microseconds (55 bits, over a thousand years of uptime), the
// pending-restart flag, and the multiplier (8 bits).
constexpr int kUntilShift = 9;
constexpr uint64_t kRestartPendingBit = uint64_t{1} << 8;
constexpr uint64_t kMultiplierMask = 0xff;
constexpr uint32_t kMultiplierLimit = 255;

// Bucket word: tag (24 bits) | successes (20 bits) | failures (20 bits).
constexpr int kTagBits = 24;
constexpr uint64_t kTagMask = (uint64_t{1} << kTagBits) - 1;
constexpr int kCountBits = 20;
constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
constexpr int kSuccessShift = kCountBits;
constexpr int kTagShift = 2 * kCountBits;

uint64_t TagOf(uint64_t bucket) { return bucket >> kTagShift; }
uint64_t SuccessesOf(uint64_t bucket) { return (bucket >> kSuccessShift) & kCountMask; }
uint64_t FailuresOf(uint64_t bucket) { return bucket & kCountMask; }
uint64_t MakeBucket(uint64_t tag, uint64_t successes, uint64_t failures) {
  return (tag << kTagShift) | (successes << kSuccessShift) | failures;
}

// How many bucket periods `tag` lies behind `current_tag`, modulo the tag space: small for a
// recent bucket, close to 2^24 for one written by a thread whose clock read was slightly later.
uint64_t TagDistance(uint64_t current_tag, uint64_t tag) { return (current_tag - tag) & kTagMask; }
constexpr uint64_t kTagNewerThreshold = uint64_t{1} << (kTagBits - 1);

int64_t CeilMicros(MonoTime t) {
  return std::chrono::ceil<microseconds>(t.time_since_epoch()).count();
}

Duration FromMicros(int64_t us) { return std::chrono::duration_cast<Duration>(microseconds(us)); }

// The multiplier stops growing once base × n reaches the maximum, so that a long bad spell does
// not take longer to decay than it takes to reach the cap.
uint32_t MaxMultiplier(Duration base, Duration max) {
  if (base <= Duration::zero()) return 1;
  const Duration::rep steps = (max.count() + base.count() - 1) / base.count();
  return static_cast<uint32_t>(std::clamp<Duration::rep>(steps, 1, kMultiplierLimit));
}

}  // namespace

OutlierDetector::OutlierDetector(OutlierSettings settings)
    : settings_(settings),
      max_ejection_(std::max(settings.max_ejection, settings.base_ejection)),
      bucket_length_(std::max<Duration>(settings.window / kWindowBuckets, milliseconds(1))),
      max_multiplier_(MaxMultiplier(settings.base_ejection, max_ejection_)),
      ejection_enabled_(settings.base_ejection > Duration::zero()),
      percentage_enabled_(settings.failure_percentage_threshold > 0.0 &&
                          settings.failure_percentage_threshold <= 100.0) {}

uint64_t OutlierDetector::Pack(const EjectionState& state) {
  return (static_cast<uint64_t>(state.until_us) << kUntilShift) |
         (state.restart_pending ? kRestartPendingBit : 0) | (state.multiplier & kMultiplierMask);
}

OutlierDetector::EjectionState OutlierDetector::Unpack(uint64_t word) {
  return EjectionState{static_cast<int64_t>(word >> kUntilShift), (word & kRestartPendingBit) != 0,
                       static_cast<uint32_t>(word & kMultiplierMask)};
}

int64_t OutlierDetector::BucketNumber(MonoTime now) const {
  return now.time_since_epoch() / bucket_length_;
}

void OutlierDetector::AddToWindow(MonoTime now, bool failure) {
  const int64_t number = BucketNumber(now);
  const uint64_t tag = static_cast<uint64_t>(number) & kTagMask;
  std::atomic<uint64_t>& bucket = buckets_[static_cast<size_t>(number % kWindowBuckets)];
  uint64_t word = bucket.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next;
    const uint64_t distance = TagDistance(tag, TagOf(word));
    if (distance != 0 && distance < kTagNewerThreshold) {
      // The slot still holds an older period: this outcome opens the new one.
      next = MakeBucket(tag, failure ? 0 : 1, failure ? 1 : 0);
    } else {
      // Same period, or a racing thread already opened a newer one; adding to it keeps the
      // outcome instead of wiping the newer counts.
      const uint64_t successes = std::min(SuccessesOf(word) + (failure ? 0 : 1), kCountMask);
      const uint64_t failures = std::min(FailuresOf(word) + (failure ? 1 : 0), kCountMask);
      next = MakeBucket(TagOf(word), successes, failures);
    }
    if (next == word) return;  // Saturated.
    if (bucket.compare_exchange_weak(word, next, std::memory_order_relaxed)) return;
  }
}

OutlierDetector::WindowCounts OutlierDetector::CountWindow(MonoTime now) const {
  const int64_t number = BucketNumber(now);
  const uint64_t tag = static_cast<uint64_t>(number) & kTagMask;
  const int64_t floor = window_floor_.load(std::memory_order_relaxed);
  WindowCounts counts;
  for (const std::atomic<uint64_t>& bucket : buckets_) {
    const uint64_t word = bucket.load(std::memory_order_relaxed);
    const uint64_t distance = TagDistance(tag, TagOf(word));
    if (distance >= kWindowBuckets) continue;
    if (number - static_cast<int64_t>(distance) < floor) continue;
    counts.successes += SuccessesOf(word);
    counts.failures += FailuresOf(word);
  }
  return counts;
}

uint32_t OutlierDetector::DecayedMultiplier(const EjectionState& state, MonoTime now) const {
  if (state.multiplier == 0 || !ejection_enabled_) return 0;
  const Duration until = FromMicros(state.until_us);
  if (now.time_since_epoch() < until) return state.multiplier;
  const int64_t healthy_periods = (now.time_since_epoch() - until) / settings_.base_ejection;
  return healthy_periods >= state.multiplier
             ? 0
             : state.multiplier - static_cast<uint32_t>(healthy_periods);
}

void OutlierDetector::Restart(MonoTime now) {
  const int64_t number = BucketNumber(now);
  consecutive_.store(0, std::memory_order_relaxed);
  window_floor_.store(number, std::memory_order_relaxed);
  // The current bucket may hold outcomes from before the restart; the floor cannot exclude them
  // without also excluding what follows in the same period, so the bucket is emptied instead.
  buckets_[static_cast<size_t>(number % kWindowBuckets)].store(
      MakeBucket(static_cast<uint64_t>(number) & kTagMask, 0, 0), std::memory_order_relaxed);
}

void OutlierDetector::RestartIfEjectionEnded(MonoTime now) {
  uint64_t word = ejection_.load(std::memory_order_relaxed);
  for (;;) {
    const EjectionState state = Unpack(word);
    if (!state.restart_pending || now.time_since_epoch() < FromMicros(state.until_us)) return;
    EjectionState cleared = state;
    cleared.restart_pending = false;
    // Only the thread that clears the flag restarts, so the restart happens once per ejection.
    if (ejection_.compare_exchange_weak(word, Pack(cleared), std::memory_order_relaxed)) break;
  }
  Restart(now);
}

void OutlierDetector::Eject(MonoTime now) {
  uint64_t word = ejection_.load(std::memory_order_relaxed);
  for (;;) {
    const EjectionState state = Unpack(word);
    // Another thread won the race to eject.
    if (now.time_since_epoch() < FromMicros(state.until_us)) return;
    const uint32_t multiplier = std::min(DecayedMultiplier(state, now) + 1, max_multiplier_);
    const Duration length = std::min<Duration>(settings_.base_ejection * multiplier, max_ejection_);
    const EjectionState next{CeilMicros(now + length), true, multiplier};
    if (ejection_.compare_exchange_weak(word, Pack(next), std::memory_order_relaxed)) break;
  }
  ejections_total_.fetch_add(1, std::memory_order_relaxed);
  Restart(now);
}

void OutlierDetector::RecordSuccess(MonoTime now) {
  RestartIfEjectionEnded(now);
  AddToWindow(now, /*failure=*/false);
  consecutive_.store(0, std::memory_order_relaxed);
}

void OutlierDetector::RecordFailure(MonoTime now) {
  RestartIfEjectionEnded(now);
  AddToWindow(now, /*failure=*/true);
  const uint32_t streak = consecutive_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!ejection_enabled_ || Ejected(now)) return;
  if (settings_.consecutive_failures > 0 && streak >= settings_.consecutive_failures) {
    Eject(now);
    return;
  }
  if (!percentage_enabled_) return;
  const WindowCounts counts = CountWindow(now);
  const uint64_t total = counts.successes + counts.failures;
  // Compared as products so that exactly the threshold (say 3 failures in 60) ejects, with no
  // rounding from a division.
  if (total >= settings_.minimum_requests && total > 0 &&
      static_cast<double>(counts.failures) * 100.0 >=
          settings_.failure_percentage_threshold * static_cast<double>(total)) {
    Eject(now);
  }
}

bool OutlierDetector::Ejected(MonoTime now) const {
  const EjectionState state = Unpack(ejection_.load(std::memory_order_relaxed));
  return now.time_since_epoch() < FromMicros(state.until_us);
}

Duration OutlierDetector::EjectionRemaining(MonoTime now) const {
  const EjectionState state = Unpack(ejection_.load(std::memory_order_relaxed));
  return std::max(FromMicros(state.until_us) - now.time_since_epoch(), Duration::zero());
}

uint64_t OutlierDetector::ejections_total() const {
  return ejections_total_.load(std::memory_order_relaxed);
}

double OutlierDetector::FailurePercentage(MonoTime now) const {
  const WindowCounts counts = CountWindow(now);
  const uint64_t total = counts.successes + counts.failures;
  if (total == 0) return 0.0;
  return 100.0 * static_cast<double>(counts.failures) / static_cast<double>(total);
}

uint32_t OutlierDetector::consecutive_failures() const {
  return consecutive_.load(std::memory_order_relaxed);
}

uint32_t OutlierDetector::EjectionMultiplier(MonoTime now) const {
  return DecayedMultiplier(Unpack(ejection_.load(std::memory_order_relaxed)), now);
}

}  // namespace llmesh::failover
