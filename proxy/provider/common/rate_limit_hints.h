// "How long to stay away" hints from provider responses: rate-limit and retry headers, and the
// body hints some providers send instead (Gemini RetryInfo, "try again in 5.2s" messages).
//
// Adapters call these while turning an upstream answer into an UpstreamFailure (retry_after);
// the failover layer turns the hint into a cooldown of that provider+model. Header forms
// (wire-formats §1.9, §2.8, §5.4, §5.7): `retry-after-ms`; `retry-after` as seconds or an
// HTTP-date; OpenAI/Groq/Azure `x-ratelimit-reset-{requests,tokens}` as Go durations or plain
// seconds; Anthropic `anthropic-ratelimit-*-reset` as RFC 3339 timestamps. Values that do not
// parse are ignored. Hints are rounded up to whole milliseconds and capped at kMaxRetryHint.
//
// Pure functions of their arguments (time is passed in); thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/json/object.hpp>

#include "absl/time/time.h"

namespace llmesh::provider {

// No hint is believed beyond this; the failover layer caps cooldowns far lower anyway.
inline constexpr std::chrono::milliseconds kMaxRetryHint = std::chrono::hours(24);

// The longest hint among the response headers, or nullopt when there is none:
//  - `retry-after-ms` (milliseconds, fractional allowed);
//  - `retry-after` (seconds, fractional allowed, or an HTTP-date taken relative to `now`);
//  - `x-ratelimit-reset-requests` / `-tokens` (Go duration "6m0s", "1h2m3s", "12ms",
//    "2m59.56s", or plain seconds as Azure sends), each only when the matching
//    `x-ratelimit-remaining-*` is "0": a reset time with budget left is not a hint;
//  - `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset` (RFC 3339,
//    relative to `now`), each only when its `-remaining` is "0" or `http_status` is 429.
// A date already past yields 0 ms (an explicit "now"). `http_status` 0 means unknown.
std::optional<std::chrono::milliseconds> RetryHint(const boost::beast::http::fields& headers,
                                                   absl::Time now, int http_status = 0);

// Gemini's google.rpc.RetryInfo inside an error object's `details` array
// ({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34s"}), or nullopt.
// `error` is the object under the body's "error" key.
std::optional<std::chrono::milliseconds> RetryInfoHint(const boost::json::object& error);

// A wait stated in an error message: "Please try again in 5.289s" / "in 20ms" / "in 1m30s"
// (OpenAI, Groq) or "Please retry after 12 seconds" (Azure). Matched case-insensitively.
std::optional<std::chrono::milliseconds> MessageRetryHint(std::string_view message);

}  // namespace llmesh::provider
