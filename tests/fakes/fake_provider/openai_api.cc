#include "tests/fakes/fake_provider/openai_api.h"

#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/absl_view.h"
#include "tests/fakes/fake_provider/fake_exchange.h"
#include "tests/fakes/fake_provider/fake_request.h"

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kInvalidRequest = "invalid_request_error";

// A chat stream: OpenAiRenderer's events over one shape.
class ChatEvents final : public EventSource {
 public:
  ChatEvents(const OpenAiRenderer& renderer, const ChatCompletionShape& shape)
      : renderer_(renderer), shape_(shape), prefix_(renderer.StreamPrefix(shape)) {}

  size_t size() const override { return OpenAiRenderer::StreamEventCount(shape_); }
  size_t content_begin() const override { return OpenAiRenderer::FirstContentEvent(shape_); }
  size_t content_end() const override {
    return content_begin() + OpenAiRenderer::ContentEventCount(shape_);
  }
  void Render(size_t index, std::string& out) const override {
    renderer_.StreamEvent(shape_, prefix_, index, out);
  }
  void RenderError(size_t, const ApiError& error, std::string& out) const override {
    out = "data: ";
    AppendOpenAiErrorBody(error.message, error.type, error.code, out);
    out.append("\n\n");
  }
  void RenderMalformed(std::string& out) const override {
    out.assign(prefix_, 0, prefix_.find(",\"object\""));
    out.append("\n\n");
  }

 private:
  const OpenAiRenderer& renderer_;
  const ChatCompletionShape& shape_;
  const std::string prefix_;
};

// Renders the embeddings body straight from the parsed request; INVALID_ARGUMENT (with the
// message the client sees) for a bad request.
absl::StatusOr<std::string> RenderEmbeddings(const OpenAiRenderer& renderer,
                                             std::string_view body) {
  absl::StatusOr<std::string> result = absl::InvalidArgumentError(
      "The request needs a string \"model\" and a non-empty \"input\".");
  ReadJsonObject(body, [&](const json::object& object) {
    const std::optional<std::string_view> model = StringField(object, "model");
    const json::value* input = object.if_contains("input");
    if (!model || input == nullptr) return;
    EmbeddingEncoding encoding = EmbeddingEncoding::kFloat;
    if (const json::value* format = object.if_contains("encoding_format");
        format != nullptr && !format->is_null()) {
      if (format->is_string() && format->get_string() == "base64") {
        encoding = EmbeddingEncoding::kBase64;
      } else if (!format->is_string() || format->get_string() != "float") {
        result = absl::InvalidArgumentError(
            absl::StrCat("Invalid value for 'encoding_format': ", json::serialize(*format),
                         ". Supported values are: 'float' and 'base64'."));
        return;
      }
    }
    std::vector<std::string> owned;  // texts of token-array items
    std::vector<std::string_view> items;
    auto add_item = [&](const json::value& item) {
      if (item.is_string()) {
        items.emplace_back(item.get_string().data(), item.get_string().size());
      } else {
        owned.push_back(json::serialize(item));
      }
    };
    if (input->is_string()) {
      add_item(*input);
    } else if (input->is_array() && !input->get_array().empty()) {
      const json::array& array = input->get_array();
      if (array.front().is_number()) {
        add_item(*input);  // one tokenized input
      } else {
        for (const json::value& item : array) add_item(item);
      }
    } else {
      return;
    }
    for (const std::string& text : owned) items.emplace_back(text);
    result = renderer.Embeddings(*model, items, encoding, PromptTokens(body.size()));
  });
  return result;
}

}  // namespace

enum OpenAiOperation { kChatCompletions, kEmbeddings, kListModels };

OpenAiApi::OpenAiApi(const FakeProviderOptions& options)
    : options_(options),
      renderer_(options),
      expected_authorization_(options.api_key.empty() ? std::string()
                                                      : "Bearer " + options.api_key) {}

Route OpenAiApi::Resolve(bhttp::verb method, std::string_view path, std::string_view) const {
  if (method == bhttp::verb::post && path == "/v1/chat/completions") {
    return {Endpoint::kChat, kChatCompletions, {}};
  }
  if (method == bhttp::verb::post && path == "/v1/embeddings") {
    return {Endpoint::kEmbeddings, kEmbeddings, {}};
  }
  if (method == bhttp::verb::get && path == "/v1/models") {
    return {Endpoint::kModels, kListModels, {}};
  }
  return {};
}

std::string_view OpenAiApi::Credential(const http::Request& request) const {
  return request[bhttp::field::authorization];
}

ApiError OpenAiApi::NotFound(const http::Request& request, std::string_view path,
                             std::string& storage) const {
  storage = "Invalid URL (";
  storage.append(request.method_string()).append(" ").append(path).append(")");
  return {404, storage, kInvalidRequest, ""};
}

std::optional<ApiError> OpenAiApi::Admit(const http::Request& request) const {
  if (expected_authorization_.empty() ||
      request[bhttp::field::authorization] == expected_authorization_) {
    return std::nullopt;
  }
  return DefaultError(401);
}

ApiError OpenAiApi::DefaultError(int status) const {
  switch (status) {
    case 400:
      return {status, "Bad request.", kInvalidRequest, ""};
    case 401:
      return {status, "Incorrect API key provided.", kInvalidRequest, "invalid_api_key"};
    case 403:
      return {status, "You are not allowed to use this model.", kInvalidRequest, ""};
    case 404:
      return {status, "The model does not exist.", kInvalidRequest, "model_not_found"};
    case 429:
      return {status, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"};
    case 500:
      return {status, "The server had an error while processing your request.", "server_error",
              ""};
    case 503:
      return {status, "The server is overloaded or not ready yet.", "server_error",
              "server_is_overloaded"};
    default:
      return {status, "Fake provider error.", status >= 500 ? "server_error" : kInvalidRequest,
              ""};
  }
}

ApiError OpenAiApi::StreamError() const { return DefaultError(500); }

void OpenAiApi::AppendErrorBody(const ApiError& error, const ResponseMeta&,
                                std::string& out) const {
  AppendOpenAiErrorBody(error.message, error.type, error.code, out);
}

void OpenAiApi::SetHeaders(bhttp::fields& fields, const ResponseMeta& meta) const {
  fields.set("x-request-id", meta.request_id);
  if (meta.status == 200) {
    fields.set("x-ratelimit-limit-requests", "10000");
    fields.set("x-ratelimit-remaining-requests", "9999");
    fields.set("x-ratelimit-reset-requests", "6ms");
  } else if (meta.status == 429) {
    fields.set("x-ratelimit-limit-requests", "10000");
    fields.set("x-ratelimit-remaining-requests", "0");
    fields.set("x-ratelimit-reset-requests",
               meta.retry_after.empty() ? std::string("1s") : absl::StrCat(AbslView(meta.retry_after), "s"));
  }
}

asio::awaitable<void> OpenAiApi::Serve(const Route& route, const http::Request& request,
                                       Exchange& exchange) const {
  switch (route.operation) {
    case kListModels:
      co_await exchange.SendBody(renderer_.models_body());
      co_return;
    case kEmbeddings:
      co_await ServeEmbeddings(request, exchange);
      co_return;
    default:
      co_await ServeChat(request, exchange);
      co_return;
  }
}

asio::awaitable<void> OpenAiApi::ServeEmbeddings(const http::Request& request,
                                                 Exchange& exchange) const {
  absl::StatusOr<std::string> body = RenderEmbeddings(renderer_, request.body());
  if (!body.ok()) {
    co_await exchange.SendError({400, StdView(body.status().message()), kInvalidRequest, ""});
    co_return;
  }
  co_await exchange.SendBody(*std::move(body));
}

asio::awaitable<void> OpenAiApi::ServeChat(const http::Request& request,
                                           Exchange& exchange) const {
  ChatCompletionShape shape;
  std::string model;  // echoed after the parse arena is gone
  bool stream = false;
  const bool parsed = ReadJsonObject(request.body(), [&](const json::object& object) {
    if (std::optional<std::string_view> name = StringField(object, "model")) model = *name;
    stream = BoolField(object, "stream");
    if (const json::value* options = object.if_contains("stream_options");
        options != nullptr && options->is_object()) {
      shape.include_usage = stream && BoolField(options->get_object(), "include_usage");
    }
  });
  if (!parsed) {
    co_await exchange.SendError(
        {400, "We could not parse the JSON body of your request.", kInvalidRequest, ""});
    co_return;
  }
  shape.model = model;

  const FakeScript& script = exchange.script();
  const ChatAnswer answer = MakeChatAnswer(script, exchange.failing(), request.body().size());
  const std::string completion_id = absl::StrCat("chatcmpl-", AbslView(exchange.id_hex()));
  const std::string call_id =
      answer.tool ? absl::StrCat("call_", AbslView(exchange.id_hex())) : std::string();
  shape.id = completion_id;
  shape.created = absl::ToUnixSeconds(options_.now());
  shape.chunks = answer.pieces;
  shape.tokens = answer.tokens;
  shape.tool = answer.tool ? &*answer.tool : nullptr;
  shape.call_id = call_id;
  shape.blocked = answer.blocked;
  shape.empty_choices_chunk = stream && script.empty_choices_chunk;
  if (stream) {
    const ChatEvents events(renderer_, shape);
    co_await exchange.Stream("text/event-stream", events);
    co_return;
  }
  co_await exchange.SendBody(renderer_.ChatCompletion(shape));
}

}  // namespace llmesh::fakes
