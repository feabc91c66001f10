#include "proxy/provider/anthropic/anthropic_adapter.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/proxy/provider/provider_test_support.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using ::testing::ElementsAre;
using testing::HeaderList;
using ::testing::Pair;
using testing::ParsedClientRequest;

ClientRequest AnthropicClient(std::string_view body) {
  return ParsedClientRequest(Operation::kChatCompletions, body, ApiFormat::kAnthropic);
}

// An OpenAI client's request in canonical form, as the codec leaves it for a translating target.
ClientRequest TranslatedClient(bool stream) {
  ClientRequest request;
  request.format = ApiFormat::kOpenAi;
  request.model = "chat";
  request.stream = stream;
  ChatRequest chat;
  Message message;
  message.content.push_back(ContentPart::Text("Hi"));
  chat.messages.push_back(std::move(message));
  chat.stream = stream;
  request.chat = std::move(chat);
  return request;
}

absl::Time Now() { return absl::FromUnixSeconds(1740435900); }  // 2025-02-24T22:25:00Z

TEST(AnthropicAdapterEncodeTest, PassesAnAnthropicClientsBodyThroughWithOnlyTheModelReplaced) {
  const AnthropicAdapter adapter;
  const ClientRequest request = AnthropicClient(testing::ReadTestdata("anthropic/passthrough_request.json"));
  ASSERT_TRUE(adapter.PassesThrough(request));
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(request, TargetCall{"/v1", "claude-sonnet-4-5-20250929", "sk-ant-test"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->method, boost::beast::http::verb::post);
  EXPECT_EQ(encoded->target, "/v1/messages");
  EXPECT_EQ(encoded->body, testing::ReadTestdata("anthropic/passthrough_request.encoded.json"));
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("x-api-key", "sk-ant-test"), Pair("anthropic-version", "2023-06-01"),
                          Pair("content-type", "application/json"), Pair("accept", "text/event-stream")));
}

TEST(AnthropicAdapterEncodeTest, AddsTheModelWhenTheRawBodyHasNone) {
  const AnthropicAdapter adapter;
  ClientRequest request = AnthropicClient(R"({"model":"a","max_tokens":5,"messages":[{"role":"user","content":"x"}]})");
  request.raw = R"({"max_tokens":5,"messages":[{"role":"user","content":"x"}]})";
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{"/v1", "claude", ""});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->body, R"({"max_tokens":5,"messages":[{"role":"user","content":"x"}],"model":"claude"})");
}

TEST(AnthropicAdapterEncodeTest, EncodesAnotherFormatsRequestWithTheModelsOutputCap) {
  const AnthropicAdapter adapter;
  TargetCall call{"/v1/", "claude-haiku", "", 2048};
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(TranslatedClient(false), call);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/v1/messages");
  EXPECT_EQ(encoded->body,
            R"({"model":"claude-haiku","max_tokens":2048,"messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("anthropic-version", "2023-06-01"), Pair("content-type", "application/json"),
                          Pair("accept", "application/json")));
}

TEST(AnthropicAdapterEncodeTest, DefaultsMaxTokensAndAsksForAStream) {
  const AnthropicAdapter adapter;
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(TranslatedClient(true), TargetCall{"", "claude", "k"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/messages");
  EXPECT_EQ(encoded->body,
            R"({"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":"Hi"}],"stream":true})");
  EXPECT_THAT(HeaderList(*encoded), ::testing::Contains(Pair("accept", "text/event-stream")));
}

TEST(AnthropicAdapterEncodeTest, RefusesARequestWithoutCanonicalForm) {
  const AnthropicAdapter adapter;
  ClientRequest request = TranslatedClient(false);
  request.chat.reset();
  request.untranslatable = "audio input cannot be translated";
  EXPECT_EQ(adapter.Encode(request, TargetCall{"/v1", "claude", "k"}).status(),
            absl::FailedPreconditionError("audio input cannot be translated"));
}

TEST(AnthropicAdapterEncodeTest, RefusesEmbeddings) {
  const AnthropicAdapter adapter;
  ClientRequest request;
  request.operation = Operation::kEmbeddings;
  request.embeddings = EmbeddingsRequest{{"hello"}, std::nullopt};
  EXPECT_EQ(adapter.Encode(request, TargetCall{"/v1", "claude", "k"}).status(),
            absl::FailedPreconditionError("Anthropic has no embeddings API"));
}

TEST(AnthropicAdapterEncodeTest, PassesOnWhatMessagesCannotExpress) {
  const AnthropicAdapter adapter;
  ClientRequest request = TranslatedClient(false);
  request.chat->n = 2;
  EXPECT_EQ(adapter.Encode(request, TargetCall{"/v1", "claude", "k"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(AnthropicAdapterDecodeTest, ReturnsTheBodyForAnAnthropicClientAndAChatResponseOtherwise) {
  const AnthropicAdapter adapter;
  const std::string body = testing::ReadTestdata("anthropic/tool_use_response.json");
  const DecodedResponse passed = adapter.Decode(
      AnthropicClient(R"({"model":"a","max_tokens":5,"messages":[{"role":"user","content":"x"}]})"), 200, body);
  EXPECT_EQ(passed.body, body);
  EXPECT_FALSE(passed.chat.has_value());
  const DecodedResponse translated = adapter.Decode(TranslatedClient(false), 200, body);
  ASSERT_TRUE(translated.chat.has_value());
  EXPECT_EQ(translated.chat->tool_calls.size(), 2u);
  EXPECT_EQ(translated.usage.prompt_tokens, 340u);
}

struct ErrorCase {
  std::string_view file;
  int status;
  FailureKind kind;
  std::string_view type;
};

TEST(AnthropicAdapterDecodeErrorTest, ClassifiesEveryGoldenErrorBody) {
  const ErrorCase cases[] = {
      {"anthropic_400_context_limit.json", 400, FailureKind::kContextLength, "invalid_request_error"},
      {"anthropic_400_prompt_too_long.json", 400, FailureKind::kContextLength, "invalid_request_error"},
      {"anthropic_400_credit_balance.json", 400, FailureKind::kQuota, "invalid_request_error"},
      {"anthropic_402_billing.json", 402, FailureKind::kQuota, "billing_error"},
      {"anthropic_403_permission.json", 403, FailureKind::kAuth, "permission_error"},
      {"anthropic_413_request_too_large.json", 413, FailureKind::kInvalidRequest, "request_too_large"},
      {"anthropic_429_rate_limit.json", 429, FailureKind::kRateLimited, "rate_limit_error"},
      {"anthropic_500_api_error.json", 500, FailureKind::kServerError, "api_error"},
      {"anthropic_504_timeout.json", 504, FailureKind::kServerError, "timeout_error"},
      {"anthropic_529_overloaded.json", 529, FailureKind::kOverloaded, "overloaded_error"},
  };
  const AnthropicAdapter adapter;
  const boost::beast::http::fields none;
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.file);
    const UpstreamFailure failure =
        adapter.DecodeError(c.status, none, testing::ReadTestdata("errors/" + std::string(c.file)), Now());
    EXPECT_EQ(failure.kind, c.kind);
    EXPECT_EQ(failure.http_status, c.status);
    EXPECT_EQ(failure.type, c.type);
    EXPECT_FALSE(failure.retry_after.has_value());
  }
}

TEST(AnthropicAdapterDecodeErrorTest, TakesTheLongestRateLimitResetAsTheRetryHint) {
  const AnthropicAdapter adapter;
  boost::beast::http::fields headers;
  headers.set("anthropic-ratelimit-requests-remaining", "999");
  headers.set("anthropic-ratelimit-requests-reset", "2025-02-24T22:25:30Z");
  headers.set("anthropic-ratelimit-input-tokens-remaining", "0");
  headers.set("anthropic-ratelimit-input-tokens-reset", "2025-02-24T22:25:47Z");
  headers.set("retry-after", "12");
  const UpstreamFailure failure =
      adapter.DecodeError(429, headers, testing::ReadTestdata("errors/anthropic_429_rate_limit.json"), Now());
  EXPECT_EQ(failure.kind, FailureKind::kRateLimited);
  EXPECT_EQ(failure.retry_after, std::chrono::milliseconds(47000));
}

TEST(AnthropicAdapterDecodeErrorTest, Honours529RetryAfter) {
  const AnthropicAdapter adapter;
  boost::beast::http::fields headers;
  headers.set("retry-after", "3");
  const UpstreamFailure failure =
      adapter.DecodeError(529, headers, testing::ReadTestdata("errors/anthropic_529_overloaded.json"), Now());
  EXPECT_EQ(failure.kind, FailureKind::kOverloaded);
  EXPECT_EQ(failure.retry_after, std::chrono::milliseconds(3000));
}

TEST(AnthropicAdapterStreamTest, PassesEventsThroughForAnAnthropicClientAndTranslatesOtherwise) {
  const AnthropicAdapter adapter;
  const std::string body = testing::ReadTestdata("anthropic/text_stream.sse");
  const ClientRequest anthropic = AnthropicClient(
      R"({"model":"a","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]})");
  std::unique_ptr<StreamDecoder> passthrough = adapter.NewStreamDecoder(anthropic);
  StreamDecoder::Progress passed;
  passthrough->Feed(body, passed);
  EXPECT_EQ(passed.wire, body);
  EXPECT_TRUE(passed.events.empty());

  const ClientRequest openai = TranslatedClient(true);
  std::unique_ptr<StreamDecoder> translating = adapter.NewStreamDecoder(openai);
  StreamDecoder::Progress translated;
  translating->Feed(body, translated);
  EXPECT_TRUE(translated.wire.empty());
  EXPECT_EQ(translated.events.size(), 5u);
  EXPECT_TRUE(translated.done);
  EXPECT_EQ(translating->usage().prompt_tokens, 130u);
}

}  // namespace
}  // namespace llmesh::provider
