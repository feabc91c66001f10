// The gRPC side of discovery: DiscoveryService/StreamResources on gRPC's callback API, so every
// sidecar stream is a reactor driven by gRPC's callback threads rather than a thread of its own.
//
// Each stream runs the protocol of DiscoveryStream, reports what it sees to the SidecarRegistry
// and, when the ResourceSource announces a change, pushes the new state to every open stream.
// Announcing a change only wakes the server's notifier thread, which starts the pushes (each
// stream writes the source's shared response of the version; nothing is copied per stream), so
// publishing (under the store's lock, in commit order) costs the same for one sidecar
// as for thousands. Changes announced while the notifier is busy are coalesced into the latest
// state (state of the world). Pushes of one type that are still queued behind a slow sidecar
// are replaced by the newer one, so a stream holds at most one write in flight and one queued
// per type.
//
// Usage (llmesh-control):
//   DiscoveryServer discovery(source, registry);
//   grpc::ServerBuilder builder;  builder.RegisterService(&discovery);  ... server = Build...
//   ... at exit: discovery.Shutdown(); server->Shutdown(); server->Wait();  then destroy.
//
// Threading: reactor methods run on gRPC's callback threads; change callbacks on the source's
// setter thread, where they only bump a counter; pushes after a change on the notifier thread,
// which the server owns and joins in Shutdown (or its destructor). Every method is safe from
// any thread. Nothing blocks beyond mutexes; the longest hold is the notifier's round over the
// open streams (one StartWrite each), which opening and closing a stream may wait for.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "controlplane/discovery/resource_source.h"
#include "controlplane/discovery/sidecar_registry.h"
#include "llmesh/discovery/v1/discovery.grpc.pb.h"

namespace llmesh::control {

class DiscoveryServer final : public llmesh::discovery::v1::DiscoveryService::CallbackService {
 public:
  // `source` and `registry` must outlive the server. Subscribes to `source` at once.
  DiscoveryServer(ResourceSource& source, SidecarRegistry& registry);
  // Precondition: the grpc::Server this service was registered with has shut down and its
  // Wait() has returned, so no stream is open.
  ~DiscoveryServer() override;
  DiscoveryServer(const DiscoveryServer&) = delete;
  DiscoveryServer& operator=(const DiscoveryServer&) = delete;

  // gRPC entry point for one sidecar stream.
  grpc::ServerBidiReactor<llmesh::discovery::v1::DiscoveryRequest,
                          llmesh::discovery::v1::DiscoveryResponse>*
  StreamResources(grpc::CallbackServerContext* context) override;

  // Ends every open stream, and every stream opened from now on, with UNAVAILABLE so sidecars
  // reconnect elsewhere, after stopping the notifier thread, so no change is pushed from then
  // on. Call before grpc::Server::Shutdown, which otherwise waits for the streams. Idempotent.
  void Shutdown();

  // Streams currently open (for /metrics and tests).
  std::size_t open_streams() const;

 private:
  class Stream;

  void OnSourceChanged();
  // The notifier thread: pushes the latest state to every stream after each (batch of) changes.
  void RunNotifier();
  bool NotifierHasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(notify_mu_);
  void StopNotifier();
  void Remove(Stream* stream);

  ResourceSource& source_;
  SidecarRegistry& registry_;
  ResourceSource::SubscriptionId subscription_;

  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Stream*> streams_ ABSL_GUARDED_BY(mu_);

  // Separate from mu_ so that announcing a change never waits for the notifier's round.
  absl::Mutex notify_mu_;
  std::uint64_t changes_announced_ ABSL_GUARDED_BY(notify_mu_) = 0;
  std::uint64_t changes_pushed_ ABSL_GUARDED_BY(notify_mu_) = 0;
  bool notifier_stopping_ ABSL_GUARDED_BY(notify_mu_) = false;
  std::once_flag notifier_joined_;
  // Last member: started once everything it reads exists.
  std::thread notifier_;
};

}  // namespace llmesh::control
