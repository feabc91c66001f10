#include "proxy/provider/openai/openai_adapter.h"

#include <string>
#include <utility>
#include <vector>

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

ClientRequest Chat(std::string_view body) { return ParsedClientRequest(Operation::kChatCompletions, body); }

TEST(OpenAiAdapterEncodeTest, SendsTheClientBodyWithTheTargetsModel) {
  const OpenAiAdapter adapter;
  const ClientRequest request = Chat(testing::ReadTestdata("openai/chat_request.json"));
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(request, TargetCall{"/v1", "gpt-4o-mini", "sk-test"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->method, boost::beast::http::verb::post);
  EXPECT_EQ(encoded->target, "/v1/chat/completions");
  EXPECT_EQ(encoded->body, testing::ReadTestdata("openai/chat_request.encoded.json"));
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("authorization", "Bearer sk-test"), Pair("content-type", "application/json"),
                          Pair("accept", "application/json")));
}

TEST(OpenAiAdapterEncodeTest, ForcesIncludeUsageOnStreamsAndKeepsOtherStreamOptions) {
  const OpenAiAdapter adapter;
  const ClientRequest request = Chat(testing::ReadTestdata("openai/chat_stream_request.json"));
  EXPECT_FALSE(request.include_usage);
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(request, TargetCall{"", "deepseek-chat", "sk-ds"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/chat/completions");
  EXPECT_EQ(encoded->body, testing::ReadTestdata("openai/chat_stream_request.encoded.json"));
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("authorization", "Bearer sk-ds"), Pair("content-type", "application/json"),
                          Pair("accept", "text/event-stream")));
}

TEST(OpenAiAdapterEncodeTest, AddsStreamOptionsWhenTheClientSentNone) {
  const OpenAiAdapter adapter;
  const ClientRequest request =
      Chat(testing::ReadTestdata("openai/chat_stream_no_options_request.json"));
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(request, TargetCall{"/openai/v1", "llama-3.3-70b-versatile", "gsk_x"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/openai/v1/chat/completions");
  EXPECT_EQ(encoded->body,
            testing::ReadTestdata("openai/chat_stream_no_options_request.encoded.json"));
}

TEST(OpenAiAdapterEncodeTest, OverridesAClientIncludeUsageOfFalse) {
  const OpenAiAdapter adapter;
  const ClientRequest request = Chat(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":false}})");
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{"/v1", "gpt-4o", ""});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->body,
            R"({"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}})");
}

TEST(OpenAiAdapterEncodeTest, PassesStreamOptionsThroughUntouchedWithoutStream) {
  const OpenAiAdapter adapter;
  const ClientRequest request = Chat(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":false}})");
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{"/v1", "gpt-4o", ""});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->body,
            R"({"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":false}})");
}

TEST(OpenAiAdapterEncodeTest, EncodesEmbeddings) {
  const OpenAiAdapter adapter;
  const ClientRequest request =
      ParsedClientRequest(Operation::kEmbeddings, testing::ReadTestdata("openai/embeddings_request.json"));
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(request, TargetCall{"/v1", "text-embedding-3-small", "sk-test"});
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->target, "/v1/embeddings");
  EXPECT_EQ(encoded->body, testing::ReadTestdata("openai/embeddings_request.encoded.json"));
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("authorization", "Bearer sk-test"), Pair("content-type", "application/json"),
                          Pair("accept", "application/json")));
}

TEST(OpenAiAdapterEncodeTest, SendsNoCredentialWithoutAKey) {
  const OpenAiAdapter adapter;
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(
      Chat(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"), TargetCall{"/v1", "local", ""});
  ASSERT_TRUE(encoded.ok());
  EXPECT_THAT(HeaderList(*encoded),
              ElementsAre(Pair("content-type", "application/json"), Pair("accept", "application/json")));
}

TEST(OpenAiAdapterEncodeTest, JoinsBasePathsWithOrWithoutSlashes) {
  const OpenAiAdapter adapter;
  const ClientRequest request = Chat(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "/chat/completions"},
      {"/", "/chat/completions"},
      {"/v1", "/v1/chat/completions"},
      {"/v1/", "/v1/chat/completions"},
      {"v1", "/v1/chat/completions"},
      {"/v1beta/openai/", "/v1beta/openai/chat/completions"},
      {"/compatible-mode/v1", "/compatible-mode/v1/chat/completions"},
  };
  for (const auto& [base, target] : cases) {
    const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{base, "m", ""});
    ASSERT_TRUE(encoded.ok());
    EXPECT_EQ(encoded->target, target) << base;
  }
}

TEST(OpenAiAdapterEncodeTest, CopiesTheClientsBytesExactly) {
  const OpenAiAdapter adapter;
  const ClientRequest request = Chat(
      "{ \"model\" : \"fast\",\n  \"messages\": [ {\"role\":\"user\",\"content\":\"caf\\u00e9 \\\"q\\\" {\"} ],\n"
      "  \"temperature\": 1.0, \"top_p\":1e0, \"seed\": 12345678901234567890 }\n");
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{"/v1", "gpt-4o", ""});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->body,
            "{ \"model\" : \"gpt-4o\",\n  \"messages\": [ {\"role\":\"user\",\"content\":\"caf\\u00e9 \\\"q\\\" {\"} ],\n"
            "  \"temperature\": 1.0, \"top_p\":1e0, \"seed\": 12345678901234567890 }\n");
  // A stream request adds include_usage to stream_options: its members are written one by one,
  // each member's value as the client wrote it.
  const ClientRequest stream = Chat(
      "{ \"model\" : \"fast\", \"stream\": true,\n  \"messages\": [ {\"role\":\"user\",\"content\":\"x\"} ],\n"
      "  \"seed\": 12345678901234567890 }\n");
  const absl::StatusOr<EncodedRequest> streamed = adapter.Encode(stream, TargetCall{"/v1", "gpt-4o", ""});
  ASSERT_TRUE(streamed.ok());
  EXPECT_EQ(streamed->body,
            "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[ {\"role\":\"user\",\"content\":\"x\"} ],"
            "\"seed\":12345678901234567890,\"stream_options\":{\"include_usage\":true}}");
}

TEST(OpenAiAdapterEncodeTest, RecognisesAnEscapedModelKey) {
  const OpenAiAdapter adapter;
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(
      Chat(R"({"mod\u0065l":"fast","messages":[1]})"), TargetCall{"/v1", "gpt-4o", ""});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->body, R"({"model":"gpt-4o","messages":[1]})");
}

TEST(OpenAiAdapterEncodeTest, SerialisesARequestBuiltInCode) {
  const OpenAiAdapter adapter;
  ClientRequest request;
  request.model = "fast";
  request.stream = true;
  request.body = {{"model", "fast"}, {"messages", boost::json::array{1}}, {"stream", true}};
  const absl::StatusOr<EncodedRequest> encoded = adapter.Encode(request, TargetCall{"/v1", "gpt-4o", ""});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->body,
            R"({"model":"gpt-4o","messages":[1],"stream":true,"stream_options":{"include_usage":true}})");
}

TEST(OpenAiAdapterEncodeTest, EscapesTheTargetModelName) {
  const OpenAiAdapter adapter;
  const absl::StatusOr<EncodedRequest> encoded =
      adapter.Encode(Chat(R"({"model":"m","messages":[1]})"), TargetCall{"/v1", "org/\"odd\"", ""});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->body, R"({"model":"org/\"odd\"","messages":[1]})");
}

TEST(OpenAiAdapterDecodeTest, ReturnsTheUpstreamBodyAsIsWithUsage) {
  const OpenAiAdapter adapter;
  const std::string body = testing::ReadTestdata("openai/chat_response.json");
  const DecodedResponse decoded = adapter.Decode(Chat(R"({"model":"m","messages":[1]})"), 200, body);
  ASSERT_FALSE(decoded.failure.has_value()) << decoded.failure->message;
  EXPECT_EQ(decoded.body, body);
  EXPECT_EQ(decoded.usage.prompt_tokens, 12u);
  EXPECT_EQ(decoded.usage.completion_tokens, 3u);
}

TEST(OpenAiAdapterDecodeTest, TrimsDeepSeekKeepAliveBlankLines) {
  const OpenAiAdapter adapter;
  const std::string body = testing::ReadTestdata("openai/deepseek_response_leading_blank_lines.json");
  const DecodedResponse decoded = adapter.Decode(Chat(R"({"model":"m","messages":[1]})"), 200, body);
  ASSERT_FALSE(decoded.failure.has_value()) << decoded.failure->message;
  EXPECT_EQ(decoded.body, body.substr(4));
  EXPECT_EQ(decoded.usage.prompt_tokens, 9u);
  EXPECT_EQ(decoded.usage.completion_tokens, 1u);
}

TEST(OpenAiAdapterDecodeTest, DecodesEmbeddings) {
  const OpenAiAdapter adapter;
  const std::string body = testing::ReadTestdata("openai/embeddings_response.json");
  const DecodedResponse decoded =
      adapter.Decode(ParsedClientRequest(Operation::kEmbeddings, R"({"model":"e","input":"x"})"), 200, body);
  ASSERT_FALSE(decoded.failure.has_value()) << decoded.failure->message;
  EXPECT_EQ(decoded.body, body);
  EXPECT_EQ(decoded.usage.prompt_tokens, 5u);
  EXPECT_EQ(decoded.usage.completion_tokens, 0u);
}

TEST(OpenAiAdapterDecodeTest, RewritesTogethersEosFinishReasonToStop) {
  const OpenAiAdapter adapter;
  const DecodedResponse decoded = adapter.Decode(
      Chat(R"({"model":"m","messages":[1]})"), 200,
      R"({"id":"t1","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"eos_token"}],"usage":{"prompt_tokens":3,"completion_tokens":1}})");
  ASSERT_FALSE(decoded.failure.has_value());
  EXPECT_EQ(decoded.body,
            R"({"id":"t1","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}})");
  EXPECT_EQ(decoded.usage.prompt_tokens, 3u);
}

TEST(OpenAiAdapterDecodeTest, ReadsUsageFromEveryPlaceAndSpellingWithoutChangingTheBody) {
  const OpenAiAdapter adapter;
  const ClientRequest chat = Chat(R"({"model":"m","messages":[1]})");
  struct Case {
    const char* body;
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
  };
  const Case cases[] = {
      {R"({"choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":2}})", 4, 2},
      {R"({"choices":[],"x_groq":{"usage":{"prompt_tokens":7,"completion_tokens":1}}})", 7, 1},
      {R"({"choices":[null,{"finish_reason":null}],"us\u0061ge":{"prompt_tokens":3}})", 3, 0},
      {R"({"choices":[],"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":9}})", 9, 0},
      {R"({"choices":[{"finish_reason":"length"}]} )", 0, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    const DecodedResponse decoded = adapter.Decode(chat, 200, c.body);
    ASSERT_FALSE(decoded.failure.has_value());
    EXPECT_EQ(decoded.body, c.body);
    EXPECT_EQ(decoded.usage.prompt_tokens, c.prompt_tokens);
    EXPECT_EQ(decoded.usage.completion_tokens, c.completion_tokens);
  }
}

struct DecodeFailure {
  const char* body;
  FailureKind kind;
  int http_status;
};

TEST(OpenAiAdapterDecodeTest, TurnsBadOrErrorCarryingBodiesIntoFailures) {
  const OpenAiAdapter adapter;
  const ClientRequest chat = Chat(R"({"model":"m","messages":[1]})");
  const DecodeFailure cases[] = {
      {"", FailureKind::kMalformed, 200},
      {"\n\n", FailureKind::kMalformed, 200},
      {"<html>oops</html>", FailureKind::kMalformed, 200},
      {R"({"id":"x","choices":[)", FailureKind::kMalformed, 200},
      {R"({"id":"x","object":"chat.completion"})", FailureKind::kMalformed, 200},
      {R"({"object":"list","data":[]})", FailureKind::kMalformed, 200},
      {R"("just a string")", FailureKind::kMalformed, 200},
      {R"({"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}})",
       FailureKind::kServerError, 200},
      {R"([{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}])",
       FailureKind::kRateLimited, 429},
      {R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hel"},"finish_reason":"insufficient_system_resource"}]})",
       FailureKind::kOverloaded, 200},
      {R"({"id":"x","choices":[{"finish_reason":"stop","logprobs":tru}]})", FailureKind::kMalformed, 200},
      {R"({"id":"x","choices":{"finish_reason":"stop"}})", FailureKind::kMalformed, 200},
      {R"({"code":"Throttling","message":"Requests throttling triggered.","request_id":"r1"})",
       FailureKind::kServerError, 200},
  };
  for (const DecodeFailure& c : cases) {
    SCOPED_TRACE(c.body);
    const DecodedResponse decoded = adapter.Decode(chat, 200, c.body);
    ASSERT_TRUE(decoded.failure.has_value());
    EXPECT_EQ(FailureKindName(decoded.failure->kind), FailureKindName(c.kind));
    EXPECT_EQ(decoded.failure->http_status, c.http_status);
    EXPECT_FALSE(decoded.failure->message.empty());
    EXPECT_TRUE(decoded.body.empty());
  }
}

TEST(OpenAiAdapterDecodeErrorTest, MapsStatusBodyAndRetryHeaders) {
  const OpenAiAdapter adapter;
  boost::beast::http::fields headers;
  headers.insert("retry-after-ms", "2500");
  const UpstreamFailure failure = adapter.DecodeError(
      429, headers, testing::ReadTestdata("errors/openai_429_rate_limit.json"), absl::UnixEpoch());
  EXPECT_EQ(failure.kind, FailureKind::kRateLimited);
  EXPECT_EQ(failure.http_status, 429);
  EXPECT_EQ(failure.code, "rate_limit_exceeded");
  EXPECT_EQ(failure.retry_after, std::chrono::milliseconds(2500));
}

TEST(OpenAiAdapterTest, NewStreamDecoderHonoursTheClientsUsageChoice) {
  const OpenAiAdapter adapter;
  const std::string stream = testing::ReadTestdata("openai/text_stream.sse");
  for (const bool include_usage : {true, false}) {
    const ClientRequest request =
        Chat(include_usage ? R"({"model":"m","messages":[1],"stream":true,"stream_options":{"include_usage":true}})"
                           : R"({"model":"m","messages":[1],"stream":true})");
    std::unique_ptr<StreamDecoder> decoder = adapter.NewStreamDecoder(request);
    StreamDecoder::Progress progress;
    decoder->Feed(stream, progress);
    EXPECT_EQ(progress.wire, testing::ReadTestdata(include_usage ? "openai/text_stream.wire"
                                                                 : "openai/text_stream.no_usage.wire"));
    EXPECT_EQ(decoder->usage().prompt_tokens, 12u);
    EXPECT_EQ(decoder->usage().completion_tokens, 2u);
  }
}

}  // namespace
}  // namespace llmesh::provider
