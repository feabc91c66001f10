// llmesh-control's process wiring: opens the store (importing the bootstrap file on first
// start), serves the gRPC services (discovery, telemetry and admin, with server reflection) and
// the HTTP status listener, and shuts them down in order. Every committed route change is
// published to the discovery service, which pushes it to the sidecars; sidecars' telemetry
// reports feed a sliding window that GetHealth reads and from which the weight loop computes the
// global weights pushed to the sidecars.
//
// Threading: Start and Shutdown are called from the main thread. gRPC runs its own sync-server
// threads; the HTTP listener runs on one IoWorkers thread owned by the ControlServer; the weight
// loop runs on its own thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/io_workers.h"
#include "common/http/server.h"
#include "common/metrics/registry.h"
#include "controlplane/admin/admin_metrics.h"
#include "controlplane/admin/admin_service.h"
#include "controlplane/admin/shared_store.h"
#include "controlplane/admin/sidecar_directory.h"
#include "controlplane/discovery/discovery_server.h"
#include "controlplane/discovery/resource_source.h"
#include "controlplane/discovery/sidecar_registry.h"
#include "controlplane/telemetry/telemetry_aggregator.h"
#include "controlplane/telemetry/telemetry_server.h"
#include "controlplane/server/status_handler.h"
#include "controlplane/server/weight_loop.h"
#include "grpcpp/server.h"

namespace llmesh::control {

struct ControlServerOptions {
  // "host:port"; port 0 picks a free port (logged in the "listening" line).
  std::string grpc_listen = "127.0.0.1:15010";
  std::string http_listen = "127.0.0.1:15014";
  // SQLite file of the store; its directory must exist. Required.
  std::string store_path;
  // YAML file in the config file's shape whose providers and routes are imported when the
  // store has never been written; empty = none.
  std::string bootstrap_path;
  // Bearer token of the admin API; empty = the admin API refuses every call.
  std::string admin_token;
  // The sliding window of sidecar telemetry the weights are computed over.
  TelemetryOptions telemetry;
  // The interval sidecars are told to report at (TelemetryAck.report_interval).
  Duration report_interval = kDefaultReportInterval;
  // The weight loop's interval, the assignments' TTL and the weight policy.
  WeightLoopOptions weights;
};

class ControlServer {
 public:
  // Opens the store, imports the bootstrap file if the store is new, starts both listeners
  // (logging one "listening" line each: listener "grpc" and "http") and marks /readyz ready.
  // Errors: those of Store::Open; the bootstrap file's load or import errors (INVALID_ARGUMENT
  // with every field path, NOT_FOUND, ...); INVALID_ARGUMENT for a malformed listen address;
  // UNAVAILABLE when a listener cannot bind. `registry` must outlive the server.
  static absl::StatusOr<std::unique_ptr<ControlServer>> Start(ControlServerOptions options,
                                                              metrics::Registry& registry);

  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  uint16_t grpc_port() const { return grpc_port_; }
  uint16_t http_port() const { return http_server_->port(); }

  // Marks /readyz not ready, ends the sidecars' discovery streams (they reconnect elsewhere or
  // later), lets in-flight admin calls finish for up to `grace`, then stops gRPC (cancelling
  // whatever still runs) and the HTTP listener. Idempotent; the destructor calls it with no grace.
  void Shutdown(absl::Duration grace);

 private:
  explicit ControlServer(metrics::Registry& registry);

  // ListSidecars answered by the discovery service's registry.
  class RegistryDirectory final : public SidecarDirectory {
   public:
    RegistryDirectory(SidecarRegistry& registry, const ResourceSource& source)
        : registry_(registry), source_(source) {}
    llmesh::admin::v1::ListSidecarsResponse ListSidecars(
        const llmesh::admin::v1::ListSidecarsRequest& request) const override;

   private:
    SidecarRegistry& registry_;  // List drops sidecars past their retention
    const ResourceSource& source_;
  };

  // GetHealth's figures from the telemetry window and the weights the weight loop last pushed.
  class WindowHealthSource final : public HealthSource {
   public:
    WindowHealthSource(const TelemetryAggregator& telemetry, const WeightLoop& weights)
        : telemetry_(telemetry), weights_(weights) {}
    HealthSnapshot Health() const override;

   private:
    const TelemetryAggregator& telemetry_;
    const WeightLoop& weights_;
  };

  AdminMetrics admin_metrics_;
  StatusHandler status_handler_;
  std::unique_ptr<SharedStore> store_;
  InMemoryResourceSource resources_;
  SidecarRegistry sidecars_;
  DiscoveryServer discovery_{resources_, sidecars_};
  RegistryDirectory directory_{sidecars_, resources_};
  std::unique_ptr<TelemetryAggregator> telemetry_;
  std::unique_ptr<TelemetryServer> telemetry_server_;
  std::unique_ptr<WeightLoop> weight_loop_;
  std::unique_ptr<WindowHealthSource> health_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  uint16_t grpc_port_ = 0;
  http::IoWorkers http_workers_{1};
  std::unique_ptr<http::HttpServer> http_server_;
  bool http_running_ = false;
  bool stopped_ = false;
};

}  // namespace llmesh::control
