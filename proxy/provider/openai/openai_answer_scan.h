// Reads a passthrough OpenAI answer or stream chunk in one pass, without building a JSON tree.
//
// When the client speaks OpenAI and an OpenAI-compatible provider answers, the body (or each
// chunk) goes back byte for byte; the proxy only needs to know that it is usable, whether a
// chunk carries content (the commit point) and what the answer cost (usage). Building a tree of
// every choice and message for that was the largest single cost of a non-streamed request and
// of every streamed chunk, so these functions read the text with Boost.JSON's event parser
// (full syntax, UTF-8 and depth checks, no allocation) and keep only those facts.
// They answer only for the common shape; anything else (an error envelope, a finish reason the
// decoders act on, a repeated member they read, escapes in a key) yields nullopt, and the
// caller then decides on the parsed tree as before, so both paths always agree.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "proxy/provider/failure.h"

namespace llmesh::provider {

// The answer `text` (a 2xx body, leading whitespace already stripped) of a chat completion
// (`chat`) or embeddings call. Returns its usage (zero when it reports none) when the text is
// valid JSON (as ParseJson accepts it), a top-level object with exactly one `choices` (chat) or
// `data` array and no `error` or `code` member, and (chat) no choice whose finish_reason is
// insufficient_system_resource, eos or eos_token; nullopt otherwise.
std::optional<Usage> ScanOpenAiAnswer(std::string_view text, bool chat);

// What OpenAiStreamDecoder::OnChunk reads from a chat completion chunk that it forwards as is.
struct OpenAiChunkOutline {
  std::optional<Usage> usage;  // as ReadOpenAiUsage reads it; nullopt when the chunk has none
  bool usage_object = false;   // the chunk has a top-level `usage` object
  bool has_choices = false;    // `choices` is a non-empty array
  bool content = false;        // a choice has a finish reason or a delta with content
                               // (IsContentDelta: text, refusal, reasoning, tool or function call)
};

// The outline of the chunk `data` (an SSE event's data) when it is valid JSON, a top-level
// object without an `error` or `code` member, whose `choices`, if present, is an array, and no
// choice of which has the finish reason insufficient_system_resource, error, eos or eos_token;
// nullopt otherwise.
std::optional<OpenAiChunkOutline> ScanOpenAiChunk(std::string_view data);

}  // namespace llmesh::provider
