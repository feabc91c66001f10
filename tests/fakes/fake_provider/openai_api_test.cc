#include "tests/fakes/fake_provider/openai_api.h"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "gtest/gtest.h"
#include "tests/fakes/fake_provider/fake_provider_fixture.h"

namespace llmesh::fakes {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using test_support::FakeProviderTest;
using test_support::WithoutCreated;

// prompt_tokens = 61 body bytes / 4 = 15.
constexpr std::string_view kChatBody =
    R"({"model":"m1","messages":[{"role":"user","content":"hello"}]})";

TEST_F(FakeProviderTest, AnswersAScriptedToolCallWithToolCalls) {
  StartFake();
  // The JavaScript tests' script: arguments as an object, for one request.
  ASSERT_EQ(Call("POST", "/_fake/script",
                 R"({"tool_call":"get_weather","tool_arguments":{"city":"Paris","unit":"celsius"},)"
                 R"("count":1})")
                .result(),
            bhttp::status::ok);
  auto response = Call("POST", "/v1/chat/completions", kChatBody);
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(
      WithoutCreated(response.body()),
      R"({"id":"chatcmpl-000000000000000000000001","object":"chat.completion","created":0,)"
      R"("model":"m1","system_fingerprint":"fp_fake","choices":[{"index":0,"message":)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_000000000000000000000001",)"
      R"("type":"function","function":{"name":"get_weather",)"
      R"("arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\"}"}}],"refusal":null,)"
      R"("annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":)"
      R"({"prompt_tokens":15,"completion_tokens":1,"total_tokens":16,"prompt_tokens_details":)"
      R"({"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,)"
      R"("audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})");
  auto next = Call("POST", "/v1/chat/completions", kChatBody);
  EXPECT_NE(next.body().find(R"("content":"fake-0 fake-1 fake-2 ")"), std::string::npos);
}

TEST_F(FakeProviderTest, StreamsToolCallArgumentsInSeveralDeltas) {
  StartFake();
  auto response = Call("POST", "/v1/chat/completions", R"({"model":"m1","stream":true})",
                       "x-fake-tool-call: get_weather\r\n"
                       "x-fake-tool-arguments: {\"city\":\"Paris\"}\r\n");
  const std::string prefix =
      R"(data: {"id":"chatcmpl-000000000000000000000001","object":"chat.completion.chunk",)"
      R"("created":0,"model":"m1","system_fingerprint":"fp_fake","choices":)";
  auto event = [&prefix](std::string_view rest) { return prefix + std::string(rest) + "}\n\n"; };
  EXPECT_EQ(
      WithoutCreated(response.body()),
      event(R"([{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,)"
            R"("id":"call_000000000000000000000001","type":"function","function":)"
            R"({"name":"get_weather","arguments":""}}],"refusal":null},"finish_reason":null}])") +
          event(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":)"
                R"({"arguments":"{\"city\":"}}]},"finish_reason":null}])") +
          event(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":)"
                R"({"arguments":"\"Paris\"}"}}]},"finish_reason":null}])") +
          event(R"([{"index":0,"delta":{},"finish_reason":"tool_calls"}])") + "data: [DONE]\n\n");
}

TEST_F(FakeProviderTest, BlockedFinishesWithContentFilter) {
  StartFake();
  auto response =
      Call("POST", "/v1/chat/completions", kChatBody, "x-fake-blocked: true\r\n");
  EXPECT_EQ(response.result(), bhttp::status::ok);
  const json::value body = json::parse(response.body());
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason").as_string(), "content_filter");
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content").as_string(), "");
  EXPECT_EQ(body.at("usage").at("completion_tokens").to_number<int>(), 0);
}

TEST_F(FakeProviderTest, UsageReportsScriptedReasoningAndCachedTokens) {
  StartFake();
  auto response = Call("POST", "/v1/chat/completions", kChatBody,
                       "x-fake-reasoning-tokens: 5\r\nx-fake-cached-tokens: 100\r\n");
  // Cached tokens are capped at the 15 prompt tokens; reasoning counts in completion_tokens.
  EXPECT_TRUE(response.body().ends_with(
      R"("usage":{"prompt_tokens":15,"completion_tokens":8,"total_tokens":23,)"
      R"("prompt_tokens_details":{"cached_tokens":15,"audio_tokens":0},)"
      R"("completion_tokens_details":{"reasoning_tokens":5,"audio_tokens":0,)"
      R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})"))
      << response.body();
}

TEST_F(FakeProviderTest, KeepAliveCommentsAndTheAzureChunkPrecedeTheRoleChunk) {
  StartFake();
  auto response = Call("POST", "/v1/chat/completions", R"({"model":"m1","stream":true})",
                       "x-fake-keep-alive-comments: 2\r\nx-fake-empty-choices-chunk: 1\r\n"
                       "x-fake-chunks: 1\r\n");
  const std::string& body = response.body();
  EXPECT_TRUE(body.starts_with(": keep-alive\n\n: keep-alive\n\ndata: {\"choices\":[],")) << body;
  const size_t role = body.find(R"("delta":{"role":"assistant","content":""})");
  ASSERT_NE(role, std::string::npos);
  EXPECT_LT(body.find("prompt_filter_results"), role);
  EXPECT_TRUE(body.ends_with("data: [DONE]\n\n"));
}

TEST_F(FakeProviderTest, ScriptsTheFlavorCannotPlayAreRejected) {
  FakeProviderOptions options;
  options.flavor = Flavor::kGemini;
  StartFake(options);
  auto response = Call("POST", "/_fake/script", R"({"empty_choices_chunk":true})");
  EXPECT_EQ(response.result(), bhttp::status::bad_request);
  EXPECT_EQ(response.body(),
            R"({"error":{"message":"\"empty_choices_chunk\" is not supported by the gemini )"
            R"j(flavor (openai only)","type":"invalid_request_error","param":null,"code":null}})j");
}

}  // namespace
}  // namespace llmesh::fakes
