#include "proxy/provider/failure.h"

#include <utility>

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

UpstreamFailure MalformedAnswer(int http_status, std::string message) {
  UpstreamFailure failure;
  failure.kind = FailureKind::kMalformed;
  failure.http_status = http_status;
  failure.message = std::move(message);
  return failure;
}

UpstreamFailure InStreamFailure(FailureKind kind, std::string message, std::string_view code) {
  UpstreamFailure failure;
  failure.kind = kind;
  failure.http_status = 200;
  failure.code = std::string(code);
  failure.message = std::move(message);
  return failure;
}

}  // namespace llmesh::provider
