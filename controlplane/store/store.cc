#include "controlplane/store/store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"
#include "common/config/route_name.h"
#include "common/status_macros.h"
#include "controlplane/store/migrations.h"
#include "controlplane/store/sqlite.h"
#include "controlplane/store/store_rows.h"
#include "controlplane/store/validation.h"
#include "controlplane/store/version.h"

namespace llmesh::control {
namespace {

using llmesh::config::v1::Provider;
using llmesh::config::v1::Route;
using sqlite::Transaction;

absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

StoredProvider ToStored(const ProviderRow& row) {
  return StoredProvider{row.provider, row.etag, FromMicros(row.create_time_us),
                        FromMicros(row.update_time_us)};
}

StoredRoute ToStored(const RouteRow& row) {
  return StoredRoute{row.route, row.etag, FromMicros(row.create_time_us),
                     FromMicros(row.update_time_us)};
}

// ABORTED unless `expected` is empty or matches the stored object's etag.
absl::Status CheckEtag(std::string_view kind, std::string_view name, std::string_view expected,
                       const std::string* stored) {
  if (expected.empty()) return absl::OkStatus();
  if (stored == nullptr) {
    return absl::AbortedError(absl::StrCat("etag mismatch: ", AbslView(kind), " \"", AbslView(name),
                                           "\" does not exist (expected etag \"",
                                           AbslView(expected), "\")"));
  }
  if (*stored != expected) {
    return absl::AbortedError(absl::StrCat("etag mismatch: ", AbslView(kind), " \"", AbslView(name),
                                           "\" has etag \"", *stored, "\", not \"",
                                           AbslView(expected), "\"; read it again and retry"));
  }
  return absl::OkStatus();
}

absl::Status NotFound(std::string_view kind, std::string_view name) {
  return absl::NotFoundError(absl::StrCat(AbslView(kind), " \"", AbslView(name), "\" not found"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, Options options) {
  LLMESH_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::Open(path, options.busy_timeout));
  // Refuse a newer schema before changing anything in the file (WAL mode is persistent).
  LLMESH_ASSIGN_OR_RETURN(const int found_version, control::SchemaVersion(db));
  if (found_version > LatestSchemaVersion()) return Migrate(db).status();
  {
    LLMESH_ASSIGN_OR_RETURN(sqlite::Statement wal, db.Prepare("PRAGMA journal_mode = WAL"));
    LLMESH_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.ColumnText(0) != "wal") {
      return absl::UnavailableError(absl::StrCat("store \"", path,
                                                 "\": cannot use WAL journal mode (got \"",
                                                 row ? wal.ColumnText(0) : "", "\")"));
    }
  }
  // FULL: in WAL mode the WAL is synced at every commit, so a committed change survives power
  // loss, not only a process crash (NORMAL would only survive the latter).
  LLMESH_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"));
  LLMESH_RETURN_IF_ERROR(Migrate(db).status());
  auto owned = std::make_unique<sqlite::Database>(std::move(db));
  return std::unique_ptr<Store>(new Store(std::move(owned), std::move(options)));
}

Store::Store(std::unique_ptr<sqlite::Database> db, Options options)
    : db_(std::move(db)), options_(std::move(options)) {}

Store::~Store() = default;

absl::Time Store::Now() const { return options_.wall_clock ? options_.wall_clock() : absl::Now(); }

absl::StatusOr<int> Store::SchemaVersion() { return control::SchemaVersion(*db_); }

absl::StatusOr<std::vector<StoredProvider>> Store::ListProviders() {
  LLMESH_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kRead));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  std::vector<StoredProvider> out;
  out.reserve(state.providers.size());
  for (const ProviderRow& row : state.providers) out.push_back(ToStored(row));
  return out;
}

absl::StatusOr<StoredProvider> Store::GetProvider(std::string_view name) {
  LLMESH_ASSIGN_OR_RETURN(std::vector<StoredProvider> all, ListProviders());
  for (StoredProvider& p : all) {
    if (p.provider.name() == name) return std::move(p);
  }
  return NotFound("provider", name);
}

absl::StatusOr<std::vector<StoredRoute>> Store::ListRoutes() {
  LLMESH_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kRead));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  std::vector<StoredRoute> out;
  out.reserve(state.routes.size());
  for (const RouteRow& row : state.routes) out.push_back(ToStored(row));
  return out;
}

absl::StatusOr<StoredRoute> Store::GetRoute(std::string_view name) {
  LLMESH_ASSIGN_OR_RETURN(std::vector<StoredRoute> all, ListRoutes());
  for (StoredRoute& r : all) {
    if (llmesh::config::RouteName(r.route) == name) return std::move(r);
  }
  return NotFound("route", name);
}

absl::StatusOr<RouteConfigurationSnapshot> Store::Snapshot() {
  LLMESH_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kRead));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  return RouteConfigurationSnapshot{ToRouteConfiguration(state), state.version};
}

absl::StatusOr<ApplyProviderResult> Store::ApplyProvider(const Provider& provider,
                                                         const WriteOptions& options) {
  if (provider.name().empty()) return absl::InvalidArgumentError("provider.name: required");
  // A dry run takes no write lock, so it never delays real writers.
  LLMESH_ASSIGN_OR_RETURN(
      Transaction txn, Transaction::Begin(*db_, options.validate_only ? Transaction::Mode::kRead
                                                                      : Transaction::Mode::kWrite));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  auto it = std::lower_bound(
      state.providers.begin(), state.providers.end(), provider.name(),
      [](const ProviderRow& row, const std::string& name) { return row.provider.name() < name; });
  const bool exists = it != state.providers.end() && it->provider.name() == provider.name();
  LLMESH_RETURN_IF_ERROR(
      CheckEtag("provider", provider.name(), options.expected_etag, exists ? &it->etag : nullptr));
  if (exists && DeterministicBytes(it->provider) == DeterministicBytes(provider)) {
    return ApplyProviderResult{ToStored(*it), false, state.version};
  }

  const int64_t now_us = absl::ToUnixMicros(Now());
  const int64_t revision = state.revision + 1;
  ProviderRow row{provider, absl::StrCat(revision), exists ? it->create_time_us : now_us, now_us};
  if (exists) {
    *it = row;
  } else {
    it = state.providers.insert(it, row);
  }
  const auto config = ToRouteConfiguration(state);
  LLMESH_RETURN_IF_ERROR(ValidateRouteConfiguration(config));
  const std::string version = RouteConfigurationVersion(config);
  if (!options.validate_only) {
    LLMESH_RETURN_IF_ERROR(UpsertProvider(*db_, row));
    LLMESH_RETURN_IF_ERROR(
        RecordChange(*db_, revision, now_us, "provider", provider.name(), "apply", version));
    LLMESH_RETURN_IF_ERROR(txn.Commit());
  }
  return ApplyProviderResult{ToStored(row), true, version};
}

absl::StatusOr<DeleteResult> Store::DeleteProvider(std::string_view name,
                                                   const WriteOptions& options) {
  LLMESH_ASSIGN_OR_RETURN(
      Transaction txn, Transaction::Begin(*db_, options.validate_only ? Transaction::Mode::kRead
                                                                      : Transaction::Mode::kWrite));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  auto it = std::find_if(state.providers.begin(), state.providers.end(),
                         [&](const ProviderRow& row) { return row.provider.name() == name; });
  if (it == state.providers.end()) return NotFound("provider", name);
  LLMESH_RETURN_IF_ERROR(CheckEtag("provider", name, options.expected_etag, &it->etag));

  std::vector<std::string> users;
  for (size_t r = 0; r < state.routes.size(); ++r) {
    const Route& route = state.routes[r].route;
    for (int t = 0; t < route.targets_size(); ++t) {
      if (route.targets(t).provider() == name) {
        users.push_back(absl::StrCat("routes[", r, "].targets[", t, "] (route \"",
                                     state.routes[r].name, "\")"));
      }
    }
  }
  if (!users.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "provider \"", AbslView(name), "\" is still used by ", absl::StrJoin(users, ", ")));
  }
  state.providers.erase(it);
  const auto config = ToRouteConfiguration(state);
  LLMESH_RETURN_IF_ERROR(ValidateRouteConfiguration(config));
  const std::string version = RouteConfigurationVersion(config);
  if (!options.validate_only) {
    LLMESH_RETURN_IF_ERROR(DeleteProviderRow(*db_, name));
    LLMESH_RETURN_IF_ERROR(RecordChange(*db_, state.revision + 1, absl::ToUnixMicros(Now()),
                                        "provider", name, "delete", version));
    LLMESH_RETURN_IF_ERROR(txn.Commit());
  }
  return DeleteResult{version};
}

absl::StatusOr<ApplyRouteResult> Store::ApplyRoute(const Route& route,
                                                   const WriteOptions& options) {
  const std::string name = llmesh::config::RouteName(route);
  if (name.empty()) return absl::InvalidArgumentError("route.model: required");
  LLMESH_ASSIGN_OR_RETURN(
      Transaction txn, Transaction::Begin(*db_, options.validate_only ? Transaction::Mode::kRead
                                                                      : Transaction::Mode::kWrite));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  auto it = std::find_if(state.routes.begin(), state.routes.end(),
                         [&](const RouteRow& row) { return row.name == name; });
  const bool exists = it != state.routes.end();
  LLMESH_RETURN_IF_ERROR(
      CheckEtag("route", name, options.expected_etag, exists ? &it->etag : nullptr));
  if (exists && DeterministicBytes(it->route) == DeterministicBytes(route)) {
    return ApplyRouteResult{ToStored(*it), false, state.version};
  }

  const int64_t now_us = absl::ToUnixMicros(Now());
  const int64_t revision = state.revision + 1;
  RouteRow row{route, name, 0, absl::StrCat(revision), now_us, now_us};
  if (exists) {
    row.position = it->position;
    row.create_time_us = it->create_time_us;
    *it = row;
  } else {
    row.position = state.routes.empty() ? 1 : state.routes.back().position + 1;
    state.routes.push_back(row);
  }
  const auto config = ToRouteConfiguration(state);
  LLMESH_RETURN_IF_ERROR(ValidateRouteConfiguration(config));
  const std::string version = RouteConfigurationVersion(config);
  if (!options.validate_only) {
    LLMESH_RETURN_IF_ERROR(UpsertRoute(*db_, row));
    LLMESH_RETURN_IF_ERROR(RecordChange(*db_, revision, now_us, "route", name, "apply", version));
    LLMESH_RETURN_IF_ERROR(txn.Commit());
  }
  return ApplyRouteResult{ToStored(row), true, version};
}

absl::StatusOr<DeleteResult> Store::DeleteRoute(std::string_view name,
                                                const WriteOptions& options) {
  LLMESH_ASSIGN_OR_RETURN(
      Transaction txn, Transaction::Begin(*db_, options.validate_only ? Transaction::Mode::kRead
                                                                      : Transaction::Mode::kWrite));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  auto it = std::find_if(state.routes.begin(), state.routes.end(),
                         [&](const RouteRow& row) { return row.name == name; });
  if (it == state.routes.end()) return NotFound("route", name);
  LLMESH_RETURN_IF_ERROR(CheckEtag("route", name, options.expected_etag, &it->etag));
  state.routes.erase(it);
  const auto config = ToRouteConfiguration(state);
  LLMESH_RETURN_IF_ERROR(ValidateRouteConfiguration(config));
  const std::string version = RouteConfigurationVersion(config);
  if (!options.validate_only) {
    // The route's weight overrides go with it (ON DELETE CASCADE).
    LLMESH_RETURN_IF_ERROR(DeleteRouteRow(*db_, name));
    LLMESH_RETURN_IF_ERROR(RecordChange(*db_, state.revision + 1, absl::ToUnixMicros(Now()),
                                        "route", name, "delete", version));
    LLMESH_RETURN_IF_ERROR(txn.Commit());
  }
  return DeleteResult{version};
}

absl::StatusOr<bool> Store::BootstrapIfEmpty(const llmesh::config::v1::Config& config) {
  LLMESH_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kWrite));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  // "First start" is a store that has never committed a change; an operator who deleted
  // everything must not see the bootstrap file come back at the next restart.
  if (state.revision != 0) return false;

  const int64_t now_us = absl::ToUnixMicros(Now());
  const int64_t revision = 1;
  const std::string etag = absl::StrCat(revision);
  for (const Provider& p : config.providers()) {
    state.providers.push_back(ProviderRow{p, etag, now_us, now_us});
  }
  std::sort(state.providers.begin(), state.providers.end(),
            [](const ProviderRow& a, const ProviderRow& b) {
              return a.provider.name() < b.provider.name();
            });
  for (int i = 0; i < config.routes_size(); ++i) {
    const Route& r = config.routes(i);
    state.routes.push_back(RouteRow{r, llmesh::config::RouteName(r), i + 1, etag, now_us, now_us});
  }
  // Validate in the file's order, so that field paths match the bootstrap file.
  llmesh::discovery::v1::RouteConfiguration as_written;
  *as_written.mutable_providers() = config.providers();
  *as_written.mutable_routes() = config.routes();
  LLMESH_RETURN_IF_ERROR(ValidateRouteConfiguration(as_written));

  const std::string version = RouteConfigurationVersion(ToRouteConfiguration(state));
  for (const ProviderRow& row : state.providers) LLMESH_RETURN_IF_ERROR(UpsertProvider(*db_, row));
  for (const RouteRow& row : state.routes) LLMESH_RETURN_IF_ERROR(UpsertRoute(*db_, row));
  LLMESH_RETURN_IF_ERROR(RecordChange(*db_, revision, now_us, "bootstrap", "", "import", version));
  LLMESH_RETURN_IF_ERROR(txn.Commit());
  return true;
}

}  // namespace llmesh::control
