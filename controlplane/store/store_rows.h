// Reading and writing the store's tables (schema in migrations.cc). Internal to
// controlplane/store; every function runs inside the caller's transaction.
//
// Threading: as the Database passed in (one thread at a time).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/store/sqlite.h"
#include "llmesh/config/v1/config.pb.h"
#include "llmesh/discovery/v1/discovery.pb.h"
#include "common/config/route_name.h"

namespace llmesh::control {

struct ProviderRow {
  llmesh::config::v1::Provider provider;
  std::string etag;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

struct RouteRow {
  llmesh::config::v1::Route route;
  std::string name;
  int64_t position = 0;
  std::string etag;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

// Everything the route configuration is made of, as one transaction sees it.
struct StoreState {
  std::vector<ProviderRow> providers;  // sorted by name
  std::vector<RouteRow> routes;        // in match order
  int64_t revision = 0;
  std::string version;
};


absl::StatusOr<StoreState> LoadState(sqlite::Database& db);

// The RouteConfiguration of `state` (providers by name, routes in match order).
llmesh::discovery::v1::RouteConfiguration ToRouteConfiguration(const StoreState& state);

// INSERT or UPDATE by name; an update keeps the row (and, for routes, its position and the
// overrides that reference it).
absl::Status UpsertProvider(sqlite::Database& db, const ProviderRow& row);
absl::Status UpsertRoute(sqlite::Database& db, const RouteRow& row);
absl::Status DeleteProviderRow(sqlite::Database& db, std::string_view name);
absl::Status DeleteRouteRow(sqlite::Database& db, std::string_view name);

// Records a committed-to-be change: the new revision and version in `meta`, and a line in the
// change log.
absl::Status RecordChange(sqlite::Database& db, int64_t revision, int64_t time_us,
                          std::string_view kind, std::string_view name, std::string_view action,
                          std::string_view version);

}  // namespace llmesh::control
