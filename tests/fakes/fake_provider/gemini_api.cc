#include "tests/fakes/fake_provider/gemini_api.h"

#include <vector>

#include "tests/fakes/fake_provider/fake_exchange.h"
#include "tests/fakes/fake_provider/fake_request.h"

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kInvalidArgument = "INVALID_ARGUMENT";
constexpr std::string_view kDefaultQuotaId = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier";

enum GeminiOperation { kGenerate, kStreamSse, kStreamArray, kEmbedOne, kEmbedBatch, kListModels };

// The value of query parameter `name`, or nullopt.
std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t end = query.find('&');
    const std::string_view pair = query.substr(0, end);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (end == std::string_view::npos) break;
    query.remove_prefix(end + 1);
  }
  return std::nullopt;
}

std::string_view QueryOf(const http::Request& request) {
  const std::string_view target = request.target();
  const size_t question = target.find('?');
  return question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
}

class GenerateEvents final : public EventSource {
 public:
  GenerateEvents(const GeminiApi& api, const GeminiRenderer& renderer, const GenerateShape& shape)
      : api_(api), renderer_(renderer), shape_(shape) {}

  size_t size() const override { return GeminiRenderer::StreamEventCount(shape_); }
  size_t content_begin() const override { return 0; }
  size_t content_end() const override { return size(); }
  void Render(size_t index, std::string& out) const override {
    renderer_.StreamEvent(shape_, index, out);
  }
  void RenderError(size_t sent, const ApiError& error, std::string& out) const override {
    std::string body;
    api_.AppendErrorBody(error, ResponseMeta{}, body);
    GeminiRenderer::ErrorEvent(shape_, sent, body, out);
  }
  void RenderMalformed(std::string& out) const override {
    GeminiRenderer::MalformedEvent(shape_, out);
  }
  std::string_view KeepAlive() const override {
    return shape_.sse ? EventSource::KeepAlive() : std::string_view();
  }

 private:
  const GeminiApi& api_;
  const GeminiRenderer& renderer_;
  const GenerateShape& shape_;
};

// The concatenated text parts of a Content object.
std::optional<std::string> ContentText(const json::value* content) {
  if (content == nullptr || !content->is_object()) return std::nullopt;
  const json::value* parts = content->get_object().if_contains("parts");
  if (parts == nullptr || !parts->is_array()) return std::nullopt;
  std::string text;
  for (const json::value& part : parts->get_array()) {
    if (!part.is_object()) continue;
    if (std::optional<std::string_view> piece = StringField(part.get_object(), "text")) {
      text.append(*piece);
    }
  }
  return text;
}

}  // namespace

GeminiApi::GeminiApi(const FakeProviderOptions& options) : options_(options), renderer_(options) {}

Route GeminiApi::Resolve(bhttp::verb method, std::string_view path, std::string_view query) const {
  std::string_view rest;
  if (path.starts_with("/v1beta/models")) {
    rest = path.substr(14);
  } else if (path.starts_with("/v1/models")) {
    rest = path.substr(10);
  } else {
    return {};
  }
  if (rest.empty()) {
    return method == bhttp::verb::get ? Route{Endpoint::kModels, kListModels, {}} : Route{};
  }
  const size_t colon = rest.rfind(':');
  if (method != bhttp::verb::post || rest[0] != '/' || colon == std::string_view::npos ||
      colon < 2) {
    return {};
  }
  const std::string_view model = rest.substr(1, colon - 1);
  const std::string_view verb = rest.substr(colon + 1);
  if (verb == "generateContent") return {Endpoint::kChat, kGenerate, model};
  if (verb == "streamGenerateContent") {
    const bool sse = QueryParam(query, "alt") == std::optional<std::string_view>("sse");
    return {Endpoint::kChat, sse ? kStreamSse : kStreamArray, model};
  }
  if (verb == "embedContent") return {Endpoint::kEmbeddings, kEmbedOne, model};
  if (verb == "batchEmbedContents") return {Endpoint::kEmbeddings, kEmbedBatch, model};
  return {};
}

std::string_view GeminiApi::Credential(const http::Request& request) const {
  const std::string_view header = request["x-goog-api-key"];
  if (!header.empty()) return header;
  return QueryParam(QueryOf(request), "key").value_or(std::string_view());
}

ApiError GeminiApi::NotFound(const http::Request& request, std::string_view path,
                             std::string& storage) const {
  storage = "Invalid URL (";
  storage.append(request.method_string()).append(" ").append(path).append(")");
  return {404, storage, "NOT_FOUND", ""};
}

std::optional<ApiError> GeminiApi::Admit(const http::Request& request) const {
  const std::string_view key = Credential(request);
  if (key.empty()) {
    return ApiError{403,
                    "Method doesn't allow unregistered callers (callers without established "
                    "identity). Please use API Key or other form of API consumer identity to "
                    "call this API.",
                    "PERMISSION_DENIED", ""};
  }
  if (!options_.api_key.empty() && key != options_.api_key) {
    return ApiError{400, "API key not valid. Please pass a valid API key.", kInvalidArgument,
                    "API_KEY_INVALID"};
  }
  return std::nullopt;
}

ApiError GeminiApi::DefaultError(int status) const {
  switch (status) {
    case 400:
      return {status, "Request contains an invalid argument.", kInvalidArgument, ""};
    case 401:
      return {status, "Request had invalid authentication credentials.", "UNAUTHENTICATED", ""};
    case 403:
      return {status, "The caller does not have permission", "PERMISSION_DENIED", ""};
    case 404:
      return {status, "Requested entity was not found.", "NOT_FOUND", ""};
    case 429:
      return {status, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED",
              kDefaultQuotaId};
    case 500:
      return {status, "An internal error has occurred. Please retry or report in "
              "https://developers.generativeai.google/guide/troubleshooting", "INTERNAL", ""};
    case 503:
      return {status, "The model is overloaded. Please try again later.", "UNAVAILABLE", ""};
    case 504:
      return {status, "Deadline expired before operation could complete.", "DEADLINE_EXCEEDED",
              ""};
    default:
      return {status, "Fake provider error.", status >= 500 ? "INTERNAL" : kInvalidArgument, ""};
  }
}

ApiError GeminiApi::StreamError() const { return DefaultError(503); }

void GeminiApi::AppendErrorBody(const ApiError& error, const ResponseMeta& meta,
                                std::string& out) const {
  std::string_view reason = error.code;
  if (error.status == 429 && reason.empty()) reason = kDefaultQuotaId;
  AppendGeminiErrorBody(error.status, error.message, error.type, reason, meta.retry_after, out);
}

void GeminiApi::SetHeaders(bhttp::fields&, const ResponseMeta&) const {}

asio::awaitable<void> GeminiApi::Serve(const Route& route, const http::Request& request,
                                       Exchange& exchange) const {
  switch (route.operation) {
    case kListModels:
      co_await exchange.SendBody(renderer_.models_body());
      co_return;
    case kEmbedOne:
    case kEmbedBatch:
      co_await ServeEmbed(route, request, exchange);
      co_return;
    default:
      co_await ServeGenerate(route, request, exchange);
      co_return;
  }
}

asio::awaitable<void> GeminiApi::ServeGenerate(const Route& route, const http::Request& request,
                                               Exchange& exchange) const {
  bool has_contents = false;
  const bool parsed = ReadJsonObject(request.body(), [&](const json::object& object) {
    const json::value* contents = object.if_contains("contents");
    has_contents = contents != nullptr && contents->is_array() && !contents->get_array().empty();
  });
  if (!parsed) {
    co_await exchange.SendError({400, "Invalid JSON payload received.", kInvalidArgument, ""});
    co_return;
  }
  if (!has_contents) {
    co_await exchange.SendError(
        {400, "* GenerateContentRequest.contents: contents is not specified", kInvalidArgument,
         ""});
    co_return;
  }
  const ChatAnswer answer =
      MakeChatAnswer(exchange.script(), exchange.failing(), request.body().size());
  GenerateShape shape;
  shape.response_id = exchange.id_hex();
  shape.model = route.model;
  shape.pieces = answer.pieces;
  shape.tokens = answer.tokens;
  shape.tool = answer.tool ? &*answer.tool : nullptr;
  shape.blocked = answer.blocked;
  if (route.operation == kGenerate) {
    co_await exchange.SendBody(renderer_.Response(shape));
    co_return;
  }
  shape.sse = route.operation == kStreamSse;
  const GenerateEvents events(*this, renderer_, shape);
  co_await exchange.Stream(shape.sse ? "text/event-stream" : "application/json", events);
}

asio::awaitable<void> GeminiApi::ServeEmbed(const Route& route, const http::Request& request,
                                            Exchange& exchange) const {
  const bool single = route.operation == kEmbedOne;
  std::vector<std::string> texts;
  bool valid = false;
  ReadJsonObject(request.body(), [&](const json::object& object) {
    if (single) {
      std::optional<std::string> text = ContentText(object.if_contains("content"));
      if (text) texts.push_back(*std::move(text));
      valid = text.has_value();
      return;
    }
    const json::value* requests = object.if_contains("requests");
    if (requests == nullptr || !requests->is_array() || requests->get_array().empty()) return;
    for (const json::value& item : requests->get_array()) {
      std::optional<std::string> text =
          item.is_object() ? ContentText(item.get_object().if_contains("content")) : std::nullopt;
      if (!text) return;
      texts.push_back(*std::move(text));
    }
    valid = true;
  });
  if (!valid) {
    co_await exchange.SendError(
        {400,
         single ? "* EmbedContentRequest.content: content is not specified"
                : "* BatchEmbedContentsRequest.requests: requests is not specified",
         kInvalidArgument, ""});
    co_return;
  }
  co_await exchange.SendBody(GeminiRenderer::Embeddings(texts, single));
}

}  // namespace llmesh::fakes
