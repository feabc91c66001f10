// The fake provider's Gemini flavor (wire-formats.md §3): POST
// /v1beta/models/{model}:generateContent, :streamGenerateContent (`?alt=sse`: SSE `data:`
// chunks ending with the connection; otherwise one JSON array), :embedContent and
// :batchEmbedContents, and GET /v1beta/models (`/v1/` works too). Requests need a key in
// `x-goog-api-key` or `?key=` (missing: 403 PERMISSION_DENIED; not the --api-key value: 400
// INVALID_ARGUMENT API_KEY_INVALID). Errors are google.rpc.Status bodies.
//
// Threading: immutable after construction, shared by all workers (see fake_api.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tests/fakes/fake_provider/fake_api.h"
#include "tests/fakes/fake_provider/fake_options.h"
#include "tests/fakes/fake_provider/gemini_render.h"

namespace llmesh::fakes {

class GeminiApi final : public FlavorApi {
 public:
  // `options` must outlive the API.
  explicit GeminiApi(const FakeProviderOptions& options);

  Route Resolve(boost::beast::http::verb method, std::string_view path,
                std::string_view query) const override;
  // The x-goog-api-key header value, else the `key` query parameter.
  std::string_view Credential(const http::Request& request) const override;
  ApiError NotFound(const http::Request& request, std::string_view path,
                    std::string& storage) const override;
  std::optional<ApiError> Admit(const http::Request& request) const override;
  ApiError DefaultError(int status) const override;
  // 503 UNAVAILABLE.
  ApiError StreamError() const override;
  void AppendErrorBody(const ApiError& error, const ResponseMeta& meta,
                       std::string& out) const override;
  // Gemini sends no request-id or rate-limit headers.
  void SetHeaders(boost::beast::http::fields& fields, const ResponseMeta& meta) const override;
  asio::awaitable<void> Serve(const Route& route, const http::Request& request,
                              Exchange& exchange) const override;

 private:
  asio::awaitable<void> ServeGenerate(const Route& route, const http::Request& request,
                                      Exchange& exchange) const;
  asio::awaitable<void> ServeEmbed(const Route& route, const http::Request& request,
                                   Exchange& exchange) const;

  const FakeProviderOptions& options_;
  const GeminiRenderer renderer_;
};

}  // namespace llmesh::fakes
