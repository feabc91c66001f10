// Gemini generateContent / batchEmbedContents answers → canonical answers (wire-formats §3.3,
// §3.6, §6.1, §6.5), plus the readers the stream decoder shares.
//
// Called by the Gemini adapter's Decode for a 2xx body; the readers also run per streamed
// object in GeminiStreamDecoder.
//
// Chat: the first candidate's parts make the answer: text parts are joined into `text`, parts
// with `thought: true` into `reasoning`, and each functionCall part becomes a ToolCall whose id
// follows gemini_call_ids.h and whose arguments are the serialized `args` ("{}" without
// them). Other parts (inline data, executable code) and thoughtSignature are not carried.
// finishReason (§6.1): STOP → stop, or tool_calls when the answer has function calls;
// MAX_TOKENS → length; SAFETY, RECITATION, LANGUAGE, BLOCKLIST, PROHIBITED_CONTENT, SPII and
// IMAGE_* → content_filter; MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
// TOO_MANY_TOOL_CALLS, OTHER, FINISH_REASON_UNSPECIFIED and unknown values → stop (tool_calls
// when function calls came). Usage (§6.5): prompt = promptTokenCount (it includes cached
// tokens), cached = cachedContentTokenCount, completion = candidatesTokenCount +
// thoughtsTokenCount, reasoning = thoughtsTokenCount. id = responseId (synthesized when
// absent), model = modelVersion, created = createTime when sent (Vertex), else 0.
//
// A blocked prompt (no candidates, promptFeedback.blockReason) is an answer, not a failure: a
// ChatResponse with empty text and finish content_filter, as for a candidate stopped by
// SAFETY. The provider answered 200; OpenAI clients read finish_reason content_filter without
// raising, and a request-level failure (kInvalidRequest) would hide that it was the provider's
// policy, not the request's shape. An error envelope in a 2xx body (`{"error":...}`, also
// array-wrapped) is classified by MapStreamError; a body that is not JSON, not an object, or
// has neither candidates nor a block reason is kMalformed.
//
// Embeddings: {"embeddings":[{"values":[...]}]} → one vector per input, in order. Gemini
// reports no token usage for embeddings, so usage stays 0 (an estimate would make cost
// figures up); model is the name the caller passes.
//
// Pure functions (ids of responses without responseId draw on a thread-safe random source);
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "proxy/provider/canonical.h"
#include "proxy/provider/failure.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {

// usageMetadata as canonical Usage; nullopt when the object has none.
std::optional<Usage> ReadGeminiUsage(const boost::json::object& response);

// The canonical finish for a finishReason; `called_functions`: a functionCall part was seen.
FinishReason MapGeminiFinishReason(std::string_view reason, bool called_functions);

// promptFeedback.blockReason of a response without candidates; "" otherwise.
std::string_view GeminiBlockReason(const boost::json::object& response);

// A part with `thought: true`: the model's reasoning, not its answer.
bool IsGeminiThought(const boost::json::object& part);

// The candidate with index 0 (Gemini omits index 0 at times), else the first; nullptr when
// there is none.
const boost::json::object* FirstGeminiCandidate(const boost::json::object& response);

// content.parts of a candidate; nullptr when it has none.
const boost::json::array* GeminiCandidateParts(const boost::json::object& candidate);

// A functionCall object as the `ordinal`-th ToolCall of a response with id seed `seed`.
ToolCall ReadGeminiFunctionCall(const boost::json::object& function_call, uint64_t seed, uint32_t ordinal);

// A 2xx generateContent body: `chat` (and `usage`) or `failure` (http_status = `status`).
DecodedResponse DecodeGeminiChatResponse(int status, std::string_view body);

// A 2xx batchEmbedContents body: `embeddings` (model = `model`) or `failure`.
DecodedResponse DecodeGeminiEmbeddingsResponse(int status, std::string_view body, std::string_view model);

}  // namespace llmesh::provider
