// The two streams of one simulated sidecar in the control-plane load harness
// (bench/control_load.cc), on gRPC's callback API: each stream is a reactor driven by gRPC's own
// few callback threads, so 1,000 sidecars cost 2,000 small objects, not 2,000 threads.
//
// DiscoverySession speaks the sidecar side of DiscoveryService/StreamResources
// (docs/control-plane.md, "The exchange"): it subscribes to both resource types with `node` on
// the first message, and ACKs every push with its version and nonce at once (a real sidecar
// validates and compiles first; here only the control plane's side is measured). The moment the
// ACK of a route configuration is handed to gRPC is reported to FleetEvents.
//
// TelemetrySession speaks TelemetryService/Report: a first empty report carrying `node` (as a
// sidecar does to learn the interval), then, between BeginReports and StopReports, reports of
// ReportPool deltas, one in flight at a time: back to back (period 0, to find what the control
// plane absorbs) or one per period (a target rate). Each report covers [previous end, now) so
// the control plane's duplicate check never refuses one.
//
// Lifetime: construct, Start, ... Close (or Cancel), then destroy only after FleetEvents has
// seen the stream end (OnDone is the reactor's last call).
// Threading: public methods may be called from any thread; reactions run on gRPC's threads.
// Each session serialises its state with its own mutex.
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "bench/control_load/fleet_events.h"
#include "bench/control_load/report_pool.h"
#include "llmesh/discovery/v1/discovery.grpc.pb.h"
#include "llmesh/telemetry/v1/telemetry.grpc.pb.h"

namespace llmesh::bench {

class DiscoverySession final
    : public grpc::ClientBidiReactor<discovery::v1::DiscoveryRequest,
                                     discovery::v1::DiscoveryResponse> {
 public:
  DiscoverySession(discovery::v1::Node node, FleetEvents& events);

  // Opens the stream on `stub` and subscribes to both resource types. Call once.
  void Start(discovery::v1::DiscoveryService::Stub& stub);
  // Half-closes after the queued ACKs are written; the control plane then ends the stream.
  void Close();
  // Cancels the call (for streams that did not end after Close).
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  void EnqueueLocked(discovery::v1::DiscoveryRequest request);
  void WriteNextLocked();

  const discovery::v1::Node node_;
  FleetEvents& events_;
  grpc::ClientContext context_;
  discovery::v1::DiscoveryResponse push_;  // only touched by the read chain

  std::mutex mu_;
  std::deque<discovery::v1::DiscoveryRequest> queue_;  // guarded by mu_
  discovery::v1::DiscoveryRequest in_flight_;          // guarded by mu_ while writing_
  bool writing_ = false;                               // guarded by mu_
  bool closing_ = false;                               // guarded by mu_
  bool writes_done_ = false;                           // guarded by mu_
};

class TelemetrySession final
    : public grpc::ClientBidiReactor<telemetry::v1::TelemetryReport, telemetry::v1::TelemetryAck> {
 public:
  // `pool` and `events` must outlive the session; `variant` picks the first pool variant.
  TelemetrySession(discovery::v1::Node node, const ReportPool& pool, size_t variant,
                   FleetEvents& events);

  // Opens the stream on `stub` and sends the first, empty report. Call once.
  void Start(telemetry::v1::TelemetryService::Stub& stub);
  // Starts the load phase: a report every `period` (zero: the next as soon as the previous is
  // acked), the first after `offset`. Call after FleetEvents::WaitForHellos.
  void BeginReports(std::chrono::nanoseconds period, std::chrono::nanoseconds offset);
  // No new report after this; the one in flight still gets its ack.
  void StopReports();
  // Half-closes; the control plane then ends the stream. Call after StopReports.
  void Close();
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  // Sends the next report if one is due and neither a write nor an ack is outstanding.
  void MaybeSendLocked();
  void ScheduleLocked(SteadyTime due);
  void OnAlarm(bool ok);
  void MaybeWritesDoneLocked();

  const discovery::v1::Node node_;
  const ReportPool& pool_;
  FleetEvents& events_;
  grpc::ClientContext context_;
  grpc::Alarm alarm_;
  telemetry::v1::TelemetryAck ack_;  // only touched by the read chain

  std::mutex mu_;
  // Everything below is guarded by mu_.
  telemetry::v1::TelemetryReport report_;  // the one last sent; not touched while writing_
  uint64_t sequence_ = 0;                  // of report_
  uint64_t report_attempts_ = 0;           // of report_
  size_t variant_;                         // the next pool variant to send
  std::chrono::system_clock::time_point interval_end_;  // of report_; the next one starts there
  SteadyTime sent_at_;
  bool writing_ = false;       // a write is outstanding (its OnWriteDone has not run)
  bool awaiting_ack_ = false;  // report_ has not been acked yet
  bool send_ready_ = false;    // the next report is due
  bool alarm_pending_ = false;
  bool reporting_ = false;     // between BeginReports and StopReports
  std::chrono::nanoseconds period_{0};
  SteadyTime next_due_;
  bool closing_ = false;
  bool writes_done_ = false;
};

}  // namespace llmesh::bench
