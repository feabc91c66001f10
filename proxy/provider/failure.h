// Typed outcome of a failed upstream attempt, in provider-neutral terms.
//
// Provider adapters turn what a provider sent (status, headers, error body, stream events) or
// what the transport reported into an UpstreamFailure; the failover layer decides on its `kind`
// alone (retry elsewhere, skip the target, or give up), never on message text. Plain values:
// safe to copy between threads; the constructors below are pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmesh::provider {

enum class FailureKind : uint8_t {
  kConnect,         // DNS, TCP connect, TLS handshake or certificate failure.
  kReset,           // Connection closed or reset before the exchange completed.
  kTimeout,         // connect, first_byte, idle, per_try or total deadline passed.
  kRateLimited,     // 429 rate limit (requests or tokens per minute).
  kOverloaded,      // 503 / 529 overloaded, "slow down".
  kServerError,     // Other 5xx, 408, 409, Cloudflare 52x.
  kMalformed,       // Unparseable body, garbage stream, or an error event before content.
  kInvalidRequest,  // 400 / 422: the request is at fault and would fail everywhere.
  kContextLength,   // 400 with a context-length signature: only a larger window may help.
  kAuth,            // 401 / 403: key, account, region or permission problem.
  kModelNotFound,   // 404: model or deployment unknown to this provider.
  kQuota,           // Quota or billing exhausted (402, insufficient_quota): retrying won't help.
};

// Stable snake_case name, used as a metric label value and in logs.
std::string_view FailureKindName(FailureKind kind);

struct UpstreamFailure {
  FailureKind kind = FailureKind::kServerError;
  // HTTP status the provider answered with; 0 when the failure was below HTTP.
  int http_status = 0;
  // Provider's error type/code and message, for logs and for the client's error body.
  // Never holds credentials.
  std::string type;
  std::string code;
  std::string message;
  // When the provider said how long to stay away (retry-after, retry-after-ms, rate-limit
  // reset headers), the longest of those hints.
  std::optional<std::chrono::milliseconds> retry_after;
};

// A failure shown by a provider's answer with HTTP status `http_status`: kMalformed when the
// body of an answer cannot be read as the format promised.
UpstreamFailure MalformedAnswer(int http_status, std::string message);

// A failure found inside a streamed 2xx answer (broken stream, error event, early end); its
// http_status is 200, what the provider answered with. `code` is the provider's code, if any.
UpstreamFailure InStreamFailure(FailureKind kind, std::string message, std::string_view code = {});

// Token usage of one completed attempt.
struct Usage {
  uint64_t prompt_tokens = 0;      // every input token, cached ones included
  uint64_t completion_tokens = 0;  // every output token, reasoning included
  uint64_t cached_tokens = 0;      // of prompt_tokens, read from the provider's prompt cache
  uint64_t reasoning_tokens = 0;   // of completion_tokens, spent thinking
};

}  // namespace llmesh::provider
