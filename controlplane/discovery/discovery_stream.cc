#include "controlplane/discovery/discovery_stream.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace llmesh::control {

namespace discovery = ::llmesh::discovery::v1;

absl::StatusOr<StreamStep> DiscoveryStream::OnRequest(const discovery::DiscoveryRequest& request,
                                                      const ResourceSource& source) {
  if (!node_.has_value()) {
    if (request.node().id().empty()) {
      return absl::InvalidArgumentError(
          "the first DiscoveryRequest of a stream must carry node.id");
    }
    node_ = request.node();
  }
  const std::optional<ResourceType> type = ResourceTypeFromUrl(request.type_url());
  if (!type.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown type_url \"", request.type_url(), "\""));
  }
  TypeStreamState& state = types_[static_cast<int>(*type)];
  StreamStep step;
  step.event.type = *type;
  step.event.version = request.version_info();

  if (request.response_nonce().empty()) {
    // A (re)subscription: the sidecar tells what it runs, and gets the current state unless
    // that is what it runs.
    step.event.kind = StreamEvent::Kind::kSubscribe;
    state.subscribed = true;
    state.known_version = request.version_info();
    state.acked_version = request.version_info();
    state.sent_nonce.clear();
    if (Push push = MaybePush(*type, source)) step.pushes.push_back(std::move(push));
    return step;
  }

  if (request.response_nonce() != state.sent_nonce) {
    // Answers a push that a newer one has overtaken; the answer to the newer one will follow.
    step.event.kind = StreamEvent::Kind::kStale;
    return step;
  }

  state.acked_version = request.version_info();
  if (request.has_error_detail()) {
    step.event.kind = StreamEvent::Kind::kNack;
    // known_version stays the refused version, so it is not resent; the next change is pushed.
    step.event.nacked_version = state.known_version;
    step.event.error = request.error_detail();
    state.nacked_version = state.known_version;
    state.last_error = request.error_detail();
  } else {
    step.event.kind = StreamEvent::Kind::kAck;
    state.nacked_version.clear();
    state.last_error.reset();
  }
  return step;
}

std::vector<Push> DiscoveryStream::OnResourcesChanged(const ResourceSource& source) {
  std::vector<Push> pushes;
  for (int i = 0; i < kResourceTypeCount; ++i) {
    if (Push push = MaybePush(static_cast<ResourceType>(i), source)) {
      pushes.push_back(std::move(push));
    }
  }
  return pushes;
}

Push DiscoveryStream::MaybePush(ResourceType type, const ResourceSource& source) {
  TypeStreamState& state = types_[static_cast<int>(type)];
  if (!state.subscribed) return nullptr;
  Push current = source.Current(type);
  if (current == nullptr || current->version == state.known_version) return nullptr;
  state.known_version = current->version;
  state.sent_nonce = current->response.nonce();
  return current;
}

}  // namespace llmesh::control
