// Metric series: Counter, Gauge and Histogram, the values behind one label set of a family.
//
// These are the handles the request path touches. Recording (Inc, Add, Set, Observe) is
// lock-free and allocation-free: relaxed atomics only, since a scrape needs each value to be
// eventually visible, not ordered with anything else. Handles are obtained from a family in
// registry.h at config-compile time and stay valid for the registry's lifetime.
//
// Doubles (USD cost, gauge values, histogram sums) are kept as their IEEE-754 bit pattern in a
// std::atomic<uint64_t>, which is lock-free on every target we build for; adding to one is a
// compare-exchange loop on that pattern (what atomic<double>::fetch_add does internally, made
// explicit). Under contention the loop retries but never blocks. Each series sits on its own
// cache line so that workers recording into different series do not contend.
//
// Threading: every method may be called from any thread concurrently.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace llmesh::metrics {

namespace internal {
// Adds `v` to the double stored as bits in `cell`. Lock-free; retries while others race.
inline void AtomicAddDouble(std::atomic<uint64_t>& cell, double v) {
  uint64_t old_bits = cell.load(std::memory_order_relaxed);
  while (!cell.compare_exchange_weak(old_bits,
                                     std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + v),
                                     std::memory_order_relaxed, std::memory_order_relaxed)) {
  }
}
inline double LoadDouble(const std::atomic<uint64_t>& cell) {
  return std::bit_cast<double>(cell.load(std::memory_order_relaxed));
}
}  // namespace internal

// A monotonically increasing total. Integer increments (requests, tokens) are a single
// fetch_add and exact up to 2^64; fractional amounts (cost in USD) accumulate in a separate
// double. Value() is their sum.
class alignas(64) Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc(uint64_t n = 1) { count_.fetch_add(n, std::memory_order_relaxed); }

  // Adds a non-negative amount. Negative or NaN amounts are ignored (a counter never goes
  // down); +Inf is accepted and sticks.
  void Add(double v) {
    if (!(v > 0)) return;
    internal::AtomicAddDouble(fraction_bits_, v);
  }

  double Value() const {
    return static_cast<double>(count_.load(std::memory_order_relaxed)) +
           internal::LoadDouble(fraction_bits_);
  }

 private:
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> fraction_bits_{0};  // Bits of +0.0.
};

// A value that goes up and down (provider state, in-flight requests).
class alignas(64) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { bits_.store(std::bit_cast<uint64_t>(v), std::memory_order_relaxed); }
  void Add(double v) { internal::AtomicAddDouble(bits_, v); }
  double Value() const { return internal::LoadDouble(bits_); }

 private:
  std::atomic<uint64_t> bits_{0};
};

// A consistent-enough copy of a histogram for rendering and estimates. Bucket i counts
// observations v with bounds[i-1] < v <= bounds[i]; the last bucket (index bounds.size()) has
// the rest (+Inf). `count` is the sum of the buckets.
struct HistogramSnapshot {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;
  double sum = 0;
  uint64_t count = 0;

  // Estimates the q-quantile (q in [0, 1], clamped) the way Prometheus' histogram_quantile
  // does: find the bucket holding rank q*count and interpolate linearly inside it. The first
  // bucket starts at 0 (or at its bound if that is <= 0); a rank in the +Inf bucket returns
  // the highest finite bound. NaN when there are no observations or no finite bounds.
  double Quantile(double q) const;
};

// Distribution of observed values over fixed buckets (latency in seconds, token counts).
class alignas(64) Histogram {
 public:
  // `bounds` (strictly increasing, finite) must outlive the histogram; families own them.
  explicit Histogram(const std::vector<double>* bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Records `v`: one binary search over the bounds and two relaxed atomic updates. NaN is
  // ignored (it would poison the sum forever).
  void Observe(double v);

  HistogramSnapshot Snapshot() const;

  // Snapshot().Quantile(q): for the admin page, not for the request path (it allocates).
  double Quantile(double q) const { return Snapshot().Quantile(q); }

  std::span<const double> bounds() const { return *bounds_; }

 private:
  const std::vector<double>* bounds_;
  // bounds_->size() + 1 per-bucket (not cumulative) counts; the count is derived from them so
  // that a rendered _count always equals the +Inf bucket.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_bits_{0};
};

}  // namespace llmesh::metrics
