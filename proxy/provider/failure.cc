#include "proxy/provider/failure.h"

namespace llmesh::provider {

std::string_view FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnect:
      return "connect";
    case FailureKind::kReset:
      return "reset";
    case FailureKind::kTimeout:
      return "timeout";
    case FailureKind::kRateLimited:
      return "rate_limited";
    case FailureKind::kOverloaded:
      return "overloaded";
    case FailureKind::kServerError:
      return "server_error";
    case FailureKind::kMalformed:
      return "malformed";
    case FailureKind::kInvalidRequest:
      return "invalid_request";
    case FailureKind::kContextLength:
      return "context_length";
    case FailureKind::kAuth:
      return "auth";
    case FailureKind::kModelNotFound:
      return "model_not_found";
    case FailureKind::kQuota:
      return "quota";
  }
  // Only reachable with a value cast from outside the enum.
  return "unknown";
}

}  // namespace llmesh::provider
