#include "controlplane/admin/admin_service.h"

#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "controlplane/admin/admin_proto.h"
#include "common/config/route_name.h"

namespace llmesh::control {
namespace {

namespace adminpb = llmesh::admin::v1;

using config::RouteName;

// Request-shape problems are reported like config problems: every one, "field: problem".
absl::Status Problems(const std::vector<std::string>& problems) {
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

absl::Status RequireName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("name: required");
  return absl::OkStatus();
}

WriteOptions ToWriteOptions(const std::string& etag, bool validate_only) {
  WriteOptions options;
  options.expected_etag = etag;
  options.validate_only = validate_only;
  return options;
}

}  // namespace

AdminService::AdminService(SharedStore& store, BearerAuth auth, Options options)
    : store_(store), auth_(std::move(auth)), options_(std::move(options)) {}

absl::Time AdminService::Now() const {
  return options_.wall_clock ? options_.wall_clock() : absl::Now();
}

absl::Status AdminService::Authenticate(const ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return auth_.Check(nullptr);
  const std::string_view value(it->second.data(), it->second.size());
  return auth_.Check(&value);
}

bool AdminService::AwaitIdle(absl::Time deadline) {
  absl::MutexLock lock(&in_flight_mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(in_flight_mu_) { return in_flight_ == 0; };
  return in_flight_mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
}

grpc::Status AdminService::Serve(std::string_view method, ServerContext* context,
                                 const std::function<absl::Status()>& body) {
  {
    absl::MutexLock lock(&in_flight_mu_);
    ++in_flight_;
  }
  absl::Status status = Authenticate(*context);
  if (status.ok()) status = body();
  {
    absl::MutexLock lock(&in_flight_mu_);
    --in_flight_;
  }
  if (options_.metrics != nullptr) options_.metrics->RecordRequest(method, status.code());
  return ToGrpcStatus(status);
}

void AdminService::RouteConfigurationChanged(Store& store, std::string_view object,
                                             std::string_view operation) {
  if (options_.metrics != nullptr) options_.metrics->RecordWrite(object, operation);
  if (!options_.on_route_configuration_change && options_.metrics == nullptr) return;
  // The change is committed: a failure to read it back must not turn the call into an error
  // the client would retry, so it only delays the notification to the next change.
  absl::StatusOr<RouteConfigurationSnapshot> snapshot = store.Snapshot();
  if (!snapshot.ok()) return;
  if (options_.metrics != nullptr) options_.metrics->SetRouteConfigurationVersion(snapshot->version);
  if (options_.on_route_configuration_change) options_.on_route_configuration_change(*snapshot);
}

void AdminService::WeightOverridesChanged(std::string_view operation) {
  if (options_.metrics != nullptr) options_.metrics->RecordWrite("weight_override", operation);
  if (options_.on_weight_overrides_change) options_.on_weight_overrides_change();
}

// ---- Providers ------------------------------------------------------------------------------

grpc::Status AdminService::ListProviders(ServerContext* context,
                                         const adminpb::ListProvidersRequest*,
                                         adminpb::ListProvidersResponse* response) {
  return Serve("ListProviders", context, [&]() -> absl::Status {
    return store_.With([&](Store& store) -> absl::Status {
      LLMESH_ASSIGN_OR_RETURN(std::vector<StoredProvider> providers, store.ListProviders());
      LLMESH_ASSIGN_OR_RETURN(RouteConfigurationSnapshot snapshot, store.Snapshot());
      for (const StoredProvider& provider : providers) *response->add_providers() = ToProto(provider);
      response->set_route_configuration_version(snapshot.version);
      return absl::OkStatus();
    });
  });
}

grpc::Status AdminService::GetProvider(ServerContext* context,
                                       const adminpb::GetProviderRequest* request,
                                       adminpb::StoredProvider* response) {
  return Serve("GetProvider", context, [&]() -> absl::Status {
    LLMESH_RETURN_IF_ERROR(RequireName(request->name()));
    absl::StatusOr<StoredProvider> stored =
        store_.With([&](Store& store) { return store.GetProvider(request->name()); });
    if (!stored.ok()) return stored.status();
    *response = ToProto(*stored);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::ApplyProvider(ServerContext* context,
                                         const adminpb::ApplyProviderRequest* request,
                                         adminpb::ApplyProviderResponse* response) {
  return Serve("ApplyProvider", context, [&]() -> absl::Status {
    if (!request->has_provider()) return absl::InvalidArgumentError("provider: required");
    return store_.With([&](Store& store) -> absl::Status {
      LLMESH_ASSIGN_OR_RETURN(
          ApplyProviderResult result,
          store.ApplyProvider(request->provider(),
                              ToWriteOptions(request->etag(), request->validate_only())));
      *response->mutable_provider() = ToProto(result.provider);
      response->set_changed(result.changed);
      response->set_route_configuration_version(result.route_configuration_version);
      if (result.changed && !request->validate_only()) {
        RouteConfigurationChanged(store, "provider", "apply");
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status AdminService::DeleteProvider(ServerContext* context,
                                          const adminpb::DeleteProviderRequest* request,
                                          adminpb::DeleteResponse* response) {
  return Serve("DeleteProvider", context, [&]() -> absl::Status {
    LLMESH_RETURN_IF_ERROR(RequireName(request->name()));
    return store_.With([&](Store& store) -> absl::Status {
      LLMESH_ASSIGN_OR_RETURN(
          DeleteResult result,
          store.DeleteProvider(request->name(),
                               ToWriteOptions(request->etag(), request->validate_only())));
      response->set_route_configuration_version(result.route_configuration_version);
      if (!request->validate_only()) RouteConfigurationChanged(store, "provider", "delete");
      return absl::OkStatus();
    });
  });
}

// ---- Routes ---------------------------------------------------------------------------------

grpc::Status AdminService::ListRoutes(ServerContext* context, const adminpb::ListRoutesRequest*,
                                      adminpb::ListRoutesResponse* response) {
  return Serve("ListRoutes", context, [&]() -> absl::Status {
    return store_.With([&](Store& store) -> absl::Status {
      LLMESH_ASSIGN_OR_RETURN(std::vector<StoredRoute> routes, store.ListRoutes());
      LLMESH_ASSIGN_OR_RETURN(RouteConfigurationSnapshot snapshot, store.Snapshot());
      for (const StoredRoute& route : routes) *response->add_routes() = ToProto(route);
      response->set_route_configuration_version(snapshot.version);
      return absl::OkStatus();
    });
  });
}

grpc::Status AdminService::GetRoute(ServerContext* context, const adminpb::GetRouteRequest* request,
                                    adminpb::StoredRoute* response) {
  return Serve("GetRoute", context, [&]() -> absl::Status {
    LLMESH_RETURN_IF_ERROR(RequireName(request->name()));
    absl::StatusOr<StoredRoute> stored =
        store_.With([&](Store& store) { return store.GetRoute(request->name()); });
    if (!stored.ok()) return stored.status();
    *response = ToProto(*stored);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::ApplyRoute(ServerContext* context,
                                      const adminpb::ApplyRouteRequest* request,
                                      adminpb::ApplyRouteResponse* response) {
  return Serve("ApplyRoute", context, [&]() -> absl::Status {
    if (!request->has_route()) return absl::InvalidArgumentError("route: required");
    return store_.With([&](Store& store) -> absl::Status {
      LLMESH_ASSIGN_OR_RETURN(
          ApplyRouteResult result,
          store.ApplyRoute(request->route(),
                           ToWriteOptions(request->etag(), request->validate_only())));
      *response->mutable_route() = ToProto(result.route);
      response->set_changed(result.changed);
      response->set_route_configuration_version(result.route_configuration_version);
      if (result.changed && !request->validate_only()) {
        RouteConfigurationChanged(store, "route", "apply");
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status AdminService::DeleteRoute(ServerContext* context,
                                       const adminpb::DeleteRouteRequest* request,
                                       adminpb::DeleteResponse* response) {
  return Serve("DeleteRoute", context, [&]() -> absl::Status {
    LLMESH_RETURN_IF_ERROR(RequireName(request->name()));
    return store_.With([&](Store& store) -> absl::Status {
      LLMESH_ASSIGN_OR_RETURN(
          DeleteResult result,
          store.DeleteRoute(request->name(),
                            ToWriteOptions(request->etag(), request->validate_only())));
      response->set_route_configuration_version(result.route_configuration_version);
      if (request->validate_only()) return absl::OkStatus();
      // The route's overrides went with it.
      if (options_.on_weight_overrides_change) options_.on_weight_overrides_change();
      RouteConfigurationChanged(store, "route", "delete");
      return absl::OkStatus();
    });
  });
}

// ---- Sidecars and health --------------------------------------------------------------------

grpc::Status AdminService::ListSidecars(ServerContext* context,
                                        const adminpb::ListSidecarsRequest* request,
                                        adminpb::ListSidecarsResponse* response) {
  return Serve("ListSidecars", context, [&]() -> absl::Status {
    if (options_.sidecars != nullptr) *response = options_.sidecars->ListSidecars(*request);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::GetHealth(ServerContext* context,
                                     const adminpb::GetHealthRequest* request,
                                     adminpb::GetHealthResponse* response) {
  return Serve("GetHealth", context, [&]() -> absl::Status {
    std::vector<StoredRoute> routes;
    std::vector<StoredWeightOverride> overrides;
    LLMESH_RETURN_IF_ERROR(store_.With([&](Store& store) -> absl::Status {
      if (!request->route().empty()) {
        LLMESH_ASSIGN_OR_RETURN(StoredRoute route, store.GetRoute(request->route()));
        routes.push_back(std::move(route));
      } else {
        LLMESH_ASSIGN_OR_RETURN(routes, store.ListRoutes());
      }
      LLMESH_ASSIGN_OR_RETURN(overrides, store.ListWeightOverrides(Now(), request->route()));
      return absl::OkStatus();
    }));
    if (options_.health == nullptr) return absl::OkStatus();

    const HealthSnapshot health = options_.health->Health();
    *response->mutable_window() = DurationProto(health.window);
    response->set_reporting_sidecars(health.reporting_sidecars);
    std::map<RouteTargetKey, const StoredWeightOverride*> override_of;
    for (const StoredWeightOverride& o : overrides) override_of[{o.route, o.provider, o.model}] = &o;
    for (const StoredRoute& stored : routes) {
      adminpb::RouteHealth* route_health = response->add_routes();
      const std::string route_name = RouteName(stored.route);
      route_health->set_route(route_name);
      for (const llmesh::config::v1::Target& target : stored.route.targets()) {
        adminpb::TargetHealth* out = route_health->add_targets();
        out->set_provider(target.provider());
        out->set_model(target.model());
        out->set_priority(target.priority());
        if (auto it = health.figures.find(TargetKey{target.provider(), target.model()});
            it != health.figures.end()) {
          const TargetHealthFigures& f = it->second;
          out->set_attempts(f.attempts);
          out->set_successes(f.successes);
          *out->mutable_latency_p50() = DurationProto(f.latency_p50);
          *out->mutable_latency_p95() = DurationProto(f.latency_p95);
          *out->mutable_latency_p99() = DurationProto(f.latency_p99);
          *out->mutable_ttft_p50() = DurationProto(f.ttft_p50);
          *out->mutable_ttft_p95() = DurationProto(f.ttft_p95);
          *out->mutable_ttft_p99() = DurationProto(f.ttft_p99);
          out->set_error_rate(f.error_rate);
          out->set_rate_limited_share(f.rate_limited_share);
          out->set_cost_per_success_usd(f.cost_per_success_usd);
        }
        const RouteTargetKey key{route_name, target.provider(), target.model()};
        if (auto it = health.weights.find(key); it != health.weights.end()) {
          out->set_slo_met(it->second.slo_met);
          out->set_weight(it->second.weight);
          out->set_weight_basis(it->second.basis);
          out->set_weight_reason(it->second.reason);
        }
        if (auto it = override_of.find(key); it != override_of.end()) {
          *out->mutable_weight_override() = ToProto(*it->second);
        }
      }
    }
    return absl::OkStatus();
  });
}

// ---- Weight overrides -----------------------------------------------------------------------

grpc::Status AdminService::SetWeightOverride(ServerContext* context,
                                             const adminpb::SetWeightOverrideRequest* request,
                                             adminpb::WeightOverride* response) {
  return Serve("SetWeightOverride", context, [&]() -> absl::Status {
    std::vector<std::string> problems;
    if (request->route().empty()) problems.push_back("route: required");
    if (request->provider().empty()) problems.push_back("provider: required");
    if (request->model().empty()) problems.push_back("model: required");
    switch (request->action_case()) {
      case adminpb::SetWeightOverrideRequest::kWeight:
        if (request->weight() < 1 || request->weight() > 10000) {
          problems.push_back(
              absl::StrCat("weight: must be 1 to 10000 basis points, got ", request->weight()));
        }
        break;
      case adminpb::SetWeightOverrideRequest::kDrain:
        if (!request->drain()) problems.push_back("drain: must be true when set");
        break;
      case adminpb::SetWeightOverrideRequest::ACTION_NOT_SET:
        problems.push_back("action: exactly one of weight or drain is required");
        break;
    }
    const absl::Duration ttl = FromDurationProto(request->ttl());
    if (!request->has_ttl()) {
      problems.push_back("ttl: required (overrides always expire)");
    } else if (ttl <= absl::ZeroDuration()) {
      problems.push_back(absl::StrCat("ttl: must be > 0, got ", absl::FormatDuration(ttl)));
    } else if (ttl > kMaxWeightOverrideTtl) {
      problems.push_back(absl::StrCat("ttl: must be at most 720h (30 days), got ",
                                      absl::FormatDuration(ttl)));
    }
    LLMESH_RETURN_IF_ERROR(Problems(problems));

    StoredWeightOverride value;
    value.route = request->route();
    value.provider = request->provider();
    value.model = request->model();
    if (request->action_case() == adminpb::SetWeightOverrideRequest::kWeight) {
      value.weight = request->weight();
    }
    value.expire_time = Now() + ttl;
    value.comment = request->comment();
    absl::StatusOr<StoredWeightOverride> stored =
        store_.With([&](Store& store) -> absl::StatusOr<StoredWeightOverride> {
          absl::StatusOr<StoredWeightOverride> result = store.SetWeightOverride(value);
          if (result.ok()) WeightOverridesChanged("set");
          return result;
        });
    if (!stored.ok()) return stored.status();
    *response = ToProto(*stored);
    return absl::OkStatus();
  });
}

grpc::Status AdminService::ClearWeightOverride(ServerContext* context,
                                               const adminpb::ClearWeightOverrideRequest* request,
                                               adminpb::ClearWeightOverrideResponse*) {
  return Serve("ClearWeightOverride", context, [&]() -> absl::Status {
    std::vector<std::string> problems;
    if (request->route().empty()) problems.push_back("route: required");
    if (request->provider().empty()) problems.push_back("provider: required");
    if (request->model().empty()) problems.push_back("model: required");
    LLMESH_RETURN_IF_ERROR(Problems(problems));
    return store_.With([&](Store& store) -> absl::Status {
      LLMESH_RETURN_IF_ERROR(store.ClearWeightOverride(request->route(), request->provider(),
                                                       request->model(), Now()));
      WeightOverridesChanged("clear");
      return absl::OkStatus();
    });
  });
}

grpc::Status AdminService::ListWeightOverrides(ServerContext* context,
                                               const adminpb::ListWeightOverridesRequest* request,
                                               adminpb::ListWeightOverridesResponse* response) {
  return Serve("ListWeightOverrides", context, [&]() -> absl::Status {
    absl::StatusOr<std::vector<StoredWeightOverride>> overrides = store_.With(
        [&](Store& store) { return store.ListWeightOverrides(Now(), request->route()); });
    if (!overrides.ok()) return overrides.status();
    for (const StoredWeightOverride& o : *overrides) *response->add_overrides() = ToProto(o);
    return absl::OkStatus();
  });
}

}  // namespace llmesh::control
