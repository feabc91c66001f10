// The contract between the fake provider's generic request life and one API flavor.
//
// FakeHandler (fake_handler.h) runs the part every flavor shares: control endpoints, counting,
// request ids, planning, the scripted latency / close / hang / error status. Exchange
// (fake_exchange.h) sends bodies and streams with the scripted corruption (reset, error event,
// malformed) and pacing. A FlavorApi supplies what differs: routes, credentials, error
// envelopes, headers and the answers themselves (OpenAiApi, AnthropicApi, GeminiApi).
//
// Threading: a FlavorApi is immutable after construction and shared by all workers; its
// methods are called on worker threads concurrently. An EventSource belongs to one request.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include "common/http/server.h"

namespace llmesh::fakes {

class Exchange;

// Which stats counter an API request bumps.
enum class Endpoint { kUnknown, kChat, kEmbeddings, kModels };

// A flavor's reading of a request line.
struct Route {
  Endpoint endpoint = Endpoint::kUnknown;
  int operation = 0;        // flavor-defined, handed back to Serve
  std::string_view model;   // a model named by the path (Gemini), else empty; views the request
};

// An API error before the flavor puts it in its envelope. Views must outlive the send.
struct ApiError {
  int status = 500;
  std::string_view message;
  std::string_view type;  // OpenAI and Anthropic `error.type`; Gemini `error.status`
  std::string_view code;  // OpenAI `error.code`; Gemini ErrorInfo reason (QuotaFailure quotaId
                          // on a 429); unused by Anthropic. "" → none.
};

// What a flavor's headers and error bodies may depend on.
struct ResponseMeta {
  std::string_view request_id;   // "req_" + 24 hex digits
  int status = 200;
  std::string_view retry_after;  // the scripted `retry-after` header value, "" if none
};

// One streamed answer as a sequence of events rendered by a flavor. Exchange::Stream writes
// each event as its own HTTP chunk, paces the content events and applies the script's reset,
// error event and malformed.
class EventSource {
 public:
  virtual ~EventSource() = default;

  // Events of the complete stream.
  virtual size_t size() const = 0;
  // Content events are [content_begin, content_end): first_chunk_ms delays the first one,
  // chunk_interval_ms each later one.
  virtual size_t content_begin() const = 0;
  virtual size_t content_end() const = 0;
  // Replaces `out` with event `index` (< size()).
  virtual void Render(size_t index, std::string& out) const = 0;
  // Replaces `out` with the in-stream error event that follows the first `sent` events.
  virtual void RenderError(size_t sent, const ApiError& error, std::string& out) const = 0;
  // Replaces `out` with a complete event whose JSON is cut short (the stream then breaks off).
  virtual void RenderMalformed(std::string& out) const = 0;
  // The comment event a scripted keep-alive sends before the first event; "" when the stream
  // has no comments (a JSON array stream).
  virtual std::string_view KeepAlive() const { return ": keep-alive\n\n"; }
};

class FlavorApi {
 public:
  virtual ~FlavorApi() = default;

  // Reads the request line (path without the query, and the query); Endpoint::kUnknown for a
  // route the flavor does not serve.
  virtual Route Resolve(boost::beast::http::verb method, std::string_view path,
                        std::string_view query) const = 0;
  // The credential the request carries (GET /_fake/stats shows it as
  // last_request.authorization); a view into `request`.
  virtual std::string_view Credential(const http::Request& request) const = 0;
  // The error for a route Resolve did not know; may format its message into `storage`.
  virtual ApiError NotFound(const http::Request& request, std::string_view path,
                            std::string& storage) const = 0;
  // The error that refuses `request` before planning (credentials, required headers), if any.
  virtual std::optional<ApiError> Admit(const http::Request& request) const = 0;
  // The error a scripted `status` answers with before the script's error_* overrides (any
  // status, 100..599).
  virtual ApiError DefaultError(int status) const = 0;
  // The error of a scripted in-stream error event (error_after_events) before the overrides.
  virtual ApiError StreamError() const = 0;

  // Appends the flavor's error body for `error`.
  virtual void AppendErrorBody(const ApiError& error, const ResponseMeta& meta,
                               std::string& out) const = 0;
  // Sets the flavor's headers of every API response (request id, rate limits by status).
  virtual void SetHeaders(boost::beast::http::fields& fields, const ResponseMeta& meta) const = 0;

  // Answers a routed, admitted, planned request once the scripted latency, close, hang and
  // error status are past: reads the body, renders the answer and sends it with
  // exchange.SendBody / Stream, or a client error with exchange.SendError. Runs on the
  // request's worker; `request` and `exchange` live until it completes.
  virtual asio::awaitable<void> Serve(const Route& route, const http::Request& request,
                                      Exchange& exchange) const = 0;
};

}  // namespace llmesh::fakes
