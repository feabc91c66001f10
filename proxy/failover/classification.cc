#include "proxy/failover/classification.h"

namespace llmesh::failover {

using provider::FailureKind;

// The switches list every kind without a default so that adding a FailureKind fails the build
// (-Wswitch under -Werror) until it is classified here.

Verdict Classify(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnect:
    case FailureKind::kReset:
    case FailureKind::kTimeout:
    case FailureKind::kRateLimited:
    case FailureKind::kOverloaded:
    case FailureKind::kServerError:
    case FailureKind::kMalformed:
      return Verdict::kNextTarget;
    case FailureKind::kAuth:
    case FailureKind::kModelNotFound:
    case FailureKind::kQuota:
      return Verdict::kSkipTarget;
    case FailureKind::kContextLength:
      return Verdict::kLargerContextOnly;
    case FailureKind::kInvalidRequest:
      return Verdict::kFail;
  }
  // Only reachable with a value outside the enum (a corrupted byte): the client cannot have
  // caused it, so let another target try.
  return Verdict::kNextTarget;
}

bool IsHealthFailure(FailureKind kind) { return Classify(kind) == Verdict::kNextTarget; }

absl::StatusCode CanonicalCode(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnect:
    case FailureKind::kReset:
    case FailureKind::kOverloaded:
    case FailureKind::kServerError:
    case FailureKind::kMalformed:
      return absl::StatusCode::kUnavailable;
    case FailureKind::kTimeout:
      return absl::StatusCode::kDeadlineExceeded;
    case FailureKind::kRateLimited:
    case FailureKind::kQuota:
      return absl::StatusCode::kResourceExhausted;
    case FailureKind::kInvalidRequest:
    case FailureKind::kContextLength:
      return absl::StatusCode::kInvalidArgument;
    case FailureKind::kAuth:
      return absl::StatusCode::kUnauthenticated;
    case FailureKind::kModelNotFound:
      return absl::StatusCode::kNotFound;
  }
  return absl::StatusCode::kUnavailable;
}

absl::StatusCode CanonicalCode(const provider::UpstreamFailure& failure) {
  if (failure.kind == FailureKind::kAuth && failure.http_status == 403) {
    return absl::StatusCode::kPermissionDenied;
  }
  return CanonicalCode(failure.kind);
}

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kNextTarget:
      return "next_target";
    case Verdict::kSkipTarget:
      return "skip_target";
    case Verdict::kLargerContextOnly:
      return "larger_context_only";
    case Verdict::kFail:
      return "fail";
  }
  return "unknown";
}

}  // namespace llmesh::failover
