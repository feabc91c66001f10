#include "proxy/provider/openai/openai_request.h"

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

ChatRequest ParseOk(std::string_view json) {
  absl::StatusOr<ChatRequest> request = ParseOpenAiChatRequest(Body(json));
  EXPECT_TRUE(request.ok()) << request.status();
  return request.ok() ? *std::move(request) : ChatRequest{};
}

// A body with one user message plus `extra` top-level members (`extra` starts with a comma).
std::string WithUser(const std::string& extra) {
  return absl::StrCat(R"({"model":"m","messages":[{"role":"user","content":"hi"}])", extra, "}");
}

TEST(ParseOpenAiChatRequestTest, ReadsEveryTranslatableFeature) {
  const ChatRequest request = ParseOk(testing::ReadTestdata("openai/translate_chat_request.json"));

  ASSERT_EQ(request.messages.size(), 8u);
  const Message& system = request.messages[0];
  EXPECT_EQ(system.role, Role::kSystem);
  ASSERT_EQ(system.content.size(), 1u);
  EXPECT_EQ(system.content[0].text, "Be brief.");
  const Message& developer = request.messages[1];
  EXPECT_EQ(developer.role, Role::kSystem);
  ASSERT_EQ(developer.content.size(), 1u);
  EXPECT_EQ(developer.content[0].kind, ContentPart::Kind::kText);
  EXPECT_EQ(developer.content[0].text, "Answer in French.");

  const Message& user = request.messages[2];
  EXPECT_EQ(user.role, Role::kUser);
  EXPECT_EQ(user.name, "");  // a participant name has no canonical form
  ASSERT_EQ(user.content.size(), 3u);
  EXPECT_EQ(user.content[0].kind, ContentPart::Kind::kText);
  EXPECT_EQ(user.content[0].text, "What is in these?");
  EXPECT_EQ(user.content[1].kind, ContentPart::Kind::kImage);
  EXPECT_EQ(user.content[1].media_type, "image/png");
  EXPECT_EQ(user.content[1].data, "iVBORw0KGgo=");
  EXPECT_EQ(user.content[1].url, "");
  EXPECT_EQ(user.content[2].kind, ContentPart::Kind::kImage);
  EXPECT_EQ(user.content[2].url, "https://example.com/cat.jpg");
  EXPECT_EQ(user.content[2].media_type, "");
  EXPECT_EQ(user.content[2].data, "");

  const Message& call = request.messages[3];
  EXPECT_EQ(call.role, Role::kAssistant);
  EXPECT_TRUE(call.content.empty());
  ASSERT_EQ(call.tool_calls.size(), 2u);
  EXPECT_EQ(call.tool_calls[0].id, "call_abc");
  EXPECT_EQ(call.tool_calls[0].name, "get_weather");
  EXPECT_EQ(call.tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(call.tool_calls[1].id, "call_def");
  EXPECT_EQ(call.tool_calls[1].name, "get_time");
  EXPECT_EQ(call.tool_calls[1].arguments, "{}");  // empty arguments are an empty object

  const Message& weather = request.messages[4];
  EXPECT_EQ(weather.role, Role::kTool);
  EXPECT_EQ(weather.tool_call_id, "call_abc");
  EXPECT_EQ(weather.name, "get_weather");  // found in the assistant turn that called it
  ASSERT_EQ(weather.content.size(), 1u);
  EXPECT_EQ(weather.content[0].text, R"({"temp_c":18})");
  const Message& time = request.messages[5];
  EXPECT_EQ(time.role, Role::kTool);
  EXPECT_EQ(time.tool_call_id, "call_def");
  EXPECT_EQ(time.name, "get_time");
  ASSERT_EQ(time.content.size(), 1u);
  EXPECT_EQ(time.content[0].text, "12:00");

  const Message& answer = request.messages[6];
  EXPECT_EQ(answer.role, Role::kAssistant);
  ASSERT_EQ(answer.content.size(), 2u);
  EXPECT_EQ(answer.content[0].text, "Il fait 18 degrés. ");
  EXPECT_EQ(answer.content[1].kind, ContentPart::Kind::kText);  // a refusal part is what was said
  EXPECT_EQ(answer.content[1].text, "Je ne peux pas en dire plus.");
  EXPECT_EQ(request.messages[7].role, Role::kUser);

  ASSERT_EQ(request.tools.size(), 2u);
  EXPECT_EQ(request.tools[0].name, "get_weather");
  EXPECT_EQ(request.tools[0].description, "Weather for a city");
  EXPECT_EQ(boost::json::serialize(request.tools[0].parameters),
            R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})");
  EXPECT_EQ(request.tools[1].name, "get_time");
  EXPECT_EQ(request.tools[1].description, "");
  EXPECT_TRUE(request.tools[1].parameters.is_null());
  ASSERT_TRUE(request.tool_choice.has_value());
  EXPECT_EQ(request.tool_choice->mode, ToolChoice::Mode::kNamed);
  EXPECT_EQ(request.tool_choice->name, "get_weather");
  EXPECT_EQ(request.parallel_tool_calls, std::optional<bool>(false));

  EXPECT_EQ(request.max_tokens, std::optional<uint64_t>(256));  // max_completion_tokens wins
  EXPECT_EQ(request.temperature, std::optional<double>(0.5));
  EXPECT_EQ(request.top_p, std::optional<double>(0.9));
  EXPECT_FALSE(request.top_k.has_value());
  EXPECT_EQ(request.presence_penalty, std::optional<double>(0.25));
  EXPECT_EQ(request.frequency_penalty, std::optional<double>(-0.5));
  EXPECT_EQ(request.seed, std::optional<int64_t>(42));
  EXPECT_THAT(request.stop, ElementsAre("END", "STOP"));
  EXPECT_EQ(request.n, 1u);
  ASSERT_TRUE(request.response_format.has_value());
  EXPECT_EQ(request.response_format->kind, ResponseFormat::Kind::kJsonSchema);
  EXPECT_EQ(request.response_format->name, "answer");
  EXPECT_TRUE(request.response_format->strict);
  EXPECT_EQ(boost::json::serialize(request.response_format->schema),
            R"({"type":"object","properties":{"text":{"type":"string"}},"required":["text"]})");
  EXPECT_EQ(request.user, "u-1");
  EXPECT_TRUE(request.stream);
  EXPECT_TRUE(request.include_usage);
}

TEST(ParseOpenAiChatRequestTest, ReencodesTheTranslatableFeaturesForAnOpenAiProvider) {
  const ChatRequest request = ParseOk(testing::ReadTestdata("openai/translate_chat_request.json"));
  EXPECT_EQ(EncodeOpenAiChatRequest(request, "gpt-4o"),
            testing::ReadTestdata("openai/translate_chat_request.encoded.json"));
}

TEST(ParseOpenAiChatRequestTest, FallsBackToMaxTokens) {
  EXPECT_EQ(ParseOk(WithUser(R"(,"max_tokens":100)")).max_tokens, std::optional<uint64_t>(100));
  EXPECT_FALSE(ParseOk(WithUser("")).max_tokens.has_value());
}

TEST(ParseOpenAiChatRequestTest, WrapsAStopStringIntoAList) {
  EXPECT_THAT(ParseOk(WithUser(R"(,"stop":"END")")).stop, ElementsAre("END"));
  EXPECT_TRUE(ParseOk(WithUser(R"(,"stop":null)")).stop.empty());
}

TEST(ParseOpenAiChatRequestTest, ReadsEachToolChoiceMode) {
  const std::pair<const char*, ToolChoice::Mode> cases[] = {
      {R"("auto")", ToolChoice::Mode::kAuto},
      {R"("none")", ToolChoice::Mode::kNone},
      {R"("required")", ToolChoice::Mode::kRequired},
      {R"({"type":"function","function":{"name":"f"}})", ToolChoice::Mode::kNamed},
  };
  for (const auto& [json, mode] : cases) {
    SCOPED_TRACE(json);
    const ChatRequest request = ParseOk(WithUser(absl::StrCat(
        R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":)", json)));
    ASSERT_TRUE(request.tool_choice.has_value());
    EXPECT_EQ(request.tool_choice->mode, mode);
    EXPECT_EQ(request.tool_choice->name, mode == ToolChoice::Mode::kNamed ? "f" : "");
  }
  EXPECT_FALSE(ParseOk(WithUser("")).tool_choice.has_value());
  EXPECT_FALSE(ParseOk(WithUser("")).parallel_tool_calls.has_value());
  EXPECT_EQ(ParseOk(WithUser(R"(,"parallel_tool_calls":true)")).parallel_tool_calls, std::optional<bool>(true));
}

TEST(ParseOpenAiChatRequestTest, ReadsJsonObjectAndTextResponseFormats) {
  const ChatRequest json_object = ParseOk(WithUser(R"(,"response_format":{"type":"json_object"})"));
  ASSERT_TRUE(json_object.response_format.has_value());
  EXPECT_EQ(json_object.response_format->kind, ResponseFormat::Kind::kJsonObject);
  const ChatRequest text = ParseOk(WithUser(R"(,"response_format":{"type":"text"})"));
  ASSERT_TRUE(text.response_format.has_value());
  EXPECT_EQ(text.response_format->kind, ResponseFormat::Kind::kText);
  const ChatRequest loose = ParseOk(
      WithUser(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}})"));
  ASSERT_TRUE(loose.response_format.has_value());
  EXPECT_EQ(loose.response_format->kind, ResponseFormat::Kind::kJsonSchema);
  EXPECT_FALSE(loose.response_format->strict);
}

TEST(ParseOpenAiChatRequestTest, ReadsIncludeUsageOnlyForStreams) {
  const ChatRequest stream = ParseOk(WithUser(R"(,"stream":true)"));
  EXPECT_TRUE(stream.stream);
  EXPECT_FALSE(stream.include_usage);
  const ChatRequest not_stream = ParseOk(WithUser(R"(,"stream":false,"stream_options":{"include_usage":true})"));
  EXPECT_FALSE(not_stream.stream);
  EXPECT_FALSE(not_stream.include_usage);
  const ChatRequest usage = ParseOk(WithUser(R"(,"stream":true,"stream_options":{"include_usage":true})"));
  EXPECT_TRUE(usage.include_usage);
}

TEST(ParseOpenAiChatRequestTest, KeepsAskedForChoicesForTheProviderToRefuse) {
  // Only OpenAI-format providers can give several choices; the other adapters refuse n > 1.
  EXPECT_EQ(ParseOk(WithUser(R"(,"n":3)")).n, 3u);
  EXPECT_EQ(ParseOk(WithUser("")).n, 1u);
}

TEST(ParseOpenAiChatRequestTest, KeepsAToolMessagesOwnName) {
  const ChatRequest request = ParseOk(
      R"({"model":"m","messages":[{"role":"tool","tool_call_id":"call_x","name":"lookup","content":"42"},)"
      R"({"role":"tool","tool_call_id":"call_unknown","content":"?"}]})");
  ASSERT_EQ(request.messages.size(), 2u);
  EXPECT_EQ(request.messages[0].name, "lookup");
  EXPECT_EQ(request.messages[1].name, "");  // no earlier call to take it from
}

struct Refusal {
  const char* body;
  absl::StatusCode code;
  const char* message;
};

TEST(ParseOpenAiChatRequestTest, RefusesFeaturesWithNoCanonicalFormAndSaysWhich) {
  const Refusal cases[] = {
      {R"({"messages":[{"role":"user","content":"hi"}],"logprobs":true})", absl::StatusCode::kFailedPrecondition,
       "logprobs cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"user","content":"hi"}],"top_logprobs":2})", absl::StatusCode::kFailedPrecondition,
       "logprobs cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":-100}})",
       absl::StatusCode::kFailedPrecondition, "logit_bias cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"user","content":"hi"}],"audio":{"voice":"alloy","format":"wav"}})",
       absl::StatusCode::kFailedPrecondition, "audio output cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"user","content":"hi"}],"modalities":["text","audio"]})",
       absl::StatusCode::kFailedPrecondition,
       "non-text output modalities cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}}]}]})",
       absl::StatusCode::kFailedPrecondition, "audio input cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]})",
       absl::StatusCode::kFailedPrecondition, "file input cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"function","name":"f","content":"1"}]})", absl::StatusCode::kFailedPrecondition,
       "the deprecated 'function' role cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}}]})",
       absl::StatusCode::kFailedPrecondition,
       "the deprecated 'function_call' cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","custom":{"name":"grammar"}}]})",
       absl::StatusCode::kFailedPrecondition,
       "a tool that is not a function cannot be translated to another provider's API"},
      {R"({"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],)"
       R"("tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}})",
       absl::StatusCode::kFailedPrecondition,
       "an allowed_tools tool_choice cannot be translated to another provider's API"},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.body);
    const absl::StatusOr<ChatRequest> request = ParseOpenAiChatRequest(Body(c.body));
    ASSERT_FALSE(request.ok());
    EXPECT_EQ(request.status().code(), c.code);
    EXPECT_EQ(request.status().message(), c.message);
  }
}

TEST(ParseOpenAiChatRequestTest, AcceptsFalseOrNullForRefusedFeatures) {
  EXPECT_TRUE(ParseOpenAiChatRequest(Body(WithUser(R"(,"logprobs":false,"audio":null,"logit_bias":{},)"
                                                   R"("modalities":["text"])")))
                  .ok());
}

TEST(ParseOpenAiChatRequestTest, RejectsMalformedShapesNamingTheField) {
  const Refusal cases[] = {
      {R"({"messages":[{"role":"robot","content":"hi"}]})", absl::StatusCode::kInvalidArgument,
       "messages[0].role: unknown role 'robot'"},
      {R"({"messages":["hi"]})", absl::StatusCode::kInvalidArgument, "messages[0]: must be an object"},
      {R"({"messages":[{"role":"user","content":"hi"},{"role":"tool","content":"1"}]})",
       absl::StatusCode::kInvalidArgument, "messages[1].tool_call_id: is required for a tool message"},
      {R"({"messages":[{"role":"user","content":7}]})", absl::StatusCode::kInvalidArgument,
       "messages[0].content: must be a string or an array of content parts"},
      {R"({"messages":[{"role":"user","content":[{"type":"video"}]}]})", absl::StatusCode::kInvalidArgument,
       "messages[0].content[0].type: unknown content part type 'video'"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]})",
       absl::StatusCode::kInvalidArgument, "messages[0].content[0].image_url.url: must be an http(s) or data URL"},
      {R"({"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]})",
       absl::StatusCode::kInvalidArgument,
       "messages[0].content[1].image_url.url: a data URL must be base64-encoded (data:<type>;base64,<data>)"},
      {R"({"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]})",
       absl::StatusCode::kInvalidArgument, "messages[0].tool_calls[0]: needs an id and a function name"},
      {R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c"}]}]})", absl::StatusCode::kInvalidArgument,
       "messages[0].tool_calls[0]: must be an object with a function"},
      {R"({"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{}}]})",
       absl::StatusCode::kInvalidArgument, "tools[0].function.name: is required"},
      {R"({"messages":[{"role":"user","content":"hi"}],"tool_choice":"sometimes"})",
       absl::StatusCode::kInvalidArgument, "tool_choice: unknown value 'sometimes'"},
      {R"({"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"function"}})",
       absl::StatusCode::kInvalidArgument,
       "tool_choice: must be auto, none, required or {type: function, function: {name}}"},
      {R"({"messages":[{"role":"user","content":"hi"}],"stop":5})", absl::StatusCode::kInvalidArgument,
       "stop: must be a string or an array of strings"},
      {R"({"messages":[{"role":"user","content":"hi"}],"stop":["a",1]})", absl::StatusCode::kInvalidArgument,
       "stop: must be a string or an array of strings"},
      {R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"xml"}})",
       absl::StatusCode::kInvalidArgument, "response_format.type: unknown value 'xml'"},
      {R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema"}})",
       absl::StatusCode::kInvalidArgument, "response_format.json_schema: is required"},
      {R"({"model":"m"})", absl::StatusCode::kInvalidArgument, "messages: must be an array"},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.body);
    const absl::StatusOr<ChatRequest> request = ParseOpenAiChatRequest(Body(c.body));
    ASSERT_FALSE(request.ok());
    EXPECT_EQ(request.status().code(), c.code);
    EXPECT_EQ(request.status().message(), c.message);
  }
}

// What an Anthropic client's request looks like once parsed: the OpenAI body sent for it.
ChatRequest AnthropicStyleRequest() {
  ChatRequest request;
  Message system{.role = Role::kSystem, .content = {ContentPart::Text("Be brief.")}};
  Message user{.role = Role::kUser};
  user.content.push_back(ContentPart::Text("What is this?"));
  ContentPart inline_image;
  inline_image.kind = ContentPart::Kind::kImage;
  inline_image.media_type = "image/jpeg";
  inline_image.data = "/9j/4AAQ";
  user.content.push_back(inline_image);
  ContentPart linked_image;
  linked_image.kind = ContentPart::Kind::kImage;
  linked_image.url = "https://example.com/cat.jpg";
  user.content.push_back(linked_image);
  Message call{.role = Role::kAssistant, .content = {ContentPart::Text("Checking.")}};
  call.tool_calls = {{"toolu_01", "get_weather", R"({"city":"Paris"})"}};
  Message result{.role = Role::kTool, .content = {ContentPart::Text("18"), ContentPart::Text("C")}};
  result.tool_call_id = "toolu_01";
  result.name = "get_weather";
  request.messages = {system, user, call, result};
  request.tools.push_back(ToolDefinition{
      "get_weather", "Weather for a city", boost::json::parse(R"({"type":"object","properties":{"city":{"type":"string"}}})")});
  request.tools.push_back(ToolDefinition{"noop", "", nullptr});
  request.tool_choice = ToolChoice{ToolChoice::Mode::kRequired, ""};
  request.parallel_tool_calls = false;
  request.max_tokens = 1024;
  request.temperature = 0.5;
  request.top_p = 0.75;
  request.top_k = 40;  // OpenAI has no top_k
  request.stop = {"\n\nHuman:"};
  request.user = "user-7";
  request.stream = true;
  return request;
}

TEST(EncodeOpenAiChatRequestTest, EncodesACanonicalRequestAsAnOpenAiBody) {
  EXPECT_EQ(EncodeOpenAiChatRequest(AnthropicStyleRequest(), "gpt-4o-mini"),
            testing::ReadTestdata("openai/canonical_chat_request.encoded.json"));
}

TEST(EncodeOpenAiChatRequestTest, AlwaysAsksForUsageOnStreams) {
  ChatRequest request;
  request.messages = {Message{.role = Role::kUser, .content = {ContentPart::Text("hi")}}};
  request.stream = true;
  request.include_usage = false;
  EXPECT_EQ(EncodeOpenAiChatRequest(request, "m"),
            R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}})");
  request.stream = false;
  EXPECT_EQ(EncodeOpenAiChatRequest(request, "m"), R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
}

TEST(EncodeOpenAiChatRequestTest, SendsToolChoiceAndParallelCallsOnlyWithTools) {
  ChatRequest request;
  request.messages = {Message{.role = Role::kUser, .content = {ContentPart::Text("hi")}}};
  request.tool_choice = ToolChoice{ToolChoice::Mode::kNone, ""};
  request.parallel_tool_calls = false;
  EXPECT_EQ(EncodeOpenAiChatRequest(request, "m"), R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
}

TEST(EncodeOpenAiChatRequestTest, EncodesEachToolChoiceAndResponseFormat) {
  ChatRequest request;
  request.messages = {Message{.role = Role::kUser}};
  request.tools = {ToolDefinition{"f", "", nullptr}};
  const std::pair<ToolChoice, const char*> choices[] = {
      {{ToolChoice::Mode::kAuto, ""}, R"("auto")"},
      {{ToolChoice::Mode::kNone, ""}, R"("none")"},
      {{ToolChoice::Mode::kRequired, ""}, R"("required")"},
      {{ToolChoice::Mode::kNamed, "f"}, R"({"type":"function","function":{"name":"f"}})"},
  };
  for (const auto& [choice, json] : choices) {
    request.tool_choice = choice;
    EXPECT_EQ(EncodeOpenAiChatRequest(request, "m"),
              absl::StrCat(R"({"model":"m","messages":[{"role":"user","content":""}],)",
                           R"("tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":)", json, "}"));
  }
  ChatRequest formats;
  formats.messages = {Message{.role = Role::kUser}};
  formats.response_format = ResponseFormat{ResponseFormat::Kind::kJsonObject, "", nullptr, false};
  EXPECT_EQ(EncodeOpenAiChatRequest(formats, "m"),
            R"({"model":"m","messages":[{"role":"user","content":""}],"response_format":{"type":"json_object"}})");
  formats.response_format =
      ResponseFormat{ResponseFormat::Kind::kJsonSchema, "", boost::json::parse(R"({"type":"object"})"), true};
  EXPECT_EQ(EncodeOpenAiChatRequest(formats, "m"),
            R"({"model":"m","messages":[{"role":"user","content":""}],"response_format":{"type":"json_schema",)"
            R"("json_schema":{"name":"response","schema":{"type":"object"},"strict":true}}})");
  formats.response_format.reset();
  formats.n = 2;
  formats.seed = -3;
  formats.presence_penalty = 1;
  formats.frequency_penalty = 0;
  EXPECT_EQ(EncodeOpenAiChatRequest(formats, "m"),
            R"({"model":"m","messages":[{"role":"user","content":""}],"presence_penalty":1E0,)"
            R"("frequency_penalty":0E0,"seed":-3,"n":2})");
}

TEST(ParseOpenAiEmbeddingsRequestTest, ReadsAStringOrAListOfStringsAndDimensions) {
  const absl::StatusOr<EmbeddingsRequest> one = ParseOpenAiEmbeddingsRequest(Body(R"({"model":"e","input":"a"})"));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_THAT(one->inputs, ElementsAre("a"));
  EXPECT_FALSE(one->dimensions.has_value());
  const absl::StatusOr<EmbeddingsRequest> list = ParseOpenAiEmbeddingsRequest(
      Body(R"({"model":"e","input":["a","b"],"dimensions":256,"encoding_format":"base64"})"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->inputs, ElementsAre("a", "b"));
  EXPECT_EQ(list->dimensions, std::optional<uint32_t>(256));
  EXPECT_EQ(EncodeOpenAiEmbeddingsRequest(*list, "text-embedding-004"),
            R"({"model":"text-embedding-004","input":["a","b"],"dimensions":256})");
  EXPECT_EQ(EncodeOpenAiEmbeddingsRequest(*one, "e"), R"({"model":"e","input":["a"]})");
}

TEST(ParseOpenAiEmbeddingsRequestTest, RefusesTokenArraysAndRejectsOtherShapes) {
  const Refusal cases[] = {
      {R"({"input":[1,2,3]})", absl::StatusCode::kFailedPrecondition,
       "token-array embeddings input cannot be translated to another provider's API"},
      {R"({"input":[[1,2],[3]]})", absl::StatusCode::kFailedPrecondition,
       "token-array embeddings input cannot be translated to another provider's API"},
      {R"({"input":null})", absl::StatusCode::kInvalidArgument, "input: is required"},
      {R"({"input":7})", absl::StatusCode::kInvalidArgument, "input: must be a string or an array"},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.body);
    const absl::StatusOr<EmbeddingsRequest> request = ParseOpenAiEmbeddingsRequest(Body(c.body));
    ASSERT_FALSE(request.ok());
    EXPECT_EQ(request.status().code(), c.code);
    EXPECT_EQ(request.status().message(), c.message);
  }
}

}  // namespace
}  // namespace llmesh::provider
