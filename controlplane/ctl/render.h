// How llmeshctl shows admin API responses: aligned tables for lists, JSON for single objects.
//
// Table columns (documented in docs/control-plane.md):
//   routes:    NAME MODEL STRATEGY TARGETS ETAG      (targets "provider/model", "@P" when the
//                                                    priority P is not 0)
//   providers: NAME KIND BASE_URL MODELS ETAG
//   sidecars:  NODE STATUS CONNECTED PEER ROUTES WEIGHTS LAST_SEEN ERROR  (applied versions,
//              first 12 characters; ERROR is the reason of the last NACK)
//   health:    ROUTE PROVIDER MODEL PRIO ATTEMPTS ERRORS RATE_LIMITED P50 P95 P99 COST/SUCCESS
//              SLO WEIGHT BASIS REASON, then a "window: ..." line
//   overrides: ROUTE PROVIDER MODEL ACTION EXPIRES COMMENT
//
// Not on any request path (operator CLI). Threading: pure functions writing to the given
// stream.
#pragma once

#include <ostream>
#include <string>

#include "google/protobuf/message.h"
#include "llmesh/admin/v1/admin.pb.h"
#include "common/config/route_name.h"

namespace llmesh::control::ctl {


void PrintRoutes(const llmesh::admin::v1::ListRoutesResponse& response, std::ostream& out);
void PrintProviders(const llmesh::admin::v1::ListProvidersResponse& response, std::ostream& out);
void PrintSidecars(const llmesh::admin::v1::ListSidecarsResponse& response, std::ostream& out);
void PrintHealth(const llmesh::admin::v1::GetHealthResponse& response, std::ostream& out);
void PrintOverrides(const llmesh::admin::v1::ListWeightOverridesResponse& response,
                    std::ostream& out);

// "weight 2500 (25.00%)" or "drain".
std::string OverrideAction(const llmesh::admin::v1::WeightOverride& override_);

// RFC 3339 in UTC to the second, e.g. "2026-11-24T06:30:00Z"; "-" when unset (zero).
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp);

// The message as indented JSON with proto field names, newline-terminated.
void PrintJson(const google::protobuf::Message& message, std::ostream& out);

}  // namespace llmesh::control::ctl
