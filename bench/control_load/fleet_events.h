// FleetEvents: what the simulated sidecars of the control-plane load harness
// (bench/control_load.cc) observed, and the bounded waits the harness's driver thread runs on it.
//
// Every discovery and telemetry stream reports here: each route configuration version a
// sidecar ACKed and when (its ACK handed to gRPC), each telemetry ack with its round trip, and
// the end of each stream. The driver waits for "all N sidecars ACKed version V", "every
// telemetry stream got its first ack", "no report in flight" or "every stream ended", each
// with a deadline; a stream that ends while it should not fails every wait at once with the
// sidecar and the gRPC status.
//
// Threading: every method is safe from any thread. Recording methods run on gRPC's callback
// threads and only take a short mutex (counters are atomics); waits block the calling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/metrics/latency_sketch.h"

namespace llmesh::bench {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

class FleetEvents {
 public:
  // `sidecars`: how many simulated sidecars the waits count on.
  explicit FleetEvents(size_t sidecars) : sidecars_(sidecars) {}
  FleetEvents(const FleetEvents&) = delete;
  FleetEvents& operator=(const FleetEvents&) = delete;

  // A sidecar ACKed route configuration `version` at `at`. Each sidecar ACKs a version once.
  void RouteAcked(std::string_view version, SteadyTime at);
  // A telemetry stream got the ack of its first (empty) report.
  void HelloAcked();
  // A report of the load phase was acked after `round_trip`; it carried `attempts`.
  void ReportAcked(uint64_t attempts, std::chrono::nanoseconds round_trip);
  // Telemetry work started (+1: a report sent or a pacing alarm set) or finished (-1).
  void TelemetryBusy(int delta);
  // A pacing alarm was set (+1) or its callback ran (-1). Counted on its own because a
  // session may be destroyed only once its alarm callback has run, even after a failure.
  void AlarmsPending(int delta);
  // A stream ended. `expected` is false when the harness had not asked for it; the first such
  // end (or Fail) makes every wait return `description` as an ABORTED error.
  void StreamDone(bool expected, std::string description);
  // A protocol violation seen by a stream (e.g. an ack for the wrong sequence).
  void Fail(std::string description);

  // Waits until every sidecar has ACKed `version` and returns the ACK times (one per sidecar,
  // in arrival order). DEADLINE_EXCEEDED saying how many did, or ABORTED on a failure.
  absl::StatusOr<std::vector<SteadyTime>> WaitForRouteAcks(const std::string& version,
                                                           SteadyTime deadline);
  // Waits until every telemetry stream has its first ack. DEADLINE_EXCEEDED or ABORTED.
  absl::Status WaitForHellos(SteadyTime deadline);
  // Waits until no report is in flight and no pacing alarm is pending.
  absl::Status WaitForTelemetryIdle(SteadyTime deadline);
  // Waits until `streams` streams have ended (expected or not); DEADLINE_EXCEEDED otherwise.
  absl::Status WaitForStreamsDone(size_t streams, SteadyTime deadline);
  // Waits until no pacing alarm is pending; DEADLINE_EXCEEDED otherwise.
  absl::Status WaitForNoAlarms(SteadyTime deadline);

  // ABORTED with the first failure, or OK.
  absl::Status failure() const;
  // Blocks until `until` (a measurement window) and returns OK, or returns the failure as
  // soon as one happens.
  absl::Status WatchUntil(SteadyTime until);

  uint64_t reports_acked() const { return reports_acked_.load(std::memory_order_relaxed); }
  uint64_t attempts_acked() const { return attempts_acked_.load(std::memory_order_relaxed); }
  // Quantile `q` of the load phase's report round trips, in microseconds (0 without any).
  double RoundTripMicros(double q) const;

 private:
  absl::Status FailureLocked() const;

  const size_t sidecars_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  absl::flat_hash_map<std::string, std::vector<SteadyTime>> route_acks_;  // guarded by mu_
  size_t hellos_ = 0;                                                     // guarded by mu_
  int64_t busy_ = 0;                                                      // guarded by mu_
  int64_t alarms_ = 0;                                                    // guarded by mu_
  size_t done_ = 0;                                                       // guarded by mu_
  std::string failure_;                                                   // guarded by mu_
  metrics::LatencySketch round_trips_;                                    // guarded by mu_
  std::atomic<uint64_t> reports_acked_{0};
  std::atomic<uint64_t> attempts_acked_{0};
};

}  // namespace llmesh::bench
