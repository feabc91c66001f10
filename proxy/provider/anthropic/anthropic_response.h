// Complete (non-streamed) Anthropic Messages answers ⇄ the canonical ChatResponse (§2.5).
//
// DecodeAnthropicResponse is the Anthropic adapter's Decode: the upstream's 2xx body becomes
// the client's bytes (passthrough) or a ChatResponse (translated). RenderAnthropicResponse runs
// on the client side: the Anthropic-facing codec renders a ChatResponse that another provider's
// adapter produced as a Messages answer.
//
// Rendering choices: thinking text (ChatResponse::reasoning) is not rendered, because a
// thinking block needs a provider signature that a translated answer cannot have, and a client
// that sent such a block back to Anthropic would be refused; tool-call arguments that are not a
// JSON object are rendered as `{}` (Anthropic's input is always an object); an answer with
// neither text nor tool calls gets one empty text block, so clients reading content[0] work.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "proxy/provider/canonical.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {

// Decodes a complete 2xx body. `failure` is set for a body that is not JSON or has no `content`
// array (kMalformed) and for an error envelope sent with a 2xx (MapStreamError; http_status is
// `status`). Otherwise `usage` is set and, with `passthrough`, `body` holds the upstream's
// bytes unchanged (minus leading whitespace); without, `chat` holds the canonical answer.
DecodedResponse DecodeAnthropicResponse(int status, std::string_view body, bool passthrough);

// The canonical form of a Messages object: text blocks joined in order into `text`, thinking
// blocks into `reasoning`, tool_use blocks into tool_calls (arguments = the serialised input,
// "{}" without one), stop_reason mapped by FinishReasonFromStopReason (`stop_sequence` kept),
// usage by CanonicalUsage. Other block types (redacted_thinking, server tools) are skipped.
ChatResponse ChatResponseFromMessage(const boost::json::object& message);

// The Messages answer JSON for `response`, naming `model` (response.model when empty). The id
// is response.id when it already starts with "msg_", else "msg_" + response.id; content is a
// text block (when there is text) followed by one tool_use block per call; stop_reason and
// usage are mapped back (StopReasonFromFinishReason, AnthropicUsageJson).
std::string RenderAnthropicResponse(const ChatResponse& response, std::string_view model);

// The message id for a canonical response id (see RenderAnthropicResponse).
std::string AnthropicMessageId(std::string_view id);

}  // namespace llmesh::provider
