// The sidecar's state_dir: the last route configuration it acknowledged, kept across restarts
// so that a sidecar restarted while the control plane is down boots into what it last served.
//
// Only ACKed configurations are written. The file holds a DiscoveryResponse (version_info,
// type_url, one RouteConfiguration; no nonce) in protobuf binary form, written to a temporary
// file, fsynced and renamed over the old one, so a crash leaves the old or the new file, never
// half of one. Weight assignments are not kept: one restored at boot would count as expired.
//
// Threading: blocking file I/O; call on the discovery client's thread or at start-up, never on
// a worker. No state; concurrent calls on one directory are not supported.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::xds {

inline constexpr char kRouteConfigurationTypeUrl[] = "llmesh.discovery.v1.RouteConfiguration";
inline constexpr char kWeightAssignmentTypeUrl[] = "llmesh.discovery.v1.WeightAssignment";

// A route configuration with the version the control plane gave it.
struct VersionedRoutes {
  std::string version;
  llmesh::discovery::v1::RouteConfiguration routes;
};

// Path of the file inside `state_dir`.
std::string RouteConfigurationPath(const std::string& state_dir);

// Atomically replaces the kept route configuration with `routes`. Creates `state_dir` (one
// level) when missing. Errors carry the errno-derived code and name the path.
absl::Status SaveRouteConfiguration(const std::string& state_dir, const VersionedRoutes& routes);

// The kept route configuration. NOT_FOUND when there is none; DATA_LOSS when the file cannot be
// parsed or does not hold exactly one RouteConfiguration with a version; other errno-derived
// codes when it cannot be read. Every message names the path.
absl::StatusOr<VersionedRoutes> LoadRouteConfiguration(const std::string& state_dir);

}  // namespace llmesh::xds
