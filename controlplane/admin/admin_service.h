// llmesh.admin.v1.AdminService over the store: providers and routes (list/get/apply/delete with
// etag and validate_only), weight overrides, and the read-only views ListSidecars and GetHealth
// (admin.proto documents every call and its status codes).
//
// Where it sits: gRPC's sync server calls it; it authenticates the call (BearerAuth), then reads
// or writes the SharedStore, and tells its owner about committed changes through callbacks
// (the discovery service pushes a new route configuration, the weight loop recomputes with
// the new overrides). Sidecars and health come from interfaces other parts implement; either
// may be absent.
//
// Threading: gRPC calls the methods on its sync-server threads, concurrently. Store access is
// serialised by SharedStore; the store blocks on disk I/O, which is acceptable on these
// threads (admin calls are rare and unary). The callbacks run on the calling thread while the
// store's mutex is held, so they arrive in commit order; they must be quick and must not use
// the store.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controlplane/admin/admin_metrics.h"
#include "controlplane/admin/bearer_auth.h"
#include "controlplane/admin/health_source.h"
#include "controlplane/admin/shared_store.h"
#include "controlplane/admin/sidecar_directory.h"
#include "llmesh/admin/v1/admin.grpc.pb.h"

namespace llmesh::control {

// Overrides always expire; this bounds how long (admin.proto, SetWeightOverrideRequest.ttl).
inline constexpr absl::Duration kMaxWeightOverrideTtl = absl::Hours(24 * 30);

class AdminService final : public llmesh::admin::v1::AdminService::Service {
 public:
  struct Options {
    // Optional; without them ListSidecars is empty and GetHealth lists no routes. Must
    // outlive the service.
    const SidecarDirectory* sidecars = nullptr;
    const HealthSource* health = nullptr;
    // Optional; must outlive the service.
    AdminMetrics* metrics = nullptr;
    // Wall clock for override expiry; null = absl::Now.
    std::function<absl::Time()> wall_clock;
    // After every committed change of providers or routes (not after validate_only or an
    // identical write), with the new configuration and version.
    std::function<void(const RouteConfigurationSnapshot&)> on_route_configuration_change;
    // After every committed change of the weight overrides (set, clear, or a route deleted
    // with its overrides).
    std::function<void()> on_weight_overrides_change;
  };

  // `store` must outlive the service.
  AdminService(SharedStore& store, BearerAuth auth, Options options);

  // Blocks until no call is running or `deadline` passes; returns whether none is running.
  // For shutdown: gRPC 1.51's sync server stops polling its connections when Shutdown starts,
  // so Shutdown with a grace period always waits the whole period while any client is
  // connected; the owner waits here for in-flight calls, then shuts gRPC down at once.
  // Any thread that is not one of gRPC's.
  bool AwaitIdle(absl::Time deadline);

  using ServerContext = grpc::ServerContext;
  grpc::Status ListProviders(ServerContext* context,
                             const llmesh::admin::v1::ListProvidersRequest* request,
                             llmesh::admin::v1::ListProvidersResponse* response) override;
  grpc::Status GetProvider(ServerContext* context,
                           const llmesh::admin::v1::GetProviderRequest* request,
                           llmesh::admin::v1::StoredProvider* response) override;
  grpc::Status ApplyProvider(ServerContext* context,
                             const llmesh::admin::v1::ApplyProviderRequest* request,
                             llmesh::admin::v1::ApplyProviderResponse* response) override;
  grpc::Status DeleteProvider(ServerContext* context,
                              const llmesh::admin::v1::DeleteProviderRequest* request,
                              llmesh::admin::v1::DeleteResponse* response) override;

  grpc::Status ListRoutes(ServerContext* context, const llmesh::admin::v1::ListRoutesRequest* request,
                          llmesh::admin::v1::ListRoutesResponse* response) override;
  grpc::Status GetRoute(ServerContext* context, const llmesh::admin::v1::GetRouteRequest* request,
                        llmesh::admin::v1::StoredRoute* response) override;
  grpc::Status ApplyRoute(ServerContext* context, const llmesh::admin::v1::ApplyRouteRequest* request,
                          llmesh::admin::v1::ApplyRouteResponse* response) override;
  grpc::Status DeleteRoute(ServerContext* context,
                           const llmesh::admin::v1::DeleteRouteRequest* request,
                           llmesh::admin::v1::DeleteResponse* response) override;

  grpc::Status ListSidecars(ServerContext* context,
                            const llmesh::admin::v1::ListSidecarsRequest* request,
                            llmesh::admin::v1::ListSidecarsResponse* response) override;
  grpc::Status GetHealth(ServerContext* context, const llmesh::admin::v1::GetHealthRequest* request,
                         llmesh::admin::v1::GetHealthResponse* response) override;

  grpc::Status SetWeightOverride(ServerContext* context,
                                 const llmesh::admin::v1::SetWeightOverrideRequest* request,
                                 llmesh::admin::v1::WeightOverride* response) override;
  grpc::Status ClearWeightOverride(ServerContext* context,
                                   const llmesh::admin::v1::ClearWeightOverrideRequest* request,
                                   llmesh::admin::v1::ClearWeightOverrideResponse* response) override;
  grpc::Status ListWeightOverrides(ServerContext* context,
                                   const llmesh::admin::v1::ListWeightOverridesRequest* request,
                                   llmesh::admin::v1::ListWeightOverridesResponse* response) override;

 private:
  // Authenticates, runs `body` unless that failed, records the outcome, converts the status.
  grpc::Status Serve(std::string_view method, ServerContext* context,
                     const std::function<absl::Status()>& body);
  absl::Status Authenticate(const ServerContext& context) const;
  // Under the store lock, after a committed route configuration change.
  void RouteConfigurationChanged(Store& store, std::string_view object,
                                 std::string_view operation);
  void WeightOverridesChanged(std::string_view operation);
  absl::Time Now() const;

  SharedStore& store_;
  absl::Mutex in_flight_mu_;
  int in_flight_ ABSL_GUARDED_BY(in_flight_mu_) = 0;
  const BearerAuth auth_;
  const Options options_;
};

}  // namespace llmesh::control
