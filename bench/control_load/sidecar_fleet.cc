#include "bench/control_load/sidecar_fleet.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace llmesh::bench {
namespace {

namespace discovery = ::llmesh::discovery::v1;

// How long cancelled streams get to report their end before the fleet gives up on them.
constexpr auto kCancelGrace = std::chrono::seconds(5);

}  // namespace

SidecarFleet::SidecarFleet(FleetOptions options, const ReportPool& pool)
    : options_(std::move(options)), pool_(pool), events_(options_.sidecars) {}

SidecarFleet::~SidecarFleet() {
  if (closed_ || discovery_.empty()) return;
  // The run failed before Close: end the streams without ceremony.
  for (auto& session : telemetry_) session->StopReports();
  for (auto& session : discovery_) session->Cancel();
  for (auto& session : telemetry_) session->Cancel();
  const SteadyTime grace = SteadyClock::now() + kCancelGrace;
  if (events_.WaitForStreamsDone(discovery_.size() + telemetry_.size(), grace).ok() &&
      events_.WaitForNoAlarms(grace).ok()) {
    return;
  }
  // A stream that never ended may still get reactions (and a pending alarm its callback);
  // freeing it would hand gRPC a dangling reactor. The harness exits right after a failure,
  // so leaking the sessions is the safe way out.
  for (auto& session : discovery_) (void)session.release();
  for (auto& session : telemetry_) (void)session.release();
}

void SidecarFleet::Open() {
  const size_t per_channel = options_.sidecars_per_channel == 0 ? 1 : options_.sidecars_per_channel;
  for (size_t i = 0; i < options_.sidecars; ++i) {
    if (i % per_channel == 0) {
      grpc::ChannelArguments args;
      // Without it, channels with equal arguments share one subchannel, hence one connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      channels_.push_back(grpc::CreateCustomChannel(
          options_.target, grpc::InsecureChannelCredentials(), args));
      discovery_stubs_.push_back(discovery::DiscoveryService::NewStub(channels_.back()));
      telemetry_stubs_.push_back(telemetry::v1::TelemetryService::NewStub(channels_.back()));
    }
    discovery::Node node;
    node.set_id(absl::StrFormat("%s%04d", options_.node_prefix, i));
    node.set_cluster("control-load");
    node.set_namespace_("bench");
    node.set_pod(node.id());
    node.set_proxy_version("control-load");
    discovery_.push_back(std::make_unique<DiscoverySession>(node, events_));
    telemetry_.push_back(std::make_unique<TelemetrySession>(node, pool_, i, events_));
    discovery_.back()->Start(*discovery_stubs_.back());
    telemetry_.back()->Start(*telemetry_stubs_.back());
  }
}

void SidecarFleet::BeginReports(double reports_per_second) {
  std::mt19937_64 rng(7);
  const auto period =
      reports_per_second > 0
          ? std::chrono::nanoseconds(static_cast<int64_t>(
                1e9 * static_cast<double>(options_.sidecars) / reports_per_second))
          : std::chrono::nanoseconds(0);
  std::uniform_int_distribution<int64_t> phase(0, period.count() > 0 ? period.count() - 1 : 0);
  for (auto& session : telemetry_) {
    session->BeginReports(period, std::chrono::nanoseconds(phase(rng)));
  }
}

absl::Status SidecarFleet::StopReports(SteadyTime deadline) {
  for (auto& session : telemetry_) session->StopReports();
  return events_.WaitForTelemetryIdle(deadline);
}

absl::Status SidecarFleet::Close(SteadyTime deadline) {
  for (auto& session : telemetry_) session->StopReports();
  for (auto& session : discovery_) session->Close();
  for (auto& session : telemetry_) session->Close();
  const size_t streams = discovery_.size() + telemetry_.size();
  absl::Status ended = events_.WaitForStreamsDone(streams, deadline);
  if (!ended.ok()) {
    for (auto& session : discovery_) session->Cancel();
    for (auto& session : telemetry_) session->Cancel();
    const SteadyTime grace = SteadyClock::now() + kCancelGrace;
    closed_ = events_.WaitForStreamsDone(streams, grace).ok() && events_.WaitForNoAlarms(grace).ok();
    return ended;
  }
  // StopReports cancelled every pending alarm; once their callbacks ran, nothing of gRPC's
  // refers to the sessions any more and they may be destroyed.
  absl::Status alarms = events_.WaitForNoAlarms(SteadyClock::now() + kCancelGrace);
  closed_ = alarms.ok();
  return alarms;
}

}  // namespace llmesh::bench
