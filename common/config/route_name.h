// The name a route goes by everywhere (store, admin API, weights, telemetry, logs): Route.name,
// or its client-facing model when the name is empty (config.proto, Route.name).
#pragma once

#include <string>

#include "llmesh/config/v1/config.pb.h"

namespace llmesh::config {

inline const std::string& RouteName(const llmesh::config::v1::Route& route) {
  return route.name().empty() ? route.model() : route.name();
}

}  // namespace llmesh::config
