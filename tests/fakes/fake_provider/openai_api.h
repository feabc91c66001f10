// The fake provider's OpenAI flavor (wire-formats.md §1): POST /v1/chat/completions (stream
// and not, text or a scripted tool call), POST /v1/embeddings, GET /v1/models, with
// `Authorization: Bearer` credentials, OpenAI error bodies and x-ratelimit-* headers.
//
// Threading: immutable after construction, shared by all workers (see fake_api.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tests/fakes/fake_provider/fake_api.h"
#include "tests/fakes/fake_provider/fake_options.h"
#include "tests/fakes/fake_provider/openai_render.h"

namespace llmesh::fakes {

class OpenAiApi final : public FlavorApi {
 public:
  // `options` must outlive the API.
  explicit OpenAiApi(const FakeProviderOptions& options);

  Route Resolve(boost::beast::http::verb method, std::string_view path,
                std::string_view query) const override;
  // The Authorization header value.
  std::string_view Credential(const http::Request& request) const override;
  ApiError NotFound(const http::Request& request, std::string_view path,
                    std::string& storage) const override;
  // With --api-key: 401 invalid_api_key unless `Authorization: Bearer <key>`.
  std::optional<ApiError> Admit(const http::Request& request) const override;
  ApiError DefaultError(int status) const override;
  ApiError StreamError() const override;
  void AppendErrorBody(const ApiError& error, const ResponseMeta& meta,
                       std::string& out) const override;
  // x-request-id; x-ratelimit-*-requests on 200 and 429.
  void SetHeaders(boost::beast::http::fields& fields, const ResponseMeta& meta) const override;
  asio::awaitable<void> Serve(const Route& route, const http::Request& request,
                              Exchange& exchange) const override;

 private:
  asio::awaitable<void> ServeChat(const http::Request& request, Exchange& exchange) const;
  asio::awaitable<void> ServeEmbeddings(const http::Request& request, Exchange& exchange) const;

  const FakeProviderOptions& options_;
  const OpenAiRenderer renderer_;
  const std::string expected_authorization_;  // "Bearer <key>", or empty: anything goes
};

}  // namespace llmesh::fakes
