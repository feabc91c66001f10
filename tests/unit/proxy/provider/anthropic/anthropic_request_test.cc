#include "proxy/provider/anthropic/anthropic_request.h"

#include <string>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/provider/openai/openai_request.h"
#include "proxy/provider/provider.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

namespace json = boost::json;

using ::testing::HasSubstr;

Message Text(Role role, std::string text) {
  Message message;
  message.role = role;
  message.content.push_back(ContentPart::Text(std::move(text)));
  return message;
}

ContentPart InlineImage(std::string media_type, std::string data) {
  ContentPart part;
  part.kind = ContentPart::Kind::kImage;
  part.media_type = std::move(media_type);
  part.data = std::move(data);
  return part;
}

ContentPart UrlImage(std::string url) {
  ContentPart part;
  part.kind = ContentPart::Kind::kImage;
  part.url = std::move(url);
  return part;
}

Message ToolResult(std::string id, std::string text) {
  Message message = Text(Role::kTool, std::move(text));
  message.tool_call_id = std::move(id);
  return message;
}

// The request the golden encode_chat_request.expected.json was written for: the images as the
// OpenAI parser leaves a data: URL (media type and base64 split) and an https URL.
ChatRequest FullRequest() {
  ChatRequest request;
  request.messages.push_back(Text(Role::kSystem, "You are terse."));
  Message look = Text(Role::kUser, "What is in these?");
  look.content.push_back(InlineImage("image/png", "iVBORw0KGgo="));
  look.content.push_back(UrlImage("https://example.com/cat.jpg"));
  request.messages.push_back(std::move(look));
  request.messages.push_back(Text(Role::kUser, "Be quick."));
  request.messages.push_back(Text(Role::kSystem, "Answer in French."));
  Message calls = Text(Role::kAssistant, "Checking.");
  calls.tool_calls.push_back(ToolCall{"call_abc", "get_weather", R"({"city":"Paris"})"});
  calls.tool_calls.push_back(ToolCall{"call_def", "get_time", ""});
  request.messages.push_back(std::move(calls));
  request.messages.push_back(ToolResult("call_abc", R"({"temp_c":18})"));
  request.messages.push_back(Text(Role::kUser, "Also:"));
  request.messages.push_back(ToolResult("call_def", "12:00"));
  request.messages.push_back(Text(Role::kAssistant, "Il fait 18 degrés."));
  request.messages.push_back(Text(Role::kUser, "Merci"));
  request.tools.push_back(ToolDefinition{
      "get_weather", "Weather for a city",
      json::parse(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")});
  request.tools.push_back(ToolDefinition{"get_time", "", nullptr});
  request.tool_choice = ToolChoice{ToolChoice::Mode::kNamed, "get_weather"};
  request.parallel_tool_calls = false;
  request.max_tokens = 256;
  request.temperature = 1.5;
  request.top_p = 0.9;
  request.top_k = 40;
  request.presence_penalty = 0.25;
  request.frequency_penalty = -0.5;
  request.seed = 42;
  request.stop = {"END", "STOP"};
  request.response_format = ResponseFormat{
      ResponseFormat::Kind::kJsonSchema, "answer",
      json::parse(R"({"type":"object","properties":{"text":{"type":"string"}},"required":["text"]})"), true};
  request.user = "u-1";
  request.stream = true;
  request.include_usage = true;
  return request;
}

ChatRequest OneUserMessage(std::string text) {
  ChatRequest request;
  request.messages.push_back(Text(Role::kUser, std::move(text)));
  return request;
}

TEST(AnthropicRequestEncodeTest, MatchesTheGoldenBodyForEveryMapping) {
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(FullRequest(), "claude-sonnet-4-5", 1000);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(json::parse(*body),
            json::parse(testing::ReadTestdata("anthropic/encode_chat_request.expected.json")))
      << *body;
}

TEST(AnthropicRequestEncodeTest, SendsAnOpenAiDataUrlImageAsABase64Source) {
  const absl::StatusOr<ChatRequest> request = ParseOpenAiChatRequest(
      json::parse(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What?"},)"
                  R"({"type":"image_url","image_url":{"url":"data:image/webp;base64,UklGRg=="}}]}]})")
          .as_object());
  ASSERT_TRUE(request.ok()) << request.status();
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(*request, "claude", 0);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body,
            R"({"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"What?"},)"
            R"({"type":"image","source":{"type":"base64","media_type":"image/webp","data":"UklGRg=="}}]}]})");
}

TEST(AnthropicRequestEncodeTest, UsesTheModelsCapWhenTheRequestHasNoMaxTokens) {
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(OneUserMessage("Hi"), "claude", 8192);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, R"({"model":"claude","max_tokens":8192,"messages":[{"role":"user","content":"Hi"}]})");
}

TEST(AnthropicRequestEncodeTest, DefaultsMaxTokensTo4096WithoutRequestOrModelCap) {
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(OneUserMessage("Hi"), "claude", 0);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, R"({"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":"Hi"}]})");
}

TEST(AnthropicRequestEncodeTest, WritesASingleSystemMessageAsAString) {
  ChatRequest request = OneUserMessage("Hi");
  request.messages.insert(request.messages.begin(), Text(Role::kSystem, "Be brief."));
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body,
            R"({"model":"claude","max_tokens":4096,"system":"Be brief.",)"
            R"("messages":[{"role":"user","content":"Hi"}]})");
}

TEST(AnthropicRequestEncodeTest, PutsAUserTurnBeforeAConversationThatStartsWithTheAssistant) {
  ChatRequest request;
  request.messages.push_back(Text(Role::kAssistant, "Hello, how can I help?"));
  request.messages.push_back(Text(Role::kUser, "Tell me a joke."));
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body,
            R"({"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":"."},)"
            R"({"role":"assistant","content":"Hello, how can I help?"},{"role":"user","content":"Tell me a joke."}]})");
}

TEST(AnthropicRequestEncodeTest, MapsEveryToolChoiceMode) {
  const std::pair<ToolChoice, std::string> cases[] = {
      {ToolChoice{ToolChoice::Mode::kAuto, ""}, R"({"type":"auto"})"},
      {ToolChoice{ToolChoice::Mode::kNone, ""}, R"({"type":"none"})"},
      {ToolChoice{ToolChoice::Mode::kRequired, ""}, R"({"type":"any"})"},
      {ToolChoice{ToolChoice::Mode::kNamed, "f"}, R"({"type":"tool","name":"f"})"},
  };
  for (const auto& [choice, expected] : cases) {
    ChatRequest request = OneUserMessage("Hi");
    request.tools.push_back(ToolDefinition{"f", "", nullptr});
    request.tool_choice = choice;
    const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_EQ(json::serialize(json::parse(*body).at("tool_choice")), expected);
  }
}

TEST(AnthropicRequestEncodeTest, SendsNoToolChoiceWithoutTools) {
  ChatRequest request = OneUserMessage("Hi");
  request.tool_choice = ToolChoice{ToolChoice::Mode::kRequired, ""};
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_FALSE(json::parse(*body).as_object().contains("tool_choice"));
}

TEST(AnthropicRequestEncodeTest, DisablesParallelToolUseWithAnAutoChoiceWhenNoneWasNamed) {
  ChatRequest request = OneUserMessage("Hi");
  request.tools.push_back(ToolDefinition{"f", "", nullptr});
  request.parallel_tool_calls = false;
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(json::serialize(json::parse(*body).at("tool_choice")),
            R"({"type":"auto","disable_parallel_tool_use":true})");
}

TEST(AnthropicRequestEncodeTest, DropsJsonObjectResponseFormat) {
  ChatRequest request = OneUserMessage("Reply in JSON");
  request.response_format = ResponseFormat{ResponseFormat::Kind::kJsonObject, "", nullptr, false};
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body,
            R"({"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":"Reply in JSON"}]})");
}

TEST(AnthropicRequestEncodeTest, RefusesMoreThanOneChoice) {
  ChatRequest request = OneUserMessage("Hi");
  request.n = 3;
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  EXPECT_EQ(body.status(), absl::FailedPreconditionError("anthropic cannot return more than one choice (n=3)"));
}

TEST(AnthropicRequestEncodeTest, RefusesToolArgumentsThatAreNotAnObject) {
  ChatRequest request = OneUserMessage("Hi");
  Message call;
  call.role = Role::kAssistant;
  call.tool_calls.push_back(ToolCall{"call_1", "f", "[1,2]"});
  request.messages.push_back(std::move(call));
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  EXPECT_EQ(body.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(body.status().message(), HasSubstr("call_1"));
}

TEST(AnthropicRequestEncodeTest, RefusesImageTypesAnthropicDoesNotAccept) {
  ChatRequest request = OneUserMessage("Look");
  request.messages[0].content.push_back(InlineImage("image/bmp", "Qk0="));
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  EXPECT_EQ(body.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(body.status().message(), HasSubstr("image/bmp"));
}

TEST(AnthropicRequestEncodeTest, RefusesImagesInSystemMessages) {
  ChatRequest request = OneUserMessage("Hi");
  Message system;
  system.role = Role::kSystem;
  system.content.push_back(InlineImage("image/png", "iVBORw0KGgo="));
  request.messages.push_back(std::move(system));
  const absl::StatusOr<std::string> body = EncodeAnthropicRequest(request, "claude", 0);
  EXPECT_EQ(body.status(),
            absl::FailedPreconditionError("anthropic system prompts carry text only (found an image)"));
}

TEST(AnthropicRequestParseTest, MapsTheGoldenRequestToCanonicalForm) {
  const absl::StatusOr<ChatRequest> request =
      ParseAnthropicRequest(json::parse(testing::ReadTestdata("anthropic/parse_request.json")).as_object());
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->messages.size(), 6u);

  const Message& system = request->messages[0];
  EXPECT_EQ(system.role, Role::kSystem);
  ASSERT_EQ(system.content.size(), 2u);
  EXPECT_EQ(system.content[0].text, "Be brief.");
  EXPECT_EQ(system.content[1].text, "Use metric.");

  const Message& user = request->messages[1];
  EXPECT_EQ(user.role, Role::kUser);
  ASSERT_EQ(user.content.size(), 2u);
  EXPECT_EQ(user.content[0].text, "Weather here?");
  EXPECT_EQ(user.content[1].kind, ContentPart::Kind::kImage);
  EXPECT_EQ(user.content[1].media_type, "image/jpeg");
  EXPECT_EQ(user.content[1].data, "/9j/4AAQ");

  const Message& assistant = request->messages[2];
  EXPECT_EQ(assistant.role, Role::kAssistant);
  ASSERT_EQ(assistant.content.size(), 1u);  // the thinking block is dropped
  EXPECT_EQ(assistant.content[0].text, "Checking.");
  ASSERT_EQ(assistant.tool_calls.size(), 2u);
  EXPECT_EQ(assistant.tool_calls[0].id, "toolu_1");
  EXPECT_EQ(assistant.tool_calls[0].name, "get_weather");
  EXPECT_EQ(assistant.tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(assistant.tool_calls[1].arguments, "{}");

  const Message& first_result = request->messages[3];
  EXPECT_EQ(first_result.role, Role::kTool);
  EXPECT_EQ(first_result.tool_call_id, "toolu_1");
  EXPECT_EQ(first_result.name, "get_weather");
  ASSERT_EQ(first_result.content.size(), 1u);
  EXPECT_EQ(first_result.content[0].text, "18C");
  const Message& second_result = request->messages[4];
  EXPECT_EQ(second_result.tool_call_id, "toolu_2");
  EXPECT_EQ(second_result.name, "get_time");
  ASSERT_EQ(second_result.content.size(), 1u);
  EXPECT_EQ(second_result.content[0].text, "12:00");
  const Message& thanks = request->messages[5];
  EXPECT_EQ(thanks.role, Role::kUser);
  ASSERT_EQ(thanks.content.size(), 1u);
  EXPECT_EQ(thanks.content[0].text, "Thanks");

  ASSERT_EQ(request->tools.size(), 2u);
  EXPECT_EQ(request->tools[0].name, "get_weather");
  EXPECT_EQ(request->tools[0].description, "Weather for a city");
  EXPECT_EQ(json::serialize(request->tools[0].parameters),
            R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})");
  ASSERT_TRUE(request->tool_choice.has_value());
  EXPECT_EQ(request->tool_choice->mode, ToolChoice::Mode::kRequired);
  EXPECT_EQ(request->parallel_tool_calls, std::optional<bool>(false));
  EXPECT_EQ(request->max_tokens, std::optional<uint64_t>(512));
  EXPECT_EQ(request->temperature, std::optional<double>(0.2));
  EXPECT_EQ(request->top_p, std::optional<double>(0.8));
  EXPECT_EQ(request->top_k, std::optional<uint64_t>(5));
  EXPECT_EQ(request->stop, std::vector<std::string>{"###"});
  EXPECT_EQ(request->user, "u-9");
  EXPECT_TRUE(request->stream);
  EXPECT_TRUE(request->include_usage);
}

TEST(AnthropicRequestParseTest, RoundTripsThroughTheEncoder) {
  const json::object body = json::parse(testing::ReadTestdata("anthropic/parse_request.json")).as_object();
  const absl::StatusOr<ChatRequest> request = ParseAnthropicRequest(body);
  ASSERT_TRUE(request.ok()) << request.status();
  const absl::StatusOr<std::string> encoded = EncodeAnthropicRequest(*request, "claude-sonnet-4-5", 0);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  const json::value parsed = json::parse(*encoded);
  const json::object& out = parsed.as_object();
  EXPECT_EQ(json::serialize(out.at("system")),
            R"([{"type":"text","text":"Be brief."},{"type":"text","text":"Use metric."}])");
  EXPECT_EQ(json::serialize(out.at("messages").at(2)),
            R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},)"
            R"({"type":"tool_result","tool_use_id":"toolu_2","content":"12:00"},{"type":"text","text":"Thanks"}]})");
  EXPECT_EQ(json::serialize(out.at("tool_choice")), R"({"type":"any","disable_parallel_tool_use":true})");
}

TEST(AnthropicRequestParseTest, TakesOutputConfigFormatAsAJsonSchema) {
  const absl::StatusOr<ChatRequest> request = ParseAnthropicRequest(
      json::parse(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Hi"}],)"
                  R"("output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}}})")
          .as_object());
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_TRUE(request->response_format.has_value());
  EXPECT_EQ(request->response_format->kind, ResponseFormat::Kind::kJsonSchema);
  EXPECT_EQ(json::serialize(request->response_format->schema), R"({"type":"object"})");
}

TEST(AnthropicRequestParseTest, RequiresMaxTokensInAnthropicsWords) {
  const absl::StatusOr<ChatRequest> request =
      ParseAnthropicRequest(json::parse(R"({"model":"m","messages":[{"role":"user","content":"Hi"}]})").as_object());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(request.status().message(), "max_tokens: Field required");
  EXPECT_EQ(ParamOf(request.status()), "max_tokens");
}

TEST(AnthropicRequestParseTest, NamesTheMessagePathOfABadRole) {
  const absl::StatusOr<ChatRequest> request = ParseAnthropicRequest(
      json::parse(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Hi"},)"
                  R"({"role":"system","content":"x"}]})")
          .as_object());
  EXPECT_EQ(request.status().message(), "messages.1.role: Input should be 'user' or 'assistant'");
  EXPECT_EQ(ParamOf(request.status()), "messages.1.role");
}

TEST(AnthropicRequestParseTest, RefusesDocumentBlocksAsUntranslatable) {
  const absl::StatusOr<ChatRequest> request = ParseAnthropicRequest(
      json::parse(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[)"
                  R"({"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}}]}]})")
          .as_object());
  EXPECT_EQ(request.status(),
            absl::FailedPreconditionError("a 'document' content block cannot be translated for other providers"));
}

TEST(AnthropicRequestParseTest, RefusesServerTools) {
  const absl::StatusOr<ChatRequest> request = ParseAnthropicRequest(
      json::parse(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Hi"}],)"
                  R"("tools":[{"type":"web_search_20250305","name":"web_search"}]})")
          .as_object());
  EXPECT_EQ(request.status(), absl::FailedPreconditionError(
                                  "the server tool 'web_search_20250305' cannot be translated for other providers"));
}

}  // namespace
}  // namespace llmesh::provider
