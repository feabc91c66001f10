#include "proxy/provider/common/error_mapping.h"

#include <array>
#include <utility>

#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/common/rate_limit_hints.h"
#include "proxy/provider/common/text.h"

namespace llmesh::provider {
namespace {

// Substrings of a lowercased message that mean "the prompt does not fit the context window"
// (§7.4, one row per provider, then the generic fallbacks gateways use).
constexpr std::array<std::string_view, 16> kContextSignatures = {
    "maximum context length is",                     // OpenAI, Azure, DeepSeek, vLLM
    "exceeds the context window",                    // OpenAI Responses
    "context_length_exceeded",                       //
    "prompt is too long",                            // Anthropic
    "exceed context limit",                          // Anthropic (input + max_tokens)
    "exceeds the maximum number of tokens allowed",  // Gemini
    "too large for model with",                      // Mistral
    "range of input length should be",               // DashScope
    "please reduce the length of the messages",      // DeepSeek, Groq
    "maximum prompt length is",                      // xAI
    "is longer than the model's context length",     // Together
    "model_context_window_exceeded",                 // Anthropic stop reason
    "context window exceeded",                       //
    "too many tokens",                               // generic
    "token limit exceeded",                          // generic
    "exceeds the model's context",                   // generic
};

// Wording that looks like a token problem but is about throughput, not the window.
constexpr std::array<std::string_view, 4> kContextExclusions = {
    "rate limit", "too many requests", "tokens per minute", "string_above_max_length"};

int CarriedStatus(const boost::json::object& object) {
  for (std::string_view key : {"code", "status"}) {
    std::optional<int64_t> status = IntField(object, key);
    if (status && *status >= 100 && *status <= 599) return static_cast<int>(*status);
  }
  return 0;
}

void ReadGeminiDetails(const boost::json::object& error, ErrorEnvelope& envelope,
                       std::string_view& reason) {
  const boost::json::array* details = ArrayField(error, "details");
  if (details == nullptr) return;
  for (const boost::json::value& detail : *details) {
    const boost::json::object* object = detail.if_object();
    if (object == nullptr) continue;
    const std::string_view type = StringField(*object, "@type");
    if (type.ends_with("google.rpc.ErrorInfo")) {
      if (reason.empty()) reason = StringField(*object, "reason");
    } else if (type.ends_with("google.rpc.QuotaFailure")) {
      const boost::json::array* violations = ArrayField(*object, "violations");
      if (violations == nullptr) continue;
      for (const boost::json::value& violation : *violations) {
        const boost::json::object* v = violation.if_object();
        if (v != nullptr && ContainsIgnoreCase(StringField(*v, "quotaId"), "perday")) {
          envelope.daily_quota = true;
        }
      }
    }
  }
}

bool Is(std::string_view value, std::string_view expected) {
  return EqualsIgnoreCase(value, expected);
}

bool IsQuota(const ErrorEnvelope& e) {
  return Is(e.code, "insufficient_quota") || Is(e.type, "insufficient_quota") ||
         Is(e.type, "billing_error") || e.billing;
}

bool IsGeminiAccountProblem(const ErrorEnvelope& e) {
  return Is(e.code, "API_KEY_INVALID") || Is(e.type, "FAILED_PRECONDITION") ||
         ContainsIgnoreCase(e.message, "api key not valid");
}

FailureKind KindForStatus(int status, const ErrorEnvelope& e) {
  switch (status) {
    case 429:
      return IsQuota(e) || e.daily_quota ? FailureKind::kQuota : FailureKind::kRateLimited;
    case 402:
      return FailureKind::kQuota;
    case 401:
    case 403:
      return FailureKind::kAuth;
    case 404:
    case 410:
      return FailureKind::kModelNotFound;
    case 400:
    case 422:
      if (e.context_length) return FailureKind::kContextLength;
      if (IsGeminiAccountProblem(e)) return FailureKind::kAuth;
      if (IsQuota(e)) return FailureKind::kQuota;
      return FailureKind::kInvalidRequest;
    case 413:
      // Groq: one request above the tokens-per-minute allowance. Another provider may take it.
      return Is(e.code, "rate_limit_exceeded") || Is(e.type, "tokens") ? FailureKind::kRateLimited
                                                                        : FailureKind::kInvalidRequest;
    case 408:
    case 409:
      return FailureKind::kServerError;
    case 498:  // Groq flex tier capacity exceeded.
    case 503:
    case 529:
      return FailureKind::kOverloaded;
    default:
      break;
  }
  if (status >= 400 && status <= 499) return FailureKind::kInvalidRequest;
  if (status >= 500 && status <= 599) return FailureKind::kServerError;
  return FailureKind::kMalformed;
}

// Type/code vocabulary of in-band errors, checked code first (OpenAI puts the precise reason
// in `code`: type "invalid_request_error" with code "invalid_api_key").
struct Vocabulary {
  std::string_view word;
  FailureKind kind;
};
constexpr std::array<Vocabulary, 27> kVocabulary = {{
    {"insufficient_quota", FailureKind::kQuota},
    {"billing_error", FailureKind::kQuota},
    {"rate_limit_error", FailureKind::kRateLimited},
    {"rate_limit_exceeded", FailureKind::kRateLimited},
    {"resource_exhausted", FailureKind::kRateLimited},
    {"tokens", FailureKind::kRateLimited},
    {"requests", FailureKind::kRateLimited},
    {"overloaded_error", FailureKind::kOverloaded},
    {"overloaded", FailureKind::kOverloaded},
    {"server_is_overloaded", FailureKind::kOverloaded},
    {"upstream_overloaded", FailureKind::kOverloaded},
    {"slow_down", FailureKind::kOverloaded},
    {"unavailable", FailureKind::kOverloaded},
    {"service_unavailable", FailureKind::kOverloaded},
    {"capacity_exceeded", FailureKind::kOverloaded},
    {"authentication_error", FailureKind::kAuth},
    {"invalid_api_key", FailureKind::kAuth},
    {"api_key_invalid", FailureKind::kAuth},
    {"permission_error", FailureKind::kAuth},
    {"permission_denied", FailureKind::kAuth},
    {"unauthenticated", FailureKind::kAuth},
    {"not_found_error", FailureKind::kModelNotFound},
    {"model_not_found", FailureKind::kModelNotFound},
    {"not_found", FailureKind::kModelNotFound},
    {"invalid_request_error", FailureKind::kInvalidRequest},
    {"invalid_argument", FailureKind::kInvalidRequest},
    {"invalid_parameter_error", FailureKind::kInvalidRequest},
}};

FailureKind KindForEnvelope(const ErrorEnvelope& e) {
  if (e.status >= 400 && e.status <= 599) return KindForStatus(e.status, e);
  if (e.context_length) return FailureKind::kContextLength;
  for (std::string_view word : {std::string_view(e.code), std::string_view(e.type)}) {
    if (word.empty()) continue;
    for (const Vocabulary& entry : kVocabulary) {
      if (!Is(word, entry.word)) continue;
      if (entry.kind == FailureKind::kRateLimited && e.daily_quota) return FailureKind::kQuota;
      return entry.kind;
    }
  }
  return FailureKind::kServerError;
}

UpstreamFailure FailureFrom(FailureKind kind, int http_status, ErrorEnvelope& e) {
  UpstreamFailure failure;
  failure.kind = kind;
  failure.http_status = http_status;
  failure.type = std::move(e.type);
  failure.code = std::move(e.code);
  failure.message = std::move(e.message);
  return failure;
}

}  // namespace

bool HasContextLengthSignature(std::string_view code, std::string_view message) {
  if (Is(code, "context_length_exceeded")) return true;
  if (Is(code, "string_above_max_length") || Is(code, "rate_limit_exceeded")) return false;
  const std::string lower = ToLower(message);
  for (std::string_view exclusion : kContextExclusions) {
    if (lower.find(exclusion) != std::string::npos) return false;
  }
  for (std::string_view signature : kContextSignatures) {
    if (lower.find(signature) != std::string::npos) return true;
  }
  return false;
}

ErrorEnvelope ParseErrorEnvelope(const boost::json::value& body) {
  ErrorEnvelope envelope;
  const boost::json::value* root = &body;
  if (const boost::json::array* wrapped = body.if_array()) {
    if (wrapped->empty()) return envelope;
    root = &wrapped->front();
  }
  const boost::json::object* object = root->if_object();
  if (object == nullptr) return envelope;

  std::string_view message;
  std::string_view type;
  std::string_view code;
  std::string_view reason;
  std::string detail;  // FastAPI's structured `detail`, serialised
  const boost::json::value* error = object->if_contains("error");
  if (error != nullptr && error->is_object()) {
    const boost::json::object& e = error->get_object();
    envelope.found = true;
    message = StringField(e, "message");
    type = StringField(e, "type");
    if (type.empty()) type = StringField(e, "status");
    code = StringField(e, "code");
    envelope.status = CarriedStatus(e);
    ReadGeminiDetails(e, envelope, reason);
    envelope.retry_delay = RetryInfoHint(e);
  } else {
    if (error != nullptr && error->is_string()) {
      envelope.found = true;
      message = StringField(*object, "error");
    } else {
      message = StringField(*object, "message");
      if (message.empty()) {
        if (const boost::json::value* d = object->if_contains("detail"); d != nullptr) {
          if (d->is_string()) {
            message = StringField(*object, "detail");
          } else if (!d->is_null()) {
            detail = boost::json::serialize(*d);
            message = detail;
          }
        }
      }
    }
    type = StringField(*object, "type");
    code = StringField(*object, "code");
    envelope.status = CarriedStatus(*object);
    envelope.found = envelope.found || !message.empty() || !code.empty();
  }
  if (code.empty()) code = reason;
  envelope.type = std::string(type);
  envelope.code = std::string(code);
  envelope.context_length = HasContextLengthSignature(code, message);
  envelope.billing = ContainsIgnoreCase(message, "credit balance");
  if (!envelope.retry_delay) envelope.retry_delay = MessageRetryHint(message);
  envelope.message = TruncateUtf8(message, kMaxErrorMessageBytes);
  return envelope;
}

UpstreamFailure MapHttpError(int status, const boost::beast::http::fields& headers,
                             std::string_view body, absl::Time now) {
  const std::string_view text = StripWhitespace(body);
  ErrorEnvelope envelope;
  bool json = false;
  if (!text.empty()) {
    boost::json::value parsed;
    json = ParseJson(text, parsed);
    if (json) envelope = ParseErrorEnvelope(parsed);
  }
  const std::optional<std::chrono::milliseconds> body_hint = envelope.retry_delay;
  UpstreamFailure failure = FailureFrom(KindForStatus(status, envelope), status, envelope);
  if (failure.message.empty()) {
    // A plain-text body (an edge proxy's one-liner) is worth keeping; HTML pages are not.
    failure.message = !json && !text.empty() && text.front() != '<'
                          ? TruncateUtf8(text, kMaxErrorMessageBytes)
                          : absl::StrCat("upstream answered HTTP ", status);
  }
  failure.retry_after = RetryHint(headers, now, status);
  if (!failure.retry_after) failure.retry_after = body_hint;
  return failure;
}

std::optional<UpstreamFailure> MapStreamError(const boost::json::value& error_event) {
  const boost::json::value* root = &error_event;
  if (const boost::json::array* wrapped = error_event.if_array()) {
    if (wrapped->empty()) return std::nullopt;
    root = &wrapped->front();
  }
  const boost::json::object* object = root->if_object();
  if (object == nullptr) return std::nullopt;
  const boost::json::value* error = object->if_contains("error");
  const bool nested = error != nullptr &&
                      ((error->is_object() && !error->get_object().empty()) ||
                       (error->is_string() && !error->get_string().empty()));
  if (!nested) {
    // DashScope's flat `{code, message, request_id}` frame; a chunk never looks like that.
    if (object->contains("choices") || object->contains("candidates") ||
        StringField(*object, "message").empty() || !object->contains("code")) {
      return std::nullopt;
    }
  }
  ErrorEnvelope envelope = ParseErrorEnvelope(error_event);
  const int status = envelope.status >= 400 && envelope.status <= 599 ? envelope.status : 200;
  const std::optional<std::chrono::milliseconds> hint = envelope.retry_delay;
  UpstreamFailure failure = FailureFrom(KindForEnvelope(envelope), status, envelope);
  if (failure.message.empty()) failure.message = "upstream sent an error event";
  failure.retry_after = hint;
  return failure;
}

std::optional<UpstreamFailure> ParseAnswerJson(int status, std::string_view text, boost::json::value& value) {
  if (text.empty() || !ParseJson(text, value)) {
    return MalformedAnswer(status, "upstream answered with a body that is not JSON");
  }
  std::optional<UpstreamFailure> error = MapStreamError(value);
  if (error && error->http_status == 200) error->http_status = status;
  return error;
}

}  // namespace llmesh::provider
