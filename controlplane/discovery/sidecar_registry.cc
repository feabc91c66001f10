#include "controlplane/discovery/sidecar_registry.h"

#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/proto_time.h"

namespace llmesh::control {

namespace admin = ::llmesh::admin::v1;
namespace discovery = ::llmesh::discovery::v1;

namespace {

// Records are dated on the monotonic clock (decisions must not jump with the wall clock); the
// response shows wall time, reconstructed from how long ago the record was made.
void SetWallTime(MonoTime when, MonoTime now, absl::Time wall_now,
                 google::protobuf::Timestamp* out) {
  *out = TimestampProto(wall_now - absl::FromChrono(now - when));
}

}  // namespace

SidecarRegistry::SidecarRegistry(const Clock& clock, Options options)
    : clock_(clock), options_(options) {}

SidecarHandle SidecarRegistry::Connect(const discovery::Node& node, std::string peer) {
  const MonoTime now = clock_.Now();
  absl::MutexLock lock(&mu_);
  DropExpired(now);
  Entry& entry = entries_[node.id()];
  entry = Entry{};
  entry.node = node;
  entry.peer = std::move(peer);
  entry.stream = next_stream_++;
  entry.connected = true;
  entry.last_seen = now;
  ++generation_;
  return SidecarHandle{node.id(), entry.stream};
}

void SidecarRegistry::Record(const SidecarHandle& handle, const StreamEvent& event) {
  const MonoTime now = clock_.Now();
  absl::MutexLock lock(&mu_);
  Entry* entry = FindLive(handle);
  if (entry == nullptr) return;
  ++generation_;
  entry->last_seen = now;
  TypeRecord& type = entry->types[static_cast<int>(event.type)];
  switch (event.kind) {
    case StreamEvent::Kind::kStale:
      return;
    case StreamEvent::Kind::kSubscribe:
      type.subscribed = true;
      type.applied_version = event.version;
      return;
    case StreamEvent::Kind::kAck:
      type.applied_version = event.version;
      type.nacked_version.clear();
      type.last_error.reset();
      type.last_response_time = now;
      return;
    case StreamEvent::Kind::kNack:
      type.applied_version = event.version;
      type.nacked_version = event.nacked_version;
      type.last_error = event.error;
      type.last_response_time = now;
      return;
  }
}

void SidecarRegistry::Disconnect(const SidecarHandle& handle) {
  const MonoTime now = clock_.Now();
  absl::MutexLock lock(&mu_);
  Entry* entry = FindLive(handle);
  if (entry == nullptr) return;
  ++generation_;
  entry->connected = false;
  entry->disconnected_at = now;
}

std::uint64_t SidecarRegistry::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

bool SidecarRegistry::AwaitChange(std::uint64_t seen, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return generation_ > seen; };
  return mu_.AwaitWithDeadline(absl::Condition(&changed), deadline);
}

admin::ListSidecarsResponse SidecarRegistry::List(const admin::ListSidecarsRequest& request,
                                                  const ResourceSource& source) {
  admin::ListSidecarsResponse response;
  std::string current[kResourceTypeCount];
  for (int i = 0; i < kResourceTypeCount; ++i) {
    const auto type = static_cast<ResourceType>(i);
    if (auto resource = source.Current(type)) {
      current[i] = resource->version;
      admin::TypeVersion* version = response.add_current_versions();
      version->set_type_url(std::string(TypeUrl(type)));
      version->set_version(resource->version);
    }
  }

  const MonoTime now = clock_.Now();
  const absl::Time wall_now = absl::Now();
  absl::MutexLock lock(&mu_);
  DropExpired(now);
  for (const auto& [id, entry] : entries_) {
    admin::Sidecar sidecar;
    *sidecar.mutable_node() = entry.node;
    sidecar.set_connected(entry.connected);
    sidecar.set_peer(entry.peer);
    SetWallTime(entry.last_seen, now, wall_now, sidecar.mutable_last_seen());
    bool any_nacked = false;
    bool any_stale = false;
    for (int i = 0; i < kResourceTypeCount; ++i) {
      const TypeRecord& record = entry.types[i];
      if (!record.subscribed) continue;
      admin::SidecarTypeState* type = sidecar.add_types();
      type->set_type_url(std::string(TypeUrl(static_cast<ResourceType>(i))));
      type->set_applied_version(record.applied_version);
      type->set_nacked_version(record.nacked_version);
      if (record.last_error.has_value()) *type->mutable_last_error() = *record.last_error;
      if (record.last_response_time.has_value()) {
        SetWallTime(*record.last_response_time, now, wall_now, type->mutable_last_response_time());
      }
      admin::SyncStatus status = admin::STALE;
      if (current[i].empty() || record.applied_version == current[i]) {
        status = admin::SYNCED;
      } else if (record.nacked_version == current[i]) {
        status = admin::NACKED;
      }
      type->set_status(status);
      any_nacked |= status == admin::NACKED;
      any_stale |= status == admin::STALE;
    }
    sidecar.set_status(any_nacked                      ? admin::NACKED
                       : any_stale || !entry.connected ? admin::STALE
                                                       : admin::SYNCED);
    if (request.status() != admin::SYNC_STATUS_UNSPECIFIED &&
        request.status() != sidecar.status()) {
      continue;
    }
    *response.add_sidecars() = std::move(sidecar);
  }
  return response;
}

SidecarRegistry::Entry* SidecarRegistry::FindLive(const SidecarHandle& handle) {
  auto it = entries_.find(handle.node_id);
  if (it == entries_.end() || it->second.stream != handle.stream) return nullptr;
  return &it->second;
}

void SidecarRegistry::DropExpired(MonoTime now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Entry& entry = it->second;
    if (!entry.connected && now - entry.disconnected_at >= options_.retention) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace llmesh::control
