#include "controlplane/store/migrations.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace llmesh::control {
namespace {

// Step N brings the schema from version N-1 to N. Steps are append-only: a released step is
// never edited, a change of schema is a new step.
constexpr std::string_view kMigrations[] = {
    // 1: providers, routes, the store's metadata, weight overrides and the change log.
    // Times are microseconds since the Unix epoch (UTC). Protos are stored in their
    // deterministic binary serialisation.
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value ANY NOT NULL
) STRICT;
-- revision: the store's change counter; etags are the revision that last wrote the object.
-- route_configuration_version: content hash of providers + routes (version.h).
INSERT INTO meta (key, value) VALUES ('revision', 0), ('route_configuration_version', '');

CREATE TABLE providers (
  name           TEXT PRIMARY KEY,
  body           BLOB NOT NULL,      -- llmesh.config.v1.Provider
  etag           TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
) STRICT;

CREATE TABLE routes (
  name           TEXT PRIMARY KEY,   -- Route.name, or Route.model when the name is empty
  position       INTEGER NOT NULL UNIQUE,  -- match order
  body           BLOB NOT NULL,      -- llmesh.config.v1.Route
  etag           TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
) STRICT;

CREATE TABLE weight_overrides (
  route          TEXT NOT NULL REFERENCES routes (name) ON DELETE CASCADE,
  provider       TEXT NOT NULL,
  model          TEXT NOT NULL,
  weight_bp      INTEGER,            -- NULL: drain
  expire_time_us INTEGER NOT NULL,
  comment        TEXT NOT NULL,
  create_time_us INTEGER NOT NULL,
  PRIMARY KEY (route, provider, model),
  CHECK (weight_bp IS NULL OR (weight_bp BETWEEN 1 AND 10000))
) STRICT;

CREATE TABLE changes (
  revision       INTEGER PRIMARY KEY,
  change_time_us INTEGER NOT NULL,
  kind           TEXT NOT NULL,      -- 'provider' | 'route' | 'bootstrap'
  name           TEXT NOT NULL,
  action         TEXT NOT NULL,      -- 'apply' | 'delete' | 'import'
  route_configuration_version TEXT NOT NULL
) STRICT;
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

}  // namespace

int LatestSchemaVersion() { return kLatest; }

absl::StatusOr<int> SchemaVersion(sqlite::Database& db) {
  LLMESH_ASSIGN_OR_RETURN(sqlite::Statement stmt, db.Prepare("PRAGMA user_version"));
  LLMESH_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError("store: PRAGMA user_version returned no row");
  return static_cast<int>(stmt.ColumnInt64(0));
}

absl::StatusOr<int> Migrate(sqlite::Database& db) {
  while (true) {
    LLMESH_ASSIGN_OR_RETURN(sqlite::Transaction txn,
                            sqlite::Transaction::Begin(db, sqlite::Transaction::Mode::kWrite));
    // Read under the write lock: another process may have migrated since we last looked.
    LLMESH_ASSIGN_OR_RETURN(int version, SchemaVersion(db));
    if (version > kLatest) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store schema version ", version, " is newer than the latest this llmesh-control knows (",
          kLatest, "); run a newer llmesh-control"));
    }
    if (version < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("store schema version ", version, " is invalid"));
    }
    if (version == kLatest) return version;
    LLMESH_RETURN_IF_ERROR(db.Exec(kMigrations[version]));
    LLMESH_RETURN_IF_ERROR(db.Exec(absl::StrCat("PRAGMA user_version = ", version + 1)));
    LLMESH_RETURN_IF_ERROR(txn.Commit());
  }
}

}  // namespace llmesh::control
