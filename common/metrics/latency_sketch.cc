#include "common/metrics/latency_sketch.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace llmesh::metrics {
namespace {

double ClampAccuracy(double alpha) {
  if (std::isnan(alpha)) return LatencySketch::kDefaultRelativeAccuracy;
  return std::clamp(alpha, LatencySketch::kMinRelativeAccuracy,
                    LatencySketch::kMaxRelativeAccuracy);
}

}  // namespace

LatencySketch::LatencySketch(double relative_accuracy)
    : alpha_(ClampAccuracy(relative_accuracy)),
      gamma_((1 + alpha_) / (1 - alpha_)),
      // log1p keeps the precision that log(gamma) would lose for gamma close to 1.
      inv_log_gamma_(1.0 / std::log1p(2 * alpha_ / (1 - alpha_))),
      max_index_(0) {
  max_index_ = BucketIndex(kMaxTrackableMicros);
}

void LatencySketch::Grow(int32_t lo, int32_t hi) {
  const int32_t size = static_cast<int32_t>(counts_.size());
  // Grow by at least the current size (and never by less than 16 buckets) towards each side
  // that needs it, so a drifting latency range costs O(log range) reallocations.
  const int32_t margin = std::max(size, 16);
  int32_t new_lo = lo - margin;
  int32_t new_hi = hi + margin;
  if (size > 0) {
    const int32_t cur_lo = offset_;
    const int32_t cur_hi = offset_ + size - 1;
    new_lo = lo < cur_lo ? lo - margin : cur_lo;
    new_hi = hi > cur_hi ? hi + margin : cur_hi;
  }
  new_lo = std::max(new_lo, 1);
  new_hi = std::min(new_hi, max_index_);
  if (size > 0 && new_lo == offset_ && new_hi == offset_ + size - 1) return;

  std::vector<uint64_t> grown(static_cast<size_t>(new_hi - new_lo + 1), 0);
  if (size > 0) std::copy(counts_.begin(), counts_.end(), grown.begin() + (offset_ - new_lo));
  counts_ = std::move(grown);
  offset_ = new_lo;
}

uint64_t LatencySketch::BucketCount(int32_t index) const {
  if (index < offset_ || index >= offset_ + static_cast<int32_t>(counts_.size())) return 0;
  return counts_[static_cast<size_t>(index - offset_)];
}

absl::Status LatencySketch::Merge(const LatencySketch& other) {
  if (other.alpha_ != alpha_) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot merge latency sketches with different relative accuracies: ", alpha_,
                     " and ", other.alpha_));
  }
  if (other.count_ == 0) return absl::OkStatus();

  // Only the other sketch's non-empty range matters; its storage may be wider after Clear().
  const size_t other_size = other.counts_.size();
  size_t first = 0;
  while (first < other_size && other.counts_[first] == 0) ++first;
  if (first < other_size) {
    size_t last = other_size - 1;
    while (other.counts_[last] == 0) --last;
    const int32_t lo = other.offset_ + static_cast<int32_t>(first);
    const int32_t hi = other.offset_ + static_cast<int32_t>(last);
    if (lo < offset_ || hi >= offset_ + static_cast<int32_t>(counts_.size())) Grow(lo, hi);
    // Indexing (not iterators) because `other` may be *this.
    for (size_t k = first; k <= last; ++k) {
      counts_[static_cast<size_t>(other.offset_ + static_cast<int32_t>(k) - offset_)] +=
          other.counts_[k];
    }
  }
  zero_count_ += other.zero_count_;
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  return absl::OkStatus();
}

double LatencySketch::BucketValue(int32_t index) const {
  const double value = 2 * std::pow(gamma_, index) / (gamma_ + 1);
  return std::clamp(value, min_, max_);
}

double LatencySketch::Quantile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) return min_;  // Also catches NaN.
  if (q >= 1) return max_;
  const uint64_t rank =
      static_cast<uint64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank < zero_count_) return min_;
  uint64_t seen = zero_count_;
  for (size_t k = 0; k < counts_.size(); ++k) {
    seen += counts_[k];
    if (seen > rank) return BucketValue(offset_ + static_cast<int32_t>(k));
  }
  return max_;  // Unreachable while the counts add up to count_.
}

void LatencySketch::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  zero_count_ = 0;
  count_ = 0;
  sum_ = 0;
  min_ = HUGE_VAL;
  max_ = -HUGE_VAL;
}

void LatencySketch::ToProto(telemetry::v1::LatencySketch* proto) const {
  proto->Clear();
  proto->set_relative_accuracy(alpha_);
  proto->set_zero_count(zero_count_);
  proto->set_count(count_);
  proto->set_sum_us(sum_);
  proto->set_min_us(min());
  proto->set_max_us(max());

  const size_t size = counts_.size();
  size_t k = 0;
  while (k < size) {
    if (counts_[k] == 0) {
      ++k;
      continue;
    }
    // [k, end) is the run: it extends while the next non-empty bucket is close enough.
    size_t end = k + 1;
    size_t next = end;
    while (true) {
      while (next < size && counts_[next] == 0) ++next;
      if (next == size || next - end > static_cast<size_t>(kMaxBridgedZeros)) break;
      end = ++next;
    }
    telemetry::v1::BucketRun* run = proto->add_runs();
    run->set_start(offset_ + static_cast<int32_t>(k));
    run->mutable_counts()->Reserve(static_cast<int>(end - k));
    for (size_t j = k; j < end; ++j) run->add_counts(counts_[j]);
    k = next;
  }
}

absl::StatusOr<LatencySketch> LatencySketch::FromProto(
    const telemetry::v1::LatencySketch& proto) {
  const double alpha = proto.relative_accuracy();
  if (!(alpha >= kMinRelativeAccuracy && alpha <= kMaxRelativeAccuracy)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "relative_accuracy ", alpha, " is outside the supported range [", kMinRelativeAccuracy,
        ", ", kMaxRelativeAccuracy, "]"));
  }
  LatencySketch sketch(alpha);

  // Validate the layout and the totals before allocating anything.
  uint64_t total = proto.zero_count();
  uint64_t bucket_total = 0;
  int64_t previous_end = 0;  // Index of the last bucket of the previous run; buckets start at 1.
  for (int i = 0; i < proto.runs_size(); ++i) {
    const telemetry::v1::BucketRun& run = proto.runs(i);
    if (run.counts_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat("runs[", i, "] has no counts"));
    }
    const int64_t start = run.start();
    const int64_t end = start + run.counts_size() - 1;
    if (start < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("runs[", i, "].start ", start, " is below the lowest bucket index 1"));
    }
    if (start <= previous_end) {
      return absl::InvalidArgumentError(
          absl::StrCat("runs[", i, "].start ", start,
                       " does not follow the previous run, which ends at bucket ", previous_end));
    }
    if (end > sketch.max_index_) {
      return absl::InvalidArgumentError(
          absl::StrCat("runs[", i, "] ends at bucket ", end, ", above the highest index ",
                       sketch.max_index_, " for relative_accuracy ", alpha));
    }
    for (const uint64_t c : run.counts()) {
      if (c > std::numeric_limits<uint64_t>::max() - bucket_total) {
        return absl::InvalidArgumentError("bucket counts overflow a 64-bit total");
      }
      bucket_total += c;
    }
    previous_end = end;
  }
  if (bucket_total > std::numeric_limits<uint64_t>::max() - total) {
    return absl::InvalidArgumentError("zero_count plus bucket counts overflows a 64-bit total");
  }
  total += bucket_total;
  if (total != proto.count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("count ", proto.count(), " does not equal zero_count plus bucket counts (",
                     total, ")"));
  }

  const double sum = proto.sum_us();
  const double min = proto.min_us();
  const double max = proto.max_us();
  if (!std::isfinite(sum) || !std::isfinite(min) || !std::isfinite(max) || sum < 0 || min < 0 ||
      max < 0) {
    return absl::InvalidArgumentError(absl::StrCat("sum_us ", sum, ", min_us ", min, ", max_us ",
                                                   max, " must be finite and non-negative"));
  }
  if (total == 0) {
    if (sum != 0 || min != 0 || max != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "an empty sketch must have sum_us, min_us and max_us 0, got ", sum, ", ", min, ", ",
          max));
    }
    return sketch;
  }
  if (min > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_us ", min, " is greater than max_us ", max));
  }
  if (proto.zero_count() > 0 && min > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "min_us ", min, " contradicts zero_count ", proto.zero_count(), " (values <= 1 us)"));
  }
  if (bucket_total > 0 && max <= 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_us ", max, " contradicts ", bucket_total, " values in buckets above 1 us"));
  }

  if (proto.runs_size() > 0) {
    const int32_t lo = proto.runs(0).start();
    const telemetry::v1::BucketRun& last = proto.runs(proto.runs_size() - 1);
    sketch.Grow(lo, last.start() + last.counts_size() - 1);
    for (const telemetry::v1::BucketRun& run : proto.runs()) {
      size_t k = static_cast<size_t>(run.start() - sketch.offset_);
      for (const uint64_t c : run.counts()) sketch.counts_[k++] = c;
    }
  }
  sketch.zero_count_ = proto.zero_count();
  sketch.count_ = total;
  sketch.sum_ = sum;
  sketch.min_ = min;
  sketch.max_ = max;
  return sketch;
}

}  // namespace llmesh::metrics
