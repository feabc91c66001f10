// The fake provider's Anthropic flavor (wire-formats.md §2): POST /v1/messages (stream and
// not, text or a scripted tool_use block) and GET /v1/models. Requests need `x-api-key` (the
// --api-key value when set; else 401 authentication_error) and `anthropic-version` (else 400),
// and a JSON body with `max_tokens`. Errors are {"type":"error","error":{...},"request_id"};
// responses carry `request-id` and anthropic-ratelimit-* headers (RFC 3339 resets, plus
// `retry-after` on a 429).
//
// Threading: immutable after construction, shared by all workers (see fake_api.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tests/fakes/fake_provider/anthropic_render.h"
#include "tests/fakes/fake_provider/fake_api.h"
#include "tests/fakes/fake_provider/fake_options.h"

namespace llmesh::fakes {

class AnthropicApi final : public FlavorApi {
 public:
  // `options` must outlive the API.
  explicit AnthropicApi(const FakeProviderOptions& options);

  Route Resolve(boost::beast::http::verb method, std::string_view path,
                std::string_view query) const override;
  // The x-api-key header value.
  std::string_view Credential(const http::Request& request) const override;
  ApiError NotFound(const http::Request& request, std::string_view path,
                    std::string& storage) const override;
  std::optional<ApiError> Admit(const http::Request& request) const override;
  ApiError DefaultError(int status) const override;
  // 529 overloaded_error.
  ApiError StreamError() const override;
  void AppendErrorBody(const ApiError& error, const ResponseMeta& meta,
                       std::string& out) const override;
  void SetHeaders(boost::beast::http::fields& fields, const ResponseMeta& meta) const override;
  asio::awaitable<void> Serve(const Route& route, const http::Request& request,
                              Exchange& exchange) const override;

 private:
  asio::awaitable<void> ServeMessages(const http::Request& request, Exchange& exchange) const;

  const FakeProviderOptions& options_;
  const AnthropicRenderer renderer_;
};

}  // namespace llmesh::fakes
