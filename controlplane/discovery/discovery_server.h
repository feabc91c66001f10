// The gRPC side of discovery: DiscoveryService/StreamResources on gRPC's callback API, so every
// sidecar stream is a reactor driven by gRPC's callback threads rather than a thread of its own.
//
// Each stream runs the protocol of DiscoveryStream, reports what it sees to the SidecarRegistry
// and, when the ResourceSource announces a change, pushes the new state to every open stream.
// Pushes of one type that are still queued behind a slow sidecar are replaced by the newer one
// (state of the world), so a stream holds at most one write in flight and one queued per type.
//
// Usage (llmesh-control):
//   DiscoveryServer discovery(source, registry);
//   grpc::ServerBuilder builder;  builder.RegisterService(&discovery);  ... server = Build...
//   ... at exit: discovery.Shutdown(); server->Shutdown(); server->Wait();  then destroy.
//
// Threading: reactor methods run on gRPC's callback threads; change callbacks on the source's
// setter thread. Every method is safe from any thread. Nothing blocks beyond short mutexes.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>

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
  // reconnect elsewhere. Call before grpc::Server::Shutdown, which otherwise waits for the
  // streams. Idempotent.
  void Shutdown();

  // Streams currently open (for /metrics and tests).
  std::size_t open_streams() const;

 private:
  class Stream;

  void OnSourceChanged();
  void Remove(Stream* stream);

  ResourceSource& source_;
  SidecarRegistry& registry_;
  ResourceSource::SubscriptionId subscription_;

  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Stream*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace llmesh::control
