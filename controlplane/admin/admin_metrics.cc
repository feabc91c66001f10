#include "controlplane/admin/admin_metrics.h"

#include <string>

#include "common/absl_view.h"

namespace llmesh::control {

AdminMetrics::AdminMetrics(metrics::Registry& registry)
    : requests_(registry.AddCounter("llmesh_control_admin_requests_total",
                                    "Admin API calls by method and gRPC status code.",
                                    {"method", "code"})),
      writes_(registry.AddCounter("llmesh_control_store_writes_total",
                                  "Changes committed to the control plane's store.",
                                  {"object", "operation"})),
      version_(registry.AddInfo("llmesh_control_route_configuration_version_info",
                                "Version of the route configuration in the store.",
                                {"version"})) {}

void AdminMetrics::RecordRequest(std::string_view method, absl::StatusCode code) {
  const std::string code_name = absl::StatusCodeToString(code);
  requests_.Get({method, std::string_view(code_name)}).Inc();
}

void AdminMetrics::RecordWrite(std::string_view object, std::string_view operation) {
  writes_.Get({object, operation}).Inc();
}

void AdminMetrics::SetRouteConfigurationVersion(std::string_view version) {
  version_.Set({version});
}

}  // namespace llmesh::control
