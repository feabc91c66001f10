// Canonical requests → Gemini request bodies (wire-formats §3.2, §6.2–§6.4).
//
// Called by the Gemini adapter's Encode for every attempt on a Gemini target: Gemini is a
// provider format only (no client speaks it), so there is no passthrough and the canonical
// request is always encoded. Bodies use the REST API's lowerCamelCase names.
//
// Chat (`models/{model}:generateContent` and `:streamGenerateContent`, same body):
//  - system messages → systemInstruction.parts (text only), in order;
//  - user → role "user", assistant → role "model"; tool results → functionResponse parts in a
//    "user" turn. Consecutive turns of the same role are merged into one Content; empty text
//    parts are dropped (Gemini rejects them), and so is a turn left with no parts;
//  - images: inline data → inlineData{mimeType, data}; a URL → fileData{mimeType, fileUri}
//    with the MIME type guessed from the URL path's extension (png, jpg/jpeg, gif, webp,
//    heic, heif), else image/jpeg; an inline image without a media type is sent as image/jpeg;
//  - assistant tool_calls → functionCall{id?, name, args}: args is the parsed arguments object
//    ("" counts as {}); arguments that are not a JSON object → FAILED_PRECONDITION. The id is
//    sent only for calls Gemini itself named (gemini_call_ids.h). The first functionCall of
//    each model turn carries thoughtSignature "skip_thought_signature_validator": the
//    canonical model does not keep Gemini 3's signatures, and Gemini 3 rejects replayed calls
//    without one (the sentinel is Google's documented way to replay such history);
//  - tool messages → functionResponse{id?, name, response}, ordered like the calls of the
//    assistant turn they answer. The name is Message::name, else the name of the call with
//    that tool_call_id in an earlier assistant turn (FAILED_PRECONDITION when neither gives
//    one). response = the tool's text parsed as JSON when it is an object, else
//    {"result": "<text>"};
//  - tools → tools[0].functionDeclarations (parameters converted by gemini_schema.h; omitted
//    for a tool without properties, which Gemini rejects as an empty OBJECT);
//    tool_choice → toolConfig.functionCallingConfig: auto → AUTO, none → NONE,
//    required → ANY, named → ANY + allowedFunctionNames [name] (only when tools are sent);
//  - generationConfig: temperature, topP, topK, maxOutputTokens (max_tokens, else the
//    caller's default; capped at INT32_MAX), stopSequences, seed (an
//    int64 outside Gemini's int32 is folded to its low 32 bits, which keeps it deterministic),
//    presencePenalty, frequencyPenalty; response_format json_object → responseMimeType
//    "application/json", json_schema → that plus responseSchema (converted, with the client's
//    property order);
//  - parallel_tool_calls and user have no Gemini equivalent and are dropped.
// FAILED_PRECONDITION (the failover layer then skips the target) for what Gemini cannot take:
// n > 1 (Gemini has candidateCount, but the canonical answer has one choice), more than 5 stop
// sequences, images in system or tool messages, and schemas gemini_schema.h refuses.
//
// Embeddings (`models/{model}:batchEmbedContents`): one request per input,
// {"model":"models/<model>","content":{"parts":[{"text":...}]},"outputDimensionality"?}.
// FAILED_PRECONDITION for more than kMaxGeminiEmbeddingInputs inputs (Gemini's batch limit).
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/provider/canonical.h"

namespace llmesh::provider {

inline constexpr size_t kMaxGeminiStopSequences = 5;
inline constexpr size_t kMaxGeminiEmbeddingInputs = 100;
inline constexpr std::string_view kGeminiSkipSignature = "skip_thought_signature_validator";

// The generateContent body for `request`. `default_max_output_tokens` (the model's configured
// cap; 0 = none) becomes maxOutputTokens when the request sets no max_tokens.
absl::StatusOr<std::string> EncodeGeminiRequest(const ChatRequest& request, uint64_t default_max_output_tokens = 0);

// The batchEmbedContents body for `request` sent to `model` ("text-embedding-004", or already
// prefixed "models/...").
absl::StatusOr<std::string> EncodeGeminiEmbeddings(const EmbeddingsRequest& request, std::string_view model);

// "models/<model>" unless `model` already names a resource ("models/x", "tunedModels/x").
std::string GeminiModelResource(std::string_view model);

}  // namespace llmesh::provider
