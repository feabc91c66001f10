// Per-worker telemetry of upstream attempts: what the sidecar reports to llmesh-control on the
// Telemetry stream (docs/control-plane.md, "Telemetry"; telemetry.proto TargetStats).
//
// Where it sits: the FailoverExecutor of each worker records every attempt's outcome into its
// worker's TelemetryAccumulator as the attempt ends (success, failure class, cancellation,
// latency, time to first token, tokens, cost). Every report interval the TelemetryReporter
// posts TakeDelta onto each worker's io_context, merges the returned TelemetryDeltas on its own
// thread and sends them as one TelemetryReport.
//
// Counting rule (telemetry.proto): an attempt is counted once, when it ends, as a success, a
// failure of one class, or cancelled, so attempts = successes + every error class + cancelled.
// Latency and time to first token are sketched for successful attempts only.
//
// Threading: a TelemetryAccumulator belongs to one worker and is touched only on that worker's
// thread, so Record takes no lock; it allocates only when a provider model is first seen, or
// seen again after an interval without attempts (the entry is dropped then so targets that left
// the config do not linger), and when a latency lands outside the sketch's bucket range so far.
// TelemetryDelta is a plain value owned by whoever holds it.
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "common/absl_view.h"
#include "common/metrics/latency_sketch.h"
#include "llmesh/telemetry/v1/telemetry.pb.h"
#include "proxy/provider/failure.h"

namespace llmesh::xds {

// Number of provider::FailureKind values; ErrorCounts has one field per kind.
inline constexpr size_t kFailureKindCount = static_cast<size_t>(provider::FailureKind::kQuota) + 1;

// How one upstream attempt ended, as the failover executor saw it.
struct AttemptOutcome {
  enum class Result : uint8_t {
    kSuccess,    // A complete answer: non-streamed 2xx, or a stream that ended cleanly.
    kFailure,    // Failed; `failure` says how.
    kCancelled,  // Abandoned by the sidecar: the client went away, or a hedge lost.
  };
  Result result = Result::kSuccess;
  provider::FailureKind failure = provider::FailureKind::kServerError;  // kFailure only
  // Started after another attempt of the same request failed (a failover).
  bool retry = false;
  // Started as a hedge while an earlier attempt of the request was still running.
  bool hedge = false;
  // From sending the request to the end of the response. Recorded for kSuccess only.
  std::chrono::microseconds latency{0};
  // From sending the request to the first content event; successful streamed attempts only.
  std::optional<std::chrono::microseconds> time_to_first_token;
  // Tokens as counted by the provider, when it reported usage (any result).
  provider::Usage usage;
  // Cost of `usage` at the configured model prices, in nano-US-dollars, rounded.
  uint64_t cost_nano_usd = 0;
};

// Deltas of one provider model over one interval (telemetry.proto TargetStats).
struct TargetDelta {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  std::array<uint64_t, kFailureKindCount> errors{};  // indexed by provider::FailureKind
  uint64_t cancelled = 0;
  uint64_t retries = 0;
  uint64_t hedges = 0;
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  uint64_t cached_input_tokens = 0;
  uint64_t cost_nano_usd = 0;
  metrics::LatencySketch latency;              // µs, successful attempts
  metrics::LatencySketch time_to_first_token;  // µs, successful streamed attempts

  // Counts one attempt by the counting rule of the file comment.
  void Record(const AttemptOutcome& outcome);
  // Adds `other` field by field; the sketches merge exactly.
  void Merge(const TargetDelta& other);
  // Back to zero; the sketches keep their bucket storage.
  void Reset();
  // Writes the figures into `stats` (provider and model are the caller's).
  void ToProto(telemetry::v1::TargetStats& stats) const;
};

// Identity of a route target in telemetry: provider name and model name, as in the config.
struct TargetName {
  std::string provider;
  std::string model;

  friend auto operator<=>(const TargetName&, const TargetName&) = default;
  friend bool operator==(const TargetName&, const TargetName&) = default;
};

// The deltas of every provider model that had an attempt end in an interval.
class TelemetryDelta {
 public:
  using Targets = std::map<TargetName, TargetDelta>;

  // The entry of `provider`/`model`, created empty when missing.
  TargetDelta& Target(std::string_view provider, std::string_view model);
  // Adds every target of `other` (TargetDelta::Merge for targets present in both).
  void Merge(const TelemetryDelta& other);

  bool empty() const { return targets_.empty(); }
  const Targets& targets() const { return targets_; }

  // Appends one TargetStats per target with at least one attempt, in provider/model order.
  void AppendTo(telemetry::v1::TelemetryReport& report) const;

 private:
  Targets targets_;
};

// One worker's running deltas, keyed by provider and model.
class TelemetryAccumulator {
 public:
  TelemetryAccumulator() = default;
  TelemetryAccumulator(const TelemetryAccumulator&) = delete;
  TelemetryAccumulator& operator=(const TelemetryAccumulator&) = delete;

  // Records one finished attempt to `provider`/`model`. Owning worker's thread only; no lock,
  // no allocation once the target is known (see the file comment).
  void Record(std::string_view provider, std::string_view model, const AttemptOutcome& outcome);

  // Returns what was recorded since the previous call (targets with attempts only) and starts
  // over from zero. Owning worker's thread only (the reporter posts it there).
  TelemetryDelta TakeDelta();

  // Provider models currently held (for tests of the pruning rule).
  size_t tracked_targets() const { return targets_.size(); }

 private:
  struct NameView {
    std::string_view provider;
    std::string_view model;
  };
  // Transparent, so Record looks names up by view without building a key string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(const TargetName& name) const { return (*this)(NameView{name.provider, name.model}); }
    size_t operator()(NameView name) const { return absl::HashOf(AbslView(name.provider), AbslView(name.model)); }
  };
  struct NameEq {
    using is_transparent = void;
    static NameView View(const TargetName& name) { return NameView{name.provider, name.model}; }
    static NameView View(NameView name) { return name; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const NameView x = View(a);
      const NameView y = View(b);
      return x.provider == y.provider && x.model == y.model;
    }
  };

  absl::flat_hash_map<TargetName, TargetDelta, NameHash, NameEq> targets_;
};

}  // namespace llmesh::xds
