#include <boost/beast/http/field.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/codec/anthropic_sink.h"
#include "proxy/codec/canonical_form.h"
#include "proxy/codec/codec.h"
#include "proxy/codec/openai_sink.h"

namespace llmesh::codec {
namespace {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using std::chrono::duration;
using SteadyTime = std::chrono::steady_clock::time_point;

std::string_view PathOf(std::string_view target) {
  const size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

// Accepts "/v1/x" and "/x": clients configured with a base URL without /v1 still work.
std::string_view ApiPath(std::string_view path) {
  if (path.starts_with("/v1/")) return path.substr(3);
  return path;
}

std::string_view Header(const http::Request& request, std::string_view name) {
  auto it = request.find(name);
  return it == request.end() ? std::string_view() : std::string_view(it->value());
}

}  // namespace

// Everything known about one client request while it is being served.
struct ApiHandler::Exchange {
  Exchange(http::Request& request, http::ResponseWriter& writer,
           std::shared_ptr<const config::ConfigSnapshot> snapshot, std::string request_id)
      : request(request), writer(writer), snapshot(std::move(snapshot)),
        start(std::chrono::steady_clock::now()), request_id(std::move(request_id)) {}

  http::Request& request;
  http::ResponseWriter& writer;
  std::shared_ptr<const config::ConfigSnapshot> snapshot;
  SteadyTime start;
  std::string request_id;
  const config::RouteSpec* route = nullptr;
  failover::ExecutionResult result;
  provider::Operation operation = provider::Operation::kChatCompletions;
  provider::ApiFormat format = provider::ApiFormat::kOpenAi;  // the API the client speaks
  bool stream = false;
};

ApiHandler::ApiHandler(upstream::UpstreamPool& pool, log::AccessLog::Writer* access_log, const Clock& clock,
                       const xds::GlobalWeights* weights, xds::TelemetryAccumulator* telemetry)
    : access_log_(access_log), clock_(clock), router_(clock, weights), executor_(pool, clock, telemetry) {}

std::string ApiHandler::NewRequestId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = absl::Uniform<uint64_t>(rng_);
    for (int i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kHex[bits & 0xf];
  }
  return id;
}

asio::awaitable<void> ApiHandler::Handle(http::Request& request, http::ResponseWriter& writer) {
  Exchange exchange(request, writer, snapshot_, NewRequestId());
  const std::string_view path = ApiPath(PathOf(request.target()));
  const beast_http::verb method = request.method();

  // Errors are built into a named local before any co_await: temporaries inside a co_await
  // expression are not safe with this compiler.
  std::optional<ErrorReply> error;
  if (exchange.snapshot == nullptr) {
    error = ClientError(beast_http::status::service_unavailable, "not_ready",
                        "llmesh-proxy has no active configuration yet.");
  } else if (path == "/chat/completions" || path == "/embeddings") {
    if (method == beast_http::verb::post) {
      co_await Proxy(exchange, path == "/embeddings" ? provider::Operation::kEmbeddings
                                                     : provider::Operation::kChatCompletions);
      co_return;
    }
    error = ClientError(beast_http::status::method_not_allowed, "method_not_allowed",
                        absl::StrCat("Use POST for ", AbslView(PathOf(request.target())), "."));
  } else if (path == "/messages") {
    exchange.format = provider::ApiFormat::kAnthropic;
    if (method == beast_http::verb::post) {
      co_await Proxy(exchange, provider::Operation::kChatCompletions);
      co_return;
    }
    error = ClientError(beast_http::status::method_not_allowed, "method_not_allowed",
                        absl::StrCat("Use POST for ", AbslView(PathOf(request.target())), "."));
  } else if (path == "/models") {
    if (method == beast_http::verb::get) {
      http::Response models = ModelList(request);
      (void)co_await writer.Send(std::move(models));
      co_return;
    }
    error = ClientError(beast_http::status::method_not_allowed, "method_not_allowed",
                        absl::StrCat("Use GET for ", AbslView(PathOf(request.target())), "."));
  } else {
    error = ClientError(beast_http::status::not_found, "unknown_url",
                        absl::StrCat("Unknown request URL: ", AbslView(beast_http::to_string(method)), " ",
                                     AbslView(PathOf(request.target())), "."));
  }
  co_await SendError(exchange, *error);
}

std::variant<ApiHandler::Prepared, ErrorReply> ApiHandler::Prepare(Exchange& exchange,
                                                                   provider::Operation operation) {
  http::Request& request = exchange.request;
  // The body moves into the ClientRequest (its `raw`); nothing reads it from the request after.
  absl::StatusOr<provider::ClientRequest> parsed =
      provider::ParseClientRequest(operation, std::move(request.body()), exchange.format);
  if (!parsed.ok()) {
    return ClientError(beast_http::status::bad_request, "invalid_request", std::string(parsed.status().message()),
                       provider::ParamOf(parsed.status()));
  }
  exchange.stream = parsed->stream;
  exchange.operation = operation;

  failover::Priority priority = failover::Priority::kNormal;
  if (std::string_view p = Header(request, "x-llmesh-priority"); !p.empty()) {
    if (absl::EqualsIgnoreCase(AbslView(p), "critical")) {
      priority = failover::Priority::kCritical;
    } else if (absl::EqualsIgnoreCase(AbslView(p), "batch")) {
      priority = failover::Priority::kBatch;
    } else if (!absl::EqualsIgnoreCase(AbslView(p), "normal")) {
      return ClientError(beast_http::status::bad_request, "invalid_priority",
                         absl::StrCat("x-llmesh-priority must be critical, normal or batch; got '", AbslView(p), "'."),
                         "x-llmesh-priority");
    }
  }

  const std::string_view route_name = Header(request, "x-llmesh-route");
  exchange.route = exchange.snapshot->FindRoute(
      parsed->model, route_name, [&](std::string_view name) { return Header(request, name); });
  if (exchange.route == nullptr) {
    return ClientError(
        beast_http::status::not_found, "model_not_found",
        route_name.empty()
            ? absl::StrCat("The model '", parsed->model, "' does not exist or is not routed by llmesh.")
            : absl::StrCat("The route '", AbslView(route_name), "' named by x-llmesh-route does not exist."),
        "model");
  }

  if (exchange.route->NeedsCanonical(exchange.format)) AddCanonicalForm(*parsed);

  router::TargetPlan plan = router_.Plan(*exchange.route, priority, rng_);
  if (plan.order.empty()) {
    std::optional<std::chrono::milliseconds> cooling;
    if (plan.all_cooling_down) cooling = std::chrono::ceil<std::chrono::milliseconds>(plan.shortest_cooldown);
    return FailedRequestError(exchange.route->name, "", 0, std::nullopt, cooling);
  }
  return Prepared{*std::move(parsed), priority, std::move(plan)};
}

asio::awaitable<void> ApiHandler::Proxy(Exchange& exchange, provider::Operation operation) {
  std::variant<Prepared, ErrorReply> prepared = Prepare(exchange, operation);
  if (const ErrorReply* error = std::get_if<ErrorReply>(&prepared)) {
    co_await SendError(exchange, *error);
    co_return;
  }
  const Prepared& ready = std::get<Prepared>(prepared);
  if (exchange.format == provider::ApiFormat::kAnthropic) {
    AnthropicSink sink(exchange.writer, exchange.request, ready.request, exchange.request_id);
    exchange.result = co_await executor_.Execute(*exchange.route, ready.plan.order, ready.request, ready.priority, sink);
  } else {
    OpenAiSink sink(exchange.writer, exchange.request, ready.request, exchange.request_id);
    exchange.result = co_await executor_.Execute(*exchange.route, ready.plan.order, ready.request, ready.priority, sink);
  }
  if (!exchange.result.answered && !exchange.result.client_gone) {
    const failover::AnswerInfo& answer = exchange.result.answer;
    const ErrorReply error =
        FailedRequestError(exchange.route->name, answer.target ? answer.target->provider->name : "",
                           answer.attempts, exchange.result.failure, std::nullopt);
    co_await SendError(exchange, error);
    co_return;
  }
  Finish(exchange);
}

asio::awaitable<void> ApiHandler::SendError(Exchange& exchange, const ErrorReply& error) {
  http::Response response =
      RenderClientError(error, exchange.format, exchange.request.version(), exchange.request.keep_alive());
  if (exchange.route != nullptr) SetAnswerHeaders(response.base(), exchange.result.answer, exchange.request_id);
  else response.set("x-llmesh-request-id", exchange.request_id);
  if (error.status == beast_http::status::method_not_allowed) {
    response.set(beast_http::field::allow, ApiPath(PathOf(exchange.request.target())) == "/models" ? "GET" : "POST");
  }
  exchange.result.status = static_cast<int>(error.status);
  if (!(co_await exchange.writer.Send(std::move(response))).ok()) exchange.result.client_gone = true;
  Finish(exchange);
}

void ApiHandler::Finish(Exchange& exchange) {
  const failover::ExecutionResult& result = exchange.result;
  const double seconds = duration<double>(std::chrono::steady_clock::now() - exchange.start).count();
  const config::TargetSpec* target = result.answer.target;
  if (exchange.route != nullptr) {
    const config::RouteSpec& route = *exchange.route;
    const config::RouteTargetSeries* series = &route.no_target_series;
    if (target != nullptr) series = &route.target_series[target - route.targets.data()];
    const int status = result.status == 0 ? 200 : result.status;
    (status < 400 ? series->requests_2xx : status < 500 ? series->requests_4xx : series->requests_5xx)->Inc();
    series->duration->Observe(seconds);
    const config::RouteTargetSeries::GenAi& gen_ai = series->gen_ai[static_cast<int>(exchange.operation)];
    gen_ai.duration->Observe(seconds);
    if (result.time_to_first_token) {
      series->time_to_first_token->Observe(duration<double>(*result.time_to_first_token).count());
    }
    if (result.usage.prompt_tokens > 0) gen_ai.input_tokens->Observe(static_cast<double>(result.usage.prompt_tokens));
    if (result.usage.completion_tokens > 0) {
      gen_ai.output_tokens->Observe(static_cast<double>(result.usage.completion_tokens));
    }
  }
  if (access_log_ == nullptr) return;
  log::AccessRecord record;
  record.request_id = exchange.request_id;
  record.route = exchange.route != nullptr ? std::string_view(exchange.route->name) : std::string_view();
  record.provider = target != nullptr ? std::string_view(target->provider->name) : std::string_view();
  record.model = target != nullptr ? std::string_view(target->model->name) : std::string_view();
  record.method = beast_http::to_string(exchange.request.method());
  record.path = PathOf(exchange.request.target());
  record.status = result.client_gone && !result.answered ? 499 : (result.status == 0 ? 200 : result.status);
  record.attempts = result.answer.attempts;
  record.latency_ms = seconds * 1000.0;
  record.ttft_ms = result.time_to_first_token ? duration<double, std::milli>(*result.time_to_first_token).count() : -1;
  record.prompt_tokens = result.usage.prompt_tokens;
  record.completion_tokens = result.usage.completion_tokens;
  record.cost_usd = result.cost_usd;
  record.stream = exchange.stream;
  record.error = result.failure ? provider::FailureKindName(result.failure->kind) : std::string_view();
  access_log_->Write(record);
}

http::Response ApiHandler::ModelList(const http::Request& request) const {
  boost::json::array data;
  absl::flat_hash_set<std::string> seen;
  auto add = [&](const std::string& id, std::string_view owner) {
    if (id == "*" || !seen.insert(id).second) return;
    data.push_back(boost::json::object{{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", owner}});
  };
  for (const config::RouteSpec& route : snapshot_->routes()) add(route.model, "llmesh");
  for (const auto& provider : snapshot_->providers()) {
    for (const config::ModelSpec& model : provider->models) add(model.name, provider->name);
  }
  http::Response response{beast_http::status::ok, request.version()};
  response.set(beast_http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = boost::json::serialize(boost::json::object{{"object", "list"}, {"data", std::move(data)}});
  response.prepare_payload();
  return response;
}

http::Response ApiHandler::Reject(beast_http::status status, std::string_view reason, std::string_view target) {
  std::string code = "invalid_request";
  std::string message(reason);
  if (status == beast_http::status::payload_too_large) {
    code = "request_too_large";
  } else if (status == beast_http::status::request_header_fields_too_large) {
    code = "headers_too_large";
  } else if (status == beast_http::status::request_timeout) {
    code = "request_timeout";
  }
  const provider::ApiFormat format =
      ApiPath(PathOf(target)) == "/messages" ? provider::ApiFormat::kAnthropic : provider::ApiFormat::kOpenAi;
  return RenderClientError(ClientError(status, code, std::move(message)), format, 11, false);
}

}  // namespace llmesh::codec
