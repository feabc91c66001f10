// Tool-call ids between Gemini and the canonical model.
//
// Gemini function calls often carry no `id` (older models never do), while every canonical
// ToolCall needs one that is unique within the conversation: clients echo it in their tool
// results, and a later turn may fail over to Anthropic or OpenAI, which require unique ids. So
// the decoders give each call one of two recognisable forms, and the request encoder reads them
// back when the conversation returns to Gemini:
//  - Gemini sent id X            → "gemini_" + X; sent back as functionCall/functionResponse
//                                   `id` X.
//  - Gemini sent no id           → "call_gemini_<16 hex>_<k>", where the hex is a stable hash
//                                   of the response's `responseId` (random when it has none) and
//                                   k the call's ordinal in the response; never sent back.
//  - any other id (from another provider) → not sent to Gemini either: Gemini matches such
//                                   calls and responses by name and order.
// Ids use only [A-Za-z0-9_-] when Gemini's own ids do, which is what Anthropic accepts.
//
// Pure functions (RandomCallIdSeed reads a thread-safe random source); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmesh::provider {

inline constexpr std::string_view kGeminiGivenIdPrefix = "gemini_";
inline constexpr std::string_view kGeminiSynthesizedIdPrefix = "call_gemini_";

// The seed of the synthesized ids of one response: a stable 64-bit hash of its responseId.
uint64_t CallIdSeed(std::string_view response_id);

// A random seed, for responses without a responseId.
uint64_t RandomCallIdSeed();

// The canonical id of the `ordinal`-th function call of a response: the wrapped Gemini id
// when `gemini_id` is non-empty, else a synthesized one from `seed`.
std::string CanonicalCallId(std::string_view gemini_id, uint64_t seed, uint32_t ordinal);

// The id to send to Gemini for a canonical call id: X for "gemini_X", "" (omit) otherwise.
std::string_view GeminiCallId(std::string_view canonical_id);

// A response id for a response that has none: "gemini-" + 16 hex digits of `seed`.
std::string SynthesizedResponseId(uint64_t seed);

}  // namespace llmesh::provider
