#include "proxy/provider/anthropic/anthropic_mapping.h"

#include <algorithm>
#include <optional>

#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/common/json_fields.h"

namespace llmesh::provider {

void MergeAnthropicUsage(const boost::json::object& usage, AnthropicUsage& into) {
  if (std::optional<uint64_t> v = UintField(usage, "input_tokens")) into.input_tokens = *v;
  if (std::optional<uint64_t> v = UintField(usage, "output_tokens")) into.output_tokens = *v;
  if (std::optional<uint64_t> v = UintField(usage, "cache_read_input_tokens")) {
    into.cache_read_input_tokens = *v;
  }
  if (std::optional<uint64_t> v = UintField(usage, "cache_creation_input_tokens")) {
    into.cache_creation_input_tokens = *v;
  }
  if (const boost::json::object* details = ObjectField(usage, "output_tokens_details")) {
    if (std::optional<uint64_t> v = UintField(*details, "thinking_tokens")) into.thinking_tokens = *v;
  }
}

Usage CanonicalUsage(const AnthropicUsage& usage) {
  Usage out;
  out.prompt_tokens =
      usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
  out.cached_tokens = usage.cache_read_input_tokens;
  out.completion_tokens = usage.output_tokens;
  // An approximation that the API keeps within output_tokens; the clamp guards bad data.
  out.reasoning_tokens = std::min(usage.thinking_tokens, usage.output_tokens);
  return out;
}

boost::json::object AnthropicUsageJson(const Usage& usage) {
  const uint64_t cached = std::min(usage.cached_tokens, usage.prompt_tokens);
  boost::json::object out;
  out["input_tokens"] = usage.prompt_tokens - cached;
  out["cache_creation_input_tokens"] = 0;
  out["cache_read_input_tokens"] = cached;
  out["output_tokens"] = usage.completion_tokens;
  return out;
}

FinishReason FinishReasonFromStopReason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return FinishReason::kLength;
  }
  if (stop_reason == "tool_use") return FinishReason::kToolCalls;
  if (stop_reason == "refusal") return FinishReason::kContentFilter;
  return FinishReason::kStop;
}

std::string_view StopReasonFromFinishReason(FinishReason reason, bool stop_sequence_matched) {
  switch (reason) {
    case FinishReason::kStop: return stop_sequence_matched ? "stop_sequence" : "end_turn";
    case FinishReason::kLength: return "max_tokens";
    case FinishReason::kToolCalls: return "tool_use";
    case FinishReason::kContentFilter: return "refusal";
  }
  return "end_turn";
}

std::string_view AnthropicErrorType(const UpstreamFailure& failure) {
  switch (failure.kind) {
    case FailureKind::kOverloaded: return "overloaded_error";
    case FailureKind::kRateLimited: return "rate_limit_error";
    case FailureKind::kQuota: return "billing_error";
    case FailureKind::kAuth:
      return failure.http_status == 403 ? "permission_error" : "authentication_error";
    case FailureKind::kModelNotFound: return "not_found_error";
    case FailureKind::kInvalidRequest:
    case FailureKind::kContextLength:
      return failure.http_status == 413 ? "request_too_large" : "invalid_request_error";
    case FailureKind::kTimeout: return "timeout_error";
    case FailureKind::kConnect:
    case FailureKind::kReset:
    case FailureKind::kServerError:
    case FailureKind::kMalformed:
      break;
  }
  return "api_error";
}

}  // namespace llmesh::provider
