#include "proxy/provider/gemini/gemini_response.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/provider/gemini/gemini_call_ids.h"
#include "tests/unit/proxy/provider/testdata.h"

namespace llmesh::provider {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;
using testing::ReadTestdata;

ChatResponse DecodeGolden(std::string_view name) {
  DecodedResponse decoded = DecodeGeminiChatResponse(200, ReadTestdata(absl::StrCat("gemini/", AbslView(name))));
  EXPECT_FALSE(decoded.failure.has_value()) << decoded.failure->message;
  EXPECT_TRUE(decoded.chat.has_value());
  EXPECT_TRUE(decoded.body.empty());
  return decoded.chat ? *decoded.chat : ChatResponse{};
}

void ExpectUsage(const Usage& usage, uint64_t prompt, uint64_t completion, uint64_t cached, uint64_t reasoning) {
  EXPECT_EQ(usage.prompt_tokens, prompt);
  EXPECT_EQ(usage.completion_tokens, completion);
  EXPECT_EQ(usage.cached_tokens, cached);
  EXPECT_EQ(usage.reasoning_tokens, reasoning);
}

TEST(GeminiResponseTest, DecodesTextUsageIdAndModel) {
  const DecodedResponse decoded = DecodeGeminiChatResponse(200, ReadTestdata("gemini/response_text.json"));
  ASSERT_TRUE(decoded.chat.has_value());
  const ChatResponse& chat = *decoded.chat;
  EXPECT_EQ(chat.id, "mIJ6aOrTEXT");
  EXPECT_EQ(chat.model, "gemini-2.5-flash");
  EXPECT_EQ(chat.created, 0);
  EXPECT_EQ(chat.text, "It is 18C in Paris.");
  EXPECT_EQ(chat.reasoning, "");
  EXPECT_TRUE(chat.tool_calls.empty());
  EXPECT_EQ(chat.finish_reason, FinishReason::kStop);
  ExpectUsage(chat.usage, 21, 9, 0, 0);
  ExpectUsage(decoded.usage, 21, 9, 0, 0);
}

TEST(GeminiResponseTest, SynthesizesStableIdsForFunctionCallsWithoutIds) {
  const ChatResponse chat = DecodeGolden("response_function_calls.json");
  EXPECT_EQ(chat.text, "Checking both.");
  ASSERT_EQ(chat.tool_calls.size(), 2u);
  const uint64_t seed = CallIdSeed("resp-calls");
  EXPECT_EQ(chat.tool_calls[0].id, CanonicalCallId("", seed, 0));
  EXPECT_THAT(chat.tool_calls[0].id, StartsWith("call_gemini_"));
  EXPECT_EQ(chat.tool_calls[0].name, "get_weather");
  EXPECT_EQ(chat.tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(chat.tool_calls[1].id, CanonicalCallId("", seed, 1));
  EXPECT_NE(chat.tool_calls[0].id, chat.tool_calls[1].id);
  EXPECT_EQ(chat.tool_calls[1].name, "get_time");
  EXPECT_EQ(chat.tool_calls[1].arguments, "{}");
  EXPECT_EQ(chat.finish_reason, FinishReason::kToolCalls);
  // The same answer decoded twice gives the same ids (a client may retry with them).
  EXPECT_EQ(DecodeGolden("response_function_calls.json").tool_calls[0].id, chat.tool_calls[0].id);
}

TEST(GeminiResponseTest, KeepsGeminiCallIdsRecognisably) {
  const ChatResponse chat = DecodeGolden("response_function_calls_with_ids.json");
  ASSERT_EQ(chat.tool_calls.size(), 2u);
  EXPECT_EQ(chat.tool_calls[0].id, "gemini_fc-1");
  EXPECT_EQ(chat.tool_calls[0].arguments, R"({"city":"Paris","days":[1,2]})");
  EXPECT_EQ(chat.tool_calls[1].id, "gemini_fc-2");
  EXPECT_EQ(chat.tool_calls[1].arguments, R"({"city":"Rome"})");
  EXPECT_EQ(chat.text, "");
  EXPECT_EQ(chat.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(chat.model, "gemini-3-pro-preview");
}

TEST(GeminiResponseTest, CountsThoughtsAsCompletionAndReasoningTokens) {
  const ChatResponse chat = DecodeGolden("response_thoughts.json");
  EXPECT_EQ(chat.reasoning, "The user wants a number.");
  EXPECT_EQ(chat.text, "42");
  EXPECT_EQ(chat.created, 1795501800);
  ExpectUsage(chat.usage, 1200, 102, 1024, 100);
}

TEST(GeminiResponseTest, MapsSafetyToContentFilter) {
  const ChatResponse chat = DecodeGolden("response_safety.json");
  EXPECT_EQ(chat.text, "");
  EXPECT_EQ(chat.finish_reason, FinishReason::kContentFilter);
  ExpectUsage(chat.usage, 12, 0, 0, 0);
}

TEST(GeminiResponseTest, MapsMaxTokensToLength) {
  const ChatResponse chat = DecodeGolden("response_max_tokens.json");
  EXPECT_EQ(chat.text, "Once upon a");
  EXPECT_EQ(chat.finish_reason, FinishReason::kLength);
}

TEST(GeminiResponseTest, AnswersABlockedPromptWithAnEmptyContentFilterAnswer) {
  const ChatResponse chat = DecodeGolden("response_blocked_prompt.json");
  EXPECT_EQ(chat.id, "resp-blocked");
  EXPECT_EQ(chat.text, "");
  EXPECT_TRUE(chat.tool_calls.empty());
  EXPECT_EQ(chat.finish_reason, FinishReason::kContentFilter);
  ExpectUsage(chat.usage, 7, 0, 0, 0);
}

TEST(GeminiResponseTest, MapsEveryFinishReason) {
  const std::pair<std::string_view, FinishReason> cases[] = {
      {"STOP", FinishReason::kStop},
      {"MAX_TOKENS", FinishReason::kLength},
      {"SAFETY", FinishReason::kContentFilter},
      {"RECITATION", FinishReason::kContentFilter},
      {"LANGUAGE", FinishReason::kContentFilter},
      {"BLOCKLIST", FinishReason::kContentFilter},
      {"PROHIBITED_CONTENT", FinishReason::kContentFilter},
      {"SPII", FinishReason::kContentFilter},
      {"IMAGE_SAFETY", FinishReason::kContentFilter},
      {"IMAGE_PROHIBITED_CONTENT", FinishReason::kContentFilter},
      {"MALFORMED_FUNCTION_CALL", FinishReason::kStop},
      {"UNEXPECTED_TOOL_CALL", FinishReason::kStop},
      {"TOO_MANY_TOOL_CALLS", FinishReason::kStop},
      {"OTHER", FinishReason::kStop},
      {"FINISH_REASON_UNSPECIFIED", FinishReason::kStop},
      {"SOMETHING_NEW", FinishReason::kStop},
      {"", FinishReason::kStop},
  };
  for (const auto& [reason, expected] : cases) {
    EXPECT_EQ(MapGeminiFinishReason(reason, /*called_functions=*/false), expected) << reason;
  }
  EXPECT_EQ(MapGeminiFinishReason("STOP", true), FinishReason::kToolCalls);
  EXPECT_EQ(MapGeminiFinishReason("MAX_TOKENS", true), FinishReason::kLength);
  EXPECT_EQ(MapGeminiFinishReason("SAFETY", true), FinishReason::kContentFilter);
}

TEST(GeminiResponseTest, SynthesizesAResponseIdWhenThereIsNone) {
  const DecodedResponse decoded =
      DecodeGeminiChatResponse(200, R"({"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]})");
  ASSERT_TRUE(decoded.chat.has_value());
  EXPECT_THAT(decoded.chat->id, StartsWith("gemini-"));
  EXPECT_EQ(decoded.chat->id.size(), 23u);
  EXPECT_EQ(decoded.chat->text, "hi");
}

TEST(GeminiResponseTest, ReportsAnErrorInA200BodyAsItsFailure) {
  const DecodedResponse decoded =
      DecodeGeminiChatResponse(200, ReadTestdata("errors/gemini_compat_429_array.json"));
  ASSERT_TRUE(decoded.failure.has_value());
  EXPECT_EQ(decoded.failure->kind, FailureKind::kRateLimited);
  EXPECT_EQ(decoded.failure->http_status, 429);
  EXPECT_FALSE(decoded.chat.has_value());
}

TEST(GeminiResponseTest, ReportsMalformedBodies) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "upstream answered with a body that is not JSON"},
      {R"({"candidates":[{"content":)", "upstream answered with a body that is not JSON"},
      {"<html>502</html>", "upstream answered with a body that is not JSON"},
      {"[1,2]", "upstream answered with JSON that is not an object"},
      {R"({"usageMetadata":{}})", "upstream answer has neither candidates nor a prompt block reason"},
  };
  for (const auto& [body, message] : cases) {
    const DecodedResponse decoded = DecodeGeminiChatResponse(200, body);
    ASSERT_TRUE(decoded.failure.has_value()) << body;
    EXPECT_EQ(decoded.failure->kind, FailureKind::kMalformed) << body;
    EXPECT_EQ(decoded.failure->http_status, 200);
    EXPECT_EQ(decoded.failure->message, message) << body;
    EXPECT_FALSE(decoded.chat.has_value());
  }
}

TEST(GeminiResponseTest, DecodesEmbeddingsInOrder) {
  const DecodedResponse decoded =
      DecodeGeminiEmbeddingsResponse(200, ReadTestdata("gemini/embeddings_response.json"), "embed");
  ASSERT_TRUE(decoded.embeddings.has_value());
  EXPECT_EQ(decoded.embeddings->model, "embed");
  EXPECT_THAT(decoded.embeddings->vectors,
              ElementsAre(ElementsAre(0.013168523, -0.008711934, -0.046782676), ElementsAre(0.5, 1.0, -0.002)));
  ExpectUsage(decoded.embeddings->usage, 0, 0, 0, 0);
}

TEST(GeminiResponseTest, ReportsMalformedEmbeddings) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"embedding":{"values":[1]}})", "upstream answer has no 'embeddings' array"},
      {R"({"embeddings":[{"value":[1]}]})", "upstream embedding has no 'values' array"},
      {R"({"embeddings":[{"values":[1,"x"]}]})", "upstream embedding holds a value that is not a number"},
  };
  for (const auto& [body, message] : cases) {
    const DecodedResponse decoded = DecodeGeminiEmbeddingsResponse(200, body, "embed");
    ASSERT_TRUE(decoded.failure.has_value()) << body;
    EXPECT_EQ(decoded.failure->kind, FailureKind::kMalformed);
    EXPECT_EQ(decoded.failure->message, message);
    EXPECT_FALSE(decoded.embeddings.has_value());
  }
}

}  // namespace
}  // namespace llmesh::provider
