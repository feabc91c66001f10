#include "proxy/provider/openai/openai_answer_scan.h"

#include <optional>
#include <string>

#include <boost/json/parse.hpp>

#include "gtest/gtest.h"
#include "proxy/provider/common/json_fields.h"
#include "proxy/provider/openai/openai_response.h"

namespace llmesh::provider {
namespace {

// The usage the tree path reads from `text` (ReadOpenAiUsage over the parsed answer).
Usage TreeUsage(const std::string& text) {
  const boost::json::value value = boost::json::parse(text);
  return ReadOpenAiUsage(value.as_object()).value_or(Usage{});
}

void ExpectSameUsage(const Usage& scanned, const Usage& tree) {
  EXPECT_EQ(scanned.prompt_tokens, tree.prompt_tokens);
  EXPECT_EQ(scanned.completion_tokens, tree.completion_tokens);
  EXPECT_EQ(scanned.cached_tokens, tree.cached_tokens);
  EXPECT_EQ(scanned.reasoning_tokens, tree.reasoning_tokens);
}

TEST(ScanOpenAiAnswerTest, ReadsTheSameUsageAsTheTreeForEveryShape) {
  const std::string answers[] = {
      R"({"id":"c1","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}})",
      R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4,)"
      R"("prompt_tokens_details":{"cached_tokens":6},"completion_tokens_details":{"reasoning_tokens":2}}})",
      R"({"choices":[],"usage":{"prompt_tokens":10,"prompt_cache_hit_tokens":7,"prompt_tokens_details":{}}})",
      R"({"choices":[],"usage":{"prompt_tokens":10,"prompt_cache_hit_tokens":7,"prompt_tokens_details":null}})",
      R"({"choices":[],"usage":{"prompt_tokens":5.0,"completion_tokens":-1}})",
      R"({"choices":[],"usage":{"prompt_tokens":1.5,"completion_tokens":"2"}})",
      R"({"choices":[],"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":1e300}})",
      R"({"choices":[],"usage":null,"x_groq":{"id":"g","usage":{"prompt_tokens":7,"completion_tokens":1}}})",
      R"({"choices":[],"usage":{"total_tokens":9},"x_groq":{"usage":{"completion_tokens":2}}})",
      R"({"choices":[{"finish_reason":null},{"finish_reason":"length"},7,"x"],"usage":{"prompt_tokens":3}})",
      R"({"choices":[{"message":{"finish_reason":"eos","deep":[[[[[[{"usage":{"prompt_tokens":99}}]]]]]]}}]})",
      R"( {"choices":[]} )",
  };
  for (const std::string& text : answers) {
    SCOPED_TRACE(text);
    const std::optional<Usage> scanned = ScanOpenAiAnswer(text, /*chat=*/true);
    ASSERT_TRUE(scanned.has_value());
    ExpectSameUsage(*scanned, TreeUsage(text));
  }
}

TEST(ScanOpenAiAnswerTest, ReadsEmbeddingsAnswersFromTheirDataArray) {
  const std::string text =
      R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]}],)"
      R"("usage":{"prompt_tokens":8,"total_tokens":8}})";
  const std::optional<Usage> scanned = ScanOpenAiAnswer(text, /*chat=*/false);
  ASSERT_TRUE(scanned.has_value());
  ExpectSameUsage(*scanned, TreeUsage(text));
  EXPECT_FALSE(ScanOpenAiAnswer(text, /*chat=*/true).has_value());
}

TEST(ScanOpenAiAnswerTest, LeavesEveryOtherAnswerToTheTree) {
  const std::string declined[] = {
      "",
      "<html>oops</html>",
      R"({"id":"x","choices":[)",
      R"({"id":"x","choices":[]} trailing)",
      R"({"id":"x","choices":[{"logprobs":tru}]})",
      "{\"choices\":[],\"x\":\"\xff\"}",
      R"({"id":"x","object":"chat.completion"})",
      R"({"choices":{"finish_reason":"stop"}})",
      R"({"choices":null})",
      R"({"choices":[],"choices":[]})",
      R"("just a string")",
      R"([{"error":{"code":429,"message":"quota"}}])",
      R"({"error":{"message":"boom","type":"server_error"}})",
      R"({"code":"Throttling","message":"slow down","request_id":"r1"})",
      R"({"choices":[{"finish_reason":"insufficient_system_resource"}]})",
      R"({"choices":[{"finish_reason":"eos"}]})",
      R"({"choices":[{"finish_reason":"eos_token"}]})",
      R"({"choices":[],"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}})",
      R"({"choices":[],"usage":{"prompt_tokens":1,"prompt_tokens":2}})",
      R"({"choices":[],"x_groq":{"usage":{}},"x_groq":{}})",
      std::string(200, '[') + std::string(200, ']'),
      R"({"choices":[],"us\u0061ge":{"prompt_tokens":3}})",
  };
  for (const std::string& text : declined) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ScanOpenAiAnswer(text, /*chat=*/true).has_value());
  }
}

// What OpenAiStreamDecoder::OnChunk's tree path reads from a passthrough chunk.
OpenAiChunkOutline TreeOutline(const std::string& data) {
  const boost::json::value value = boost::json::parse(data);
  const boost::json::object& chunk = value.as_object();
  OpenAiChunkOutline outline;
  outline.usage = ReadOpenAiUsage(chunk);
  outline.usage_object = ObjectField(chunk, "usage") != nullptr;
  const boost::json::array* choices = ArrayField(chunk, "choices");
  outline.has_choices = choices != nullptr && !choices->empty();
  if (!outline.has_choices) return outline;
  for (const boost::json::value& item : *choices) {
    const boost::json::object* choice = item.if_object();
    if (choice == nullptr) continue;
    if (!StringField(*choice, "finish_reason").empty()) outline.content = true;
    const boost::json::object* delta = ObjectField(*choice, "delta");
    if (delta == nullptr) continue;
    for (std::string_view key : {"content", "refusal", "reasoning_content", "reasoning"}) {
      if (!StringField(*delta, key).empty()) outline.content = true;
    }
    const boost::json::array* calls = ArrayField(*delta, "tool_calls");
    if ((calls != nullptr && !calls->empty()) || ObjectField(*delta, "function_call") != nullptr) {
      outline.content = true;
    }
  }
  return outline;
}

TEST(ScanOpenAiChunkTest, ReadsWhatTheTreeReadsFromEveryChunkShape) {
  const std::string chunks[] = {
      R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},)"
      R"("finish_reason":null}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{"content":"Hel\"lo\n"},"finish_reason":null}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
      R"({"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3}})",
      R"({"id":"c","usage":{"prompt_tokens":9}})",
      R"({"id":"c","choices":[],"usage":null})",
      R"({"id":"c","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]})",
      R"({"id":"c","choices":[{"delta":{"tool_calls":[]}}]})",
      R"({"id":"c","choices":[{"delta":{"function_call":{"name":"f"}}}]})",
      R"({"id":"c","choices":[{"delta":{"reasoning_content":"think"}}]})",
      R"({"id":"c","choices":[{"delta":{"reasoning":"think"}}]})",
      R"({"id":"c","choices":[{"delta":{"refusal":"no"}}]})",
      R"({"id":"c","choices":[{"delta":{"content":null,"refusal":""}},7]})",
      R"({"id":"c","choices":[{"delta":{"role":"assistant"}}],"x_groq":{"usage":{"prompt_tokens":4}}})",
      R"({"id":"c","choices":[{"delta":{"content":"x"},"finish_reason":"length"}],"usage":{"completion_tokens":1}})",
  };
  for (const std::string& data : chunks) {
    SCOPED_TRACE(data);
    const std::optional<OpenAiChunkOutline> scanned = ScanOpenAiChunk(data);
    ASSERT_TRUE(scanned.has_value());
    const OpenAiChunkOutline tree = TreeOutline(data);
    ASSERT_EQ(scanned->usage.has_value(), tree.usage.has_value());
    if (tree.usage) ExpectSameUsage(*scanned->usage, *tree.usage);
    EXPECT_EQ(scanned->usage_object, tree.usage_object);
    EXPECT_EQ(scanned->has_choices, tree.has_choices);
    EXPECT_EQ(scanned->content, tree.content);
  }
}

TEST(ScanOpenAiChunkTest, LeavesEveryOtherChunkToTheTree) {
  const std::string declined[] = {
      "",
      "not json",
      R"({"choices":[{"delta":{"content":"x"}}]} x)",
      R"([{"choices":[]}])",
      R"({"error":{"message":"overloaded","type":"server_error"}})",
      R"({"code":"Throttling","message":"slow down"})",
      R"({"choices":null})",
      R"({"choices":{"delta":{}}})",
      R"({"choices":[],"choices":[]})",
      R"({"choices":[{"finish_reason":"error"}]})",
      R"({"choices":[{"finish_reason":"insufficient_system_resource"}]})",
      R"({"choices":[{"finish_reason":"eos"}]})",
      R"({"choices":[{"finish_reason":"eos_token"}]})",
      R"({"choices":[{"finish_reason":"stop","finish_reason":null}]})",
      R"({"choices":[{"delta":{"content":"x","content":""}}]})",
      R"({"choices":[{"delta":{"content":"x"},"delta":{}}]})",
  };
  for (const std::string& data : declined) {
    SCOPED_TRACE(data);
    EXPECT_FALSE(ScanOpenAiChunk(data).has_value());
  }
}

}  // namespace
}  // namespace llmesh::provider
