// ReportPool: realistic telemetry deltas for the control-plane load harness (bench/control_load.cc).
//
// A real sidecar's TelemetryReport carries, per provider model, one interval's attempts split
// into successes, failure classes and cancellations, retries and hedges, tokens and cost, the
// rate-limit headroom it saw, and two latency sketches (telemetry.proto). Building sketches
// for every report would make the harness, not the control plane, the bottleneck, so the pool
// builds a fixed number of variants once (from a seeded generator: the same flags give the same
// reports) and each simulated sidecar copies one variant into each report it sends. Every
// variant passes the control plane's report checks (controlplane/telemetry/report_check.h):
// attempts add up, sketches hold at most `successes` values at the default accuracy.
//
// Threading: immutable after construction; any thread may read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "llmesh/telemetry/v1/telemetry.pb.h"

namespace llmesh::bench {

// A provider model that simulated sidecars report on.
struct ReportTarget {
  std::string provider;
  std::string model;
};

class ReportPool {
 public:
  // Builds `variants` (>= 1) sets of per-target deltas for `targets`, each set covering one
  // report interval of a sidecar serving about 20 requests/s spread over the targets.
  ReportPool(std::vector<ReportTarget> targets, size_t variants, uint64_t seed);

  size_t size() const { return variants_.size(); }

  // Replaces `report`'s targets with those of variant `i % size()`. The caller sets the node,
  // sequence and interval.
  void Fill(size_t i, telemetry::v1::TelemetryReport& report) const;

  // Sum of `attempts` over the targets of variant `i % size()`.
  uint64_t Attempts(size_t i) const { return attempts_[i % attempts_.size()]; }

  // Size of the serialised targets of variant 0 (what a report weighs on the wire).
  size_t ReportBytes() const;

 private:
  std::vector<telemetry::v1::TelemetryReport> variants_;
  std::vector<uint64_t> attempts_;
};

}  // namespace llmesh::bench
