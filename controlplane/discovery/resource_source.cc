#include "controlplane/discovery/resource_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "controlplane/store/version.h"

namespace llmesh::control {

namespace discovery = ::llmesh::discovery::v1;

std::string_view TypeUrl(ResourceType type) {
  return type == ResourceType::kRouteConfiguration ? kRouteConfigurationTypeUrl
                                                   : kWeightAssignmentTypeUrl;
}

std::optional<ResourceType> ResourceTypeFromUrl(std::string_view type_url) {
  if (type_url == kRouteConfigurationTypeUrl) return ResourceType::kRouteConfiguration;
  if (type_url == kWeightAssignmentTypeUrl) return ResourceType::kWeightAssignment;
  return std::nullopt;
}

std::string WeightAssignmentVersion(const discovery::WeightAssignment& weights) {
  return ContentVersion(weights);
}

std::string InMemoryResourceSource::SetRouteConfiguration(discovery::RouteConfiguration config) {
  std::string version = RouteConfigurationVersion(config);
  discovery::Resource resource;
  *resource.mutable_route_configuration() = std::move(config);
  return Publish(ResourceType::kRouteConfiguration, std::move(version), std::move(resource));
}

std::string InMemoryResourceSource::SetWeights(discovery::WeightAssignment weights) {
  std::string version = WeightAssignmentVersion(weights);
  discovery::Resource resource;
  *resource.mutable_weight_assignment() = std::move(weights);
  return Publish(ResourceType::kWeightAssignment, std::move(version), std::move(resource));
}

std::string InMemoryResourceSource::Publish(ResourceType type, std::string version,
                                            discovery::Resource resource) {
  {
    absl::MutexLock lock(&mu_);
    auto& slot = current_[static_cast<int>(type)];
    if (slot != nullptr && slot->version == version) return version;
    discovery::DiscoveryResponse response;
    response.set_version_info(version);
    response.set_type_url(std::string(TypeUrl(type)));
    response.set_nonce(absl::StrCat(next_nonce_++));
    *response.add_resources() = std::move(resource);
    slot = std::make_shared<const VersionedResource>(
        VersionedResource{type, version, std::move(response)});
  }
  absl::MutexLock lock(&subscribers_mu_);
  for (auto& [id, callback] : subscribers_) callback();
  return version;
}

std::shared_ptr<const VersionedResource> InMemoryResourceSource::Current(ResourceType type) const {
  absl::MutexLock lock(&mu_);
  return current_[static_cast<int>(type)];
}

ResourceSource::SubscriptionId InMemoryResourceSource::Subscribe(std::function<void()> on_change) {
  absl::MutexLock lock(&subscribers_mu_);
  const SubscriptionId id = next_id_++;
  subscribers_.emplace(id, std::move(on_change));
  return id;
}

void InMemoryResourceSource::Unsubscribe(SubscriptionId id) {
  absl::MutexLock lock(&subscribers_mu_);
  subscribers_.erase(id);
}

}  // namespace llmesh::control
