// The fake provider's fault-injection script: what the next requests should suffer (an error
// status, latency, a hang, a reset mid-stream, ...). Set for all requests with
// `POST /_fake/script` (JSON) or for one request with `x-fake-*` headers, which override the
// script's fields for that request.
//
// Plain values; parsing is pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/fakes/fake_provider/fake_options.h"

namespace llmesh::fakes {

struct FakeScript {
  // Not 200: answer with this status and an error body in the flavor's envelope.
  int status = 200;
  // Default by status and flavor. The type is OpenAI's and Anthropic's `error.type`, Gemini's
  // `error.status`; the code is OpenAI's `error.code` ("" → null), Gemini's ErrorInfo reason
  // (QuotaFailure quotaId on a 429), unused by Anthropic.
  std::string error_type;
  std::string error_code;
  std::string error_message;
  bool error_array = false;   // wrap a scripted error body in a one-element array
  bool has_body = false;      // `body` replaces the error body verbatim
  std::string body;
  std::string content_type;                                  // of `body`; default application/json
  std::vector<std::pair<std::string, std::string>> headers;  // added to affected responses
  int64_t latency_ms = 0;         // before the whole response (non-stream) or the head (stream)
  int64_t first_chunk_ms = 0;     // before the first content event of a stream
  int64_t chunks = 3;             // content pieces
  int64_t chunk_interval_ms = 0;  // between content events
  bool hang = false;              // never answer; hold the connection until the client leaves
  bool close_before_response = false;  // reset the connection without a response
  int64_t reset_after_events = -1;     // N >= 0: head, N SSE events, then a TCP reset
  int64_t error_after_events = -1;     // N >= 0: N SSE events, an error event, clean end
  bool malformed = false;              // 200 with a truncated JSON body / broken SSE event
  // 200 with the flavor's refusal: Gemini promptFeedback.blockReason SAFETY and no candidates,
  // OpenAI finish_reason content_filter, Anthropic stop_reason refusal (no output either way).
  bool blocked = false;
  // Non-empty: the answer is one call of this tool instead of text, with `tool_arguments`
  // (compact JSON object text; "{}" when not given). The script key takes an object or a
  // string holding one.
  std::string tool_call;
  std::string tool_arguments = "{}";
  // Usage the answer reports on top of the visible output: reasoning (thinking) tokens and
  // prompt tokens read from a cache (at most the prompt tokens).
  int64_t reasoning_tokens = 0;
  int64_t cached_tokens = 0;
  // Streams: this many `: keep-alive` comment lines right after the head (not counted as
  // events), as DeepSeek sends while a request is queued.
  int64_t keep_alive_comments = 0;
  // OpenAI streams: a first chunk with `choices: []` and prompt_filter_results, as Azure
  // sends (it counts as an event).
  bool empty_choices_chunk = false;
  // Share of requests the failure part applies to (status, error, error_array, body, headers,
  // hang, close, reset, error event, malformed, blocked); the rest succeed normally. 0
  // (default) or >= 1: all.
  double fail_probability = 0.0;
  // N > 0: the script applies to the next N requests only, then normal service resumes.
  int64_t count = 0;

  // True when the failure part would change the response (used for the scripted_failures stat).
  bool HasFailure() const {
    return status != 200 || hang || close_before_response || reset_after_events >= 0 ||
           error_after_events >= 0 || malformed || blocked;
  }
};

// Parses the JSON body of POST /_fake/script. Unknown keys and wrongly typed or out-of-range
// values are INVALID_ARGUMENT naming the key.
absl::StatusOr<FakeScript> ParseFakeScript(std::string_view json);

// INVALID_ARGUMENT when `script` asks for something `flavor` cannot do (`empty_choices_chunk`
// is OpenAI's).
absl::Status CheckScriptForFlavor(const FakeScript& script, Flavor flavor);

// Applies one request header to `script` if it is an `x-fake-*` override (name compared
// case-insensitively). Returns true if the header was an override; INVALID_ARGUMENT naming
// the header for a bad value. `x-fake-retry-after` and `x-fake-retry-after-ms` add the
// `retry-after` / `retry-after-ms` response headers; `x-fake-tool-call: NAME` sets tool_call
// and `x-fake-tool-arguments: {...}` (a JSON object) tool_arguments.
absl::StatusOr<bool> ApplyFakeHeader(std::string_view name, std::string_view value,
                                     FakeScript& script);

}  // namespace llmesh::fakes
