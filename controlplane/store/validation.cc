#include "controlplane/store/validation.h"

#include "common/config/config_error.h"
#include "common/config/validate.h"
#include "llmesh/config/v1/config.pb.h"

namespace llmesh::control {

absl::Status ValidateRouteConfiguration(const llmesh::discovery::v1::RouteConfiguration& config) {
  llmesh::config::v1::Config whole;
  *whole.mutable_providers() = config.providers();
  *whole.mutable_routes() = config.routes();

  // Key variables and files belong to the sidecars' hosts, not to this one.
  return config::ErrorsToStatus(config::ValidatePortable(whole));
}

}  // namespace llmesh::control
