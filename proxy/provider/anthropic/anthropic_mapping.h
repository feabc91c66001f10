// Stop reasons, token usage and error types between Anthropic's Messages API and the canonical
// model (wire-formats §6.1, §6.5, §2.7), in both directions.
//
// Shared by the response decoder and renderer, the stream decoder and the stream encoder of
// this folder, and by the Anthropic-facing codec when it renders a failure for an Anthropic
// client. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "proxy/provider/canonical.h"
#include "proxy/provider/failure.h"

namespace llmesh::provider {

// Token counts as Anthropic reports them (§2.5).
struct AnthropicUsage {
  uint64_t input_tokens = 0;  // uncached input only
  uint64_t output_tokens = 0;
  uint64_t cache_read_input_tokens = 0;
  uint64_t cache_creation_input_tokens = 0;
  uint64_t thinking_tokens = 0;  // output_tokens_details.thinking_tokens (newer API), of output
};

// Overwrites the counters that `usage` carries and keeps the others: a message's or
// message_start's `usage`, or a message_delta's cumulative one (which may repeat only some).
void MergeAnthropicUsage(const boost::json::object& usage, AnthropicUsage& into);

// §6.5: prompt = input + cache reads + cache writes, cached = cache reads, completion = output,
// reasoning = thinking_tokens.
Usage CanonicalUsage(const AnthropicUsage& usage);

// §6.5 "going the other way" as a Messages `usage` object: input_tokens = prompt − cached,
// cache_read_input_tokens = cached, cache_creation_input_tokens = 0, output_tokens = completion.
boost::json::object AnthropicUsageJson(const Usage& usage);

// §6.1: end_turn, stop_sequence, pause_turn → kStop; max_tokens, model_context_window_exceeded
// → kLength; tool_use → kToolCalls; refusal → kContentFilter; anything else → kStop.
FinishReason FinishReasonFromStopReason(std::string_view stop_reason);

// §6.1 reverse: kStop → "end_turn" ("stop_sequence" when `stop_sequence_matched`), kLength →
// "max_tokens", kToolCalls → "tool_use", kContentFilter → "refusal".
std::string_view StopReasonFromFinishReason(FinishReason reason, bool stop_sequence_matched);

// The Anthropic error type (§2.7) for a failure told to an Anthropic client: kOverloaded →
// overloaded_error, kRateLimited → rate_limit_error, kQuota → billing_error, kAuth →
// authentication_error (permission_error for a 403), kModelNotFound → not_found_error,
// kInvalidRequest / kContextLength → invalid_request_error (request_too_large for a 413),
// kTimeout → timeout_error, anything else → api_error.
std::string_view AnthropicErrorType(const UpstreamFailure& failure);

}  // namespace llmesh::provider
