// The protocol of one sidecar's discovery stream, without the transport (docs/control-plane.md,
// "The exchange"): node identity on the first message, per-type subscription, pushes of the
// source's shared per-publication responses (each with its own nonce), ACK/NACK bookkeeping,
// stale nonces ignored.
//
// DiscoveryServer feeds it every request read from the stream and every change of the
// ResourceSource, writes the responses it returns and reports its events to the
// SidecarRegistry. Unit tests drive it directly.
//
// Threading: not thread-safe; the owner serialises calls (the server holds its stream's mutex).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/discovery/resource_source.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

// What the stream knows about one resource type.
struct TypeStreamState {
  bool subscribed = false;
  // The version the sidecar runs or has been sent last: a change is pushed when the current
  // version differs from it, so an unchanged version and a NACKed version are not resent.
  std::string known_version;
  // Nonce of the last push of this type; requests answering another nonce are stale.
  std::string sent_nonce;
  // Version the sidecar last reported running (subscription, ACK, or last good on a NACK).
  std::string acked_version;
  // Version it last refused and why; cleared by a later ACK.
  std::string nacked_version;
  std::optional<llmesh::discovery::v1::ErrorDetail> last_error;
};

// How the stream interpreted one request, for the SidecarRegistry.
struct StreamEvent {
  enum class Kind {
    kSubscribe,  // empty nonce: `version` is what the sidecar runs
    kAck,        // `version` applied
    kNack,       // `version` = last good, `nacked_version` refused because of `error`
    kStale,      // answers an older push: ignored
  };
  Kind kind;
  ResourceType type;
  std::string version;
  std::string nacked_version;
  llmesh::discovery::v1::ErrorDetail error;
};

// One push: a published version, whose `response` is written to the stream as is.
using Push = std::shared_ptr<const VersionedResource>;

// The outcome of one request: what it meant and what to write back, in order.
struct StreamStep {
  StreamEvent event;
  std::vector<Push> pushes;
};

class DiscoveryStream {
 public:
  DiscoveryStream() = default;

  // Handles one request read from the sidecar, against the current content of `source`.
  // Errors end the stream: INVALID_ARGUMENT when the first request has no `node.id` or a request
  // names an unknown `type_url`. Later requests' `node` is ignored.
  absl::StatusOr<StreamStep> OnRequest(const llmesh::discovery::v1::DiscoveryRequest& request,
                                       const ResourceSource& source);

  // Pushes for every subscribed type whose current version differs from the one the sidecar
  // runs or was last sent. Call after every change notification of `source`.
  std::vector<Push> OnResourcesChanged(const ResourceSource& source);

  // The node of the first request; nullopt until one was accepted.
  const std::optional<llmesh::discovery::v1::Node>& node() const { return node_; }
  const TypeStreamState& state(ResourceType type) const { return types_[static_cast<int>(type)]; }

 private:
  // The current content of `type` if it differs from what the sidecar has, else nullptr.
  Push MaybePush(ResourceType type, const ResourceSource& source);

  std::optional<llmesh::discovery::v1::Node> node_;
  TypeStreamState types_[kResourceTypeCount];
};

}  // namespace llmesh::control
