#include "tests/fakes/fake_provider/anthropic_api.h"

#include <array>
#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/absl_view.h"
#include "tests/fakes/fake_provider/fake_exchange.h"
#include "tests/fakes/fake_provider/fake_request.h"

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kInvalidRequest = "invalid_request_error";

enum AnthropicOperation { kMessages, kListModels };

class MessageEvents final : public EventSource {
 public:
  MessageEvents(const AnthropicRenderer& renderer, const MessageShape& shape)
      : renderer_(renderer), shape_(shape) {}

  size_t size() const override { return AnthropicRenderer::StreamEventCount(shape_); }
  size_t content_begin() const override { return AnthropicRenderer::kFirstContentEvent; }
  size_t content_end() const override {
    return AnthropicRenderer::kFirstContentEvent + AnthropicRenderer::ContentEventCount(shape_);
  }
  void Render(size_t index, std::string& out) const override {
    renderer_.StreamEvent(shape_, index, out);
  }
  void RenderError(size_t, const ApiError& error, std::string& out) const override {
    AnthropicRenderer::ErrorEvent(error.type, error.message, out);
  }
  void RenderMalformed(std::string& out) const override {
    AnthropicRenderer::MalformedEvent(shape_, out);
  }

 private:
  const AnthropicRenderer& renderer_;
  const MessageShape& shape_;
};

}  // namespace

AnthropicApi::AnthropicApi(const FakeProviderOptions& options)
    : options_(options), renderer_(options) {}

Route AnthropicApi::Resolve(bhttp::verb method, std::string_view path, std::string_view) const {
  if (method == bhttp::verb::post && path == "/v1/messages") {
    return {Endpoint::kChat, kMessages, {}};
  }
  if (method == bhttp::verb::get && path == "/v1/models") {
    return {Endpoint::kModels, kListModels, {}};
  }
  return {};
}

std::string_view AnthropicApi::Credential(const http::Request& request) const {
  return request["x-api-key"];
}

ApiError AnthropicApi::NotFound(const http::Request&, std::string_view, std::string&) const {
  return {404, "Not found", "not_found_error", ""};
}

std::optional<ApiError> AnthropicApi::Admit(const http::Request& request) const {
  const std::string_view key = request["x-api-key"];
  if (key.empty()) return ApiError{401, "x-api-key header is required", "authentication_error", ""};
  if (!options_.api_key.empty() && key != options_.api_key) {
    return ApiError{401, "invalid x-api-key", "authentication_error", ""};
  }
  if (request["anthropic-version"].empty()) {
    return ApiError{400, "anthropic-version: header is required", kInvalidRequest, ""};
  }
  return std::nullopt;
}

ApiError AnthropicApi::DefaultError(int status) const {
  switch (status) {
    case 400:
      return {status, "Bad request", kInvalidRequest, ""};
    case 401:
      return {status, "invalid x-api-key", "authentication_error", ""};
    case 402:
      return {status, "Your credit balance is too low", "billing_error", ""};
    case 403:
      return {status, "Your API key does not have permission to use the specified resource.",
              "permission_error", ""};
    case 404:
      return {status, "Not found", "not_found_error", ""};
    case 413:
      return {status, "Request exceeds the maximum allowed number of bytes.",
              "request_too_large", ""};
    case 429:
      return {status, "Number of requests has exceeded your rate limit.", "rate_limit_error", ""};
    case 500:
      return {status, "Internal server error", "api_error", ""};
    case 504:
      return {status, "Request timed out", "timeout_error", ""};
    case 529:
      return {status, "Overloaded", "overloaded_error", ""};
    default:
      return {status, "Fake provider error", status >= 500 ? "api_error" : kInvalidRequest, ""};
  }
}

ApiError AnthropicApi::StreamError() const { return DefaultError(529); }

void AnthropicApi::AppendErrorBody(const ApiError& error, const ResponseMeta& meta,
                                   std::string& out) const {
  AppendAnthropicErrorBody(error.type, error.message, meta.request_id, out);
}

void AnthropicApi::SetHeaders(bhttp::fields& fields, const ResponseMeta& meta) const {
  fields.set("request-id", meta.request_id);
  if (meta.status != 200 && meta.status != 429) return;
  const bool limited = meta.status == 429;
  int64_t wait_seconds = 1;
  if (limited && !meta.retry_after.empty()) {
    (void)absl::SimpleAtoi(AbslView(meta.retry_after), &wait_seconds);
  }
  std::array<char, 24> reset_bytes;
  const std::string_view reset =
      FormatRfc3339(absl::ToUnixSeconds(options_.now()) + wait_seconds, reset_bytes);
  fields.set("anthropic-ratelimit-requests-limit", "1000");
  fields.set("anthropic-ratelimit-requests-remaining", limited ? "0" : "999");
  fields.set("anthropic-ratelimit-requests-reset", reset);
  fields.set("anthropic-ratelimit-input-tokens-limit", "80000");
  fields.set("anthropic-ratelimit-input-tokens-remaining", limited ? "0" : "79000");
  fields.set("anthropic-ratelimit-input-tokens-reset", reset);
  fields.set("anthropic-ratelimit-output-tokens-limit", "16000");
  fields.set("anthropic-ratelimit-output-tokens-remaining", limited ? "0" : "15000");
  fields.set("anthropic-ratelimit-output-tokens-reset", reset);
  fields.set("anthropic-ratelimit-tokens-limit", "96000");
  fields.set("anthropic-ratelimit-tokens-remaining", limited ? "0" : "94000");
  fields.set("anthropic-ratelimit-tokens-reset", reset);
  // The script's own retry-after, when it has one, replaces this default.
  if (limited) fields.set(bhttp::field::retry_after, "1");
}

asio::awaitable<void> AnthropicApi::Serve(const Route& route, const http::Request& request,
                                          Exchange& exchange) const {
  if (route.operation == kListModels) {
    co_await exchange.SendBody(renderer_.models_body());
    co_return;
  }
  co_await ServeMessages(request, exchange);
}

asio::awaitable<void> AnthropicApi::ServeMessages(const http::Request& request,
                                                  Exchange& exchange) const {
  std::string model;  // echoed after the parse arena is gone
  bool stream = false;
  bool has_max_tokens = false;
  const bool parsed = ReadJsonObject(request.body(), [&](const json::object& object) {
    if (std::optional<std::string_view> name = StringField(object, "model")) model = *name;
    stream = BoolField(object, "stream");
    const std::optional<int64_t> max_tokens = IntField(object, "max_tokens");
    has_max_tokens = max_tokens && *max_tokens >= 1;
  });
  if (!parsed) {
    co_await exchange.SendError(
        {400, "There was an error parsing the body of your request", kInvalidRequest, ""});
    co_return;
  }
  if (!has_max_tokens) {
    co_await exchange.SendError({400, "max_tokens: Field required", kInvalidRequest, ""});
    co_return;
  }
  const ChatAnswer answer =
      MakeChatAnswer(exchange.script(), exchange.failing(), request.body().size());
  MessageShape shape;
  shape.id_hex = exchange.id_hex();
  shape.model = model;
  shape.pieces = answer.pieces;
  shape.tokens = answer.tokens;
  shape.tool = answer.tool ? &*answer.tool : nullptr;
  shape.blocked = answer.blocked;
  if (stream) {
    const MessageEvents events(renderer_, shape);
    co_await exchange.Stream("text/event-stream", events);
    co_return;
  }
  co_await exchange.SendBody(renderer_.Message(shape));
}

}  // namespace llmesh::fakes
