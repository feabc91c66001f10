// What the admin API's ListSidecars reads: the sidecars the discovery service knows, with what
// each of them runs (docs/control-plane.md, "Discovery").
//
// The admin service only asks; the discovery service (controlplane/discovery) answers, through
// an adapter over its sidecar registry. Without a directory ListSidecars returns an empty list.
// The answer is the admin proto itself: the registry already builds exactly that response
// (status rule, retention, order), so an adapter is one call and no rule is duplicated here.
//
// Threading: implementations must be safe to call from any thread (gRPC's sync server threads)
// and must not block beyond a short mutex.
#pragma once

#include "llmesh/admin/v1/admin.pb.h"

namespace llmesh::control {

class SidecarDirectory {
 public:
  virtual ~SidecarDirectory() = default;

  // Every sidecar connected now or seen within the retention period, sorted by node id, whose
  // status matches `request.status` (unspecified = all), and the current version of each
  // resource type. Never fails.
  virtual llmesh::admin::v1::ListSidecarsResponse ListSidecars(
      const llmesh::admin::v1::ListSidecarsRequest& request) const = 0;
};

}  // namespace llmesh::control
