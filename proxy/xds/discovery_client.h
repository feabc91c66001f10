// The sidecar's discovery client: one gRPC StreamResources stream to llmesh-control
// (docs/control-plane.md, "Discovery"), kept open for the life of the process.
//
// It subscribes to route configurations and weight assignments, validates every push as a
// whole and either applies it and ACKs, or NACKs it with every field error while the previous
// config keeps serving. A pushed RouteConfiguration replaces the providers and routes of the
// sidecar's file config (the rest of the file stays local) and goes live through the
// ConfigActivator, the same path a SIGHUP reload takes; once live it is saved to state_dir.
// Weight assignments are published to GlobalWeights for the router. When the stream ends the
// client reconnects with jittered back-off (backoff.h); the data plane keeps serving meanwhile.
//
// Sits beside the request path, never on it. Threading: the client runs on its own thread,
// never on a worker; Start and Stop are called from the thread that owns the client. The
// activator is called on the client's thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/config/env.h"
#include "llmesh/config/v1/config.pb.h"
#include "llmesh/discovery/v1/discovery.pb.h"
#include "proxy/xds/global_weights.h"
#include "proxy/xds/state_dir.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace llmesh::xds {

// Where a pushed route configuration goes live. llmesh-proxy implements it on its main loop
// with the function its SIGHUP reload uses; tests implement it over config::ValidateAndCompile.
class ConfigActivator {
 public:
  virtual ~ConfigActivator() = default;
  // Replaces the providers and routes of the running config with those of `routes` (the rest
  // of the file stays: CombineConfig), validates the result as a whole and compiles it; on
  // success swaps it in atomically as the active snapshot and returns OK. Otherwise returns the
  // error (INVALID_ARGUMENT listing one "field.path: problem" per line) and the active snapshot
  // keeps serving. Called on the discovery client's thread; may block until the swap is done.
  virtual absl::Status Activate(const llmesh::discovery::v1::RouteConfiguration& routes) = 0;
};

// The file config with its providers and routes replaced by `routes`.
llmesh::config::v1::Config CombineConfig(const llmesh::config::v1::Config& file,
                                         const llmesh::discovery::v1::RouteConfiguration& routes);

// This sidecar's identity: `control_plane.node_id`, the pod and namespace from POD_NAME and
// POD_NAMESPACE in `env` (empty outside Kubernetes), and the proxy's version.
llmesh::discovery::v1::Node MakeNode(const llmesh::config::v1::ControlPlane& control_plane,
                                     const llmesh::config::EnvLookup& env);

struct DiscoveryClientOptions {
  // gRPC address of llmesh-control, "host:port".
  std::string address;
  llmesh::discovery::v1::Node node;
  // Where ACKed route configurations are kept; empty keeps nothing.
  std::string state_dir;
  // Version of the route configuration the sidecar already runs (restored from state_dir at
  // boot), or empty when it runs its file's.
  std::string initial_route_version;
};

class DiscoveryClient {
 public:
  // `activator`, `weights` and `clock` must outlive the client.
  DiscoveryClient(DiscoveryClientOptions options, ConfigActivator& activator, GlobalWeights& weights,
                  const Clock& clock);
  ~DiscoveryClient();  // Stops.
  DiscoveryClient(const DiscoveryClient&) = delete;
  DiscoveryClient& operator=(const DiscoveryClient&) = delete;

  // Starts the client's thread: connect, subscribe, apply pushes, reconnect. Call once.
  void Start();
  // Ends the stream and joins the thread; returns promptly even during a back-off wait or an
  // unreachable control plane. Idempotent.
  void Stop();

  // What the client has done so far, for tests and /config_dump. Thread-safe.
  struct Stats {
    std::string route_version;   // last route configuration applied (or restored); "" = file
    std::string weights_version; // last weight assignment applied
    uint64_t streams_started = 0;
    uint64_t streams_failed = 0; // streams that ended, whatever the reason
    uint64_t acks = 0;
    uint64_t nacks = 0;
  };
  Stats stats() const;

 private:
  void Run();
  // One stream from connect to its end. True when it delivered at least one push.
  bool RunStream();
  // Handles one push; returns the ACK or NACK to send.
  llmesh::discovery::v1::DiscoveryRequest HandlePush(const llmesh::discovery::v1::DiscoveryResponse& push);
  llmesh::discovery::v1::DiscoveryRequest HandleRoutes(const llmesh::discovery::v1::DiscoveryResponse& push);
  llmesh::discovery::v1::DiscoveryRequest HandleWeights(const llmesh::discovery::v1::DiscoveryResponse& push);
  // Waits `delay` or until Stop(); false when stopping.
  bool WaitBeforeReconnect(std::chrono::milliseconds delay);

  const DiscoveryClientOptions options_;
  ConfigActivator& activator_;
  GlobalWeights& weights_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;             // guarded by mu_
  grpc::ClientContext* context_ = nullptr;  // the live stream's context; guarded by mu_
  Stats stats_;                       // guarded by mu_
  std::thread thread_;
};

}  // namespace llmesh::xds
