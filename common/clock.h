// Time source for decision logic (cooldowns, ejections, budgets, windows).
//
// Decision code takes a `const Clock&` so tests can drive time with a FakeClock; I/O code uses
// steady_clock directly. Implementations must be safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>

namespace llmesh {

using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic now. Never goes backwards.
  virtual MonoTime Now() const = 0;
};

// The process clock: steady_clock.
class SystemClock final : public Clock {
 public:
  MonoTime Now() const override { return std::chrono::steady_clock::now(); }
  // The shared instance; lives for the whole process.
  static const SystemClock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(MonoTime start = MonoTime{} + std::chrono::hours(1)) : now_(start.time_since_epoch().count()) {}
  MonoTime Now() const override { return MonoTime(Duration(now_.load(std::memory_order_acquire))); }
  void Advance(Duration d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<Duration::rep> now_;
};

}  // namespace llmesh
