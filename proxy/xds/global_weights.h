// Cluster-wide target weights pushed by the control plane (WeightAssignment), with their TTL.
//
// The discovery client publishes each assignment it ACKs; the router of every worker reads it
// when it picks among a tier's targets (proxy/router/effective_weights.h). An assignment is
// valid for its `ttl`, counted from when this sidecar applied it on its own clock; once it has
// expired, or for a target it does not name, the route's static weight applies
// (docs/control-plane.md, "Weights expire").
//
// Part of llmesh_proxy_xds_state, which does not link gRPC, so the router can read it.
//
// Threading: Publish on the discovery client's thread; the reads from any thread (workers
// included) without a mutex: readers take a shared_ptr snapshot (std::atomic<shared_ptr>) of an
// immutable table. A worker keeps its own copy and compares generation(), one atomic load, to
// see whether a newer assignment was published, so the shared reference count is touched once
// per push rather than once per request.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "llmesh/discovery/v1/discovery.pb.h"

namespace llmesh::xds {

// One applied assignment, immutable once published.
class AppliedWeights {
 public:
  // Checks `assignment` (ttl > 0; route names set; a target at most once per route) and indexes
  // it. INVALID_ARGUMENT with one "field.path: problem" per line otherwise.
  static absl::StatusOr<std::shared_ptr<const AppliedWeights>> Create(
      const llmesh::discovery::v1::WeightAssignment& assignment, std::string version, MonoTime applied_at);

  // The weight in basis points of its tier the control plane assigned to `provider`/`model` in
  // `route`, while the assignment is fresh at `now`. nullopt when it has expired or does not
  // name that target: the caller uses the target's static weight.
  std::optional<uint32_t> AssignedWeight(std::string_view route, std::string_view provider,
                                         std::string_view model, MonoTime now) const;

  // Fresh while now < applied_at + ttl.
  bool Fresh(MonoTime now) const { return now < expires_at_; }
  const std::string& version() const { return version_; }
  MonoTime applied_at() const { return applied_at_; }
  MonoTime expires_at() const { return expires_at_; }
  const llmesh::discovery::v1::WeightAssignment& assignment() const { return assignment_; }

 private:
  AppliedWeights() = default;

  llmesh::discovery::v1::WeightAssignment assignment_;
  std::string version_;
  MonoTime applied_at_{};
  MonoTime expires_at_{};
  absl::flat_hash_map<std::string, uint32_t> weights_;  // key: route '\0' provider '\0' model
};

// The latest applied assignment, published as an atomic shared_ptr.
class GlobalWeights {
 public:
  GlobalWeights() = default;
  GlobalWeights(const GlobalWeights&) = delete;
  GlobalWeights& operator=(const GlobalWeights&) = delete;

  // Publishes `weights` (not null); readers see it on their next Current().
  void Publish(std::shared_ptr<const AppliedWeights> weights) {
    current_.store(std::move(weights), std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
  }
  // Number of Publish calls so far. Once a reader sees a value, Current() returns that
  // publication or a later one.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // The latest assignment, or nullptr before the first one. Check Fresh() before using it, or
  // call AssignedWeight, which does.
  std::shared_ptr<const AppliedWeights> Current() const { return current_.load(std::memory_order_acquire); }

  // The weight of one target taken alone: the assigned one while fresh, else `static_weight`.
  // The router resolves whole tiers instead (router::ResolveWeights), which also rescales the
  // static weights of targets an assignment leaves out of a tier it covers.
  uint32_t EffectiveWeight(std::string_view route, std::string_view provider, std::string_view model,
                           uint32_t static_weight, MonoTime now) const;

 private:
  std::atomic<std::shared_ptr<const AppliedWeights>> current_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace llmesh::xds
