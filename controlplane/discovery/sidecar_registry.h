// Which sidecars the control plane knows and whether they run what it pushed: per sidecar its
// node, connection, last message, and per resource type the version it applied, the version it
// refused and why. Feeds AdminService.ListSidecars (admin.proto) and `llmeshctl sidecars`.
//
// DiscoveryServer records every stream's connect, events and disconnect; the admin service
// lists. Status per type, against the source's current version: SYNCED (applied the current
// version, or there is no current version), NACKED (refused the current version), else STALE
// (a push is in flight). A sidecar is NACKED if any type is, else STALE if any type is or it is
// disconnected, else SYNCED. Entries are kept for `retention` (1 h) after disconnecting.
//
// Threading: every method is safe from any thread (one internal mutex, held briefly; never
// held while calling out).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "controlplane/discovery/discovery_stream.h"
#include "controlplane/discovery/resource_source.h"
#include "llmesh/admin/v1/admin.pb.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

// Names one discovery stream of one sidecar. A second stream with the same node id replaces the
// first; records made through the replaced stream's handle are ignored.
struct SidecarHandle {
  std::string node_id;
  std::uint64_t stream = 0;
};

class SidecarRegistry {
 public:
  struct Options {
    // How long a disconnected sidecar stays listed.
    Duration retention = std::chrono::hours(1);
  };

  // `clock` must outlive the registry; it dates every record (monotonic), and List converts
  // those dates to wall time for the response.
  explicit SidecarRegistry(const Clock& clock) : SidecarRegistry(clock, Options{}) {}
  SidecarRegistry(const Clock& clock, Options options);
  SidecarRegistry(const SidecarRegistry&) = delete;
  SidecarRegistry& operator=(const SidecarRegistry&) = delete;

  // A stream of `node` (non-empty id) from `peer` ("ip:port") opened; replaces the sidecar's
  // previous entry, connected or not. Returns the handle for the other calls.
  SidecarHandle Connect(const llmesh::discovery::v1::Node& node, std::string peer);
  // Records one interpreted request of the stream (also updates last_seen).
  void Record(const SidecarHandle& handle, const StreamEvent& event);
  // The stream ended. The entry stays listed, disconnected, for `retention`.
  void Disconnect(const SidecarHandle& handle);

  // Every sidecar connected or disconnected less than `retention` ago, sorted by node id, whose
  // status matches `request.status` (unspecified = all), and the current version of each type
  // of `source`. Drops expired entries.
  llmesh::admin::v1::ListSidecarsResponse List(
      const llmesh::admin::v1::ListSidecarsRequest& request, const ResourceSource& source);

  // A counter that grows with every Connect, Record and Disconnect; with AwaitChange, lets a
  // caller wait for sidecars to ACK a version without polling.
  std::uint64_t generation() const;
  // Blocks until generation() > `seen` or `deadline` passes; returns whether it changed. Blocks:
  // never call it from a gRPC reactor or an event loop.
  bool AwaitChange(std::uint64_t seen, absl::Time deadline) const;

 private:
  struct TypeRecord {
    bool subscribed = false;
    std::string applied_version;
    std::string nacked_version;
    std::optional<llmesh::discovery::v1::ErrorDetail> last_error;
    std::optional<MonoTime> last_response_time;
  };
  struct Entry {
    llmesh::discovery::v1::Node node;
    std::string peer;
    std::uint64_t stream = 0;
    bool connected = false;
    MonoTime last_seen;
    MonoTime disconnected_at;
    TypeRecord types[kResourceTypeCount];
  };

  Entry* FindLive(const SidecarHandle& handle) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropExpired(MonoTime now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t next_stream_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, Entry, std::less<>> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace llmesh::control
