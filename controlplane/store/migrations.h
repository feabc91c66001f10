// Versioned schema migrations of the control-plane store, tracked in SQLite's
// `PRAGMA user_version`.
//
// Called by Store::Open before anything else touches the database. Threading: one thread per
// Database; concurrent openers of the same file (other processes) are serialised by the write
// lock each step takes.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/store/sqlite.h"

namespace llmesh::control {

// The schema version this build creates and understands.
int LatestSchemaVersion();

// Brings the database to LatestSchemaVersion(), applying each missing step in its own write
// transaction together with the user_version it reaches, so a crash leaves the database at a
// complete earlier version. Returns the version the database is at afterwards.
// Errors: FAILED_PRECONDITION when the database has a newer schema than this build knows
// (naming both versions; nothing is changed), or the store's UNAVAILABLE/INTERNAL errors.
absl::StatusOr<int> Migrate(sqlite::Database& db);

// The database's current PRAGMA user_version.
absl::StatusOr<int> SchemaVersion(sqlite::Database& db);

}  // namespace llmesh::control
