#include "controlplane/store/store_rows.h"

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/status_macros.h"
#include "controlplane/store/version.h"

namespace llmesh::control {
namespace {

absl::StatusOr<int64_t> MetaInt(sqlite::Database& db, std::string_view key) {
  LLMESH_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db.Prepare("SELECT value FROM meta WHERE key = ?1"));
  stmt.Bind(1, key);
  LLMESH_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row)
    return absl::DataLossError(absl::StrCat("store: meta key \"", AbslView(key), "\" is missing"));
  return stmt.ColumnInt64(0);
}

absl::StatusOr<std::string> MetaText(sqlite::Database& db, std::string_view key) {
  LLMESH_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db.Prepare("SELECT value FROM meta WHERE key = ?1"));
  stmt.Bind(1, key);
  LLMESH_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row)
    return absl::DataLossError(absl::StrCat("store: meta key \"", AbslView(key), "\" is missing"));
  return stmt.ColumnText(0);
}

}  // namespace

absl::StatusOr<StoreState> LoadState(sqlite::Database& db) {
  StoreState state;
  LLMESH_ASSIGN_OR_RETURN(state.revision, MetaInt(db, "revision"));
  LLMESH_ASSIGN_OR_RETURN(state.version, MetaText(db, "route_configuration_version"));

  LLMESH_ASSIGN_OR_RETURN(
      sqlite::Statement providers,
      db.Prepare("SELECT name, body, etag, create_time_us, update_time_us FROM providers "
                 "ORDER BY name"));
  while (true) {
    LLMESH_ASSIGN_OR_RETURN(bool row, providers.Step());
    if (!row) break;
    ProviderRow& p = state.providers.emplace_back();
    if (!p.provider.ParseFromString(providers.ColumnBlob(1))) {
      return absl::DataLossError(
          absl::StrCat("store: provider \"", providers.ColumnText(0), "\" cannot be parsed"));
    }
    p.etag = providers.ColumnText(2);
    p.create_time_us = providers.ColumnInt64(3);
    p.update_time_us = providers.ColumnInt64(4);
  }

  LLMESH_ASSIGN_OR_RETURN(
      sqlite::Statement routes,
      db.Prepare("SELECT name, position, body, etag, create_time_us, update_time_us FROM routes "
                 "ORDER BY position"));
  while (true) {
    LLMESH_ASSIGN_OR_RETURN(bool row, routes.Step());
    if (!row) break;
    RouteRow& r = state.routes.emplace_back();
    r.name = routes.ColumnText(0);
    r.position = routes.ColumnInt64(1);
    if (!r.route.ParseFromString(routes.ColumnBlob(2))) {
      return absl::DataLossError(absl::StrCat("store: route \"", r.name, "\" cannot be parsed"));
    }
    r.etag = routes.ColumnText(3);
    r.create_time_us = routes.ColumnInt64(4);
    r.update_time_us = routes.ColumnInt64(5);
  }
  return state;
}

llmesh::discovery::v1::RouteConfiguration ToRouteConfiguration(const StoreState& state) {
  llmesh::discovery::v1::RouteConfiguration config;
  for (const ProviderRow& p : state.providers) *config.add_providers() = p.provider;
  for (const RouteRow& r : state.routes) *config.add_routes() = r.route;
  return config;
}

absl::Status UpsertProvider(sqlite::Database& db, const ProviderRow& row) {
  LLMESH_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db.Prepare("INSERT INTO providers (name, body, etag, create_time_us, update_time_us) "
                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
                 "body = excluded.body, etag = excluded.etag, "
                 "update_time_us = excluded.update_time_us"));
  stmt.Bind(1, row.provider.name())
      .BindBlob(2, DeterministicBytes(row.provider))
      .Bind(3, row.etag)
      .Bind(4, row.create_time_us)
      .Bind(5, row.update_time_us);
  return stmt.Run();
}

absl::Status UpsertRoute(sqlite::Database& db, const RouteRow& row) {
  // An upsert, not INSERT OR REPLACE: replacing would delete the row and, through the foreign
  // key, the route's weight overrides.
  LLMESH_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db.Prepare("INSERT INTO routes (name, position, body, etag, create_time_us, "
                 "update_time_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO UPDATE "
                 "SET body = excluded.body, etag = excluded.etag, "
                 "update_time_us = excluded.update_time_us"));
  stmt.Bind(1, row.name)
      .Bind(2, row.position)
      .BindBlob(3, DeterministicBytes(row.route))
      .Bind(4, row.etag)
      .Bind(5, row.create_time_us)
      .Bind(6, row.update_time_us);
  return stmt.Run();
}

absl::Status DeleteProviderRow(sqlite::Database& db, std::string_view name) {
  LLMESH_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db.Prepare("DELETE FROM providers WHERE name = ?1"));
  stmt.Bind(1, name);
  return stmt.Run();
}

absl::Status DeleteRouteRow(sqlite::Database& db, std::string_view name) {
  LLMESH_ASSIGN_OR_RETURN(sqlite::Statement stmt, db.Prepare("DELETE FROM routes WHERE name = ?1"));
  stmt.Bind(1, name);
  return stmt.Run();
}

absl::Status RecordChange(sqlite::Database& db, int64_t revision, int64_t time_us,
                          std::string_view kind, std::string_view name, std::string_view action,
                          std::string_view version) {
  {
    LLMESH_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                            db.Prepare("UPDATE meta SET value = ?1 WHERE key = 'revision'"));
    stmt.Bind(1, revision);
    LLMESH_RETURN_IF_ERROR(stmt.Run());
  }
  {
    LLMESH_ASSIGN_OR_RETURN(
        sqlite::Statement stmt,
        db.Prepare("UPDATE meta SET value = ?1 WHERE key = 'route_configuration_version'"));
    stmt.Bind(1, version);
    LLMESH_RETURN_IF_ERROR(stmt.Run());
  }
  LLMESH_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db.Prepare("INSERT INTO changes (revision, change_time_us, kind, name, action, "
                 "route_configuration_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  stmt.Bind(1, revision)
      .Bind(2, time_us)
      .Bind(3, kind)
      .Bind(4, name)
      .Bind(5, action)
      .Bind(6, version);
  return stmt.Run();
}

}  // namespace llmesh::control
