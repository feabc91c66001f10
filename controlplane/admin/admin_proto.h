// Conversions between the store's values and the admin API's messages, and between
// absl::Status and grpc::Status. Pure functions; safe from any thread.
#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "controlplane/store/store.h"
#include "grpcpp/support/status.h"
#include "llmesh/admin/v1/admin.pb.h"

namespace llmesh::control {

using ::llmesh::DurationProto;
using ::llmesh::FromDurationProto;
using ::llmesh::TimestampProto;

llmesh::admin::v1::StoredProvider ToProto(const StoredProvider& stored);
llmesh::admin::v1::StoredRoute ToProto(const StoredRoute& stored);
llmesh::admin::v1::WeightOverride ToProto(const StoredWeightOverride& override_value);

// The same code (absl and gRPC share the numbering) and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace llmesh::control
