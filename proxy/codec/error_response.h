// The one place where failures become HTTP responses, in the client's API shape.
//
// Every error the sidecar returns — a bad request it rejected itself, a route it could not
// find, or the outcome of a request whose every target failed — is described as an ErrorReply
// and rendered here. Pure functions; safe on any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/status.hpp>

#include "common/http/server.h"
#include "proxy/provider/canonical.h"
#include "proxy/provider/failure.h"

namespace llmesh::codec {

struct ErrorReply {
  boost::beast::http::status status = boost::beast::http::status::internal_server_error;
  std::string type;     // OpenAI error type, e.g. "invalid_request_error"
  std::string code;     // machine-readable code, e.g. "model_not_found"; empty renders null
  std::string param;    // offending parameter; empty renders null
  std::string message;  // human-readable; never contains credentials
  std::optional<std::chrono::seconds> retry_after;
};

// A request the sidecar rejects itself (400, 404, 405, 413, ...).
ErrorReply ClientError(boost::beast::http::status status, std::string_view code,
                       std::string message, std::string_view param = {});

// The reply when no target answered. `failure` is the last attempt's failure (none when nothing
// could be tried); `all_cooling_down` carries when every target is cooling down on rate limits.
ErrorReply FailedRequestError(std::string_view route, std::string_view provider, uint32_t attempts,
                              const std::optional<provider::UpstreamFailure>& failure,
                              std::optional<std::chrono::milliseconds> all_cooling_down);

// {"error":{"message","type","param","code"}} with content-type and retry-after set.
http::Response RenderOpenAiError(const ErrorReply& error, unsigned http_version, bool keep_alive);

// {"type":"error","error":{"type","message"}} — Anthropic's envelope, its error type derived
// from the status (and code) — with content-type and retry-after set.
http::Response RenderAnthropicError(const ErrorReply& error, unsigned http_version, bool keep_alive);

// The error response in the shape of the client's API.
http::Response RenderClientError(const ErrorReply& error, provider::ApiFormat format, unsigned http_version,
                                 bool keep_alive);

// The in-stream error event that ends a committed OpenAI stream: `data: {"error":{...}}`.
std::string OpenAiStreamError(const provider::UpstreamFailure& failure);

// The in-stream error event that ends a committed Anthropic stream:
// `event: error` / `data: {"type":"error","error":{...}}`.
std::string AnthropicStreamError(const provider::UpstreamFailure& failure);

}  // namespace llmesh::codec
