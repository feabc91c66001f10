// Checks one TelemetryReport before the control plane adds it to its window, and decodes its
// latency sketches (DESIGN.md §5; telemetry.proto). A report is taken whole or refused whole:
// every target must be sane, so one bad entry never leaves half a report in the window.
//
// Where it sits: the telemetry service receives a report on a sidecar's stream and hands it to
// the TelemetryAggregator, which calls DecodeReport outside its lock (decoding allocates) and
// merges the result under it.
//
// Threading: pure functions; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics/latency_sketch.h"
#include "controlplane/weights/weights.h"
#include "llmesh/telemetry/v1/telemetry.pb.h"

namespace llmesh::control {

// A report may name at most this many targets (one per provider model that had traffic); more
// is a broken or hostile sidecar, not a deployment.
inline constexpr int kMaxTargetsPerReport = 4096;

// Counters of one target, summed over reports with saturating adds (a hostile report cannot
// wrap a sum around).
struct TargetCounters {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  // Provider-fault failures: every ErrorCounts class except rate_limited, invalid_request and
  // context_length (the last two are the client's fault and not held against the provider).
  uint64_t errors = 0;
  uint64_t rate_limited = 0;
  // invalid_request + context_length.
  uint64_t client_errors = 0;
  uint64_t cancelled = 0;
  uint64_t retries = 0;
  uint64_t hedges = 0;
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  uint64_t cached_input_tokens = 0;
  uint64_t cost_nano_usd = 0;

  // Adds `other` field by field, saturating at UINT64_MAX.
  void Add(const TargetCounters& other);
};

// One checked target of a report. A sketch the report left out (or sent empty) is nullopt.
struct DecodedTarget {
  TargetKey key;
  TargetCounters counters;
  std::optional<metrics::LatencySketch> latency;
  std::optional<metrics::LatencySketch> time_to_first_token;
};

// Checks `report` and decodes it. `relative_accuracy` is the accuracy of the window's
// sketches: a non-empty sketch with another accuracy cannot be merged exactly and is refused.
// Returns INVALID_ARGUMENT naming the field path (e.g. "targets[2].latency.runs[0].start") and
// the problem when:
//  - there are more than kMaxTargetsPerReport targets, or interval_end < interval_start;
//  - a target has an empty provider or model, or names the same provider model as an earlier
//    target of the report;
//  - attempts != successes + every error class + cancelled (computed without overflow), or
//    retries, hedges > attempts, or cached_input_tokens > input_tokens;
//  - a sketch fails LatencySketch::FromProto, has another relative accuracy, or counts more
//    values than the target had successes.
// The node is not checked here: the stream owns it (telemetry_server.h).
absl::StatusOr<std::vector<DecodedTarget>> DecodeReport(
    const telemetry::v1::TelemetryReport& report, double relative_accuracy);

}  // namespace llmesh::control
