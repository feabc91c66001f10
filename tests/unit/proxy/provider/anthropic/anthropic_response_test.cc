#include "proxy/provider/anthropic/anthropic_response.h"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "gtest/gtest.h"
#include "proxy/provider/anthropic/anthropic_mapping.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

DecodedResponse DecodeTranslated(std::string_view file) {
  return DecodeAnthropicResponse(200, testing::ReadTestdata(file), /*passthrough=*/false);
}

TEST(AnthropicResponseDecodeTest, JoinsTextBlocksAndAddsCacheTokensToPromptTokens) {
  const DecodedResponse decoded = DecodeTranslated("anthropic/text_response.json");
  ASSERT_FALSE(decoded.failure.has_value()) << decoded.failure->message;
  ASSERT_TRUE(decoded.chat.has_value());
  EXPECT_EQ(decoded.chat->id, "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(decoded.chat->model, "claude-sonnet-4-5");
  EXPECT_EQ(decoded.chat->text, "Hello, world.");
  EXPECT_TRUE(decoded.chat->tool_calls.empty());
  EXPECT_EQ(decoded.chat->finish_reason, FinishReason::kStop);
  EXPECT_EQ(decoded.chat->stop_sequence, "END");
  EXPECT_EQ(decoded.chat->usage.prompt_tokens, 1360u);  // 340 + 1000 read + 20 written
  EXPECT_EQ(decoded.chat->usage.cached_tokens, 1000u);
  EXPECT_EQ(decoded.chat->usage.completion_tokens, 58u);
  EXPECT_EQ(decoded.chat->usage.reasoning_tokens, 0u);
  EXPECT_EQ(decoded.usage.prompt_tokens, 1360u);
  EXPECT_TRUE(decoded.body.empty());
}

TEST(AnthropicResponseDecodeTest, TurnsToolUseBlocksIntoToolCalls) {
  const DecodedResponse decoded = DecodeTranslated("anthropic/tool_use_response.json");
  ASSERT_TRUE(decoded.chat.has_value());
  EXPECT_EQ(decoded.chat->text, "Let me check.");
  ASSERT_EQ(decoded.chat->tool_calls.size(), 2u);
  EXPECT_EQ(decoded.chat->tool_calls[0].id, "toolu_01A09q90qw90lq917835lq9");
  EXPECT_EQ(decoded.chat->tool_calls[0].name, "get_weather");
  EXPECT_EQ(decoded.chat->tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(decoded.chat->tool_calls[1].arguments, "{}");
  EXPECT_EQ(decoded.chat->finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(decoded.chat->stop_sequence, "");
  EXPECT_EQ(decoded.chat->usage.prompt_tokens, 340u);
}

TEST(AnthropicResponseDecodeTest, TakesThinkingAsReasoningAndSkipsRedactedThinking) {
  const DecodedResponse decoded = DecodeTranslated("anthropic/thinking_response.json");
  ASSERT_TRUE(decoded.chat.has_value());
  EXPECT_EQ(decoded.chat->reasoning, "Two plus two is four.");
  EXPECT_EQ(decoded.chat->text, "4");
  EXPECT_EQ(decoded.chat->finish_reason, FinishReason::kLength);
  EXPECT_EQ(decoded.chat->usage.completion_tokens, 40u);
  EXPECT_EQ(decoded.chat->usage.reasoning_tokens, 35u);
}

TEST(AnthropicResponseDecodeTest, MapsRefusalToContentFilter) {
  const DecodedResponse decoded = DecodeTranslated("anthropic/refusal_response.json");
  ASSERT_TRUE(decoded.chat.has_value());
  EXPECT_EQ(decoded.chat->finish_reason, FinishReason::kContentFilter);
}

TEST(AnthropicResponseDecodeTest, MapsEveryStopReason) {
  EXPECT_EQ(FinishReasonFromStopReason("end_turn"), FinishReason::kStop);
  EXPECT_EQ(FinishReasonFromStopReason("stop_sequence"), FinishReason::kStop);
  EXPECT_EQ(FinishReasonFromStopReason("pause_turn"), FinishReason::kStop);
  EXPECT_EQ(FinishReasonFromStopReason("max_tokens"), FinishReason::kLength);
  EXPECT_EQ(FinishReasonFromStopReason("model_context_window_exceeded"), FinishReason::kLength);
  EXPECT_EQ(FinishReasonFromStopReason("tool_use"), FinishReason::kToolCalls);
  EXPECT_EQ(FinishReasonFromStopReason("refusal"), FinishReason::kContentFilter);
  EXPECT_EQ(FinishReasonFromStopReason("something_new"), FinishReason::kStop);
}

TEST(AnthropicResponseDecodeTest, PassesTheBodyThroughUnchangedWithItsUsage) {
  const std::string body = testing::ReadTestdata("anthropic/text_response.json");
  const DecodedResponse decoded = DecodeAnthropicResponse(200, "\n  " + body, /*passthrough=*/true);
  ASSERT_FALSE(decoded.failure.has_value());
  EXPECT_EQ(decoded.body, body);
  EXPECT_FALSE(decoded.chat.has_value());
  EXPECT_EQ(decoded.usage.prompt_tokens, 1360u);
  EXPECT_EQ(decoded.usage.cached_tokens, 1000u);
  EXPECT_EQ(decoded.usage.completion_tokens, 58u);
}

TEST(AnthropicResponseDecodeTest, ReportsAnErrorEnvelopeSentWithA200) {
  const DecodedResponse decoded = DecodeTranslated("anthropic/error_with_200.json");
  ASSERT_TRUE(decoded.failure.has_value());
  EXPECT_EQ(decoded.failure->kind, FailureKind::kOverloaded);
  EXPECT_EQ(decoded.failure->http_status, 200);
  EXPECT_EQ(decoded.failure->type, "overloaded_error");
  EXPECT_EQ(decoded.failure->message, "Overloaded");
}

TEST(AnthropicResponseDecodeTest, ReportsABodyThatIsNotJsonAsMalformed) {
  const DecodedResponse decoded = DecodeAnthropicResponse(200, R"({"id":"msg_1","content":[)", false);
  ASSERT_TRUE(decoded.failure.has_value());
  EXPECT_EQ(decoded.failure->kind, FailureKind::kMalformed);
  EXPECT_EQ(decoded.failure->message, "upstream answered with a body that is not JSON");
}

TEST(AnthropicResponseDecodeTest, ReportsAnAnswerWithoutContentAsMalformed) {
  const DecodedResponse decoded = DecodeAnthropicResponse(200, R"({"id":"msg_1"})", true);
  ASSERT_TRUE(decoded.failure.has_value());
  EXPECT_EQ(decoded.failure->kind, FailureKind::kMalformed);
  EXPECT_EQ(decoded.failure->message, "upstream answer has no 'content' array");
}

TEST(AnthropicResponseRenderTest, RendersTextToolCallsStopReasonAndUsage) {
  ChatResponse response;
  response.id = "chatcmpl-9";
  response.model = "gpt-4o";
  response.text = "Let me check.";
  response.reasoning = "not rendered";
  response.tool_calls.push_back(ToolCall{"call_1", "get_weather", R"({"city":"Paris"})"});
  response.tool_calls.push_back(ToolCall{"call_2", "broken", "not json"});
  response.finish_reason = FinishReason::kToolCalls;
  response.usage = Usage{120, 30, 100, 0};
  EXPECT_EQ(RenderAnthropicResponse(response, "alias"),
            R"({"id":"msg_chatcmpl-9","type":"message","role":"assistant","model":"alias","content":[)"
            R"({"type":"text","text":"Let me check."},)"
            R"({"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},)"
            R"({"type":"tool_use","id":"call_2","name":"broken","input":{}}],)"
            R"("stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":20,)"
            R"("cache_creation_input_tokens":0,"cache_read_input_tokens":100,"output_tokens":30}})");
}

TEST(AnthropicResponseRenderTest, RendersAMatchedStopSequence) {
  ChatResponse response;
  response.id = "msg_abc";
  response.model = "gemini-2.5-flash";
  response.text = "one two";
  response.stop_sequence = "three";
  const json::value rendered = json::parse(RenderAnthropicResponse(response, ""));
  EXPECT_EQ(rendered.at("id"), "msg_abc");
  EXPECT_EQ(rendered.at("model"), "gemini-2.5-flash");
  EXPECT_EQ(rendered.at("stop_reason"), "stop_sequence");
  EXPECT_EQ(rendered.at("stop_sequence"), "three");
}

TEST(AnthropicResponseRenderTest, GivesAnEmptyAnswerOneEmptyTextBlock) {
  ChatResponse response;
  response.id = "x";
  response.finish_reason = FinishReason::kContentFilter;
  const json::value rendered = json::parse(RenderAnthropicResponse(response, "m"));
  EXPECT_EQ(json::serialize(rendered.at("content")), R"([{"type":"text","text":""}])");
  EXPECT_EQ(rendered.at("stop_reason"), "refusal");
}

TEST(AnthropicResponseRenderTest, DecodesBackToTheSameAnswer) {
  const DecodedResponse decoded = DecodeTranslated("anthropic/tool_use_response.json");
  ASSERT_TRUE(decoded.chat.has_value());
  const DecodedResponse again = DecodeAnthropicResponse(200, RenderAnthropicResponse(*decoded.chat, ""), false);
  ASSERT_TRUE(again.chat.has_value());
  EXPECT_EQ(again.chat->id, decoded.chat->id);
  EXPECT_EQ(again.chat->text, decoded.chat->text);
  ASSERT_EQ(again.chat->tool_calls.size(), 2u);
  EXPECT_EQ(again.chat->tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(again.chat->finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(again.chat->usage.prompt_tokens, 340u);
  EXPECT_EQ(again.chat->usage.completion_tokens, 58u);
}

}  // namespace
}  // namespace llmesh::provider
