// LatencySketch: a mergeable latency distribution with bounded relative error (DDSketch-style).
//
// Sidecars record one value per request (total latency, time to first token) into a sketch per
// worker, report it on the telemetry stream as `llmesh.telemetry.v1.LatencySketch`, and clear it;
// the control plane merges the cluster's reports over a sliding window and reads percentiles
// (p95 for route SLOs) from the result (DESIGN.md §5).
//
// Values are latencies in microseconds. With relative accuracy alpha, gamma = (1 + alpha) /
// (1 - alpha) and a value v > 1 µs falls in the bucket with index i = ceil(log_gamma(v)), which
// covers (gamma^(i-1), gamma^i]. Every value in a bucket is within relative error alpha of the
// bucket's representative 2 * gamma^i / (gamma + 1), so quantiles read back are too, whatever
// the distribution. Two sketches with the same alpha merge exactly by adding bucket counts.
//
// Special values (documented behaviour, tested):
// - Values of at most 1 µs, 0 included, have no log bucket and are counted in the zero bucket.
// - Negative values are recorded as 0: a latency cannot be negative, so one only comes from a
//   clock step, and keeping it counted keeps count() equal to the number of requests.
// - NaN and infinities are ignored (not counted).
// - Values above kMaxTrackableMicros (1e12 µs, 11.6 days) are counted in the top bucket; sum()
//   and max() still see the true value.
//
// Memory: buckets are stored densely from the lowest to the highest index seen, in a vector that
// grows as needed (amortised doubling) and is kept across Clear(). The index range is bounded by
// MaxBucketIndex(alpha): at most 1,382 buckets (11 KiB) at alpha = 0.01 and 13,816 buckets
// (108 KiB) at the finest accuracy allowed, kMinRelativeAccuracy. FromProto enforces the same
// bound, so a hostile report cannot make us allocate more.
//
// Threading: not thread-safe. A sketch is owned by one thread: one per worker on the sidecar
// (Add on the worker's hot path, no locks), and the report is built on that worker too. Const
// methods may run concurrently with each other but not with a mutating call.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "llmesh/telemetry/v1/sketch.pb.h"

namespace llmesh::metrics {

class LatencySketch {
 public:
  static constexpr double kDefaultRelativeAccuracy = 0.01;
  // The supported accuracy range. Finer than 0.1% would only cost memory (the bucket count
  // grows as 1/alpha); coarser than 50% is no longer a useful latency estimate.
  static constexpr double kMinRelativeAccuracy = 0.001;
  static constexpr double kMaxRelativeAccuracy = 0.5;
  // Largest value, in microseconds, that gets its own bucket; larger values share the top one.
  static constexpr double kMaxTrackableMicros = 1e12;

  // Creates an empty sketch. Precondition: `relative_accuracy` is within
  // [kMinRelativeAccuracy, kMaxRelativeAccuracy]; a value outside it (NaN included) is clamped
  // into that range (NaN becomes the default), so relative_accuracy() reports what is used.
  explicit LatencySketch(double relative_accuracy = kDefaultRelativeAccuracy);

  LatencySketch(const LatencySketch&) = default;
  LatencySketch& operator=(const LatencySketch&) = default;
  LatencySketch(LatencySketch&&) noexcept = default;
  LatencySketch& operator=(LatencySketch&&) noexcept = default;

  // Records one value, in microseconds. O(1): one log and one increment; allocates only the
  // first time a value lands outside the range of bucket indices seen so far.
  void Add(double micros) { Add(micros, 1); }

  // Records `n` occurrences of `micros` (n = 0 is a no-op). Same cost as Add(micros).
  void Add(double micros, uint64_t n) {
    if (n == 0 || !std::isfinite(micros)) return;
    if (micros < 0) micros = 0;
    count_ += n;
    sum_ += micros * static_cast<double>(n);
    if (micros < min_) min_ = micros;
    if (micros > max_) max_ = micros;
    if (micros <= 1.0) {
      zero_count_ += n;
      return;
    }
    const int32_t index = BucketIndex(micros);
    if (index < offset_ || index >= offset_ + static_cast<int32_t>(counts_.size())) {
      Grow(index, index);
    }
    counts_[static_cast<size_t>(index - offset_)] += n;
  }

  // Adds `other`'s values to this sketch. The result is exactly the sketch of both inputs'
  // values (bucket counts, count, min, max; sum up to floating-point rounding). Merging a sketch
  // into itself doubles it. Returns INVALID_ARGUMENT, leaving this sketch unchanged, when the
  // two relative accuracies differ.
  absl::Status Merge(const LatencySketch& other);

  // Returns an estimate of the lower-rank q-quantile. With n = count() and the values sorted
  // ascending as x[0] <= ... <= x[n-1], the exact value is x[r] with r = floor(q * (n - 1)), so
  // q = 0 is the minimum and q = 1 the maximum. The estimate e satisfies
  //   |e - x[r]| <= alpha * x[r]   when x[r] > 1 µs (up to a few ulps of floating-point error),
  //   |e - x[r]| <= 1 µs           when x[r] <= 1 µs (values in the zero bucket read as min()),
  // and always lies within [min(), max()]; Quantile(0) == min() and Quantile(1) == max()
  // exactly. q outside [0, 1] is clamped into it (NaN reads as 0). Returns 0 when the sketch is
  // empty. O(number of buckets).
  double Quantile(double q) const;

  // Number of values recorded (zero bucket included), their exact sum, smallest and largest
  // value in microseconds (after negatives were recorded as 0). All 0 when the sketch is empty.
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ == 0 ? 0 : min_; }
  double max() const { return count_ == 0 ? 0 : max_; }
  // Number of values of at most 1 µs.
  uint64_t zero_count() const { return zero_count_; }
  double relative_accuracy() const { return alpha_; }

  // Count of the bucket with `index` (see the file comment); 0 outside the stored range.
  uint64_t BucketCount(int32_t index) const;

  // The index of the bucket a value v > 1 µs falls in, within [1, MaxBucketIndex()].
  int32_t BucketIndex(double micros) const {
    if (micros > kMaxTrackableMicros) micros = kMaxTrackableMicros;
    const int32_t index = static_cast<int32_t>(std::ceil(std::log(micros) * inv_log_gamma_));
    // log rounding can put a value a hair above 1 µs into bucket 0; it belongs in bucket 1.
    return index < 1 ? 1 : index;
  }
  // The highest bucket index for this sketch's accuracy: BucketIndex(kMaxTrackableMicros).
  int32_t MaxBucketIndex() const { return max_index_; }

  // Forgets all values and keeps the bucket storage, so a sketch that is reported and cleared
  // every interval stops allocating once it has seen its range of latencies.
  void Clear();

  // Writes the sketch into `proto` (overwriting it) in sparse form: runs of consecutive
  // buckets, each starting and ending with a non-empty bucket; a run bridges a gap of up to
  // kMaxBridgedZeros empty buckets, which is shorter on the wire than starting a new run.
  void ToProto(telemetry::v1::LatencySketch* proto) const;

  // Builds a sketch from a report. Returns INVALID_ARGUMENT, naming the field and the bad value,
  // when: relative_accuracy is outside [kMinRelativeAccuracy, kMaxRelativeAccuracy]; a run is
  // empty, starts below 1, ends above MaxBucketIndex(), or does not start after the previous
  // run ends; zero_count plus the run counts does not equal count (or overflows); sum_us,
  // min_us or max_us is not finite or negative, min_us > max_us, they are not all 0 for an
  // empty sketch, or they contradict the buckets (min_us > 1 with a non-empty zero bucket,
  // max_us <= 1 with non-empty log buckets). Allocates at most MaxBucketIndex() buckets.
  static absl::StatusOr<LatencySketch> FromProto(const telemetry::v1::LatencySketch& proto);

  // A run in ToProto output continues across at most this many empty buckets: a packed zero
  // costs one byte, a new BucketRun about seven.
  static constexpr int kMaxBridgedZeros = 6;

 private:
  // Makes [lo, hi] (within [1, max_index_]) part of the stored range. Cold path of Add.
  void Grow(int32_t lo, int32_t hi);
  // The representative value of bucket `index`, clamped into [min_, max_].
  double BucketValue(int32_t index) const;

  double alpha_;
  double gamma_;
  double inv_log_gamma_;
  int32_t max_index_;

  // counts_[k] is the count of bucket offset_ + k. Empty until the first value > 1 µs.
  std::vector<uint64_t> counts_;
  int32_t offset_ = 1;
  uint64_t zero_count_ = 0;
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = HUGE_VAL;
  double max_ = -HUGE_VAL;
};

}  // namespace llmesh::metrics
