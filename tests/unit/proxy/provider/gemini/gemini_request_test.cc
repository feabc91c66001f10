#include "proxy/provider/gemini/gemini_request.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "gtest/gtest.h"
#include "proxy/provider/gemini/gemini_call_ids.h"
#include "tests/unit/proxy/provider/gemini/gemini_test_support.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using testing::CanonicalRequest;
using testing::Compact;
using testing::ReadTestdata;

ChatRequest Chat(std::string_view openai_body) {
  ClientRequest request = CanonicalRequest(Operation::kChatCompletions, openai_body);
  return request.chat ? *std::move(request.chat) : ChatRequest{};
}

ChatRequest Golden(std::string_view name) { return Chat(ReadTestdata(absl::StrCat("gemini/", AbslView(name)))); }

TEST(GeminiRequestTest, EncodesSystemRolesImagesToolResultsAndGenerationConfig) {
  const absl::StatusOr<std::string> body = EncodeGeminiRequest(Golden("chat_request.json"));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, Compact(ReadTestdata("gemini/chat_request.encoded.json")));
}

TEST(GeminiRequestTest, EncodesToolsWithCleanedSchemasAndReturnsGeminiIds) {
  const absl::StatusOr<std::string> body = EncodeGeminiRequest(Golden("tools_request.json"));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, Compact(ReadTestdata("gemini/tools_request.encoded.json")));
}

TEST(GeminiRequestTest, EncodesAJsonSchemaAsResponseSchemaAndUsesTheDefaultOutputCap) {
  const absl::StatusOr<std::string> body =
      EncodeGeminiRequest(Golden("json_schema_request.json"), /*default_max_output_tokens=*/2048);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, Compact(ReadTestdata("gemini/json_schema_request.encoded.json")));
}

TEST(GeminiRequestTest, PrefersTheRequestsMaxTokensOverTheDefaultCap) {
  const absl::StatusOr<std::string> body = EncodeGeminiRequest(
      Chat(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":10})"), 2048);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":10}})");
}

TEST(GeminiRequestTest, OmitsGenerationConfigWhenNothingIsSet) {
  const absl::StatusOr<std::string> body =
      EncodeGeminiRequest(Chat(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})");
}

TEST(GeminiRequestTest, MapsEveryToolChoice) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"("auto")", R"({"mode":"AUTO"})"},
      {R"("none")", R"({"mode":"NONE"})"},
      {R"("required")", R"({"mode":"ANY"})"},
      {R"({"type":"function","function":{"name":"f"}})", R"({"mode":"ANY","allowedFunctionNames":["f"]})"},
  };
  for (const auto& [choice, config] : cases) {
    const absl::StatusOr<std::string> body = EncodeGeminiRequest(Chat(absl::StrCat(
        R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":)",
        AbslView(choice), "}")));
    ASSERT_TRUE(body.ok()) << choice;
    EXPECT_EQ(*body, absl::StrCat(R"({"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":)",
                                  AbslView(config), "}}"))
        << choice;
  }
}

TEST(GeminiRequestTest, RefusesSeveralChoices) {
  const absl::StatusOr<std::string> body =
      EncodeGeminiRequest(Chat(R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":2})"));
  EXPECT_EQ(body.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(body.status().message(), "n=2 cannot be sent to Gemini: the answer is translated into a single choice");
}

TEST(GeminiRequestTest, RefusesMoreThanFiveStopSequences) {
  const absl::StatusOr<std::string> body = EncodeGeminiRequest(Chat(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d"]})"));
  ASSERT_TRUE(body.ok());
  ChatRequest request = Chat(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  request.stop = {"a", "b", "c", "d", "e", "f"};
  const absl::StatusOr<std::string> refused = EncodeGeminiRequest(request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), "6 stop sequences cannot be sent to Gemini (at most 5)");
}

TEST(GeminiRequestTest, RefusesAnImageInASystemMessage) {
  ChatRequest request = Chat(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  Message system{.role = Role::kSystem, .content = {ContentPart{ContentPart::Kind::kImage, "", "image/png", "AAAA", ""}}};
  request.messages.insert(request.messages.begin(), std::move(system));
  const absl::StatusOr<std::string> body = EncodeGeminiRequest(request);
  EXPECT_EQ(body.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(body.status().message(), "an image in a system message cannot be sent to Gemini");
}

TEST(GeminiRequestTest, RefusesToolArgumentsThatAreNotAnObject) {
  const absl::StatusOr<std::string> body = EncodeGeminiRequest(Chat(
      R"({"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"[1]"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]})"));
  EXPECT_EQ(body.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(body.status().message(),
            "the arguments of tool call 'c1' are not a JSON object, so they cannot be sent to Gemini");
}

TEST(GeminiRequestTest, RefusesAToolResultWhoseFunctionIsUnknown) {
  const absl::StatusOr<std::string> body = EncodeGeminiRequest(
      Chat(R"({"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c9","content":"ok"}]})"));
  EXPECT_EQ(body.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(body.status().message(),
            "the tool result for call 'c9' names no function and answers no earlier tool call; Gemini needs the function name");
}

TEST(GeminiRequestTest, EncodesEmbeddingsAsOneRequestPerInput) {
  ClientRequest request = CanonicalRequest(Operation::kEmbeddings, ReadTestdata("gemini/embeddings_request.json"));
  ASSERT_TRUE(request.embeddings.has_value());
  const absl::StatusOr<std::string> body = EncodeGeminiEmbeddings(*request.embeddings, "text-embedding-004");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, Compact(ReadTestdata("gemini/embeddings_request.encoded.json")));
}

TEST(GeminiRequestTest, RefusesMoreEmbeddingInputsThanOneBatchHolds) {
  EmbeddingsRequest request;
  request.inputs.assign(kMaxGeminiEmbeddingInputs + 1, "x");
  const absl::StatusOr<std::string> body = EncodeGeminiEmbeddings(request, "text-embedding-004");
  EXPECT_EQ(body.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(body.status().message(), "101 embedding inputs cannot be sent to Gemini in one request (at most 100)");
}

TEST(GeminiRequestTest, NamesModelsAsResources) {
  EXPECT_EQ(GeminiModelResource("gemini-2.5-flash"), "models/gemini-2.5-flash");
  EXPECT_EQ(GeminiModelResource("models/gemini-2.5-flash"), "models/gemini-2.5-flash");
  EXPECT_EQ(GeminiModelResource("tunedModels/my-model"), "tunedModels/my-model");
}

TEST(GeminiCallIdsTest, WrapsGeminiIdsAndSendsOnlyThoseBack) {
  EXPECT_EQ(CanonicalCallId("fc-1", 0, 0), "gemini_fc-1");
  EXPECT_EQ(GeminiCallId("gemini_fc-1"), "fc-1");
  EXPECT_EQ(CanonicalCallId("", 0xff, 1), "call_gemini_00000000000000ff_1");
  EXPECT_EQ(GeminiCallId("call_gemini_00000000000000ff_1"), "");
  EXPECT_EQ(GeminiCallId("call_abc"), "");
  EXPECT_EQ(GeminiCallId("toolu_01"), "");
}

TEST(GeminiCallIdsTest, DerivesStableSeedsFromResponseIds) {
  EXPECT_EQ(CallIdSeed("abc"), CallIdSeed("abc"));
  EXPECT_NE(CallIdSeed("abc"), CallIdSeed("abd"));
  EXPECT_EQ(CallIdSeed(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(SynthesizedResponseId(0xff), "gemini-00000000000000ff");
}

}  // namespace
}  // namespace llmesh::provider
