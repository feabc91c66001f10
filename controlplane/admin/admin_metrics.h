// Metric families of llmesh-control's admin API and store, registered once at startup:
//   llmesh_control_admin_requests_total{method,code}         admin calls by outcome
//   llmesh_control_store_writes_total{object,operation}      committed changes to the store
//   llmesh_control_route_configuration_version_info{version} the route configuration served
//
// Threading: constructed on the main thread; the methods may be called from any thread (they
// take the registry's family mutex, so they are for admin calls, not for a request hot path).
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "common/metrics/registry.h"

namespace llmesh::control {

class AdminMetrics {
 public:
  explicit AdminMetrics(metrics::Registry& registry);

  // One admin call of `method` (e.g. "ApplyRoute") ended with `code`.
  void RecordRequest(std::string_view method, absl::StatusCode code);
  // One committed change: `object` is "provider", "route" or "weight_override" ("apply",
  // "delete", "set", "clear"), or "route_configuration" for the bootstrap import ("bootstrap").
  void RecordWrite(std::string_view object, std::string_view operation);
  // The route configuration version now in the store.
  void SetRouteConfigurationVersion(std::string_view version);

 private:
  metrics::CounterFamily& requests_;
  metrics::CounterFamily& writes_;
  metrics::InfoFamily& version_;
};

}  // namespace llmesh::control
