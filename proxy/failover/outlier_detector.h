// Outlier detection for one provider+model, with Envoy's semantics.
//
// The FailoverExecutor records every attempt's health outcome here (through TargetHealth); the
// Router's plan skips an ejected target unless no healthy target is left in the route (panic
// mode). A target is ejected when either
//   - `consecutive_failures` health failures arrive in a row (a success resets the count), or
//   - over the sliding `window`, at least `minimum_requests` outcomes were recorded and failures
//     make up at least `failure_percentage_threshold` percent of them (checked on each failure).
// The n-th ejection lasts min(base_ejection × n, max_ejection). The multiplier n decays: it drops
// by one for each full base_ejection spent un-ejected, so a target that stays healthy returns to
// short ejections (Envoy's rule).
//
// Fair chance: when an ejection starts, the failure streak and the window restart (the data that
// caused the ejection is spent). Outcomes recorded while ejected (panic-mode probes, attempts
// that were in flight when the ejection began) still count: in the totals, in
// consecutive_failures() and FailurePercentage(), and a successful probe ends the streak; they
// cannot start a second ejection. With the first outcome recorded after the ejection has ended,
// streak and window restart once more, so the target is judged only on what it does after it
// returns.
//
// The window is a ring of kWindowBuckets time buckets of window/12 (at least 1 ms) each; it
// covers the current bucket and the 11 before it, i.e. between 11/12 of the window and the whole
// window. Each bucket is one 64-bit word: a 24-bit bucket-number tag, a 20-bit success count and
// a 20-bit failure count (counts saturate at 2^20-1 per bucket). A bucket whose tag is not one of
// the current window's bucket numbers is stale and ignored, and reset by the first writer of the
// new period (compare-and-swap). Tags are bucket numbers modulo 2^24: a bucket untouched for
// exactly a multiple of 2^24 periods (about 2.6 years with the 60 s default) would be read as
// current, which we accept.
//
// Threading: one OutlierDetector is shared by all workers. Every method is lock-free and may be
// called from any thread. All atomics use relaxed ordering: each word is self-contained (the
// ejection state — deadline, multiplier, pending restart — is one packed word updated by
// compare-and-swap, each bucket is one word) and none publishes other memory. Between words the
// only races are benign: an outcome recorded concurrently with a restart may land on either side
// of it, or be dropped.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/clock.h"

namespace llmesh::failover {

struct OutlierSettings {
  // Health failures in a row that eject; 0 disables consecutive-failure ejection.
  uint32_t consecutive_failures = 5;
  // Length of the first ejection, and the unit of growth and decay; <= 0 disables ejection.
  Duration base_ejection = std::chrono::seconds(30);
  // Longest ejection; raised to base_ejection when lower (as Envoy does).
  Duration max_ejection = std::chrono::seconds(300);
  // Failure percentage over the window that ejects (>=); outside (0, 100] disables it.
  double failure_percentage_threshold = 5.0;
  // Outcomes the window must hold before the percentage is judged.
  uint32_t minimum_requests = 50;
  // Length of the sliding window for the failure percentage.
  Duration window = std::chrono::seconds(60);
};

class OutlierDetector {
 public:
  static constexpr int kWindowBuckets = 12;

  explicit OutlierDetector(OutlierSettings settings = {});
  OutlierDetector(const OutlierDetector&) = delete;
  OutlierDetector& operator=(const OutlierDetector&) = delete;

  // Records a successful attempt: ends the failure streak and adds a success to the window.
  void RecordSuccess(MonoTime now);

  // Records a health failure (a kind for which IsHealthFailure is true) and ejects the target
  // when it completes a streak or pushes the window's failure percentage over the threshold.
  void RecordFailure(MonoTime now);

  // True while an ejection is in progress.
  bool Ejected(MonoTime now) const;

  // Time left of the current ejection; zero when not ejected.
  Duration EjectionRemaining(MonoTime now) const;

  // Ejections since construction.
  uint64_t ejections_total() const;

  // Failure percentage (0..100) over the window since the last restart; 0 with no outcomes.
  double FailurePercentage(MonoTime now) const;

  // Health failures in a row since the last success or restart.
  uint32_t consecutive_failures() const;

  // The multiplier n of the current ejection, or while not ejected the one the last ejection
  // used after decay (the next ejection uses this + 1, capped); 0 for a target never ejected or
  // fully recovered.
  uint32_t EjectionMultiplier(MonoTime now) const;

  const OutlierSettings& settings() const { return settings_; }

 private:
  struct EjectionState {
    int64_t until_us = 0;  // Ejection deadline, microseconds since the steady epoch; 0 = never.
    bool restart_pending = false;  // The post-ejection restart has not happened yet.
    uint32_t multiplier = 0;
  };
  struct WindowCounts {
    uint64_t successes = 0;
    uint64_t failures = 0;
  };

  static uint64_t Pack(const EjectionState& state);
  static EjectionState Unpack(uint64_t word);

  int64_t BucketNumber(MonoTime now) const;
  void AddToWindow(MonoTime now, bool failure);
  WindowCounts CountWindow(MonoTime now) const;
  uint32_t DecayedMultiplier(const EjectionState& state, MonoTime now) const;
  // Restarts streak and window after an ejection that has ended, once per ejection.
  void RestartIfEjectionEnded(MonoTime now);
  void Restart(MonoTime now);
  void Eject(MonoTime now);

  const OutlierSettings settings_;
  const Duration max_ejection_;
  const Duration bucket_length_;
  const uint32_t max_multiplier_;
  const bool ejection_enabled_;
  const bool percentage_enabled_;

  std::atomic<uint64_t> ejection_{0};
  std::atomic<uint32_t> consecutive_{0};
  std::atomic<uint64_t> ejections_total_{0};
  // Buckets numbered below this one predate the last restart and are ignored.
  std::atomic<int64_t> window_floor_{0};
  std::array<std::atomic<uint64_t>, kWindowBuckets> buckets_{};
};

}  // namespace llmesh::failover
