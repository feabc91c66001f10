// SidecarFleet: N simulated sidecars of the control-plane load harness (bench/control_load.cc),
// each with a discovery and a telemetry stream (sidecar_streams.h) to one llmesh-control.
//
// Connections: by default every sidecar gets its own gRPC channel with its own connection (a
// local subchannel pool, so gRPC does not share one TCP connection between channels), as
// sidecars in separate pods would, so the control plane's per-connection costs (HTTP/2
// transport, flow-control buffers, file descriptors) are part of what is measured. Both streams
// of a sidecar share its connection. `sidecars_per_channel` > 1 multiplexes several sidecars on
// one connection instead, for hosts with few file descriptors.
//
// Threading: the owner drives the fleet from one thread; the streams' reactions run on gRPC's
// callback threads and report to events().
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/control_load/fleet_events.h"
#include "bench/control_load/report_pool.h"
#include "bench/control_load/sidecar_streams.h"
#include "grpcpp/channel.h"

namespace llmesh::bench {

struct FleetOptions {
  // "host:port" of llmesh-control's gRPC listener.
  std::string target;
  size_t sidecars = 1000;
  size_t sidecars_per_channel = 1;
  // Node ids are `<node_prefix><index, 4 digits>`.
  std::string node_prefix = "control-load-";
};

class SidecarFleet {
 public:
  // `pool` must outlive the fleet. Creates no connection yet.
  SidecarFleet(FleetOptions options, const ReportPool& pool);
  // Precondition: Close returned OK, or the process is about to exit (see the .cc).
  ~SidecarFleet();
  SidecarFleet(const SidecarFleet&) = delete;
  SidecarFleet& operator=(const SidecarFleet&) = delete;

  // Creates the channels and starts both streams of every sidecar; returns at once.
  void Open();

  // Starts the telemetry load phase on every sidecar: `reports_per_second` in total, spread
  // evenly (each sidecar reports every N / rate seconds, at a random phase), or, when it is 0,
  // every sidecar back to back with one report in flight.
  void BeginReports(double reports_per_second);
  // Ends the load phase and waits until every report in flight has its ack.
  absl::Status StopReports(SteadyTime deadline);

  // Half-closes every stream and waits until the control plane has ended them all; streams
  // still open at `deadline` are cancelled (then DEADLINE_EXCEEDED).
  absl::Status Close(SteadyTime deadline);

  FleetEvents& events() { return events_; }
  size_t channels() const { return channels_.size(); }

 private:
  const FleetOptions options_;
  const ReportPool& pool_;
  FleetEvents events_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<discovery::v1::DiscoveryService::Stub>> discovery_stubs_;
  std::vector<std::unique_ptr<telemetry::v1::TelemetryService::Stub>> telemetry_stubs_;
  std::vector<std::unique_ptr<DiscoverySession>> discovery_;
  std::vector<std::unique_ptr<TelemetrySession>> telemetry_;
  bool closed_ = false;
};

}  // namespace llmesh::bench
