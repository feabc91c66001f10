// Store's weight-override calls (store.h), kept apart from providers and routes.
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/status_macros.h"
#include "controlplane/store/sqlite.h"
#include "controlplane/store/store.h"
#include "controlplane/store/store_rows.h"

namespace llmesh::control {
namespace {

using sqlite::Transaction;

// Overrides always expire, so a forgotten one cannot pin traffic forever (admin.proto).
constexpr absl::Duration kMaxOverrideLifetime = absl::Hours(24 * 30);
constexpr uint32_t kMaxWeightBp = 10000;

std::string TargetText(std::string_view route, std::string_view provider, std::string_view model) {
  return absl::StrCat("route \"", AbslView(route), "\" target ", AbslView(provider), "/",
                      AbslView(model));
}

}  // namespace

absl::StatusOr<StoredWeightOverride> Store::SetWeightOverride(const StoredWeightOverride& override_value) {
  const StoredWeightOverride& o = override_value;
  if (o.weight.has_value() && (*o.weight < 1 || *o.weight > kMaxWeightBp)) {
    return absl::InvalidArgumentError(
        absl::StrCat("weight: ", *o.weight, " is outside 1..", kMaxWeightBp, " basis points"));
  }
  const absl::Time now = Now();
  if (o.expire_time <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("expire_time: ", absl::FormatTime(o.expire_time), " is not in the future"));
  }
  if (o.expire_time - now > kMaxOverrideLifetime) {
    return absl::InvalidArgumentError(
        absl::StrCat("expire_time: ", absl::FormatTime(o.expire_time),
                     " is more than 30 days away; overrides must expire"));
  }

  LLMESH_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kWrite));
  LLMESH_ASSIGN_OR_RETURN(StoreState state, LoadState(*db_));
  const RouteRow* route = nullptr;
  for (const RouteRow& row : state.routes) {
    if (row.name == o.route) route = &row;
  }
  if (route == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("route: unknown route \"", o.route, "\""));
  }
  bool has_target = false;
  for (const auto& target : route->route.targets()) {
    has_target = has_target || (target.provider() == o.provider && target.model() == o.model);
  }
  if (!has_target) {
    return absl::InvalidArgumentError(
        absl::StrCat(TargetText(o.route, o.provider, o.model), ": not a target of the route"));
  }

  const int64_t now_us = absl::ToUnixMicros(now);
  // Expired overrides are dead weight; purge them while holding the write lock anyway.
  {
    LLMESH_ASSIGN_OR_RETURN(
        sqlite::Statement purge,
        db_->Prepare("DELETE FROM weight_overrides WHERE expire_time_us <= ?1"));
    purge.Bind(1, now_us);
    LLMESH_RETURN_IF_ERROR(purge.Run());
  }
  LLMESH_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_->Prepare("INSERT OR REPLACE INTO weight_overrides (route, provider, model, weight_bp, "
                   "expire_time_us, comment, create_time_us) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  stmt.Bind(1, o.route).Bind(2, o.provider).Bind(3, o.model);
  if (o.weight.has_value()) {
    stmt.Bind(4, static_cast<int64_t>(*o.weight));
  } else {
    stmt.BindNull(4);
  }
  stmt.Bind(5, absl::ToUnixMicros(o.expire_time)).Bind(6, o.comment).Bind(7, now_us);
  LLMESH_RETURN_IF_ERROR(stmt.Run());
  LLMESH_RETURN_IF_ERROR(txn.Commit());

  StoredWeightOverride stored = o;
  // Stored at microsecond precision; return what a later List will return.
  stored.expire_time = absl::FromUnixMicros(absl::ToUnixMicros(o.expire_time));
  stored.create_time = absl::FromUnixMicros(now_us);
  return stored;
}

absl::Status Store::ClearWeightOverride(std::string_view route, std::string_view provider,
                                        std::string_view model, absl::Time now) {
  LLMESH_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_, Transaction::Mode::kWrite));
  LLMESH_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_->Prepare("DELETE FROM weight_overrides WHERE route = ?1 AND provider = ?2 AND "
                   "model = ?3 RETURNING expire_time_us"));
  stmt.Bind(1, route).Bind(2, provider).Bind(3, model);
  LLMESH_ASSIGN_OR_RETURN(bool row, stmt.Step());
  const bool active = row && stmt.ColumnInt64(0) > absl::ToUnixMicros(now);
  LLMESH_RETURN_IF_ERROR(stmt.Run());
  // An expired row is removed all the same, but to the caller there was nothing to clear.
  LLMESH_RETURN_IF_ERROR(txn.Commit());
  if (!active) {
    return absl::NotFoundError(
        absl::StrCat("no active weight override for ", TargetText(route, provider, model)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredWeightOverride>> Store::ListWeightOverrides(absl::Time now,
                                                                       std::string_view route) {
  LLMESH_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_->Prepare("SELECT route, provider, model, weight_bp, expire_time_us, comment, "
                   "create_time_us FROM weight_overrides "
                   "WHERE expire_time_us > ?1 AND (?2 = '' OR route = ?2) "
                   "ORDER BY route, provider, model"));
  stmt.Bind(1, absl::ToUnixMicros(now)).Bind(2, route);
  std::vector<StoredWeightOverride> out;
  while (true) {
    LLMESH_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    StoredWeightOverride& o = out.emplace_back();
    o.route = stmt.ColumnText(0);
    o.provider = stmt.ColumnText(1);
    o.model = stmt.ColumnText(2);
    if (!stmt.ColumnIsNull(3)) o.weight = static_cast<uint32_t>(stmt.ColumnInt64(3));
    o.expire_time = absl::FromUnixMicros(stmt.ColumnInt64(4));
    o.comment = stmt.ColumnText(5);
    o.create_time = absl::FromUnixMicros(stmt.ColumnInt64(6));
  }
  return out;
}

}  // namespace llmesh::control
