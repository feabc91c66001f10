// The figures of one run of the control-plane load harness (bench/control_load.cc), printed as a
// table for people and written as JSON beside the other benchmark results (bench/results/).
//
// Threading: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bench/control_load/control_plane.h"

namespace llmesh::bench {

// p50 / p99 / max of a set of durations, in milliseconds (nearest rank).
struct Spread {
  double p50 = 0;
  double p99 = 0;
  double max = 0;
};
Spread SpreadOf(std::vector<double> values);

struct RouteChangeResult {
  std::string version;
  // The ApplyRoute call's round trip (commit, fsync and fan-out to the streams included).
  double apply_ms = 0;
  // From the apply's acknowledgement until the last sidecar ACKed the version.
  double all_acked_after_apply_ms = 0;
  // Each sidecar's ACK, from the moment the apply was sent (the only reference point every
  // ACK comes after: pushes start when the change commits, concurrently with the answer).
  Spread per_stream_ms;
  // From the apply's acknowledgement until ListSidecars first showed every sidecar SYNCED on
  // the version (polled only once all ACKs were sent, so a ceiling, not a resolution).
  double control_plane_synced_after_apply_ms = 0;
};

struct TelemetryResult {
  double target_rate = 0;  // reports/s asked for; 0 = back to back
  double window_seconds = 0;
  uint64_t reports_acked = 0;  // in the window
  double reports_per_second = 0;
  double attempts_per_second = 0;
  size_t targets_per_report = 0;
  size_t report_bytes = 0;
  double round_trip_p50_us = 0;
  double round_trip_p99_us = 0;
  // "telemetry report refused" lines of the control plane; known only for one it started.
  std::optional<uint64_t> refused;
  // Attempts the sidecars had acked in the whole phase, and what GetHealth's window holds for
  // the reported route (equal when every acked report was absorbed).
  uint64_t attempts_sent = 0;
  uint64_t window_attempts = 0;
  uint32_t reporting_sidecars = 0;
  double control_plane_cpu_seconds = 0;  // in the window
  double harness_cpu_seconds = 0;        // in the window
};

struct LoadResult {
  size_t sidecars = 0;
  size_t connections = 0;
  size_t routes = 0;
  size_t route_configuration_bytes = 0;
  bool spawned = false;
  std::optional<int> pid;
  double open_all_acked_ms = 0;  // from the first stream started to the last initial ACK
  std::vector<RouteChangeResult> changes;
  std::optional<TelemetryResult> telemetry;
  std::optional<ProcessSample> idle;
  std::optional<ProcessSample> streams_open;
  std::optional<ProcessSample> after_telemetry;
};

void PrintSummary(const LoadResult& result, std::ostream& out);

// The result as pretty-printed JSON (keys in snake_case, durations in ms unless named _us or
// _s, memory in KiB).
std::string ToJson(const LoadResult& result);

}  // namespace llmesh::bench
