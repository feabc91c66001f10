#include "controlplane/admin/admin_proto.h"

#include <cstdint>
#include <string>

namespace llmesh::control {

llmesh::admin::v1::StoredProvider ToProto(const StoredProvider& stored) {
  llmesh::admin::v1::StoredProvider proto;
  *proto.mutable_provider() = stored.provider;
  proto.set_etag(stored.etag);
  *proto.mutable_update_time() = TimestampProto(stored.update_time);
  return proto;
}

llmesh::admin::v1::StoredRoute ToProto(const StoredRoute& stored) {
  llmesh::admin::v1::StoredRoute proto;
  *proto.mutable_route() = stored.route;
  proto.set_etag(stored.etag);
  *proto.mutable_update_time() = TimestampProto(stored.update_time);
  return proto;
}

llmesh::admin::v1::WeightOverride ToProto(const StoredWeightOverride& override_value) {
  llmesh::admin::v1::WeightOverride proto;
  proto.set_route(override_value.route);
  proto.set_provider(override_value.provider);
  proto.set_model(override_value.model);
  if (override_value.weight.has_value()) {
    proto.set_weight(*override_value.weight);
  } else {
    proto.set_drain(true);
  }
  *proto.mutable_expire_time() = TimestampProto(override_value.expire_time);
  proto.set_comment(override_value.comment);
  *proto.mutable_create_time() = TimestampProto(override_value.create_time);
  return proto;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace llmesh::control
