#include "proxy/provider/openai/openai_response.h"

#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using ::testing::ElementsAre;

boost::json::object Body(std::string_view json) { return boost::json::parse(json).as_object(); }

ChatResponse ParseOk(std::string_view json) {
  absl::StatusOr<ChatResponse> response = ParseOpenAiChatResponse(Body(json));
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? *std::move(response) : ChatResponse{};
}

void ExpectSameResponse(const ChatResponse& actual, const ChatResponse& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.model, expected.model);
  EXPECT_EQ(actual.created, expected.created);
  EXPECT_EQ(actual.text, expected.text);
  EXPECT_EQ(actual.reasoning, expected.reasoning);
  ASSERT_EQ(actual.tool_calls.size(), expected.tool_calls.size());
  for (size_t i = 0; i < actual.tool_calls.size(); ++i) {
    EXPECT_EQ(actual.tool_calls[i].id, expected.tool_calls[i].id);
    EXPECT_EQ(actual.tool_calls[i].name, expected.tool_calls[i].name);
    EXPECT_EQ(actual.tool_calls[i].arguments, expected.tool_calls[i].arguments);
  }
  EXPECT_EQ(actual.finish_reason, expected.finish_reason);
  EXPECT_EQ(actual.usage.prompt_tokens, expected.usage.prompt_tokens);
  EXPECT_EQ(actual.usage.completion_tokens, expected.usage.completion_tokens);
  EXPECT_EQ(actual.usage.cached_tokens, expected.usage.cached_tokens);
  EXPECT_EQ(actual.usage.reasoning_tokens, expected.usage.reasoning_tokens);
}

TEST(ParseFinishReasonTest, MapsOpenAiAndCompatibleReasons) {
  const std::pair<const char*, std::optional<FinishReason>> cases[] = {
      {"stop", FinishReason::kStop},
      {"eos", FinishReason::kStop},
      {"eos_token", FinishReason::kStop},
      {"length", FinishReason::kLength},
      {"model_length", FinishReason::kLength},
      {"tool_calls", FinishReason::kToolCalls},
      {"function_call", FinishReason::kToolCalls},
      {"content_filter", FinishReason::kContentFilter},
      {"", std::nullopt},
      {"insufficient_system_resource", std::nullopt},
      {"error", std::nullopt},
      {"pause_turn", std::nullopt},
  };
  for (const auto& [reason, expected] : cases) {
    EXPECT_EQ(ParseFinishReason(reason), expected) << reason;
  }
}

TEST(ParseOpenAiChatResponseTest, ReadsTextReasoningToolCallsAndUsageDetails) {
  const ChatResponse response = ParseOk(testing::ReadTestdata("openai/translate_chat_response.json"));
  EXPECT_EQ(response.id, "chatcmpl-9");
  EXPECT_EQ(response.model, "deepseek-reasoner");
  EXPECT_EQ(response.created, 1715000123);
  EXPECT_EQ(response.text, "Let me check.");
  EXPECT_EQ(response.reasoning, "The user wants the weather.");
  ASSERT_EQ(response.tool_calls.size(), 2u);
  EXPECT_EQ(response.tool_calls[0].id, "call_1");
  EXPECT_EQ(response.tool_calls[0].name, "get_weather");
  EXPECT_EQ(response.tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(response.tool_calls[1].id, "call_2");
  EXPECT_EQ(response.tool_calls[1].name, "get_time");
  EXPECT_EQ(response.tool_calls[1].arguments, "{}");
  EXPECT_EQ(response.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(response.usage.prompt_tokens, 120u);
  EXPECT_EQ(response.usage.completion_tokens, 45u);
  EXPECT_EQ(response.usage.cached_tokens, 100u);
  EXPECT_EQ(response.usage.reasoning_tokens, 30u);
}

TEST(ParseOpenAiChatResponseTest, RoundTripsThroughTheRenderedBody) {
  for (const char* name : {"translate_chat_response", "chat_response"}) {
    SCOPED_TRACE(name);
    const ChatResponse parsed = ParseOk(testing::ReadTestdata(absl::StrCat("openai/", name, ".json")));
    const std::string rendered = RenderOpenAiChatResponse(parsed);
    EXPECT_EQ(rendered, testing::ReadTestdata(absl::StrCat("openai/", name, ".rendered.json")));
    ExpectSameResponse(ParseOk(rendered), parsed);
  }
}

TEST(ParseOpenAiChatResponseTest, ReadsAPlainAnswer) {
  const ChatResponse response = ParseOk(testing::ReadTestdata("openai/chat_response.json"));
  EXPECT_EQ(response.text, "Hello!");
  EXPECT_EQ(response.reasoning, "");
  EXPECT_TRUE(response.tool_calls.empty());
  EXPECT_EQ(response.finish_reason, FinishReason::kStop);
  EXPECT_EQ(response.usage.prompt_tokens, 12u);
  EXPECT_EQ(response.usage.completion_tokens, 3u);
  EXPECT_EQ(response.usage.cached_tokens, 0u);
  EXPECT_EQ(response.usage.reasoning_tokens, 0u);
}

TEST(ParseOpenAiChatResponseTest, MapsFinishReasonsAndDefaultsUnknownOnes) {
  const std::pair<const char*, FinishReason> cases[] = {
      {R"("length")", FinishReason::kLength},
      {R"("model_length")", FinishReason::kLength},
      {R"("content_filter")", FinishReason::kContentFilter},
      {R"("eos_token")", FinishReason::kStop},
      {R"("something_new")", FinishReason::kStop},
      {"null", FinishReason::kStop},
  };
  for (const auto& [reason, expected] : cases) {
    SCOPED_TRACE(reason);
    EXPECT_EQ(ParseOk(absl::StrCat(R"({"choices":[{"message":{"content":"x"},"finish_reason":)", reason, "}]}"))
                  .finish_reason,
              expected);
  }
  // An unknown reason of an answer that called tools is a tool turn.
  EXPECT_EQ(ParseOk(R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","type":"function",)"
                    R"("function":{"name":"f","arguments":"{}"}}]},"finish_reason":null}]})")
                .finish_reason,
            FinishReason::kToolCalls);
}

TEST(ParseOpenAiChatResponseTest, ReadsReasoningUnderGroqsName) {
  EXPECT_EQ(ParseOk(R"({"choices":[{"message":{"content":"4","reasoning":"2+2"},"finish_reason":"stop"}]})").reasoning,
            "2+2");
}

TEST(ParseOpenAiChatResponseTest, ReadsARefusalAsTheText) {
  const ChatResponse response = ParseOk(
      R"({"choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},)"
      R"("finish_reason":"stop"}]})");
  EXPECT_EQ(response.text, "I can't help with that.");
  EXPECT_EQ(response.finish_reason, FinishReason::kStop);
}

TEST(ParseOpenAiChatResponseTest, RejectsAnAnswerWithoutAChoiceMessage) {
  for (const char* body : {R"({"id":"x"})", R"({"choices":[]})", R"({"choices":[{"delta":{}}]})", R"({"choices":[7]})"}) {
    SCOPED_TRACE(body);
    const absl::StatusOr<ChatResponse> response = ParseOpenAiChatResponse(Body(body));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(response.status().message(), "upstream answer has no choices[0].message");
  }
}

TEST(ReadOpenAiUsageTest, ReadsDeepSeekCacheHitsAndGroqUsage) {
  const std::optional<Usage> deepseek = ReadOpenAiUsage(Body(
      R"({"usage":{"prompt_tokens":50,"completion_tokens":5,"prompt_cache_hit_tokens":32,"prompt_cache_miss_tokens":18}})"));
  ASSERT_TRUE(deepseek.has_value());
  EXPECT_EQ(deepseek->prompt_tokens, 50u);
  EXPECT_EQ(deepseek->cached_tokens, 32u);
  const std::optional<Usage> groq =
      ReadOpenAiUsage(Body(R"({"x_groq":{"id":"req_1","usage":{"prompt_tokens":15,"completion_tokens":1}}})"));
  ASSERT_TRUE(groq.has_value());
  EXPECT_EQ(groq->prompt_tokens, 15u);
  EXPECT_EQ(groq->completion_tokens, 1u);
  EXPECT_FALSE(ReadOpenAiUsage(Body(R"({"usage":null})")).has_value());
}

TEST(RenderOpenAiUsageTest, AddsDetailsOnlyWhenKnown) {
  EXPECT_EQ(boost::json::serialize(RenderOpenAiUsage(Usage{12, 3, 0, 0})),
            R"({"prompt_tokens":12,"completion_tokens":3,"total_tokens":15})");
  EXPECT_EQ(boost::json::serialize(RenderOpenAiUsage(Usage{120, 45, 100, 30})),
            R"({"prompt_tokens":120,"completion_tokens":45,"total_tokens":165,)"
            R"("prompt_tokens_details":{"cached_tokens":100},"completion_tokens_details":{"reasoning_tokens":30}})");
}

TEST(RenderOpenAiChatResponseTest, RendersEachFinishReasonAndAnEmptyAnswer) {
  ChatResponse response;
  response.id = "msg_01";
  response.model = "claude-haiku-4-5";
  response.created = 1715000000;
  const std::pair<FinishReason, const char*> cases[] = {
      {FinishReason::kStop, "stop"},
      {FinishReason::kLength, "length"},
      {FinishReason::kToolCalls, "tool_calls"},
      {FinishReason::kContentFilter, "content_filter"},
  };
  for (const auto& [reason, name] : cases) {
    response.finish_reason = reason;
    EXPECT_EQ(RenderOpenAiChatResponse(response),
              absl::StrCat(R"({"id":"msg_01","object":"chat.completion","created":1715000000,"model":"claude-haiku-4-5",)"
                           R"("choices":[{"index":0,"message":{"role":"assistant","content":""},"logprobs":null,)"
                           R"("finish_reason":")",
                           name, R"("}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}})"));
  }
}

TEST(RenderOpenAiChatResponseTest, RendersNullContentForAToolOnlyAnswer) {
  ChatResponse response;
  response.id = "msg_02";
  response.model = "m";
  response.tool_calls = {{"toolu_01", "get_weather", R"({"city":"Paris"})"}};
  response.finish_reason = FinishReason::kToolCalls;
  response.usage = Usage{10, 5, 0, 0};
  EXPECT_EQ(RenderOpenAiChatResponse(response),
            R"({"id":"msg_02","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_01","type":"function",)"
            R"("function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"logprobs":null,)"
            R"("finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}})");
}

EmbeddingsResponse TwoVectors() {
  EmbeddingsResponse response;
  response.model = "text-embedding-004";
  response.vectors = {{1.0, -2.0, 0.5, 0.0023}, {0.25, -0.125}};
  response.usage.prompt_tokens = 7;
  return response;
}

TEST(RenderOpenAiEmbeddingsResponseTest, RendersFloatVectors) {
  EXPECT_EQ(RenderOpenAiEmbeddingsResponse(TwoVectors(), /*base64=*/false),
            R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[1E0,-2E0,5E-1,2.3E-3]},)"
            R"({"object":"embedding","index":1,"embedding":[2.5E-1,-1.25E-1]}],"model":"text-embedding-004",)"
            R"("usage":{"prompt_tokens":7,"total_tokens":7}})");
}

TEST(RenderOpenAiEmbeddingsResponseTest, RendersBase64OfLittleEndianFloat32) {
  // struct.pack('<4f', 1.0, -2.0, 0.5, 0.0023) and struct.pack('<2f', 0.25, -0.125), base64.
  EXPECT_EQ(RenderOpenAiEmbeddingsResponse(TwoVectors(), /*base64=*/true),
            R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPwAAAMAAAAA/mbsWOw=="},)"
            R"({"object":"embedding","index":1,"embedding":"AACAPgAAAL4="}],"model":"text-embedding-004",)"
            R"("usage":{"prompt_tokens":7,"total_tokens":7}})");
}

TEST(ParseOpenAiEmbeddingsResponseTest, ReadsVectorsInIndexOrderAndUsage) {
  const absl::StatusOr<EmbeddingsResponse> golden =
      ParseOpenAiEmbeddingsResponse(Body(testing::ReadTestdata("openai/embeddings_response.json")));
  ASSERT_TRUE(golden.ok()) << golden.status();
  EXPECT_EQ(golden->model, "text-embedding-3-small");
  EXPECT_THAT(golden->vectors, ElementsAre(ElementsAre(0.0023, -0.0091), ElementsAre(0.011, 0.0042)));
  EXPECT_EQ(golden->usage.prompt_tokens, 5u);

  const absl::StatusOr<EmbeddingsResponse> shuffled = ParseOpenAiEmbeddingsResponse(
      Body(R"({"data":[{"index":1,"embedding":[2]},{"index":0,"embedding":[1.5,0]}]})"));
  ASSERT_TRUE(shuffled.ok()) << shuffled.status();
  EXPECT_THAT(shuffled->vectors, ElementsAre(ElementsAre(1.5, 0.0), ElementsAre(2.0)));
}

TEST(ParseOpenAiEmbeddingsResponseTest, RejectsMissingOrBadVectors) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"object":"list"})", "upstream answer has no 'data' array"},
      {R"({"data":[{"index":0}]})", "upstream answer's data[0] has no embedding array"},
      {R"({"data":[{"index":0,"embedding":"AACAPw=="}]})", "upstream answer's data[0] has no embedding array"},
      {R"({"data":[{"index":0,"embedding":[1,"x"]}]})", "upstream answer's data[0] has a non-numeric embedding"},
      {R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]})",
       "upstream answer's data[1] has a bad index"},
      {R"({"data":[{"index":5,"embedding":[1]}]})", "upstream answer's data[0] has a bad index"},
  };
  for (const auto& [body, message] : cases) {
    SCOPED_TRACE(body);
    const absl::StatusOr<EmbeddingsResponse> response = ParseOpenAiEmbeddingsResponse(Body(body));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(response.status().message(), message);
  }
}

}  // namespace
}  // namespace llmesh::provider
