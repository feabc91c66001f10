// WeightLoop: llmesh-control's interval loop over global weights (DESIGN.md §5,
// docs/control-plane.md "Weights"). Every interval it reads the current RouteConfiguration,
// the telemetry window and the live operator overrides, runs WeightComputer, and publishes the
// resulting discovery WeightAssignment through the InMemoryResourceSource, which pushes it to
// every sidecar stream.
//
// Inputs per iteration:
//   - tiers: one per route (Route.name, or Route.model when empty) and target priority, with
//     the route's SLO (Route.slo; unset fields take RouteSlo's defaults) and each target's
//     static weight (Target.weight, default 1);
//   - telemetry: TelemetryAggregator::Stats();
//   - overrides: the store's active overrides, converted to weights.h WeightOverride (weight
//     nullopt = drain; wall-clock expiry converted to the loop clock's MonoTime).
// Publishing: a WeightAssignment (computed_at = wall now, ttl, route_configuration_version,
// per route the published weights of all its tiers with basis and reason) is set when any
// tier publishes, when the route configuration version changed, and at least every ttl / 3
// even when nothing moved (sidecars drop weights older than ttl). The last published
// assignment stays readable for GetHealth (Weights()).
//
// Threading: Start() runs iterations on one owned thread: at start, every interval, and at
// once after Wake(). RunOnce() may also be called from any thread (tests call it without
// Start()); iterations never overlap. Every method is safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "controlplane/admin/health_source.h"
#include "controlplane/discovery/resource_source.h"
#include "controlplane/store/store.h"
#include "controlplane/telemetry/telemetry_aggregator.h"
#include "controlplane/weights/weight_computer.h"
#include "controlplane/weights/weights.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::control {

struct WeightLoopOptions {
  // Time between two iterations of the owned thread.
  Duration interval = std::chrono::seconds(5);
  // WeightAssignment.ttl; the assignment is re-issued at least every ttl / 3.
  Duration ttl = std::chrono::seconds(60);
  WeightOptions weights;
};

// The overrides active at wall time `now` (Store::ListWeightOverrides). Called on the loop's
// thread, once per iteration.
using OverrideLister =
    std::function<absl::StatusOr<std::vector<StoredWeightOverride>>(absl::Time now)>;

class WeightLoop {
 public:
  // `clock`, `resources` and `telemetry` must outlive the loop. `wall_clock` gives computed_at
  // and the wall time overrides expire against; null = absl::Now. INVALID_ARGUMENT for invalid
  // weight options, a non-positive interval or ttl, or a null `overrides`.
  static absl::StatusOr<std::unique_ptr<WeightLoop>> Create(
      const WeightLoopOptions& options, const Clock& clock, std::function<absl::Time()> wall_clock,
      InMemoryResourceSource& resources, const TelemetryAggregator& telemetry,
      OverrideLister overrides);

  // Stop()s the thread.
  ~WeightLoop();
  WeightLoop(const WeightLoop&) = delete;
  WeightLoop& operator=(const WeightLoop&) = delete;

  // Starts the owned thread; its first iteration runs at once. Call at most once.
  void Start();
  // Stops and joins the thread (waiting for a running iteration). Idempotent; a no-op without
  // Start(). RunOnce keeps working afterwards.
  void Stop();
  // Makes the thread run an iteration now (e.g. after an override changed). Never blocks
  // beyond a short mutex; safe from callbacks that hold the store's lock.
  void Wake();

  // One iteration on the caller's thread. Errors (nothing published, the previous assignment
  // stays in force): those of the override lister; INVALID_ARGUMENT from WeightComputer for
  // inputs it refuses. OK without a route configuration (nothing to compute).
  absl::Status RunOnce();

  // The last published assignment; null before the first.
  std::shared_ptr<const llmesh::discovery::v1::WeightAssignment> LastAssignment() const;
  // The last published weights per (route, provider, model), for HealthSource. slo_met is the
  // target's verdict against the route SLO over the telemetry of that iteration (false
  // without enough fresh samples).
  std::map<RouteTargetKey, RouteTargetWeight> Weights() const;

  // Iterations the owned thread ran that failed (for logs and tests).
  uint64_t failed_iterations() const;

 private:
  WeightLoop(const WeightLoopOptions& options, const Clock& clock,
             std::function<absl::Time()> wall_clock, InMemoryResourceSource& resources,
             const TelemetryAggregator& telemetry, OverrideLister overrides,
             WeightComputer computer);

  void Run();

  const WeightLoopOptions options_;
  const Clock& clock_;
  const std::function<absl::Time()> wall_clock_;
  InMemoryResourceSource& resources_;
  const TelemetryAggregator& telemetry_;
  const OverrideLister overrides_;

  // Serialises iterations; guards the computer's state and the publishing schedule.
  absl::Mutex run_mu_;
  WeightComputer computer_ ABSL_GUARDED_BY(run_mu_);
  bool has_published_ ABSL_GUARDED_BY(run_mu_) = false;
  MonoTime last_published_at_ ABSL_GUARDED_BY(run_mu_){};
  std::string published_config_version_ ABSL_GUARDED_BY(run_mu_);

  // What readers see; swapped after each publish.
  mutable absl::Mutex result_mu_;
  std::shared_ptr<const llmesh::discovery::v1::WeightAssignment> last_ ABSL_GUARDED_BY(result_mu_);
  std::map<RouteTargetKey, RouteTargetWeight> weights_ ABSL_GUARDED_BY(result_mu_);

  mutable absl::Mutex thread_mu_;
  bool stop_ ABSL_GUARDED_BY(thread_mu_) = false;
  bool wake_ ABSL_GUARDED_BY(thread_mu_) = false;
  uint64_t failed_ ABSL_GUARDED_BY(thread_mu_) = 0;
  std::thread thread_;
};

}  // namespace llmesh::control
