// Anthropic Messages API requests ⇄ the canonical model (wire-formats §2.2–§2.4, §6.2–§6.4).
//
// EncodeAnthropicRequest runs on the provider side: the Anthropic adapter turns a canonical
// request that came from another client format (OpenAI chat completions) into a Messages body.
// ParseAnthropicRequest runs on the client side: the codec of the Anthropic-compatible inbound
// endpoint (`POST /v1/messages`) turns a client's body into a ChatRequest when some target of
// its route speaks another format. An Anthropic client talking to an Anthropic provider uses
// neither: its bytes pass through (AnthropicAdapter).
//
// Encoding choices where the reference leaves one:
//  - System messages, wherever they appear, become the top-level `system`: a string when there
//    is one non-empty text part, else an array of text blocks, one per part in order, so no
//    separator is invented. Images in a system message cannot be expressed (FAILED_PRECONDITION).
//  - A conversation whose first turn is not `user` (an assistant greeting, or system messages
//    only) gets a leading user turn with the text "." (kFirstTurnPlaceholder): older API
//    versions reject anything else (§2.2), and refusing would make such routes unusable.
//  - Empty text parts are dropped (Anthropic rejects empty text blocks); turns left empty are
//    dropped; consecutive same-role turns are merged. tool_result blocks always precede the
//    other blocks of their user turn (§2.3), in the order the tool messages came.
//  - temperature is clamped to 0..1 (§6.3 "clamp or reject"; clamping keeps requests that
//    carry OpenAI's common 1.2 or 2.0 servable).
//  - response_format json_schema becomes `output_config.format: {type: json_schema, schema}`
//    (§6.3, recent API): the answer then arrives as ordinary text, so responses and streams
//    decode without special cases, and the client's own tools and tool_choice stay untouched.
//    Models without structured outputs answer 400 (kInvalidRequest). json_object is dropped:
//    OpenAI only accepts it when the prompt itself asks for JSON, so the instruction is there.
//  - seed, presence_penalty and frequency_penalty are dropped (§6.3). tool_choice is sent only
//    with tools (Anthropic rejects it otherwise); parallel_tool_calls=false becomes
//    `disable_parallel_tool_use: true` on it (with `{type:auto}` when the request named no
//    choice; `none` takes no such flag).
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

// The Messages API version every request is written for (and the header value to send).
inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

// max_tokens when neither the request nor the model's configuration gives one.
inline constexpr uint64_t kAnthropicDefaultMaxTokens = 4096;

// Text of the user turn put before a conversation that does not start with one.
inline constexpr std::string_view kFirstTurnPlaceholder = ".";

// The Messages body for `request` sent to `model`. max_tokens is request.max_tokens, else
// `default_max_tokens` (the model's configured cap), else kAnthropicDefaultMaxTokens.
// FAILED_PRECONDITION, with the reason in the message, when Anthropic cannot express the
// request: n > 1 ("anthropic cannot return more than one choice (n=3)"), tool-call arguments
// that are not a JSON object, a tool message without tool_call_id, an image media type other
// than jpeg/png/gif/webp, images in system or assistant messages.
absl::StatusOr<std::string> EncodeAnthropicRequest(const ChatRequest& request,
                                                   std::string_view model,
                                                   uint64_t default_max_tokens);

// The canonical form of an inbound Messages body (the codec has already parsed the JSON and
// checked `model`). Returns:
//  - INVALID_ARGUMENT for a malformed body, with a client-facing message in Anthropic's style
//    ("max_tokens: Field required", "messages.1.role: Input should be 'user' or 'assistant'")
//    and the offending parameter's path ("max_tokens", "messages.1.role") attached under
//    kParamPayloadKey (provider.h);
//  - FAILED_PRECONDITION for content other providers cannot receive (document, server-tool or
//    unknown block types, server tools, non-base64/url image sources), naming the feature.
// Mapping: `system` (string or text blocks) becomes one leading system message; each user
// turn's tool_result blocks become Role::kTool messages (tool_call_id = tool_use_id, name from
// the matching earlier tool_use) placed before a user message with the turn's other blocks;
// assistant tool_use blocks become tool_calls (arguments = the serialised input); thinking and
// redacted_thinking blocks, cache_control, `thinking`, `service_tier` and tool_result's
// is_error are dropped; `output_config.format` json_schema becomes response_format; streams
// set include_usage, because Anthropic clients always receive usage.
absl::StatusOr<ChatRequest> ParseAnthropicRequest(const boost::json::object& body);

}  // namespace llmesh::provider
