// Translation through the real sidecar: OpenAI clients answered by Anthropic- and Gemini-format
// providers, Anthropic clients (/v1/messages) answered by an OpenAI-format provider, failover
// across formats in one route, and errors always in the client's own API shape.
#include <string>
#include <vector>

#include "tests/integration/proxy/proxy_fixture.h"

namespace llmesh::testing {
namespace {

namespace beast_http = boost::beast::http;
using std::chrono::milliseconds;

// The data payloads of an SSE body, in order (comments and `event:` lines dropped).
std::vector<std::string> DataOf(std::string_view body) {
  std::vector<std::string> data;
  while (!body.empty()) {
    const size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("data: ")) data.emplace_back(line.substr(6));
  }
  return data;
}

// The `event:` names of an SSE body, in order.
std::vector<std::string> EventNamesOf(std::string_view body) {
  std::vector<std::string> names;
  while (!body.empty()) {
    const size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    if (line.starts_with("event: ")) names.emplace_back(line.substr(7));
  }
  return names;
}

// Concatenated `choices[0].delta.content` of OpenAI chunks.
std::string OpenAiStreamText(const std::vector<std::string>& data) {
  std::string text;
  for (const std::string& event : data) {
    if (event == "[DONE]") continue;
    const boost::json::value chunk = ParseJson(event);
    const boost::json::array* choices = chunk.at("choices").if_array();
    if (choices == nullptr || choices->empty()) continue;
    const boost::json::value* content = choices->at(0).at("delta").as_object().if_contains("content");
    if (content != nullptr && content->is_string()) text += content->as_string();
  }
  return text;
}

std::string MessagesBody(bool stream, std::string_view model = "chat") {
  boost::json::object body{{"model", model},
                           {"max_tokens", 256},
                           {"messages", boost::json::array{boost::json::object{{"role", "user"}, {"content", "hi"}}}}};
  if (stream) body["stream"] = true;
  return boost::json::serialize(body);
}

class TranslationTest : public ProxyProtocolTest {
 protected:
  HttpResponse Messages(std::string_view body) const {
    return ProxyRequest(beast_http::verb::post, "/v1/messages", body,
                        {{"x-api-key", "client-key"}, {"anthropic-version", "2023-06-01"}});
  }
};

TEST_P(TranslationTest, OpenAiClientGetsAChatCompletionFromAnAnthropicProvider) {
  StartProvider("claude", "anthropic");
  StartProxy(ChatConfig());
  const HttpResponse response = Chat();
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.headers.at("x-llmesh-provider"), "claude");
  const boost::json::value body = ParseJson(response.body);
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("choices").at(0).at("message").at("role"), "assistant");
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content"), "claude-0 claude-1 claude-2 ");
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_GT(body.at("usage").at("prompt_tokens").to_number<int>(), 0);
  EXPECT_EQ(body.at("usage").at("completion_tokens").to_number<int>(), 3);
}

TEST_P(TranslationTest, OpenAiClientGetsAChatCompletionFromAGeminiProvider) {
  StartProvider("gem", "gemini");
  StartProxy(ChatConfig());
  const HttpResponse response = Chat();
  ASSERT_EQ(response.status, 200) << response.body;
  const boost::json::value body = ParseJson(response.body);
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content"), "gem-0 gem-1 gem-2 ");
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason"), "stop");
}

// Acceptance: openai → anthropic → gemini, the first two failing, answers a stream from Gemini.
TEST_P(TranslationTest, StreamFailsOverAcrossThreeFormatsAndIsAnsweredByGemini) {
  FakeProviderProcess& openai = StartProvider("openai", "openai");
  FakeProviderProcess& anthropic = StartProvider("anthropic", "anthropic");
  FakeProviderProcess& gemini = StartProvider("gemini", "gemini");
  StartProxy(ChatConfig());
  openai.Script(R"({"status":503})");
  anthropic.Script(R"({"status":529})");

  const std::string body =
      R"({"model":"chat","stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"user","content":"hi"}]})";
  const HttpResponse response = ProxyRequest(beast_http::verb::post, "/v1/chat/completions", body);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.headers.at("x-llmesh-attempts"), "3");
  EXPECT_EQ(response.headers.at("x-llmesh-provider"), "gemini");
  EXPECT_EQ(response.headers.at("content-type"), "text/event-stream");
  const std::vector<std::string> data = DataOf(response.body);
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.back(), "[DONE]");
  EXPECT_EQ(OpenAiStreamText(data), "gemini-0 gemini-1 gemini-2 ");
  // The usage chunk comes last before [DONE], with no choices.
  const boost::json::value usage_chunk = ParseJson(data[data.size() - 2]);
  EXPECT_TRUE(usage_chunk.at("choices").as_array().empty());
  EXPECT_EQ(usage_chunk.at("usage").at("completion_tokens").to_number<int>(), 3);
  EXPECT_EQ(openai.Requests(), 1u);
  EXPECT_EQ(anthropic.Requests(), 1u);
  EXPECT_EQ(gemini.Requests(), 1u);
}

TEST_P(TranslationTest, AnthropicClientGetsAMessageFromAnOpenAiProvider) {
  StartProvider("gpt", "openai");
  StartProxy(ChatConfig());
  const HttpResponse response = Messages(MessagesBody(/*stream=*/false));
  ASSERT_EQ(response.status, 200) << response.body;
  const boost::json::value body = ParseJson(response.body);
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(body.at("role"), "assistant");
  EXPECT_EQ(body.at("content").at(0).at("type"), "text");
  EXPECT_EQ(body.at("content").at(0).at("text"), "gpt-0 gpt-1 gpt-2 ");
  EXPECT_EQ(body.at("stop_reason"), "end_turn");
  EXPECT_EQ(body.at("usage").at("output_tokens").to_number<int>(), 3);
}

TEST_P(TranslationTest, AnthropicClientStreamFromAnOpenAiProviderHasTheMessagesEventSequence) {
  StartProvider("gpt", "openai");
  StartProxy(ChatConfig());
  const HttpResponse response = Messages(MessagesBody(/*stream=*/true));
  ASSERT_EQ(response.status, 200) << response.body;
  const std::vector<std::string> names = EventNamesOf(response.body);
  ASSERT_GE(names.size(), 6u) << response.body;
  EXPECT_EQ(names.front(), "message_start");
  EXPECT_EQ(names[1], "content_block_start");
  EXPECT_EQ(names[names.size() - 3], "content_block_stop");
  EXPECT_EQ(names[names.size() - 2], "message_delta");
  EXPECT_EQ(names.back(), "message_stop");
  std::string text;
  for (const std::string& event : DataOf(response.body)) {
    const boost::json::value parsed = ParseJson(event);
    if (parsed.at("type") != "content_block_delta") continue;
    text += parsed.at("delta").at("text").as_string();
  }
  EXPECT_EQ(text, "gpt-0 gpt-1 gpt-2 ");
}

TEST_P(TranslationTest, AnthropicClientPassesThroughToAnAnthropicProvider) {
  FakeProviderProcess& claude = StartProvider("claude", "anthropic");
  StartProxy(ChatConfig());
  const HttpResponse response = Messages(MessagesBody(/*stream=*/false));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(ParseJson(response.body).at("content").at(0).at("text"), "claude-0 claude-1 claude-2 ");
  // The client's own key never reaches the provider; the provider's does.
  const boost::json::object stats = claude.Stats();
  EXPECT_EQ(stats.at("last_request").at("authorization"), "claude-key");
}

TEST_P(TranslationTest, AnthropicClientErrorsAreInAnthropicShape) {
  StartProvider("gpt", "openai");
  StartProxy(ChatConfig());
  const HttpResponse unknown = Messages(MessagesBody(false, "no-such-model"));
  EXPECT_EQ(unknown.status, 404);
  const boost::json::value not_found = ParseJson(unknown.body);
  EXPECT_EQ(not_found.at("type"), "error");
  EXPECT_EQ(not_found.at("error").at("type"), "not_found_error");

  const HttpResponse missing = Messages(R"({"model":"chat","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}})");

  const HttpResponse broken = Messages("{\"model\":");
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(ParseJson(broken.body).at("error").at("type"), "invalid_request_error");
}

TEST_P(TranslationTest, AnthropicClientOversizedBodyIsRefusedInAnthropicShape) {
  StartProvider("gpt", "openai");
  StartProxy(ChatConfig({}, "limits: {max_request_body_bytes: 2048}\n"));
  const HttpResponse response = Messages(MessagesBody(false, "chat") + std::string(4096, ' '));
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.body,
            R"({"type":"error","error":{"type":"request_too_large","message":"request body too large"}})");
}

TEST_P(TranslationTest, AnthropicClientSeesAnOverloadedErrorWhenEveryProviderIsOverloaded) {
  FakeProviderProcess& gpt = StartProvider("gpt", "openai");
  StartProxy(ChatConfig());
  gpt.Script(R"({"status":503})");
  const HttpResponse response = Messages(MessagesBody(/*stream=*/false));
  EXPECT_EQ(response.status, 503);
  const boost::json::value body = ParseJson(response.body);
  EXPECT_EQ(body.at("type"), "error");
  EXPECT_EQ(body.at("error").at("type"), "overloaded_error");
}

// n>1 cannot be expressed by Anthropic: the target is skipped, not sent a changed request.
TEST_P(TranslationTest, UntranslatableRequestSkipsTheTargetAndSaysWhy) {
  FakeProviderProcess& claude = StartProvider("claude", "anthropic");
  StartProxy(ChatConfig());
  const HttpResponse response =
      ProxyRequest(beast_http::verb::post, "/v1/chat/completions",
                   R"({"model":"chat","n":2,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(response.status, 400) << response.body;
  const boost::json::value body = ParseJson(response.body);
  EXPECT_EQ(body.at("error").at("type"), "invalid_request_error");
  EXPECT_EQ(body.at("error").at("code"), "unsupported_request");
  EXPECT_EQ(claude.Requests(), 0u);
}

TEST_P(TranslationTest, UntranslatableRequestIsStillServedByATargetOfTheClientsFormat) {
  FakeProviderProcess& claude = StartProvider("claude", "anthropic");
  FakeProviderProcess& gpt = StartProvider("gpt", "openai");
  StartProxy(ChatConfig());
  const HttpResponse response =
      ProxyRequest(beast_http::verb::post, "/v1/chat/completions",
                   R"({"model":"chat","n":2,"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.headers.at("x-llmesh-provider"), "gpt");
  EXPECT_EQ(response.headers.at("x-llmesh-attempts"), "1");
  EXPECT_EQ(claude.Requests(), 0u);
  EXPECT_EQ(gpt.Requests(), 1u);
}

TEST_P(TranslationTest, ErrorEventAfterContentEndsTheTranslatedStreamWithAnError) {
  FakeProviderProcess& claude = StartProvider("claude", "anthropic");
  StartProxy(ChatConfig());
  claude.Script(R"({"error_after_events":4})");
  const HttpResponse response = Chat(/*stream=*/true);
  ASSERT_EQ(response.status, 200) << response.body;
  const std::vector<std::string> data = DataOf(response.body);
  ASSERT_FALSE(data.empty());
  EXPECT_NE(data.back(), "[DONE]");
  EXPECT_TRUE(ParseJson(data.back()).as_object().contains("error")) << response.body;
}

TEST_P(TranslationTest, EmbeddingsAreAnsweredByGemini) {
  StartProvider("gem", "gemini");
  StartProxy(ChatConfig());
  const HttpResponse response = ProxyRequest(beast_http::verb::post, "/v1/embeddings",
                                             R"({"model":"chat","input":["a","b"],"encoding_format":"float"})");
  ASSERT_EQ(response.status, 200) << response.body;
  const boost::json::value body = ParseJson(response.body);
  EXPECT_EQ(body.at("object"), "list");
  ASSERT_EQ(body.at("data").as_array().size(), 2u);
  EXPECT_EQ(body.at("data").at(1).at("index").to_number<int>(), 1);
  EXPECT_FALSE(body.at("data").at(0).at("embedding").as_array().empty());
}

INSTANTIATE_TEST_SUITE_P(, TranslationTest, kBothProtocols, ProtocolTestName);

}  // namespace
}  // namespace llmesh::testing
