// TelemetryAggregator: the control plane's sliding window over the sidecars' telemetry
// (DESIGN.md §5, docs/control-plane.md "Telemetry"). Reports go in; per provider model the
// window's TargetStats (the WeightComputer's input, weights.h) and the figures of the admin
// API's GetHealth come out.
//
// Where it sits: TelemetryServer (telemetry_server.h) calls Ingest for every report a sidecar
// streams; every interval the weight loop reads Stats() and hands it to WeightComputer, and
// the admin service's HealthSource reads Health().
//
// The window is a ring of time slots (default 12 slots of 5 s = 60 s). A report lands in the
// slot of the time the control plane received it (clock skew between hosts does not matter)
// and is added there: counters by saturating sums, sketches by exact bucket merges. A slot
// whose time has passed out of the window is cleared when its ring position is next used and
// skipped by every read, so expiry costs O(slots), never a per-report history. The window read
// at time t covers the slot holding t and the (slots - 1) before it: between window - slot and
// window of history.
//
// Duplicates. Reports are deltas, so counting one twice would skew every figure. The protocol
// never resends a report (one not acked before the stream broke is dropped), and what the
// proto allows us to check is checked:
//  - within a stream, `sequence` must increase (TelemetryServer refuses the rest);
//  - across streams, a report with the same node id and the same non-empty [interval_start,
//    interval_end) as one already in the window is refused here (ALREADY_EXISTS), which
//    catches a sidecar replaying a report after reconnecting.
//
// Threading: every method is safe to call from any thread. Ingest decodes and checks the report
// before taking the mutex; under it, only the merge into one slot happens. Reads merge the live
// slots under the mutex and compute percentiles after releasing it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics/latency_sketch.h"
#include "controlplane/telemetry/report_check.h"
#include "controlplane/weights/weights.h"
#include "llmesh/telemetry/v1/telemetry.pb.h"

namespace llmesh::control {

struct TelemetryOptions {
  // Length of the sliding window; a whole number of slots.
  Duration window = std::chrono::seconds(60);
  // Granularity of expiry.
  Duration slot = std::chrono::seconds(5);
  // Relative accuracy of the window's sketches; reports with another accuracy are refused.
  double relative_accuracy = metrics::LatencySketch::kDefaultRelativeAccuracy;
};

// OK when slot > 0, window is a positive multiple of slot with at most 1,000 slots, and
// relative_accuracy is within the LatencySketch range; otherwise INVALID_ARGUMENT naming the
// option and its value.
absl::Status ValidateTelemetryOptions(const TelemetryOptions& options);

// Cluster-wide figures of one provider model over the window, as AdminService.GetHealth shows
// them (admin.proto TargetHealth; field for field the admin's TargetFigures).
struct TargetHealthFigures {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  // Of successful attempts; zero when there is none.
  absl::Duration latency_p50;
  absl::Duration latency_p95;
  absl::Duration latency_p99;
  // Of successful streamed attempts; zero when there is none.
  absl::Duration ttft_p50;
  absl::Duration ttft_p95;
  absl::Duration ttft_p99;
  // In [0, 1]: provider-fault failures / attempts, rate-limited / attempts; 0 without attempts.
  double error_rate = 0;
  double rate_limited_share = 0;
  // All cost in the window in USD / successes; 0 without success.
  double cost_per_success_usd = 0;
};

// One consistent reading of the window for GetHealth.
struct WindowHealth {
  absl::Duration window;
  // Distinct node ids with an accepted report (empty ones included) in the window.
  uint32_t reporting_sidecars = 0;
  std::map<TargetKey, TargetHealthFigures> targets;
};

class TelemetryAggregator {
 public:
  // `clock` must outlive the aggregator. INVALID_ARGUMENT for invalid options.
  static absl::StatusOr<std::unique_ptr<TelemetryAggregator>> Create(
      const TelemetryOptions& options, const Clock& clock);

  TelemetryAggregator(const TelemetryAggregator&) = delete;
  TelemetryAggregator& operator=(const TelemetryAggregator&) = delete;

  // Adds `report` from the sidecar `node_id` (the stream's node; the report's own `node` is
  // not read) to the slot of the current time. Whole or nothing. Returns:
  //  - OK, counted in reports_absorbed() (an empty report is absorbed and counts its node as
  //    reporting);
  //  - INVALID_ARGUMENT with the field path and problem for an empty node_id or anything
  //    DecodeReport refuses, counted in reports_refused();
  //  - ALREADY_EXISTS when the window already holds a report of `node_id` with the same
  //    non-empty interval (see the file comment), counted in reports_refused().
  absl::Status Ingest(std::string_view node_id, const telemetry::v1::TelemetryReport& report);

  // The window's telemetry of every provider model with a report in it, for WeightComputer:
  //   requests = attempts (every attempt, cancelled and client-fault ones included);
  //   errors = provider-fault failures (ErrorCounts minus rate_limited, invalid_request,
  //            context_length); rate_limited = ErrorCounts.rate_limited;
  //   p95_latency / p95_ttft from the merged sketches (zero without data);
  //   cost_per_success_usd = window cost / successes, -1 (unknown) without success;
  //   updated_at = when the last report naming the target was ingested.
  TelemetryWindow Stats() const;

  // The same window as figures for GetHealth.
  WindowHealth Health() const;

  const TelemetryOptions& options() const { return options_; }

  // Reports absorbed and refused since construction (for /metrics).
  uint64_t reports_absorbed() const { return absorbed_.load(std::memory_order_relaxed); }
  uint64_t reports_refused() const { return refused_.load(std::memory_order_relaxed); }

  // Counts a report refused before it reached Ingest (TelemetryServer's sequence check), so
  // reports_refused() covers every refusal.
  void CountRefused() { refused_.fetch_add(1, std::memory_order_relaxed); }

 private:
  // Everything the window knows about one provider model.
  struct TargetWindow {
    explicit TargetWindow(double alpha) : latency(alpha), ttft(alpha) {}
    TargetCounters counters;
    metrics::LatencySketch latency;
    metrics::LatencySketch ttft;
    MonoTime updated_at{};
  };
  struct Slot {
    // Slot number (time since origin_ / slot); -1 = never used.
    int64_t number = -1;
    std::map<TargetKey, TargetWindow> targets;
    absl::flat_hash_set<std::string> nodes;
    // node id + interval of the reports in the slot, for duplicate detection.
    absl::flat_hash_set<std::string> report_keys;
  };
  struct Merged {
    std::map<TargetKey, TargetWindow> targets;
    uint32_t nodes = 0;
  };

  TelemetryAggregator(const TelemetryOptions& options, const Clock& clock);

  int64_t SlotNumber(MonoTime t) const;
  bool LiveLocked(const Slot& slot, int64_t now_number) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Merged Merge() const;

  const TelemetryOptions options_;
  const Clock& clock_;
  const MonoTime origin_;

  mutable absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);

  std::atomic<uint64_t> absorbed_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace llmesh::control
