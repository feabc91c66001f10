// The control plane's persistent store: providers, routes, the route configuration version and
// operators' weight overrides, in an embedded SQLite database.
//
// Sits under the admin service (which edits it) and the discovery service (which pushes its
// Snapshot() to sidecars). Every write runs in one SQLite transaction that also recomputes the
// route configuration version, and returns only after that transaction committed with
// synchronous=FULL in WAL mode: an acknowledged change survives a crash or a power cut.
//
// Etags: the store keeps a change counter (its revision) that every committed change advances;
// an object's etag is the revision that last changed it, as decimal text. Etags never repeat,
// even when an object is deleted and created again with the same content; writing identical
// content changes nothing and keeps the etag.
//
// Threading: a Store is one SQLite connection and is not thread-safe: use it from one thread, or
// guard it with a mutex. Its calls block on disk I/O (and up to the busy timeout on another
// writer), so never call it on a proxy worker or an event loop that serves requests. Several
// Store objects, in one process or several, may open the same file: writes are serialised by
// SQLite and each object sees every committed write.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "llmesh/config/v1/config.pb.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

namespace sqlite {
class Database;
}  // namespace sqlite

struct StoredProvider {
  llmesh::config::v1::Provider provider;
  std::string etag;
  absl::Time create_time;
  absl::Time update_time;
};

// A route is identified by its name: Route.name, or Route.model when the name is empty (the
// same rule as the route's name in metrics and the x-llmesh-route header).
struct StoredRoute {
  llmesh::config::v1::Route route;
  std::string etag;
  absl::Time create_time;
  absl::Time update_time;
};

// Conditions of a write (the admin API's `etag` and `validate_only`).
struct WriteOptions {
  // Empty: unconditional. Set: the stored object must exist and have this etag, else ABORTED.
  std::string expected_etag;
  // Validate and report what the write would produce, without storing anything.
  bool validate_only = false;
};

struct ApplyProviderResult {
  // As stored (or as it would be, with validate_only), with its etag.
  StoredProvider provider;
  // False when the stored provider was already identical (nothing was written).
  bool changed = false;
  // Route configuration version holding the change (or that would, with validate_only).
  std::string route_configuration_version;
};

struct ApplyRouteResult {
  StoredRoute route;
  bool changed = false;
  std::string route_configuration_version;
};

struct DeleteResult {
  // Route configuration version without the deleted object (or that would be).
  std::string route_configuration_version;
};

// Everything sidecars receive: providers sorted by name, routes in match order.
struct RouteConfigurationSnapshot {
  llmesh::discovery::v1::RouteConfiguration config;
  // RouteConfigurationVersion(config) (version.h); "" only for an empty store never written.
  std::string version;
};

// An operator's override of one route target's computed weight.
struct StoredWeightOverride {
  std::string route;
  std::string provider;
  std::string model;
  // Basis points of the target's tier, 1 to 10000; nullopt means drain (weight 0).
  std::optional<uint32_t> weight;
  absl::Time expire_time;
  std::string comment;
  // Set by the store when the override is written.
  absl::Time create_time;
};

class Store {
 public:
  struct Options {
    // How long a write waits for another connection's write lock before failing UNAVAILABLE.
    absl::Duration busy_timeout = absl::Seconds(5);
    // Wall clock for create/update times and override expiry checks; null = absl::Now.
    std::function<absl::Time()> wall_clock;
  };

  // Opens or creates the store at `path` (a file; its directory must exist), sets WAL mode,
  // synchronous=FULL, foreign keys and the busy timeout, and migrates the schema to the
  // latest version. Errors: FAILED_PRECONDITION when the file has a newer schema than this
  // build (naming both versions), UNAVAILABLE when it cannot be opened or set to WAL mode,
  // DATA_LOSS when it is not a SQLite database.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path, Options options);
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path) {
    return Open(path, Options());
  }

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // Schema version of the open database (PRAGMA user_version).
  absl::StatusOr<int> SchemaVersion();

  // Every provider, sorted by name.
  absl::StatusOr<std::vector<StoredProvider>> ListProviders();
  // Errors: NOT_FOUND.
  absl::StatusOr<StoredProvider> GetProvider(std::string_view name);
  // Creates the provider or replaces the one with the same name, after validating the whole
  // configuration it produces. Errors: INVALID_ARGUMENT (every "field.path: problem" of the
  // resulting configuration; nothing stored), ABORTED ("etag mismatch: ..."), UNAVAILABLE.
  absl::StatusOr<ApplyProviderResult> ApplyProvider(const llmesh::config::v1::Provider& provider,
                                                    const WriteOptions& options);
  // Errors: NOT_FOUND, ABORTED (etag mismatch), FAILED_PRECONDITION (routes still target the
  // provider; the message names each by route and field path), UNAVAILABLE.
  absl::StatusOr<DeleteResult> DeleteProvider(std::string_view name, const WriteOptions& options);

  // Every route, in match order.
  absl::StatusOr<std::vector<StoredRoute>> ListRoutes();
  // By route name (Route.name, or Route.model when the name is empty). Errors: NOT_FOUND.
  absl::StatusOr<StoredRoute> GetRoute(std::string_view name);
  // Creates the route (last in match order) or replaces the one with the same name in place.
  // Errors as ApplyProvider.
  absl::StatusOr<ApplyRouteResult> ApplyRoute(const llmesh::config::v1::Route& route,
                                              const WriteOptions& options);
  // Deletes the route and the weight overrides of its targets. Errors: NOT_FOUND, ABORTED,
  // UNAVAILABLE.
  absl::StatusOr<DeleteResult> DeleteRoute(std::string_view name, const WriteOptions& options);

  // The whole route configuration and its version, read in one transaction.
  absl::StatusOr<RouteConfigurationSnapshot> Snapshot();

  // Imports the providers and routes of `config` (a bootstrap file in the config file's shape;
  // its other fields are ignored) when the store has never been written, i.e. on first start;
  // returns true when it imported. A store that has ever held a change is left alone (false),
  // even when everything was deleted since. Errors: INVALID_ARGUMENT (nothing imported),
  // UNAVAILABLE.
  absl::StatusOr<bool> BootstrapIfEmpty(const llmesh::config::v1::Config& config);

  // Sets (or replaces) the override of one route target; `create_time` of the argument is
  // ignored. Errors: INVALID_ARGUMENT (unknown route, target not in the route, weight outside
  // 1..10000, expire_time not after now), UNAVAILABLE. Expired overrides are purged on the way.
  absl::StatusOr<StoredWeightOverride> SetWeightOverride(const StoredWeightOverride& override_value);
  // Removes a target's override. Errors: NOT_FOUND (none active at `now`), UNAVAILABLE.
  absl::Status ClearWeightOverride(std::string_view route, std::string_view provider,
                                   std::string_view model, absl::Time now);
  // Overrides active at `now` (expire_time after now), sorted by route, provider, model; only
  // those of `route` when it is not empty.
  absl::StatusOr<std::vector<StoredWeightOverride>> ListWeightOverrides(absl::Time now,
                                                                  std::string_view route = {});

 private:
  Store(std::unique_ptr<sqlite::Database> db, Options options);
  absl::Time Now() const;

  std::unique_ptr<sqlite::Database> db_;
  Options options_;
};

}  // namespace llmesh::control
