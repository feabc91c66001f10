// Turns provider error answers into typed UpstreamFailures (wire-formats §7).
//
// Adapters call MapHttpError for a non-2xx answer and MapStreamError for an error carried
// inside a 2xx body or stream; the failover layer then decides on FailureKind alone. Reads
// every error envelope of §7.2: OpenAI and compatibles `{"error":{message,type,param,code}}`,
// Anthropic `{"type":"error","error":{type,message}}`, Gemini `{"error":{code,status,message,
// details}}` (also wrapped in a one-element array), DashScope and vLLM flat `{code,message}`,
// and Mistral/FastAPI `{message}` / `{detail}`. HTML, empty or otherwise non-JSON bodies are
// classified by status alone. Messages are cut to kMaxErrorMessageBytes; request headers are
// never copied into a failure.
//
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/json/value.hpp>

#include "absl/time/time.h"
#include "proxy/provider/failure.h"

namespace llmesh::provider {

inline constexpr size_t kMaxErrorMessageBytes = 500;

// What an error body said, whatever its envelope.
struct ErrorEnvelope {
  bool found = false;   // some error field was present
  std::string type;     // error.type, else Gemini error.status ("RESOURCE_EXHAUSTED")
  std::string code;     // error.code when a string, else Gemini ErrorInfo reason
  std::string message;  // cut to kMaxErrorMessageBytes
  int status = 0;       // an HTTP status carried in the body (Gemini/vLLM numeric code, Azure status)
  bool context_length = false;  // the message or code has a context-length signature (§7.4)
  bool daily_quota = false;     // Gemini QuotaFailure with a per-day quota id
  bool billing = false;         // a credit/billing problem spelled as a 400 (Anthropic, obs)
  std::optional<std::chrono::milliseconds> retry_delay;  // RetryInfo, else "try again in N"
};

// Reads the envelope of an already parsed body; `found` is false when it has none.
ErrorEnvelope ParseErrorEnvelope(const boost::json::value& body);

// True when the error reads like a context-window overflow (§7.4), matched case-insensitively
// on `message` and `code`, excluding rate-limit wording ("rate limit", "too many requests",
// "tokens per minute") and OpenAI's `string_above_max_length`.
bool HasContextLengthSignature(std::string_view code, std::string_view message);

// Classifies a non-2xx answer (§7.1):
//   429 → kRateLimited, or kQuota for insufficient_quota / billing / a per-day Gemini quota;
//   402 → kQuota; 401, 403 → kAuth; 404, 410 → kModelNotFound;
//   400, 422 → kContextLength on a §7.4 signature, kAuth for Gemini API_KEY_INVALID or
//     FAILED_PRECONDITION (key, billing or region), kQuota for insufficient_quota or a
//     credit-balance message, else kInvalidRequest;
//   413 → kRateLimited for Groq's tokens-per-minute rejection, else kInvalidRequest;
//   other 4xx → kInvalidRequest; 498 (Groq capacity), 503, 529 → kOverloaded;
//   408, 409, 500, 502, 504, 52x and other 5xx → kServerError; anything else → kMalformed.
// retry_after is RetryHint(headers, now, status), else the body's RetryInfo / message hint.
UpstreamFailure MapHttpError(int status, const boost::beast::http::fields& headers,
                             std::string_view body, absl::Time now);

// For an error carried in a 2xx body or stream event: `{"error":{...}}` in any envelope of
// §7.2 (also the one-element array wrap), or DashScope's flat `{code, message}` frame. Returns
// nullopt when `event` is not an error. Classified by a status carried in the body when there
// is one (Gemini code 429, Azure status 400) with the MapHttpError rules; otherwise by
// type/code: rate-limit, quota, auth, not-found, invalid-request and context-length types map
// to their kinds, overload types (overloaded_error, slow_down, UNAVAILABLE, ...) to
// kOverloaded, and everything else to kServerError, because a provider error before content is
// worth retrying elsewhere. http_status is the carried status, else 200.
std::optional<UpstreamFailure> MapStreamError(const boost::json::value& error_event);

// For a 2xx answer's body, `text` (with the whitespace the caller tolerates already removed):
// parses it into `value` (keeping value's storage) and returns the failure it stands for, if
// any: kMalformed when it is empty or not JSON, else the error envelope MapStreamError finds,
// with http_status `status` unless the body carried one. nullopt: `value` holds the answer.
std::optional<UpstreamFailure> ParseAnswerJson(int status, std::string_view text, boost::json::value& value);

}  // namespace llmesh::provider
