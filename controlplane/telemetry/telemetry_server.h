// The gRPC side of telemetry: TelemetryService/Report on gRPC's callback API, so every sidecar
// stream is a reactor driven by gRPC's callback threads rather than a thread of its own, and
// 1,000 sidecars cost 1,000 small objects, not 1,000 threads.
//
// Per stream: the first report must carry `node.id` (else the stream ends with
// INVALID_ARGUMENT, as telemetry.proto says); every report is then handed to the
// TelemetryAggregator and answered with one TelemetryAck (its `sequence`, and the server-set
// `report_interval`), in order. A report is read only after the previous ack was written, so a
// stream holds at most one report and one ack. A refused report (malformed, duplicate, or a
// `sequence` not above the previous one of the stream) is still acked, so the sidecar keeps
// its cadence and learns the interval, but it is not counted: the sidecar never resends, and
// the refusal shows in TelemetryAggregator::reports_refused() and the log.
//
// Usage (llmesh-control):
//   auto aggregator = TelemetryAggregator::Create({}, SystemClock::Get());
//   TelemetryServer telemetry(**aggregator);
//   grpc::ServerBuilder builder;  builder.RegisterService(&telemetry);  ... BuildAndStart();
//   ... at exit: telemetry.Shutdown(); server->Shutdown(); server->Wait();  then destroy.
//
// Threading: reactor methods run on gRPC's callback threads; every method is safe from any
// thread. Nothing blocks beyond short mutexes.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "controlplane/telemetry/telemetry_aggregator.h"
#include "llmesh/telemetry/v1/telemetry.grpc.pb.h"

namespace llmesh::control {

// The interval sidecars are told to report at unless the control plane is configured otherwise.
inline constexpr Duration kDefaultReportInterval = std::chrono::seconds(5);

class TelemetryServer final : public llmesh::telemetry::v1::TelemetryService::CallbackService {
 public:
  // `aggregator` must outlive the server. Precondition: report_interval > 0 (a non-positive
  // value is replaced by kDefaultReportInterval: the ack must always carry a usable interval).
  explicit TelemetryServer(TelemetryAggregator& aggregator,
                           Duration report_interval = kDefaultReportInterval);
  // Precondition: the grpc::Server this service was registered with has shut down and its
  // Wait() has returned, so no stream is open.
  ~TelemetryServer() override;
  TelemetryServer(const TelemetryServer&) = delete;
  TelemetryServer& operator=(const TelemetryServer&) = delete;

  // gRPC entry point for one sidecar stream.
  grpc::ServerBidiReactor<llmesh::telemetry::v1::TelemetryReport,
                          llmesh::telemetry::v1::TelemetryAck>*
  Report(grpc::CallbackServerContext* context) override;

  // Ends every open stream, and every stream opened from now on, with UNAVAILABLE so sidecars
  // reconnect elsewhere. Call before grpc::Server::Shutdown, which otherwise waits for the
  // streams. Idempotent.
  void Shutdown();

  // Streams currently open (for /metrics and tests).
  std::size_t open_streams() const;

  Duration report_interval() const { return report_interval_; }

 private:
  class Stream;

  void Remove(Stream* stream);

  TelemetryAggregator& aggregator_;
  const Duration report_interval_;

  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Stream*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace llmesh::control
