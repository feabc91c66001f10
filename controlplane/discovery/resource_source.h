// Where the discovery service gets what it pushes: the current RouteConfiguration and the
// current WeightAssignment, each with its content-hash version, and a notification when either
// changes (docs/control-plane.md, "Discovery").
//
// The route configuration comes from the store (admin writes), the weight assignment from the
// weight loop; the discovery service reads both and pushes them to every open sidecar stream.
// InMemoryResourceSource is the simple implementation: whoever owns the data calls its setters.
//
// Threading: every method is safe from any thread. Change callbacks run on the thread of the
// setter that made the change, one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

// The discovery resource types; each has its own version and nonce sequence.
enum class ResourceType { kRouteConfiguration = 0, kWeightAssignment = 1 };
inline constexpr int kResourceTypeCount = 2;

inline constexpr std::string_view kRouteConfigurationTypeUrl =
    "llmesh.discovery.v1.RouteConfiguration";
inline constexpr std::string_view kWeightAssignmentTypeUrl = "llmesh.discovery.v1.WeightAssignment";

// The `type_url` of `type`.
std::string_view TypeUrl(ResourceType type);
// The type a `type_url` names; nullopt for anything else.
std::optional<ResourceType> ResourceTypeFromUrl(std::string_view type_url);

// The version of a weight assignment: the same content hash as RouteConfigurationVersion (first
// 16 bytes of SHA-256 over the deterministic serialisation, 32 lower-case hex digits).
std::string WeightAssignmentVersion(const llmesh::discovery::v1::WeightAssignment& weights);

// The whole state of one type, immutable once published, shared by every stream that pushes it.
struct VersionedResource {
  ResourceType type;
  std::string version;
  // The push of this publication, written to every stream as is (so pushing costs no copy):
  // `version_info`, `type_url`, the one resource, and a nonce unique to the publication across
  // types. A stream is sent a publication at most once unless the sidecar resubscribes, and then
  // an answer to either copy is an answer about the same content.
  llmesh::discovery::v1::DiscoveryResponse response;

  const llmesh::discovery::v1::Resource& resource() const { return response.resources(0); }
};

class ResourceSource {
 public:
  using SubscriptionId = std::uint64_t;

  virtual ~ResourceSource() = default;

  // The current state of `type`, or nullptr while there is none (e.g. no weights computed yet:
  // subscribers to that type are sent nothing until there is).
  virtual std::shared_ptr<const VersionedResource> Current(ResourceType type) const = 0;

  // Calls `on_change` after every change of the version of any type, on the changing thread;
  // the callback reads the new state through Current(). It must not call Subscribe or
  // Unsubscribe. Returns the id to pass to Unsubscribe.
  virtual SubscriptionId Subscribe(std::function<void()> on_change) = 0;
  // Stops the callbacks of `id`. When it returns, no callback of `id` is running or will run.
  virtual void Unsubscribe(SubscriptionId id) = 0;
};

// A ResourceSource whose content is set by its owner. Setting content with the version already
// current changes nothing and notifies nobody.
class InMemoryResourceSource final : public ResourceSource {
 public:
  InMemoryResourceSource() = default;
  InMemoryResourceSource(const InMemoryResourceSource&) = delete;
  InMemoryResourceSource& operator=(const InMemoryResourceSource&) = delete;

  // Publishes `config` with version RouteConfigurationVersion(config); returns that version.
  std::string SetRouteConfiguration(llmesh::discovery::v1::RouteConfiguration config);
  // Publishes `weights` with version WeightAssignmentVersion(weights); returns that version.
  std::string SetWeights(llmesh::discovery::v1::WeightAssignment weights);

  std::shared_ptr<const VersionedResource> Current(ResourceType type) const override;
  SubscriptionId Subscribe(std::function<void()> on_change) override;
  void Unsubscribe(SubscriptionId id) override;

 private:
  std::string Publish(ResourceType type, std::string version,
                      llmesh::discovery::v1::Resource resource);

  mutable absl::Mutex mu_;
  std::shared_ptr<const VersionedResource> current_[kResourceTypeCount] ABSL_GUARDED_BY(mu_);
  std::uint64_t next_nonce_ ABSL_GUARDED_BY(mu_) = 1;

  // Held while callbacks run, so that Unsubscribe waits for a running callback; separate from
  // mu_ so callbacks can call Current().
  absl::Mutex subscribers_mu_;
  SubscriptionId next_id_ ABSL_GUARDED_BY(subscribers_mu_) = 1;
  std::map<SubscriptionId, std::function<void()>> subscribers_ ABSL_GUARDED_BY(subscribers_mu_);
};

}  // namespace llmesh::control
