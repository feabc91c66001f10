// What the failover loop does after a failed attempt, decided from the failure's kind alone.
//
// Sits between the provider adapters, which turn a provider's answer or a transport error into a
// provider::FailureKind, and the FailoverExecutor, which acts on the Verdict: try the next target,
// skip this target, try only a target with a larger context window, or answer the client now.
// Rules (DESIGN.md §3 "Failover semantics", wire-formats.md §7.1):
//   connect, reset, timeout, rate-limited, overloaded, server-error, malformed
//       -> kNextTarget: retryable elsewhere; a health failure of the target.
//   auth, model-not-found, quota
//       -> kSkipTarget: a key or model problem; move on, but not a health failure.
//   context-length
//       -> kLargerContextOnly: only a target with a strictly larger context window may help.
//   invalid-request
//       -> kFail: the client's fault; it would fail everywhere.
// Pure functions of their arguments: callable from any thread.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "proxy/provider/failure.h"

namespace llmesh::failover {

enum class Verdict {
  kNextTarget,         // Retry on the next target of the plan.
  kSkipTarget,         // Give up on this target for this request; the next one may succeed.
  kLargerContextOnly,  // Retry only on a target whose context window is strictly larger.
  kFail,               // Stop: answer the client with this failure.
};

// The verdict for a failed attempt of the given kind.
Verdict Classify(provider::FailureKind kind);

// True when a failure of this kind says the target itself is unwell, so it feeds outlier
// detection and the failure totals: exactly the kinds whose verdict is kNextTarget.
bool IsHealthFailure(provider::FailureKind kind);

// Canonical status code for logs and for choosing the client-facing status class:
// unavailable (connect, reset, overloaded, 5xx, malformed), resource-exhausted (rate-limited,
// quota), deadline-exceeded (timeout), invalid-argument (invalid request, context length),
// unauthenticated (auth), not-found (model not found).
absl::StatusCode CanonicalCode(provider::FailureKind kind);

// As above, refined by the HTTP status: an auth failure answered with 403 is permission-denied.
absl::StatusCode CanonicalCode(const provider::UpstreamFailure& failure);

// Stable snake_case name of a verdict for logs: "next_target", "skip_target",
// "larger_context_only", "fail".
std::string_view VerdictName(Verdict verdict);

}  // namespace llmesh::failover
