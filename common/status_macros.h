// Early-return helpers for absl::Status and absl::StatusOr (this Abseil has none).
//
//   LLMESH_RETURN_IF_ERROR(DoThing());
//   LLMESH_ASSIGN_OR_RETURN(auto value, ComputeValue());
//
// Both evaluate their argument exactly once and return the error status unchanged.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LLMESH_STATUS_CONCAT_INNER(a, b) a##b
#define LLMESH_STATUS_CONCAT(a, b) LLMESH_STATUS_CONCAT_INNER(a, b)

#define LLMESH_RETURN_IF_ERROR(expr)                   \
  do {                                                 \
    ::absl::Status llmesh_status_ = (expr);            \
    if (!llmesh_status_.ok()) return llmesh_status_;  \
  } while (false)

#define LLMESH_ASSIGN_OR_RETURN(lhs, expr) \
  LLMESH_ASSIGN_OR_RETURN_IMPL(LLMESH_STATUS_CONCAT(llmesh_statusor_, __LINE__), lhs, expr)

#define LLMESH_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)
