// OpenAI chat-completions and embeddings requests ⇄ the canonical model.
//
// Parse* run on the client side: the OpenAI codec turns a client's body into a ChatRequest /
// EmbeddingsRequest when some target of its route speaks another format. Encode* run on the
// provider side: the OpenAI adapter turns a canonical request that came from another client
// format (Anthropic's /v1/messages) into an OpenAI body. An OpenAI client talking to an
// OpenAI-format provider uses neither: its bytes pass through.
//
// What cannot be carried over is refused rather than silently changed: the Parse functions
// return FAILED_PRECONDITION naming the feature ("audio input", "logprobs", token-array
// embeddings input), and the route's translating targets are then skipped with that reason.
// Malformed shapes give INVALID_ARGUMENT naming the field path.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "absl/status/statusor.h"
#include "proxy/provider/canonical.h"

namespace llmesh::provider {

absl::StatusOr<ChatRequest> ParseOpenAiChatRequest(const boost::json::object& body);

// The member that carries ChatRequest::max_tokens: OpenAI's own `max_completion_tokens`, or
// the older `max_tokens` that OpenAI-compatible APIs read.
enum class OutputCapField : uint8_t { kMaxCompletionTokens, kMaxTokens };

// The OpenAI body for `request` sent to `model`. Streams always ask for usage
// (stream_options.include_usage) because cost accounting needs it.
std::string EncodeOpenAiChatRequest(const ChatRequest& request, std::string_view model,
                                    OutputCapField cap_field = OutputCapField::kMaxCompletionTokens);

absl::StatusOr<EmbeddingsRequest> ParseOpenAiEmbeddingsRequest(const boost::json::object& body);

std::string EncodeOpenAiEmbeddingsRequest(const EmbeddingsRequest& request, std::string_view model);

}  // namespace llmesh::provider
