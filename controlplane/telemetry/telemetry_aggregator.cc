#include "controlplane/telemetry/telemetry_aggregator.h"

#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::control {

namespace telemetry = ::llmesh::telemetry::v1;

namespace {

constexpr int64_t kMaxSlots = 1000;

Duration FromMicros(double micros) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::micro>(micros));
}

absl::Duration AbslFromMicros(double micros) { return absl::Microseconds(micros); }

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0 : static_cast<double>(part) / static_cast<double>(whole);
}

double CostPerSuccessUsd(const TargetCounters& c) {
  // Divide in nano-dollars first: the quotient is what loses precision, not the sum.
  return static_cast<double>(c.cost_nano_usd) / static_cast<double>(c.successes) * 1e-9;
}

// The duplicate key of a report: only a report that states its interval can be recognised.
std::optional<std::string> ReportKey(std::string_view node_id,
                                     const telemetry::TelemetryReport& report) {
  if (!report.has_interval_start() || !report.has_interval_end()) return std::nullopt;
  return absl::StrCat(AbslView(node_id), absl::string_view("\0", 1), report.interval_start().seconds(), ".",
                      report.interval_start().nanos(), "-", report.interval_end().seconds(), ".",
                      report.interval_end().nanos());
}

}  // namespace

absl::Status ValidateTelemetryOptions(const TelemetryOptions& options) {
  if (options.slot <= Duration::zero()) {
    return absl::InvalidArgumentError(
        absl::StrCat("slot: must be > 0, got ", absl::FormatDuration(absl::FromChrono(options.slot))));
  }
  if (options.window < options.slot || options.window % options.slot != Duration::zero() ||
      options.window / options.slot > kMaxSlots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "window: must be a multiple of slot (", absl::FormatDuration(absl::FromChrono(options.slot)),
        ") of at most ", kMaxSlots, " slots, got ",
        absl::FormatDuration(absl::FromChrono(options.window))));
  }
  const double alpha = options.relative_accuracy;
  if (!(alpha >= metrics::LatencySketch::kMinRelativeAccuracy &&
        alpha <= metrics::LatencySketch::kMaxRelativeAccuracy)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "relative_accuracy: must be within [", metrics::LatencySketch::kMinRelativeAccuracy, ", ",
        metrics::LatencySketch::kMaxRelativeAccuracy, "], got ", alpha));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TelemetryAggregator>> TelemetryAggregator::Create(
    const TelemetryOptions& options, const Clock& clock) {
  if (absl::Status status = ValidateTelemetryOptions(options); !status.ok()) return status;
  return std::unique_ptr<TelemetryAggregator>(new TelemetryAggregator(options, clock));
}

TelemetryAggregator::TelemetryAggregator(const TelemetryOptions& options, const Clock& clock)
    : options_(options), clock_(clock), origin_(clock.Now()) {
  slots_.resize(static_cast<size_t>(options_.window / options_.slot));
}

int64_t TelemetryAggregator::SlotNumber(MonoTime t) const {
  return static_cast<int64_t>((t - origin_) / options_.slot);
}

bool TelemetryAggregator::LiveLocked(const Slot& slot, int64_t now_number) const {
  return slot.number >= 0 && slot.number > now_number - static_cast<int64_t>(slots_.size()) &&
         slot.number <= now_number;
}

absl::Status TelemetryAggregator::Ingest(std::string_view node_id,
                                         const telemetry::TelemetryReport& report) {
  if (node_id.empty()) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return absl::InvalidArgumentError("node.id: must not be empty");
  }
  absl::StatusOr<std::vector<DecodedTarget>> targets =
      DecodeReport(report, options_.relative_accuracy);
  if (!targets.ok()) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return targets.status();
  }
  const std::optional<std::string> key = ReportKey(node_id, report);

  const MonoTime now = clock_.Now();
  const int64_t number = SlotNumber(now);
  {
    absl::MutexLock lock(&mu_);
    if (key.has_value()) {
      for (const Slot& slot : slots_) {
        if (LiveLocked(slot, number) && slot.report_keys.contains(*key)) {
          refused_.fetch_add(1, std::memory_order_relaxed);
          return absl::AlreadyExistsError(absl::StrCat(
              "report of node ", AbslView(node_id), " for this interval is already in the window"));
        }
      }
    }
    Slot& slot = slots_[static_cast<size_t>(number % static_cast<int64_t>(slots_.size()))];
    if (slot.number != number) {
      slot.number = number;
      slot.targets.clear();
      slot.nodes.clear();
      slot.report_keys.clear();
    }
    if (key.has_value()) slot.report_keys.insert(*key);
    if (!slot.nodes.contains(AbslView(node_id))) slot.nodes.insert(std::string(node_id));
    for (DecodedTarget& target : *targets) {
      auto [it, inserted] =
          slot.targets.try_emplace(std::move(target.key), options_.relative_accuracy);
      TargetWindow& window = it->second;
      window.counters.Add(target.counters);
      // Accuracies were checked by DecodeReport, so these merges cannot fail.
      if (target.latency.has_value()) window.latency.Merge(*target.latency).IgnoreError();
      if (target.time_to_first_token.has_value()) {
        window.ttft.Merge(*target.time_to_first_token).IgnoreError();
      }
      window.updated_at = now;
    }
  }
  absorbed_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

TelemetryAggregator::Merged TelemetryAggregator::Merge() const {
  Merged merged;
  const int64_t number = SlotNumber(clock_.Now());
  absl::flat_hash_set<absl::string_view> nodes;
  absl::ReaderMutexLock lock(&mu_);
  for (const Slot& slot : slots_) {
    if (!LiveLocked(slot, number)) continue;
    for (const std::string& node : slot.nodes) nodes.insert(node);
    for (const auto& [key, window] : slot.targets) {
      auto [it, inserted] = merged.targets.try_emplace(key, options_.relative_accuracy);
      TargetWindow& into = it->second;
      into.counters.Add(window.counters);
      into.latency.Merge(window.latency).IgnoreError();
      into.ttft.Merge(window.ttft).IgnoreError();
      if (window.updated_at > into.updated_at) into.updated_at = window.updated_at;
    }
  }
  merged.nodes = static_cast<uint32_t>(nodes.size());
  return merged;
}

TelemetryWindow TelemetryAggregator::Stats() const {
  const Merged merged = Merge();
  TelemetryWindow stats;
  for (const auto& [key, window] : merged.targets) {
    const TargetCounters& c = window.counters;
    TargetStats& s = stats[key];
    s.requests = c.attempts;
    s.successes = c.successes;
    s.errors = c.errors;
    s.rate_limited = c.rate_limited;
    if (window.latency.count() > 0) s.p95_latency = FromMicros(window.latency.Quantile(0.95));
    if (window.ttft.count() > 0) s.p95_ttft = FromMicros(window.ttft.Quantile(0.95));
    s.cost_per_success_usd = c.successes == 0 ? -1 : CostPerSuccessUsd(c);
    s.updated_at = window.updated_at;
  }
  return stats;
}

WindowHealth TelemetryAggregator::Health() const {
  const Merged merged = Merge();
  WindowHealth health;
  health.window = absl::FromChrono(options_.window);
  health.reporting_sidecars = merged.nodes;
  for (const auto& [key, window] : merged.targets) {
    const TargetCounters& c = window.counters;
    TargetHealthFigures& f = health.targets[key];
    f.attempts = c.attempts;
    f.successes = c.successes;
    if (window.latency.count() > 0) {
      f.latency_p50 = AbslFromMicros(window.latency.Quantile(0.50));
      f.latency_p95 = AbslFromMicros(window.latency.Quantile(0.95));
      f.latency_p99 = AbslFromMicros(window.latency.Quantile(0.99));
    }
    if (window.ttft.count() > 0) {
      f.ttft_p50 = AbslFromMicros(window.ttft.Quantile(0.50));
      f.ttft_p95 = AbslFromMicros(window.ttft.Quantile(0.95));
      f.ttft_p99 = AbslFromMicros(window.ttft.Quantile(0.99));
    }
    f.error_rate = Share(c.errors, c.attempts);
    f.rate_limited_share = Share(c.rate_limited, c.attempts);
    f.cost_per_success_usd = c.successes == 0 ? 0 : CostPerSuccessUsd(c);
  }
  return health;
}

}  // namespace llmesh::control
