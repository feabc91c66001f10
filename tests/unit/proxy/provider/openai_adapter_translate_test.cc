// OpenAiAdapter beyond passthrough: classic Azure OpenAI deployments, and clients of another
// format (Anthropic's /v1/messages) whose canonical request is encoded as an OpenAI body.
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/provider/openai/openai_adapter.h"
#include "proxy/provider/openai/openai_request.h"
#include "tests/unit/proxy/provider/provider_test_support.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using ::testing::ElementsAre;
using testing::HeaderList;
using ::testing::Pair;
using testing::ParsedClientRequest;

// An Anthropic client's request as its codec hands it over: parsed, with the canonical form.
ClientRequest AnthropicChat(bool stream) {
  const std::string body = std::string(R"({"model":"claude-alias","max_tokens":64,"messages":[{"role":"user","content":"hi"}])") +
                           (stream ? R"(,"stream":true})" : "}");
  absl::StatusOr<ClientRequest> request = ParseClientRequest(Operation::kChatCompletions, body, ApiFormat::kAnthropic);
  EXPECT_TRUE(request.ok()) << request.status();
  if (!request.ok()) return ClientRequest{};
  ChatRequest chat;
  chat.messages = {Message{.role = Role::kSystem, .content = {ContentPart::Text("Be brief.")}},
                   Message{.role = Role::kUser, .content = {ContentPart::Text("hi")}}};
  chat.max_tokens = 64;
  chat.stream = stream;
  chat.include_usage = stream;
  request->chat = std::move(chat);
  return *std::move(request);
}

TEST(OpenAiAdapterAzureTest, PostsToTheDeploymentWithTheApiVersionAndAnApiKeyHeader) {
  const OpenAiAdapter adapter(OpenAiDialect::kAzure);
  const ClientRequest request = ParsedClientRequest(Operation::kChatCompletions,
                                                    R"({"model":"fast","messages":[{"role":"user","content":"hi"}]})");
  TargetCall call{"/openai", "gpt-4o-prod", "az-key"};
  call.api_version = "2024-10-21";
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, call);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->method, boost::beast::http::verb::post);
  EXPECT_EQ(encoded->target, "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(encoded->body, R"({"model":"gpt-4o-prod","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_THAT(HeaderList(*encoded), ElementsAre(Pair("api-key", "az-key"), Pair("content-type", "application/json"),
                                                Pair("accept", "application/json")));
}

TEST(OpenAiAdapterAzureTest, StreamsAndEmbedsThroughTheDeployment) {
  const OpenAiAdapter adapter(OpenAiDialect::kAzure);
  TargetCall call{"/openai/", "embed-prod", "az-key"};
  call.api_version = "2025-01-01-preview";
  const absl::StatusOr<ClientRequest> embeddings =
      ParseClientRequest(Operation::kEmbeddings, R"({"model":"e","input":"a"})");
  ASSERT_TRUE(embeddings.ok()) << embeddings.status();
  const absl::StatusOr<EncodedRequest> embed = adapter.Encode(*embeddings, call);
  ASSERT_TRUE(embed.ok()) << embed.status();
  EXPECT_EQ(embed->target, "/openai/deployments/embed-prod/embeddings?api-version=2025-01-01-preview");
  EXPECT_EQ(embed->body, R"({"model":"embed-prod","input":"a"})");

  call.model = "chat-prod";
  const absl::StatusOr<EncodedRequest> stream = adapter.Encode(
      ParsedClientRequest(Operation::kChatCompletions,
                          R"({"model":"fast","messages":[{"role":"user","content":"hi"}],"stream":true})"),
      call);
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(stream->target, "/openai/deployments/chat-prod/chat/completions?api-version=2025-01-01-preview");
  EXPECT_EQ(stream->body,
            R"({"model":"chat-prod","messages":[{"role":"user","content":"hi"}],"stream":true,)"
            R"("stream_options":{"include_usage":true}})");
  EXPECT_THAT(HeaderList(*stream), ElementsAre(Pair("api-key", "az-key"), Pair("content-type", "application/json"),
                                               Pair("accept", "text/event-stream")));
}

TEST(OpenAiAdapterAzureTest, SendsNoCredentialWithoutAKey) {
  const OpenAiAdapter adapter(OpenAiDialect::kAzure);
  TargetCall call{"/openai", "d", ""};
  call.api_version = "2024-10-21";
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(ParsedClientRequest(Operation::kChatCompletions,
                                         R"({"model":"fast","messages":[{"role":"user","content":"hi"}]})"),
                     call);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("content-type", "application/json"), Pair("accept", "application/json")));
}

TEST(OpenAiAdapterAzureTest, TheOpenAiAdapterIgnoresAnApiVersion) {
  const OpenAiAdapter adapter;
  TargetCall call{"/v1", "gpt-4o", "sk"};
  call.api_version = "2024-10-21";
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(ParsedClientRequest(Operation::kChatCompletions,
                                         R"({"model":"fast","messages":[{"role":"user","content":"hi"}]})"),
                     call);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/v1/chat/completions");
}

TEST(OpenAiAdapterTranslateTest, AnAnthropicClientDoesNotPassThrough) {
  const OpenAiAdapter adapter;
  EXPECT_FALSE(adapter.PassesThrough(AnthropicChat(false)));
  EXPECT_TRUE(
      adapter.PassesThrough(ParsedClientRequest(Operation::kChatCompletions, R"({"model":"m","messages":[1]})")));
}

TEST(OpenAiAdapterTranslateTest, EncodesTheCanonicalRequestNotTheClientsBytes) {
  const OpenAiAdapter adapter;
  const ClientRequest request = AnthropicChat(/*stream=*/false);
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{"/v1", "deepseek-chat", "sk-ds"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/v1/chat/completions");
  EXPECT_EQ(encoded->body, EncodeOpenAiChatRequest(*request.chat, "deepseek-chat"));
  EXPECT_EQ(encoded->body,
            R"({"model":"deepseek-chat","messages":[{"role":"system","content":"Be brief."},)"
            R"({"role":"user","content":"hi"}],"max_completion_tokens":64})");
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("authorization", "Bearer sk-ds"), Pair("content-type", "application/json"),
                          Pair("accept", "application/json")));
}

TEST(OpenAiAdapterTranslateTest, CompatibleApisGetTheOutputCapInMaxTokens) {
  const OpenAiAdapter adapter(OpenAiDialect::kCompatible);
  const ClientRequest request = AnthropicChat(/*stream=*/false);
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{"/v1", "deepseek-chat", "sk-ds"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->body,
            R"({"model":"deepseek-chat","messages":[{"role":"system","content":"Be brief."},)"
            R"({"role":"user","content":"hi"}],"max_tokens":64})");
}

TEST(OpenAiAdapterTranslateTest, AsksForAStreamWithUsageForAStreamingClient) {
  const OpenAiAdapter adapter(OpenAiDialect::kAzure);
  TargetCall call{"/openai", "gpt-4o-prod", "az-key"};
  call.api_version = "2024-10-21";
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(AnthropicChat(/*stream=*/true), call);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(encoded->body,
            R"({"model":"gpt-4o-prod","messages":[{"role":"system","content":"Be brief."},)"
            R"({"role":"user","content":"hi"}],"max_completion_tokens":64,"stream":true,)"
            R"("stream_options":{"include_usage":true}})");
  EXPECT_THAT(HeaderList(*encoded), ElementsAre(Pair("api-key", "az-key"), Pair("content-type", "application/json"),
                                                Pair("accept", "text/event-stream")));
}

TEST(OpenAiAdapterTranslateTest, EncodesCanonicalEmbeddings) {
  const OpenAiAdapter adapter;
  ClientRequest request;
  request.operation = Operation::kEmbeddings;
  request.format = ApiFormat::kGemini;
  request.embeddings = EmbeddingsRequest{{"a", "b"}, 256};
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{"/v1", "text-embedding-3-small", "sk"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/v1/embeddings");
  EXPECT_EQ(encoded->body, R"({"model":"text-embedding-3-small","input":["a","b"],"dimensions":256})");
}

TEST(OpenAiAdapterTranslateTest, RefusesARequestWithoutACanonicalForm) {
  const OpenAiAdapter adapter;
  ClientRequest request = AnthropicChat(/*stream=*/false);
  request.chat.reset();
  const absl::StatusOr<EncodedRequest> missing = adapter.Encode(request, TargetCall{"/v1", "gpt-4o", "sk"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(missing.status().message(), "the anthropic request has no translated form for this provider");

  request.untranslatable = "document blocks cannot be translated to another provider's API";
  const absl::StatusOr<EncodedRequest> refused = adapter.Encode(request, TargetCall{"/v1", "gpt-4o", "sk"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), "document blocks cannot be translated to another provider's API");

  // Embeddings need the canonical embeddings request, not the chat one.
  ClientRequest embeddings;
  embeddings.operation = Operation::kEmbeddings;
  embeddings.format = ApiFormat::kGemini;
  embeddings.chat = ChatRequest{};
  const absl::StatusOr<EncodedRequest> wrong = adapter.Encode(embeddings, TargetCall{"/v1", "e", "sk"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(OpenAiAdapterTranslateTest, DecodesTheAnswerIntoACanonicalChatResponse) {
  const OpenAiAdapter adapter;
  const DecodedResponse decoded =
      adapter.Decode(AnthropicChat(false), 200, "\n\n" + testing::ReadTestdata("openai/translate_chat_response.json"));
  ASSERT_FALSE(decoded.failure.has_value()) << decoded.failure->message;
  EXPECT_EQ(decoded.body, "");
  EXPECT_FALSE(decoded.embeddings.has_value());
  ASSERT_TRUE(decoded.chat.has_value());
  EXPECT_EQ(decoded.chat->id, "chatcmpl-9");
  EXPECT_EQ(decoded.chat->model, "deepseek-reasoner");
  EXPECT_EQ(decoded.chat->text, "Let me check.");
  EXPECT_EQ(decoded.chat->reasoning, "The user wants the weather.");
  ASSERT_EQ(decoded.chat->tool_calls.size(), 2u);
  EXPECT_EQ(decoded.chat->tool_calls[0].id, "call_1");
  EXPECT_EQ(decoded.chat->finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(decoded.chat->usage.prompt_tokens, 120u);
  EXPECT_EQ(decoded.usage.prompt_tokens, 120u);
  EXPECT_EQ(decoded.usage.completion_tokens, 45u);
  EXPECT_EQ(decoded.usage.cached_tokens, 100u);
  EXPECT_EQ(decoded.usage.reasoning_tokens, 30u);
}

TEST(OpenAiAdapterTranslateTest, DecodesTogethersEosAsAStop) {
  const OpenAiAdapter adapter;
  const DecodedResponse decoded = adapter.Decode(
      AnthropicChat(false), 200, R"({"id":"t","choices":[{"message":{"content":"ok"},"finish_reason":"eos"}]})");
  ASSERT_TRUE(decoded.chat.has_value());
  EXPECT_EQ(decoded.chat->finish_reason, FinishReason::kStop);
  EXPECT_EQ(decoded.body, "");
}

TEST(OpenAiAdapterTranslateTest, DecodesCanonicalEmbeddings) {
  const OpenAiAdapter adapter;
  ClientRequest request;
  request.operation = Operation::kEmbeddings;
  request.format = ApiFormat::kGemini;
  const DecodedResponse decoded = adapter.Decode(request, 200, testing::ReadTestdata("openai/embeddings_response.json"));
  ASSERT_FALSE(decoded.failure.has_value()) << decoded.failure->message;
  ASSERT_TRUE(decoded.embeddings.has_value());
  EXPECT_EQ(decoded.embeddings->model, "text-embedding-3-small");
  EXPECT_THAT(decoded.embeddings->vectors, ElementsAre(ElementsAre(0.0023, -0.0091), ElementsAre(0.011, 0.0042)));
  EXPECT_EQ(decoded.embeddings->usage.prompt_tokens, 5u);
  EXPECT_EQ(decoded.body, "");
}

TEST(OpenAiAdapterTranslateTest, TurnsUnusableAnswersIntoFailures) {
  const OpenAiAdapter adapter;
  const ClientRequest request = AnthropicChat(false);
  struct Case {
    const char* body;
    FailureKind kind;
    const char* message;
  };
  const Case cases[] = {
      {R"({"choices":[]})", FailureKind::kMalformed, "upstream answer has no choices[0].message"},
      {R"({"id":"x"})", FailureKind::kMalformed, "upstream answer has no 'choices' array"},
      {"<html>", FailureKind::kMalformed, "upstream answered with a body that is not JSON"},
      {R"({"choices":[{"message":{"content":""},"finish_reason":"insufficient_system_resource"}]})",
       FailureKind::kOverloaded, "the provider ran out of inference capacity mid-generation"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    const DecodedResponse decoded = adapter.Decode(request, 200, c.body);
    ASSERT_TRUE(decoded.failure.has_value());
    EXPECT_EQ(decoded.failure->kind, c.kind);
    EXPECT_EQ(decoded.failure->http_status, 200);
    EXPECT_EQ(decoded.failure->message, c.message);
    EXPECT_FALSE(decoded.chat.has_value());
  }
  const DecodedResponse error = adapter.Decode(
      request, 200, R"({"error":{"message":"Upstream overloaded","type":"server_error","code":"upstream_overloaded"}})");
  ASSERT_TRUE(error.failure.has_value());
  EXPECT_EQ(error.failure->kind, FailureKind::kOverloaded);
  EXPECT_FALSE(error.chat.has_value());
}

TEST(OpenAiAdapterTranslateTest, NewStreamDecoderTranslatesForAnotherFormat) {
  const OpenAiAdapter adapter;
  std::unique_ptr<StreamDecoder> decoder = adapter.NewStreamDecoder(AnthropicChat(/*stream=*/true));
  StreamDecoder::Progress progress;
  decoder->Feed(testing::ReadTestdata("openai/text_stream.sse"), progress);
  EXPECT_EQ(progress.wire, "");
  EXPECT_TRUE(progress.done);
  ASSERT_EQ(progress.events.size(), 5u);
  EXPECT_EQ(progress.events[0].kind, StreamEvent::Kind::kStart);
  EXPECT_EQ(progress.events[0].id, "chatcmpl-1");
  EXPECT_EQ(progress.events[1].text, "Hel");
  EXPECT_EQ(progress.events[2].text, "lo");
  EXPECT_EQ(progress.events[3].kind, StreamEvent::Kind::kFinish);
  EXPECT_EQ(progress.events[4].kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(progress.events[4].usage.prompt_tokens, 12u);
  EXPECT_FALSE(decoder->Finish(progress).has_value());
}

}  // namespace
}  // namespace llmesh::provider
