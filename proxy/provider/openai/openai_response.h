// OpenAI-format responses: reading and repairing what OpenAI-compatible providers send, the
// canonical form of an answer, and rendering canonical answers for OpenAI clients.
//
// Used by the OpenAI adapter's Decode and stream decoder (provider side) and by the OpenAI
// codec (client side, for answers translated from other formats). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "absl/status/statusor.h"
#include "proxy/provider/canonical.h"
#include "proxy/provider/failure.h"

namespace llmesh::provider {

// `usage.{prompt_tokens, completion_tokens}` of a response or chunk, else Groq's
// `x_groq.usage` (sent on the final streamed chunk); nullopt when neither carries a count.
// Cached tokens come from `prompt_tokens_details.cached_tokens`, else DeepSeek's
// `prompt_cache_hit_tokens`; reasoning tokens from `completion_tokens_details`.
std::optional<Usage> ReadOpenAiUsage(const boost::json::object& response);

// Finish reasons some compatibles use where OpenAI says "stop" (Together: "eos", "eos_token").
bool IsNonStandardStop(std::string_view finish_reason);

// Rewrites every `choices[].finish_reason` that IsNonStandardStop to "stop". Returns true when
// something changed (the caller then re-serialises; otherwise the original bytes are kept).
bool NormalizeFinishReasons(boost::json::value& response);

// "stop", "length", "tool_calls" (also the deprecated "function_call"), "content_filter";
// nonstandard stops as "stop". nullopt for an empty or unknown reason.
std::optional<FinishReason> ParseFinishReason(std::string_view reason);

// The first choice of a chat.completion as a ChatResponse (a refusal, which other formats cannot
// express, becomes the text); INVALID_ARGUMENT when the body has no usable choice.
absl::StatusOr<ChatResponse> ParseOpenAiChatResponse(const boost::json::object& response);

// The vectors (in `index` order) and usage of an embeddings list with float vectors, as the
// OpenAI adapter asks for them when it translates; INVALID_ARGUMENT when `data` is missing or
// an item has no numeric `embedding` or a bad `index`.
absl::StatusOr<EmbeddingsResponse> ParseOpenAiEmbeddingsResponse(const boost::json::object& response);

// `usage` in OpenAI's shape, with the cached and reasoning details when known.
boost::json::object RenderOpenAiUsage(const Usage& usage);

// A chat.completion body for an OpenAI client.
std::string RenderOpenAiChatResponse(const ChatResponse& response);

// An embeddings list body for an OpenAI client: vectors as JSON numbers, or as base64 of
// little-endian float32 when the client asked for `encoding_format: base64` (the official
// SDKs do by default).
std::string RenderOpenAiEmbeddingsResponse(const EmbeddingsResponse& response, bool base64);

}  // namespace llmesh::provider
