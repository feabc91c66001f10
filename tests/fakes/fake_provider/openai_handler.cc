#include "tests/fakes/fake_provider/openai_handler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kJson = "application/json";

// Waits `ms` without blocking the worker; false if the wait was cancelled (server stop).
asio::awaitable<bool> Delay(int64_t ms) {
  if (ms <= 0) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

// Documented approximation: one prompt token per 4 request body bytes, at least 1.
int64_t PromptTokens(const http::Request& request) {
  return std::max<int64_t>(1, static_cast<int64_t>(request.body().size() / 4));
}

struct ChatRequest {
  std::string model;
  bool stream = false;
  bool include_usage = false;
};

// Parsing uses a stack arena: small request documents cost no heap allocation.
std::optional<ChatRequest> ParseChatRequest(std::string_view body) {
  unsigned char arena[8192];
  json::monotonic_resource resource(arena, sizeof(arena));
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(body.data(), body.size()), ec, &resource);
  if (ec || !root.is_object()) return std::nullopt;
  const json::object& object = root.get_object();
  ChatRequest chat;
  if (const json::value* model = object.if_contains("model"); model && model->is_string()) {
    chat.model = std::string(model->get_string());
  }
  if (const json::value* stream = object.if_contains("stream"); stream && stream->is_bool()) {
    chat.stream = stream->get_bool();
  }
  if (const json::value* options = object.if_contains("stream_options");
      options && options->is_object()) {
    const json::value* usage = options->get_object().if_contains("include_usage");
    chat.include_usage = usage && usage->is_bool() && usage->get_bool();
  }
  return chat;
}

// Renders the embeddings body straight from the parsed request; INVALID_ARGUMENT (with the
// message the client sees) for a bad request.
absl::StatusOr<std::string> RenderEmbeddings(const OpenAiRenderer& renderer,
                                             std::string_view body, int64_t prompt_tokens) {
  unsigned char arena[8192];
  json::monotonic_resource resource(arena, sizeof(arena));
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(body.data(), body.size()), ec, &resource);
  const json::object* object = ec ? nullptr : root.if_object();
  const json::value* model = object ? object->if_contains("model") : nullptr;
  const json::value* input = object ? object->if_contains("input") : nullptr;
  if (!model || !model->is_string() || !input) {
    return absl::InvalidArgumentError(
        "The request needs a string \"model\" and a non-empty \"input\".");
  }
  EmbeddingEncoding encoding = EmbeddingEncoding::kFloat;
  if (const json::value* format = object->if_contains("encoding_format");
      format && !format->is_null()) {
    if (format->is_string() && format->get_string() == "base64") {
      encoding = EmbeddingEncoding::kBase64;
    } else if (!format->is_string() || format->get_string() != "float") {
      return absl::InvalidArgumentError(absl::StrCat(
          "Invalid value for 'encoding_format': ", json::serialize(*format),
          ". Supported values are: 'float' and 'base64'."));
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
    return absl::InvalidArgumentError(
        "The request needs a string \"model\" and a non-empty \"input\".");
  }
  for (const std::string& text : owned) items.emplace_back(text);
  return renderer.Embeddings(
      std::string_view(model->get_string().data(), model->get_string().size()), items, encoding,
      prompt_tokens);
}

struct ErrorDefaults {
  std::string_view message;
  std::string_view type;
  std::string_view code;
};

ErrorDefaults DefaultsForStatus(int status) {
  switch (status) {
    case 400:
      return {"Bad request.", "invalid_request_error", ""};
    case 401:
      return {"Incorrect API key provided.", "invalid_request_error", "invalid_api_key"};
    case 403:
      return {"You are not allowed to use this model.", "invalid_request_error", ""};
    case 404:
      return {"The model does not exist.", "invalid_request_error", "model_not_found"};
    case 429:
      return {"Rate limit reached for requests.", "requests", "rate_limit_exceeded"};
    case 500:
      return {"The server had an error while processing your request.", "server_error", ""};
    case 503:
      return {"The server is overloaded or not ready yet.", "server_error", "server_is_overloaded"};
    default:
      return {"Fake provider error.", status >= 500 ? "server_error" : "invalid_request_error", ""};
  }
}

std::string_view Or(std::string_view value, std::string_view fallback) {
  return value.empty() ? fallback : value;
}

http::Response JsonResponse(bhttp::status status, std::string body) {
  http::Response response(status, 11);
  response.set(bhttp::field::content_type, kJson);
  response.body() = std::move(body);
  return response;
}

}  // namespace

OpenAiHandler::OpenAiHandler(FakeState& state, const OpenAiRenderer& renderer, size_t worker)
    : state_(state),
      renderer_(renderer),
      worker_(worker),
      expected_authorization_(state.options.api_key.empty() ? std::string()
                                                            : "Bearer " + state.options.api_key) {}

std::string OpenAiHandler::NextRequestId() {
  char id[40];
  const int length = std::snprintf(id, sizeof(id), "%04zx%020llx", worker_,
                                   static_cast<unsigned long long>(++sequence_));
  return std::string(id, static_cast<size_t>(length));
}

asio::awaitable<void> OpenAiHandler::Handle(http::Request& request, http::ResponseWriter& writer) {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path.starts_with("/_fake/")) {
    co_await HandleControl(path, request, writer);
    co_return;
  }

  FakeStats& stats = state_.stats;
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  stats.in_flight.fetch_add(1, std::memory_order_relaxed);
  struct InFlight {
    FakeStats& stats;
    ~InFlight() { stats.in_flight.fetch_sub(1, std::memory_order_relaxed); }
  } in_flight{stats};
  state_.last_request.Record(worker_, path, request[bhttp::field::authorization], request.body());

  const std::string request_id = "req_" + NextRequestId();
  Endpoint endpoint = Endpoint::kUnknown;
  if (request.method() == bhttp::verb::post && path == "/v1/chat/completions") {
    endpoint = Endpoint::kChat;
    stats.chat.fetch_add(1, std::memory_order_relaxed);
  } else if (request.method() == bhttp::verb::post && path == "/v1/embeddings") {
    endpoint = Endpoint::kEmbeddings;
    stats.embeddings.fetch_add(1, std::memory_order_relaxed);
  } else if (request.method() == bhttp::verb::get && path == "/v1/models") {
    endpoint = Endpoint::kModels;
    stats.models.fetch_add(1, std::memory_order_relaxed);
  }
  if (endpoint == Endpoint::kUnknown) {
    std::string message = "Invalid URL (";
    message.append(request.method_string()).append(" ").append(path).append(")");
    co_await SendError(writer, nullptr, request_id, 404, message, "invalid_request_error", "");
    co_return;
  }
  if (!expected_authorization_.empty() &&
      request[bhttp::field::authorization] != expected_authorization_) {
    co_await SendError(writer, nullptr, request_id, 401, "Incorrect API key provided.",
                       "invalid_request_error", "invalid_api_key");
    co_return;
  }
  absl::StatusOr<Plan> plan = MakePlan(request);
  if (!plan.ok()) {
    const absl::string_view message = plan.status().message();
    co_await SendError(writer, nullptr, request_id, 400,
                       std::string_view(message.data(), message.size()), "invalid_request_error",
                       "");
    co_return;
  }
  co_await Serve(endpoint, request, writer, *plan, request_id);
}

absl::StatusOr<OpenAiHandler::Plan> OpenAiHandler::MakePlan(const http::Request& request) {
  const uint64_t version = state_.script.version();
  if (version != script_version_) {
    script_ = state_.script.Load();
    script_version_ = version;
  }
  Plan plan;
  bool scripted = false;
  if (script_ && state_.script.TakeUse(*script_)) {
    plan.script = *script_;
    scripted = true;
  }
  for (const auto& field : request) {
    LLMESH_ASSIGN_OR_RETURN(bool applied,
                            ApplyFakeHeader(field.name_string(), field.value(), plan.script));
    scripted = scripted || applied;
  }
  const double p = plan.script.fail_probability;
  plan.fail = scripted && (p <= 0.0 || p >= 1.0 || absl::Bernoulli(random_, p));
  if (plan.fail && plan.script.HasFailure()) {
    state_.stats.scripted_failures.fetch_add(1, std::memory_order_relaxed);
  }
  return plan;
}

asio::awaitable<void> OpenAiHandler::Serve(Endpoint endpoint, const http::Request& request,
                                           http::ResponseWriter& writer, const Plan& plan,
                                           std::string_view request_id) {
  const FakeScript& script = plan.script;
  if (!co_await Delay(script.latency_ms)) co_return;
  if (plan.fail && script.close_before_response) {
    writer.ResetConnection();
    co_return;
  }
  if (plan.fail && script.hang) {
    co_await writer.WaitUntilClientGone();
    co_return;
  }
  if (plan.fail && script.status != 200) {
    if (script.has_body) {
      http::Response response(static_cast<bhttp::status>(script.status), 11);
      response.set(bhttp::field::content_type, Or(script.content_type, kJson));
      AddHeaders(response.base(), request_id, script.status, &plan);
      response.body() = script.body;
      (void)co_await writer.Send(std::move(response));
      co_return;
    }
    const ErrorDefaults defaults = DefaultsForStatus(script.status);
    co_await SendError(writer, &plan, request_id, script.status,
                       Or(script.error_message, defaults.message),
                       Or(script.error_type, defaults.type), Or(script.error_code, defaults.code));
    co_return;
  }

  const int64_t prompt_tokens = PromptTokens(request);
  if (endpoint == Endpoint::kModels) {
    co_await SendBody(writer, plan, request_id, renderer_.models_body());
    co_return;
  }
  if (endpoint == Endpoint::kEmbeddings) {
    absl::StatusOr<std::string> body = RenderEmbeddings(renderer_, request.body(), prompt_tokens);
    if (!body.ok()) {
      const absl::string_view message = body.status().message();
      co_await SendError(writer, nullptr, request_id, 400,
                         std::string_view(message.data(), message.size()),
                         "invalid_request_error", "");
      co_return;
    }
    co_await SendBody(writer, plan, request_id, *std::move(body));
    co_return;
  }

  std::optional<ChatRequest> chat = ParseChatRequest(request.body());
  if (!chat) {
    co_await SendError(writer, nullptr, request_id, 400,
                       "We could not parse the JSON body of your request.", "invalid_request_error",
                       "");
    co_return;
  }
  const std::string completion_id = "chatcmpl-" + std::string(request_id.substr(4));
  ChatCompletionShape shape;
  shape.id = completion_id;
  shape.created = static_cast<int64_t>(std::time(nullptr));
  shape.model = chat->model;
  shape.chunks = script.chunks;
  shape.prompt_tokens = prompt_tokens;
  shape.include_usage = chat->stream && chat->include_usage;
  if (chat->stream) {
    bhttp::response_header<> head;
    head.result(bhttp::status::ok);
    head.set(bhttp::field::content_type, "text/event-stream");
    head.set(bhttp::field::cache_control, "no-cache");
    AddHeaders(head, request_id, 200, &plan);
    if (!(co_await writer.StartStream(std::move(head))).ok()) co_return;
    co_await ServeChatStream(writer, plan, shape);
    co_return;
  }
  co_await SendBody(writer, plan, request_id, renderer_.ChatCompletion(shape));
}

asio::awaitable<void> OpenAiHandler::ServeChatStream(http::ResponseWriter& writer, const Plan& plan,
                                                     const ChatCompletionShape& shape) {
  const FakeScript& script = plan.script;
  const std::string prefix = renderer_.StreamPrefix(shape);
  if (plan.fail && script.malformed) {
    // A complete SSE event whose JSON is cut short, then an abrupt end (no last chunk).
    (void)co_await writer.Write(prefix.substr(0, prefix.find(",\"object\"")) + "\n\n");
    co_return;
  }
  const size_t total = renderer_.StreamEventCount(shape);
  const bool reset = plan.fail && script.reset_after_events >= 0;
  const bool error = !reset && plan.fail && script.error_after_events >= 0;
  size_t limit = total;
  if (reset) limit = std::min<size_t>(total, static_cast<size_t>(script.reset_after_events));
  if (error) limit = std::min<size_t>(total - 1, static_cast<size_t>(script.error_after_events));

  const auto chunks = static_cast<size_t>(shape.chunks);
  std::string event;
  for (size_t i = 0; i < limit; ++i) {
    if (i == OpenAiRenderer::kFirstContentEvent && i <= chunks) {
      if (!co_await Delay(script.first_chunk_ms)) co_return;
    } else if (i > OpenAiRenderer::kFirstContentEvent && i <= chunks) {
      if (!co_await Delay(script.chunk_interval_ms)) co_return;
    }
    renderer_.StreamEvent(shape, prefix, i, event);
    if (!(co_await writer.Write(event)).ok()) co_return;
  }
  if (reset) {
    writer.ResetConnection();
    co_return;
  }
  if (error) {
    const ErrorDefaults defaults = DefaultsForStatus(500);
    event = "data: ";
    event.append(OpenAiErrorBody(Or(script.error_message, defaults.message),
                                 Or(script.error_type, defaults.type),
                                 Or(script.error_code, defaults.code)));
    event.append("\n\n");
    if (!(co_await writer.Write(event)).ok()) co_return;
  }
  (void)co_await writer.Finish();
}

asio::awaitable<void> OpenAiHandler::SendBody(http::ResponseWriter& writer, const Plan& plan,
                                              std::string_view request_id, std::string body) {
  const FakeScript& script = plan.script;
  if (plan.fail && script.reset_after_events >= 0) {
    // Non-streaming bodies break halfway through instead of after N events.
    bhttp::response_header<> head;
    head.result(bhttp::status::ok);
    head.set(bhttp::field::content_type, kJson);
    AddHeaders(head, request_id, 200, &plan);
    if (!(co_await writer.StartStream(std::move(head))).ok()) co_return;
    (void)co_await writer.Write(std::string_view(body).substr(0, body.size() / 2));
    writer.ResetConnection();
    co_return;
  }
  if (plan.fail && script.error_after_events >= 0) {
    const ErrorDefaults defaults = DefaultsForStatus(500);
    body =
        OpenAiErrorBody(Or(script.error_message, defaults.message),
                        Or(script.error_type, defaults.type), Or(script.error_code, defaults.code));
  } else if (plan.fail && script.malformed) {
    body.resize(body.size() / 2);
  }
  http::Response response = JsonResponse(bhttp::status::ok, std::move(body));
  AddHeaders(response.base(), request_id, 200, &plan);
  (void)co_await writer.Send(std::move(response));
}

asio::awaitable<void> OpenAiHandler::SendError(http::ResponseWriter& writer, const Plan* plan,
                                               std::string_view request_id, int status,
                                               std::string_view message, std::string_view type,
                                               std::string_view code) {
  http::Response response =
      JsonResponse(static_cast<bhttp::status>(status), OpenAiErrorBody(message, type, code));
  AddHeaders(response.base(), request_id, status, plan);
  (void)co_await writer.Send(std::move(response));
}

void OpenAiHandler::AddHeaders(bhttp::fields& fields, std::string_view request_id, int status,
                               const Plan* plan) const {
  fields.set("x-request-id", request_id);
  if (status == 200) {
    fields.set("x-ratelimit-limit-requests", "10000");
    fields.set("x-ratelimit-remaining-requests", "9999");
    fields.set("x-ratelimit-reset-requests", "6ms");
  } else if (status == 429) {
    std::string reset = "1s";
    if (plan) {
      for (const auto& [name, value] : plan->script.headers) {
        if (boost::beast::iequals(name, "retry-after")) reset = value + "s";
      }
    }
    fields.set("x-ratelimit-limit-requests", "10000");
    fields.set("x-ratelimit-remaining-requests", "0");
    fields.set("x-ratelimit-reset-requests", reset);
  }
  if (plan && plan->fail) {
    for (const auto& [name, value] : plan->script.headers) fields.set(name, value);
  }
}

http::Response OpenAiHandler::Reject(bhttp::status status, std::string_view reason) {
  const int code = static_cast<int>(status);
  http::Response response = JsonResponse(
      status, OpenAiErrorBody(reason, code >= 500 ? "server_error" : "invalid_request_error", ""));
  response.set("x-request-id", "req_" + NextRequestId());
  return response;
}

asio::awaitable<void> OpenAiHandler::HandleControl(std::string_view path, http::Request& request,
                                                   http::ResponseWriter& writer) {
  if (path == "/_fake/script" && request.method() == bhttp::verb::post) {
    absl::StatusOr<FakeScript> script = ParseFakeScript(request.body());
    if (!script.ok()) {
      const absl::string_view message = script.status().message();
      (void)co_await writer.Send(
          JsonResponse(bhttp::status::bad_request,
                       OpenAiErrorBody(std::string_view(message.data(), message.size()),
                                       "invalid_request_error", "")));
      co_return;
    }
    state_.script.Replace(*std::move(script));
    (void)co_await writer.Send(JsonResponse(bhttp::status::ok, "{\"ok\":true}"));
    co_return;
  }
  if (path == "/_fake/reset" && request.method() == bhttp::verb::post) {
    state_.Reset();
    (void)co_await writer.Send(JsonResponse(bhttp::status::ok, "{\"ok\":true}"));
    co_return;
  }
  if (path == "/_fake/stats" && request.method() == bhttp::verb::get) {
    (void)co_await writer.Send(JsonResponse(bhttp::status::ok, state_.StatsJson()));
    co_return;
  }
  (void)co_await writer.Send(
      JsonResponse(bhttp::status::not_found,
                   OpenAiErrorBody("Unknown control endpoint.", "invalid_request_error", "")));
}

}  // namespace llmesh::fakes
