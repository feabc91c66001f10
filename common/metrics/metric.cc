#include "common/metrics/metric.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llmesh::metrics {

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  // Prometheus buckets are "le": v belongs to the first bound >= v.
  const auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
  counts_[static_cast<size_t>(it - bounds_->begin())].fetch_add(1, std::memory_order_relaxed);
  internal::AtomicAddDouble(sum_bits_, v);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot s;
  s.bounds = *bounds_;
  s.counts.resize(bounds_->size() + 1);
  for (size_t i = 0; i < s.counts.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = internal::LoadDouble(sum_bits_);
  return s;
}

double HistogramSnapshot::Quantile(double q) const {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (count == 0 || bounds.empty()) return kNaN;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(count);
  uint64_t below = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const uint64_t cumulative = below + counts[i];
    // Skipping empty buckets makes q=0 land on the first bucket that has data.
    if (counts[i] > 0 && static_cast<double>(cumulative) >= rank) {
      if (i == bounds.size()) return bounds.back();
      const double upper = bounds[i];
      const double lower = i == 0 ? 0.0 : bounds[i - 1];
      if (i == 0 && upper <= 0) return upper;
      const double inside = (rank - static_cast<double>(below)) / static_cast<double>(counts[i]);
      return lower + (upper - lower) * inside;
    }
    below = cumulative;
  }
  return bounds.back();
}

}  // namespace llmesh::metrics
