// Reads and repairs OpenAI-format responses and stream chunks from OpenAI-compatible
// providers.
//
// Used by the OpenAI adapter's Decode and stream decoder (and by any later translator whose
// source is the OpenAI format). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "proxy/provider/failure.h"

namespace llmesh::provider {

// `usage.{prompt_tokens, completion_tokens}` of a response or chunk, else Groq's
// `x_groq.usage` (sent on the final streamed chunk); nullopt when neither carries a count.
std::optional<Usage> ReadOpenAiUsage(const boost::json::object& response);

// Finish reasons some compatibles use where OpenAI says "stop" (Together: "eos", "eos_token").
bool IsNonStandardStop(std::string_view finish_reason);

// Rewrites every `choices[].finish_reason` that IsNonStandardStop to "stop". Returns true when
// something changed (the caller then re-serialises; otherwise the original bytes are kept).
bool NormalizeFinishReasons(boost::json::value& response);

}  // namespace llmesh::provider
