#include "controlplane/server/control_server.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/config/env.h"
#include "common/config/loader.h"
#include "common/http/host_port.h"
#include "common/log/log.h"
#include "common/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace llmesh::control {
namespace {

// Imports the bootstrap file on first start; later starts leave the store as operators left it.
absl::Status Bootstrap(SharedStore& store, const std::string& path, AdminMetrics& metrics) {
  absl::StatusOr<llmesh::config::v1::Config> config =
      config::LoadConfigFile(path, config::ProcessEnv());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat("bootstrap file ", path, ":\n", config.status().message()));
  }
  absl::StatusOr<bool> imported =
      store.With([&](Store& s) { return s.BootstrapIfEmpty(*config); });
  if (!imported.ok()) {
    return absl::Status(imported.status().code(),
                        absl::StrCat("bootstrap file ", path, ":\n", imported.status().message()));
  }
  if (*imported) {
    metrics.RecordWrite("route_configuration", "bootstrap");
    log::Log(log::Level::kInfo, "bootstrap imported",
             {{"path", path},
              {"providers", config->providers_size()},
              {"routes", config->routes_size()}});
  } else {
    log::Log(log::Level::kInfo, "bootstrap skipped: the store already holds a configuration",
             {{"path", path}});
  }
  return absl::OkStatus();
}

}  // namespace

ControlServer::ControlServer(metrics::Registry& registry)
    : admin_metrics_(registry), status_handler_(registry), sidecars_(SystemClock::Get()) {}

HealthSnapshot ControlServer::WindowHealthSource::Health() const {
  WindowHealth window = telemetry_.Health();
  HealthSnapshot snapshot;
  snapshot.window = window.window;
  snapshot.reporting_sidecars = window.reporting_sidecars;
  snapshot.figures = std::move(window.targets);
  snapshot.weights = weights_.Weights();
  return snapshot;
}

llmesh::admin::v1::ListSidecarsResponse ControlServer::RegistryDirectory::ListSidecars(
    const llmesh::admin::v1::ListSidecarsRequest& request) const {
  return registry_.List(request, source_);
}

ControlServer::~ControlServer() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::Start(ControlServerOptions options,
                                                                    metrics::Registry& registry) {
  if (options.store_path.empty()) return absl::InvalidArgumentError("--store: required");
  LLMESH_ASSIGN_OR_RETURN(boost::asio::ip::tcp::endpoint grpc_endpoint,
                          http::ParseHostPort(options.grpc_listen));
  std::unique_ptr<ControlServer> server(new ControlServer(registry));

  LLMESH_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options.store_path));
  server->store_ = std::make_unique<SharedStore>(std::move(store));
  if (!options.bootstrap_path.empty()) {
    LLMESH_RETURN_IF_ERROR(Bootstrap(*server->store_, options.bootstrap_path, server->admin_metrics_));
  }
  LLMESH_ASSIGN_OR_RETURN(RouteConfigurationSnapshot snapshot,
                          server->store_->With([](Store& s) { return s.Snapshot(); }));
  server->admin_metrics_.SetRouteConfigurationVersion(snapshot.version);
  server->resources_.SetRouteConfiguration(snapshot.config);
  log::Log(log::Level::kInfo, "store open",
           {{"path", options.store_path},
            {"route_configuration_version", snapshot.version},
            {"providers", snapshot.config.providers_size()},
            {"routes", snapshot.config.routes_size()}});

  BearerAuth auth(options.admin_token);
  if (!auth.configured()) {
    log::Log(log::Level::kWarn,
             "no admin token configured: the admin API refuses every call (admin APIs require a "
             "token; set --admin-token-env)");
  }
  LLMESH_ASSIGN_OR_RETURN(server->telemetry_,
                          TelemetryAggregator::Create(options.telemetry, SystemClock::Get()));
  server->telemetry_server_ =
      std::make_unique<TelemetryServer>(*server->telemetry_, options.report_interval);
  LLMESH_ASSIGN_OR_RETURN(
      server->weight_loop_,
      WeightLoop::Create(options.weights, SystemClock::Get(), nullptr, server->resources_, *server->telemetry_,
                         [store = server->store_.get()](absl::Time now) {
                           return store->With(
                               [now](Store& s) { return s.ListWeightOverrides(now); });
                         }));
  server->health_ = std::make_unique<WindowHealthSource>(*server->telemetry_, *server->weight_loop_);

  AdminService::Options admin_options;
  admin_options.metrics = &server->admin_metrics_;
  admin_options.sidecars = &server->directory_;
  admin_options.health = server->health_.get();
  // Runs under the store's lock in commit order, so sidecars see changes in the order they were
  // acknowledged; publishing only swaps a pointer and wakes the discovery service's notifier
  // thread, which pushes to the streams, so an apply's latency does not grow with the sidecars.
  admin_options.on_route_configuration_change = [resources = &server->resources_,
                                                  loop = server->weight_loop_.get()](
                                                    const RouteConfigurationSnapshot& changed) {
    resources->SetRouteConfiguration(changed.config);
    loop->Wake();
  };
  // Both run under the store's lock: Wake only flags the loop, which then reads the store.
  admin_options.on_weight_overrides_change = [loop = server->weight_loop_.get()] { loop->Wake(); };
  server->admin_service_ =
      std::make_unique<AdminService>(*server->store_, std::move(auth), std::move(admin_options));

  // Must run before the builder exists: the plugin registers itself with new builders.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(http::FormatHostPort(grpc_endpoint), grpc::InsecureServerCredentials(),
                           &selected_port);
  builder.RegisterService(&server->discovery_);
  builder.RegisterService(server->telemetry_server_.get());
  builder.RegisterService(server->admin_service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || selected_port == 0) {
    server->grpc_server_.reset();
    return absl::UnavailableError(
        absl::StrCat("--grpc-listen ", options.grpc_listen, ": cannot listen"));
  }
  server->grpc_port_ = static_cast<uint16_t>(selected_port);
  server->weight_loop_->Start();
  grpc_endpoint.port(server->grpc_port_);
  log::Log(log::Level::kInfo, "listening",
           {{"listener", "grpc"}, {"address", http::FormatHostPort(grpc_endpoint)}});

  http::ServerOptions http_options;
  http_options.listen = options.http_listen;
  http_options.name = "http";
  server->http_server_ = std::make_unique<http::HttpServer>(
      server->http_workers_.context(0), http_options, server->status_handler_);
  if (absl::Status started = server->http_server_->Start(); !started.ok()) {
    return absl::Status(started.code(),
                        absl::StrCat("--http-listen ", options.http_listen, ": ", started.message()));
  }
  server->http_workers_.Start();
  server->http_running_ = true;
  server->status_handler_.SetReady(true);
  return server;
}

void ControlServer::Shutdown(absl::Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  status_handler_.SetReady(false);
  // Open streams would hold gRPC's shutdown for its whole grace period.
  discovery_.Shutdown();
  if (telemetry_server_ != nullptr) telemetry_server_->Shutdown();
  // Stops pushing new weights before the discovery service goes away with the gRPC server.
  if (weight_loop_ != nullptr) weight_loop_->Stop();
  if (grpc_server_ != nullptr) {
    // Calls that start after this wait are cancelled by the immediate Shutdown; clients retry.
    admin_service_->AwaitIdle(absl::Now() + grace);
    grpc_server_->Shutdown(std::chrono::system_clock::now());
    grpc_server_->Wait();
    log::Log(log::Level::kDebug, "grpc server stopped");
  }
  if (http_server_ != nullptr) {
    http_server_->Stop();
    // Without running workers nothing was served and nothing is left to finish.
    if (http_running_) http_server_->WaitUntilStopped(std::chrono::seconds(5));
    log::Log(log::Level::kDebug, "http server stopped");
  }
  http_workers_.Stop();
  http_workers_.Join();
}

}  // namespace llmesh::control
