#include "proxy/provider/common/error_mapping.h"

#include <string>

#include <boost/json/parse.hpp>

#include "gtest/gtest.h"
#include "proxy/provider/common/json_fields.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using std::chrono::milliseconds;

absl::Time Now() { return absl::FromUnixSeconds(1740435900); }

struct Row {
  const char* file;  // under tests/testdata/provider/errors/, or "" for an empty body
  int status;
  FailureKind kind;
  const char* type;
  const char* code;
};

// One row per line of wire-formats §7.1 / §7.4, each with a body shaped like the real one.
constexpr Row kRows[] = {
    {"openai_429_rate_limit.json", 429, FailureKind::kRateLimited, "tokens", "rate_limit_exceeded"},
    {"anthropic_429_rate_limit.json", 429, FailureKind::kRateLimited, "rate_limit_error", ""},
    {"gemini_429_per_minute.json", 429, FailureKind::kRateLimited, "RESOURCE_EXHAUSTED", ""},
    {"gemini_compat_429_array.json", 429, FailureKind::kRateLimited, "RESOURCE_EXHAUSTED", ""},
    {"mistral_429_flat.json", 429, FailureKind::kRateLimited, "", ""},
    {"dashscope_429_flat.json", 429, FailureKind::kRateLimited, "", "Throttling.RateQuota"},
    {"openai_429_insufficient_quota.json", 429, FailureKind::kQuota, "insufficient_quota",
     "insufficient_quota"},
    {"gemini_429_per_day.json", 429, FailureKind::kQuota, "RESOURCE_EXHAUSTED", ""},
    {"deepseek_402_insufficient_balance.json", 402, FailureKind::kQuota, "unknown_error",
     "invalid_request_error"},
    {"anthropic_402_billing.json", 402, FailureKind::kQuota, "billing_error", ""},
    {"anthropic_400_credit_balance.json", 400, FailureKind::kQuota, "invalid_request_error", ""},
    {"openai_401_invalid_key.json", 401, FailureKind::kAuth, "invalid_request_error",
     "invalid_api_key"},
    {"openai_403_region.json", 403, FailureKind::kAuth, "request_forbidden",
     "unsupported_country_region_territory"},
    {"anthropic_403_permission.json", 403, FailureKind::kAuth, "permission_error", ""},
    {"gemini_400_api_key_invalid.json", 400, FailureKind::kAuth, "INVALID_ARGUMENT",
     "API_KEY_INVALID"},
    {"gemini_400_failed_precondition.json", 400, FailureKind::kAuth, "FAILED_PRECONDITION", ""},
    {"openai_404_model.json", 404, FailureKind::kModelNotFound, "invalid_request_error",
     "model_not_found"},
    {"azure_404_deployment.json", 404, FailureKind::kModelNotFound, "", "DeploymentNotFound"},
    {"fastapi_404_detail.json", 404, FailureKind::kModelNotFound, "", ""},
    {"", 410, FailureKind::kModelNotFound, "", ""},
    {"openai_400_invalid.json", 400, FailureKind::kInvalidRequest, "invalid_request_error",
     "invalid_value"},
    {"deepseek_422_invalid.json", 422, FailureKind::kInvalidRequest, "invalid_request_error",
     "invalid_request_error"},
    {"azure_400_content_filter.json", 400, FailureKind::kInvalidRequest, "", "content_filter"},
    {"openai_400_string_above_max_length.json", 400, FailureKind::kInvalidRequest,
     "invalid_request_error", "string_above_max_length"},
    {"openai_400_rate_limit_wording.json", 400, FailureKind::kInvalidRequest,
     "invalid_request_error", ""},
    {"openai_400_context_length.json", 400, FailureKind::kContextLength, "invalid_request_error",
     "context_length_exceeded"},
    {"anthropic_400_prompt_too_long.json", 400, FailureKind::kContextLength,
     "invalid_request_error", ""},
    {"anthropic_400_context_limit.json", 400, FailureKind::kContextLength, "invalid_request_error",
     ""},
    {"gemini_400_token_count.json", 400, FailureKind::kContextLength, "INVALID_ARGUMENT", ""},
    {"deepseek_400_context.json", 400, FailureKind::kContextLength, "invalid_request_error",
     "invalid_request_error"},
    {"mistral_400_context.json", 400, FailureKind::kContextLength, "invalid_request_message_error",
     ""},
    {"dashscope_400_range.json", 400, FailureKind::kContextLength, "invalid_request_error",
     "invalid_parameter_error"},
    {"groq_400_context.json", 400, FailureKind::kContextLength, "invalid_request_error",
     "context_length_exceeded"},
    {"xai_400_prompt_length.json", 400, FailureKind::kContextLength, "",
     "Client specified an invalid argument"},
    {"together_400_context.json", 400, FailureKind::kContextLength, "invalid_request_error", ""},
    {"vllm_400_context.json", 400, FailureKind::kContextLength, "BadRequestError", ""},
    {"groq_413_tpm.json", 413, FailureKind::kRateLimited, "tokens", "rate_limit_exceeded"},
    {"anthropic_413_request_too_large.json", 413, FailureKind::kInvalidRequest,
     "request_too_large", ""},
    {"", 418, FailureKind::kInvalidRequest, "", ""},
    {"", 408, FailureKind::kServerError, "", ""},
    {"openai_409_conflict.json", 409, FailureKind::kServerError, "invalid_request_error",
     "conflict"},
    {"openai_500.json", 500, FailureKind::kServerError, "server_error", ""},
    {"anthropic_500_api_error.json", 500, FailureKind::kServerError, "api_error", ""},
    {"", 501, FailureKind::kServerError, "", ""},
    {"nginx_502.html", 502, FailureKind::kServerError, "", ""},
    {"", 502, FailureKind::kServerError, "", ""},
    {"anthropic_504_timeout.json", 504, FailureKind::kServerError, "timeout_error", ""},
    {"cloudflare_522.html", 520, FailureKind::kServerError, "", ""},
    {"cloudflare_522.html", 521, FailureKind::kServerError, "", ""},
    {"cloudflare_522.html", 522, FailureKind::kServerError, "", ""},
    {"cloudflare_522.html", 523, FailureKind::kServerError, "", ""},
    {"cloudflare_522.html", 524, FailureKind::kServerError, "", ""},
    {"openai_503_slow_down.json", 503, FailureKind::kOverloaded, "server_error", "slow_down"},
    {"deepseek_503_overloaded.json", 503, FailureKind::kOverloaded, "server_error",
     "server_overloaded"},
    {"gemini_503_unavailable.json", 503, FailureKind::kOverloaded, "UNAVAILABLE", ""},
    {"envoy_503.txt", 503, FailureKind::kOverloaded, "", ""},
    {"anthropic_529_overloaded.json", 529, FailureKind::kOverloaded, "overloaded_error", ""},
    {"groq_498_capacity.json", 498, FailureKind::kOverloaded, "internal_server_error",
     "capacity_exceeded"},
    {"", 302, FailureKind::kMalformed, "", ""},
};

std::string Body(const Row& row) {
  return row.file[0] == '\0' ? std::string() : testing::ReadTestdata(std::string("errors/") + row.file);
}

TEST(MapHttpErrorTest, ClassifiesEveryStatusAndEnvelopeRow) {
  const boost::beast::http::fields no_headers;
  for (const Row& row : kRows) {
    SCOPED_TRACE(::testing::Message() << row.status << " " << row.file);
    const UpstreamFailure failure = MapHttpError(row.status, no_headers, Body(row), Now());
    EXPECT_EQ(FailureKindName(failure.kind), FailureKindName(row.kind));
    EXPECT_EQ(failure.http_status, row.status);
    EXPECT_EQ(failure.type, row.type);
    EXPECT_EQ(failure.code, row.code);
    EXPECT_FALSE(failure.message.empty());
    EXPECT_LE(failure.message.size(), kMaxErrorMessageBytes);
  }
}

TEST(MapHttpErrorTest, KeepsTheProvidersMessage) {
  const boost::beast::http::fields none;
  EXPECT_EQ(MapHttpError(529, none, testing::ReadTestdata("errors/anthropic_529_overloaded.json"), Now())
                .message,
            "Overloaded");
  EXPECT_EQ(MapHttpError(404, none, testing::ReadTestdata("errors/fastapi_404_detail.json"), Now()).message,
            "Not Found");
  EXPECT_EQ(MapHttpError(400, none, testing::ReadTestdata("errors/xai_400_prompt_length.json"), Now())
                .message,
            "This model's maximum prompt length is 131072 but the request contains 537812 tokens.");
  EXPECT_EQ(MapHttpError(503, none, testing::ReadTestdata("errors/envoy_503.txt"), Now()).message,
            "upstream connect error or disconnect/reset before headers. reset reason: overflow");
}

TEST(MapHttpErrorTest, DescribesHtmlAndEmptyBodiesByStatusOnly) {
  const boost::beast::http::fields none;
  EXPECT_EQ(MapHttpError(502, none, testing::ReadTestdata("errors/nginx_502.html"), Now()).message,
            "upstream answered HTTP 502");
  EXPECT_EQ(MapHttpError(504, none, "", Now()).message, "upstream answered HTTP 504");
  EXPECT_EQ(MapHttpError(500, none, "\r\n \n", Now()).message, "upstream answered HTTP 500");
}

TEST(MapHttpErrorTest, ReadsFastApiStructuredDetail) {
  const UpstreamFailure failure = MapHttpError(
      422, boost::beast::http::fields(), R"({"detail":[{"loc":["body","model"],"msg":"field required"}]})",
      Now());
  EXPECT_EQ(failure.kind, FailureKind::kInvalidRequest);
  EXPECT_EQ(failure.message, R"([{"loc":["body","model"],"msg":"field required"}])");
}

TEST(MapHttpErrorTest, CutsLongMessagesOnACharacterBoundary) {
  std::string message;
  for (int i = 0; i < 400; ++i) message += "\xC3\xA9";  // "é", two bytes each
  const std::string body = R"({"error":{"message":")" + message + R"(","type":"server_error"}})";
  const UpstreamFailure failure = MapHttpError(500, boost::beast::http::fields(), body, Now());
  EXPECT_EQ(failure.message.size(), kMaxErrorMessageBytes);
  EXPECT_EQ(failure.message, message.substr(0, kMaxErrorMessageBytes));
  const std::string odd = "x" + message;
  const UpstreamFailure cut = MapHttpError(
      500, boost::beast::http::fields(), R"({"error":{"message":")" + odd + R"("}})", Now());
  EXPECT_EQ(cut.message.size(), kMaxErrorMessageBytes - 1);
}

TEST(MapHttpErrorTest, TakesRetryAfterFromHeaders) {
  boost::beast::http::fields headers;
  headers.insert("retry-after", "7");
  headers.insert("x-ratelimit-remaining-requests", "0");
  headers.insert("x-ratelimit-reset-requests", "20s");
  const UpstreamFailure failure =
      MapHttpError(429, headers, testing::ReadTestdata("errors/openai_429_rate_limit.json"), Now());
  EXPECT_EQ(failure.retry_after, milliseconds(20000));
}

TEST(MapHttpErrorTest, HeaderHintsWinOverBodyHints) {
  boost::beast::http::fields headers;
  headers.insert("retry-after", "10");
  EXPECT_EQ(MapHttpError(429, headers, testing::ReadTestdata("errors/gemini_429_per_minute.json"), Now())
                .retry_after,
            milliseconds(10000));
}

TEST(MapHttpErrorTest, FallsBackToGeminiRetryInfo) {
  EXPECT_EQ(MapHttpError(429, boost::beast::http::fields(),
                         testing::ReadTestdata("errors/gemini_429_per_minute.json"), Now())
                .retry_after,
            milliseconds(34000));
}

TEST(MapHttpErrorTest, FallsBackToTheWaitStatedInTheMessage) {
  EXPECT_EQ(MapHttpError(429, boost::beast::http::fields(),
                         testing::ReadTestdata("errors/openai_429_rate_limit.json"), Now())
                .retry_after,
            milliseconds(1200));
}

TEST(MapHttpErrorTest, HasNoRetryHintWhenNothingSaysSo) {
  EXPECT_EQ(MapHttpError(503, boost::beast::http::fields(),
                         testing::ReadTestdata("errors/gemini_503_unavailable.json"), Now())
                .retry_after,
            std::nullopt);
}

TEST(ContextLengthSignatureTest, MatchesCaseInsensitively) {
  EXPECT_TRUE(HasContextLengthSignature("", "PROMPT IS TOO LONG: 210000 tokens > 200000 maximum"));
  EXPECT_TRUE(HasContextLengthSignature("CONTEXT_LENGTH_EXCEEDED", ""));
  EXPECT_TRUE(HasContextLengthSignature("", "Your input exceeds the context window of this model"));
  EXPECT_TRUE(HasContextLengthSignature("", "token limit exceeded"));
}

TEST(ContextLengthSignatureTest, ExcludesRateLimitAndStringLengthErrors) {
  EXPECT_FALSE(HasContextLengthSignature("", "Too many tokens: rate limit exceeded"));
  EXPECT_FALSE(HasContextLengthSignature("", "too many requests, too many tokens"));
  EXPECT_FALSE(HasContextLengthSignature(
      "", "Request too large on tokens per minute (TPM). Please reduce the length of the messages"));
  EXPECT_FALSE(HasContextLengthSignature("string_above_max_length", "maximum context length is"));
  EXPECT_FALSE(HasContextLengthSignature("", "Invalid 'messages[0].content': string too long"));
}

std::optional<UpstreamFailure> StreamError(std::string_view json) {
  boost::json::value value;
  EXPECT_TRUE(ParseJson(json, value)) << json;
  return MapStreamError(value);
}

TEST(MapStreamErrorTest, ClassifiesInStreamErrorsByTypeAndCode) {
  struct Case {
    const char* json;
    FailureKind kind;
    int status;
  };
  const Case cases[] = {
      {R"({"error":{"message":"Upstream overloaded","type":"server_error","param":null,"code":"upstream_overloaded"}})",
       FailureKind::kOverloaded, 200},
      {R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       FailureKind::kOverloaded, 200},
      {R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})",
       FailureKind::kServerError, 200},
      {R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})",
       FailureKind::kRateLimited, 200},
      {R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})",
       FailureKind::kQuota, 200},
      {R"({"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}})",
       FailureKind::kAuth, 200},
      {R"({"error":{"message":"no such model","type":"invalid_request_error","code":"model_not_found"}})",
       FailureKind::kModelNotFound, 200},
      {R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}})",
       FailureKind::kContextLength, 200},
      {R"({"error":{"message":"bad tool schema","type":"invalid_request_error"}})",
       FailureKind::kInvalidRequest, 200},
      {R"({"error":{"message":"something broke"}})", FailureKind::kServerError, 200},
      {R"({"error":"plain string error"})", FailureKind::kServerError, 200},
      {R"([{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}])",
       FailureKind::kRateLimited, 429},
      {R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})",
       FailureKind::kOverloaded, 503},
      {R"({"code":"DataInspectionFailed","message":"Input data may contain inappropriate content.","request_id":"a1"})",
       FailureKind::kServerError, 200},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    const std::optional<UpstreamFailure> failure = StreamError(c.json);
    ASSERT_TRUE(failure.has_value());
    EXPECT_EQ(FailureKindName(failure->kind), FailureKindName(c.kind));
    EXPECT_EQ(failure->http_status, c.status);
    EXPECT_FALSE(failure->message.empty());
  }
}

TEST(MapStreamErrorTest, KeepsTypeCodeAndMessage) {
  const std::optional<UpstreamFailure> failure = StreamError(
      R"({"error":{"message":"Upstream overloaded","type":"server_error","param":null,"code":"upstream_overloaded"}})");
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->type, "server_error");
  EXPECT_EQ(failure->code, "upstream_overloaded");
  EXPECT_EQ(failure->message, "Upstream overloaded");
}

TEST(MapStreamErrorTest, IgnoresEventsThatAreNotErrors) {
  for (const char* json :
       {R"({"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}]})",
        R"({"error":null,"choices":[]})", R"({"error":{}})", R"({"error":""})", "42", "[]",
        R"(["x"])", R"({"type":"message_start","message":{"id":"msg_1"}})",
        R"({"message":"hello"})"}) {
    EXPECT_EQ(StreamError(json), std::nullopt) << json;
  }
}

}  // namespace
}  // namespace llmesh::provider
