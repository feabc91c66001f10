// Validation of a route configuration as the control plane sees it: the config file's rules
// (common/config/validate.h) applied to the providers and routes alone.
//
// Used by the store before every write (and for validate_only). Checks that depend on the host
// the config will run on — whether an `api_key_env` variable is set, whether an `api_key_file`
// or `ca_file` is readable — are skipped: they hold on the sidecars, not here, and each sidecar
// checks them itself before it ACKs a push. Stateless; safe from any thread.
#pragma once

#include "absl/status/status.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

// OK when `config` is valid; otherwise INVALID_ARGUMENT listing every problem, one per line, as
// "field.path: problem" with paths into the whole configuration
// (`routes[1].targets[0].provider: unknown provider "opnai"`).
absl::Status ValidateRouteConfiguration(const llmesh::discovery::v1::RouteConfiguration& config);

}  // namespace llmesh::control
