#include "proxy/codec/error_response.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "proxy/provider/anthropic/anthropic_mapping.h"

namespace llmesh::codec {
namespace {

namespace beast_http = boost::beast::http;
using provider::FailureKind;

boost::json::object ErrorObject(const ErrorReply& error) {
  boost::json::object inner;
  inner["message"] = error.message;
  inner["type"] = error.type;
  inner["param"] = error.param.empty() ? boost::json::value(nullptr) : boost::json::value(error.param);
  inner["code"] = error.code.empty() ? boost::json::value(nullptr) : boost::json::value(error.code);
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return outer;
}

std::string TypeFor(beast_http::status status) {
  switch (status) {
    case beast_http::status::too_many_requests: return "rate_limit_error";
    case beast_http::status::not_found:
    case beast_http::status::bad_request:
    case beast_http::status::method_not_allowed:
    case beast_http::status::payload_too_large:
    case beast_http::status::request_header_fields_too_large:
    case beast_http::status::unprocessable_entity: return "invalid_request_error";
    default: return "server_error";
  }
}

// What the client is told about the last failure. Upstream messages are passed on only where
// they describe the client's own request; key and account problems stay generic so nothing of
// the provider's credentials can leak.
std::string Detail(const provider::UpstreamFailure& failure) {
  std::string detail(provider::FailureKindName(failure.kind));
  if (failure.http_status > 0) absl::StrAppend(&detail, " (HTTP ", failure.http_status, ")");
  // Transport failures carry our own view of the connection (addresses); they stay in logs.
  const bool share_message = failure.http_status > 0 && failure.kind != FailureKind::kAuth &&
                             failure.kind != FailureKind::kQuota && !failure.message.empty();
  if (share_message) absl::StrAppend(&detail, ": ", failure.message);
  return detail;
}

// Anthropic's error types by status (its API reference, "Errors").
std::string_view AnthropicType(beast_http::status status, std::string_view code) {
  switch (status) {
    case beast_http::status::bad_request:
    case beast_http::status::method_not_allowed:
    case beast_http::status::request_header_fields_too_large:
    case beast_http::status::unprocessable_entity: return "invalid_request_error";
    case beast_http::status::unauthorized: return "authentication_error";
    case beast_http::status::payment_required: return "billing_error";
    case beast_http::status::forbidden: return "permission_error";
    case beast_http::status::not_found: return "not_found_error";
    case beast_http::status::payload_too_large: return "request_too_large";
    case beast_http::status::too_many_requests: return code == "insufficient_quota" ? "billing_error" : "rate_limit_error";
    case beast_http::status::gateway_timeout: return "timeout_error";
    case beast_http::status::service_unavailable: return code == "overloaded" ? "overloaded_error" : "api_error";
    default: return "api_error";
  }
}

std::string AnthropicEnvelope(std::string_view type, std::string_view message) {
  boost::json::object inner;
  inner["type"] = type;
  inner["message"] = message;
  boost::json::object outer;
  outer["type"] = "error";
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

std::chrono::seconds CeilSeconds(std::chrono::milliseconds ms) {
  return std::chrono::seconds(std::max<int64_t>(1, (ms.count() + 999) / 1000));
}

}  // namespace

ErrorReply ClientError(beast_http::status status, std::string_view code, std::string message,
                       std::string_view param) {
  return ErrorReply{status, TypeFor(status), std::string(code), std::string(param), std::move(message),
                    std::nullopt};
}

ErrorReply FailedRequestError(std::string_view route, std::string_view provider, uint32_t attempts,
                              const std::optional<provider::UpstreamFailure>& failure,
                              std::optional<std::chrono::milliseconds> all_cooling_down) {
  ErrorReply reply;
  if (all_cooling_down) {
    reply.status = beast_http::status::too_many_requests;
    reply.type = "rate_limit_error";
    reply.code = "rate_limit_exceeded";
    reply.retry_after = CeilSeconds(*all_cooling_down);
    reply.message = absl::StrCat("Every provider of route '", AbslView(route),
                                 "' is rate limited; retry after ", reply.retry_after->count(), "s.");
    return reply;
  }
  if (!failure) {
    reply.status = beast_http::status::service_unavailable;
    reply.type = "server_error";
    reply.code = "no_provider_available";
    reply.message = absl::StrCat("No provider of route '", AbslView(route), "' could take the request.");
    return reply;
  }
  const std::string where =
      absl::StrCat(attempts, attempts == 1 ? " attempt" : " attempts", " on route '", AbslView(route),
                   "' failed; last: provider '", AbslView(provider), "' ", Detail(*failure));
  switch (failure->kind) {
    case FailureKind::kInvalidRequest:
      // The request itself is at fault: the provider's own words help the client fix it.
      reply.status = failure->http_status == 422 ? beast_http::status::unprocessable_entity
                                                 : beast_http::status::bad_request;
      reply.type = "invalid_request_error";
      reply.code = failure->code;
      reply.message = failure->message.empty() ? where : failure->message;
      return reply;
    case FailureKind::kContextLength:
      reply.status = beast_http::status::bad_request;
      reply.type = "invalid_request_error";
      reply.code = "context_length_exceeded";
      reply.param = "messages";
      reply.message = failure->message.empty() ? where : failure->message;
      return reply;
    case FailureKind::kRateLimited:
      reply.status = beast_http::status::too_many_requests;
      reply.type = "rate_limit_error";
      reply.code = "rate_limit_exceeded";
      if (failure->retry_after) reply.retry_after = CeilSeconds(*failure->retry_after);
      reply.message = where;
      return reply;
    case FailureKind::kQuota:
      reply.status = beast_http::status::too_many_requests;
      reply.type = "insufficient_quota";
      reply.code = "insufficient_quota";
      reply.message = where;
      return reply;
    case FailureKind::kTimeout:
      reply.status = beast_http::status::gateway_timeout;
      reply.type = "server_error";
      reply.code = "upstream_timeout";
      reply.message = where;
      return reply;
    case FailureKind::kOverloaded:
      reply.status = beast_http::status::service_unavailable;
      reply.type = "server_error";
      reply.code = "overloaded";
      reply.message = where;
      return reply;
    default:
      reply.status = beast_http::status::service_unavailable;
      reply.type = "server_error";
      reply.code = absl::StrCat("upstream_", AbslView(provider::FailureKindName(failure->kind)));
      reply.message = where;
      return reply;
  }
}

http::Response RenderOpenAiError(const ErrorReply& error, unsigned http_version, bool keep_alive) {
  http::Response response{error.status, http_version};
  response.set(beast_http::field::content_type, "application/json");
  if (error.retry_after) response.set(beast_http::field::retry_after, std::to_string(error.retry_after->count()));
  response.body() = boost::json::serialize(ErrorObject(error));
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

http::Response RenderAnthropicError(const ErrorReply& error, unsigned http_version, bool keep_alive) {
  http::Response response{error.status, http_version};
  response.set(beast_http::field::content_type, "application/json");
  if (error.retry_after) response.set(beast_http::field::retry_after, std::to_string(error.retry_after->count()));
  response.body() = AnthropicEnvelope(AnthropicType(error.status, error.code), error.message);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

http::Response RenderClientError(const ErrorReply& error, provider::ApiFormat format, unsigned http_version,
                                 bool keep_alive) {
  if (format == provider::ApiFormat::kAnthropic) return RenderAnthropicError(error, http_version, keep_alive);
  return RenderOpenAiError(error, http_version, keep_alive);
}

std::string OpenAiStreamError(const provider::UpstreamFailure& failure) {
  ErrorReply reply;
  reply.type = failure.kind == FailureKind::kRateLimited ? "rate_limit_error" : "server_error";
  reply.code = absl::StrCat("upstream_", AbslView(provider::FailureKindName(failure.kind)));
  reply.message = absl::StrCat("The provider's stream failed after it had started: ", Detail(failure));
  return absl::StrCat("data: ", boost::json::serialize(ErrorObject(reply)), "\n\n");
}

std::string AnthropicStreamError(const provider::UpstreamFailure& failure) {
  return absl::StrCat("event: error\ndata: ",
                      AnthropicEnvelope(provider::AnthropicErrorType(failure), absl::StrCat("The provider's stream failed after it had started: ",
                                                           Detail(failure))),
                      "\n\n");
}

}  // namespace llmesh::codec
