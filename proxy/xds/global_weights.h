// Cluster-wide target weights pushed by the control plane (WeightAssignment), with their TTL.
//
// The discovery client publishes each assignment it ACKs, for the router to read when it picks
// among a tier's targets (the router does not read it yet: see EffectiveWeight). An assignment is valid for its `ttl`, counted from when this
// sidecar applied it on its own clock; once it has expired, or for a target it does not name,
// the route's static weight applies (docs/control-plane.md, "Weights expire").
//
// Threading: Publish on the discovery client's thread; the reads from any thread
// (workers included) without a mutex: readers take a shared_ptr snapshot (std::atomic<shared_ptr>)
// of an immutable table.
#pragma once

#include <atomic>
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
  }
  // The latest assignment, or nullptr before the first one. Check Fresh() before using it, or
  // call AssignedWeight, which does.
  std::shared_ptr<const AppliedWeights> Current() const { return current_.load(std::memory_order_acquire); }

  // The effective weight of a target: the assigned one while fresh, else `static_weight`.
  uint32_t EffectiveWeight(std::string_view route, std::string_view provider, std::string_view model,
                           uint32_t static_weight, MonoTime now) const;

 private:
  std::atomic<std::shared_ptr<const AppliedWeights>> current_;
};

}  // namespace llmesh::xds
