#include "tests/fakes/fake_provider/anthropic_api.h"

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
using test_support::PinnedOptions;

// input_tokens = 80 body bytes / 4 = 20.
constexpr std::string_view kMessagesBody =
    R"({"model":"claude-x","max_tokens":64,"messages":[{"role":"user","content":"hi"}]})";
// input_tokens = 94 body bytes / 4 = 23.
constexpr std::string_view kStreamBody =
    R"({"model":"claude-x","max_tokens":64,"stream":true,)"
    R"("messages":[{"role":"user","content":"hi"}]})";
constexpr std::string_view kAuth = "x-api-key: sk-ant\r\nanthropic-version: 2023-06-01\r\n";

std::string WithHeaders(std::string_view extra) {
  std::string headers(kAuth);
  headers.append(extra);
  return headers;
}

std::string Event(std::string_view name, std::string_view data) {
  return std::string("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
}

class AnthropicFakeTest : public FakeProviderTest {
 protected:
  void SetUp() override {
    FakeProviderOptions options = PinnedOptions(Flavor::kAnthropic);
    options.name = "claude";
    StartFake(options);
  }
};

TEST_F(AnthropicFakeTest, AnswersMessagesWithConcatenatedPiecesAndHeaders) {
  ASSERT_EQ(kMessagesBody.size(), 80u);
  auto response = Call("POST", "/v1/messages", kMessagesBody, kAuth);
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(response["request-id"], "req_000000000000000000000001");
  EXPECT_EQ(response["anthropic-ratelimit-requests-limit"], "1000");
  EXPECT_EQ(response["anthropic-ratelimit-requests-remaining"], "999");
  EXPECT_EQ(response["anthropic-ratelimit-requests-reset"], "2026-01-01T00:00:01Z");
  EXPECT_EQ(response["anthropic-ratelimit-tokens-reset"], "2026-01-01T00:00:01Z");
  EXPECT_EQ(response.find(bhttp::field::retry_after), response.end());
  EXPECT_EQ(response.body(),
            R"({"id":"msg_000000000000000000000001","type":"message","role":"assistant",)"
            R"("model":"claude-x","content":[{"type":"text","text":"claude-0 claude-1 claude-2 "}],)"
            R"("stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":20,)"
            R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3}})");
}

TEST_F(AnthropicFakeTest, StreamsTheExactEventSequence) {
  ASSERT_EQ(kStreamBody.size(), 94u);
  auto response = Call("POST", "/v1/messages", kStreamBody,
                       WithHeaders("x-fake-chunks: 2\r\n"));
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response[bhttp::field::content_type], "text/event-stream");
  EXPECT_EQ(
      response.body(),
      Event("message_start",
            R"({"type":"message_start","message":{"id":"msg_000000000000000000000001",)"
            R"("type":"message","role":"assistant","model":"claude-x","content":[],)"
            R"("stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":23,)"
            R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}})") +
          Event("content_block_start",
                R"({"type":"content_block_start","index":0,)"
                R"("content_block":{"type":"text","text":""}})") +
          Event("ping", R"({"type":"ping"})") +
          Event("content_block_delta",
                R"({"type":"content_block_delta","index":0,)"
                R"("delta":{"type":"text_delta","text":"claude-0 "}})") +
          Event("content_block_delta",
                R"({"type":"content_block_delta","index":0,)"
                R"("delta":{"type":"text_delta","text":"claude-1 "}})") +
          Event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
          Event("message_delta",
                R"({"type":"message_delta","delta":{"stop_reason":"end_turn",)"
                R"("stop_sequence":null},"usage":{"output_tokens":2}})") +
          Event("message_stop", R"({"type":"message_stop"})"));
}

TEST_F(AnthropicFakeTest, AnswersAScriptedToolCallWithAToolUseBlock) {
  ASSERT_TRUE(fake_->SetScript(R"({"tool_call":"get_weather",)"
                               R"("tool_arguments":{"city":"Paris","unit":"celsius"},"count":1})")
                  .ok());
  auto response = Call("POST", "/v1/messages", kMessagesBody, kAuth);
  EXPECT_EQ(response.body(),
            R"({"id":"msg_000000000000000000000001","type":"message","role":"assistant",)"
            R"("model":"claude-x","content":[{"type":"tool_use",)"
            R"("id":"toolu_000000000000000000000001","name":"get_weather",)"
            R"("input":{"city":"Paris","unit":"celsius"}}],"stop_reason":"tool_use",)"
            R"("stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":0,)"
            R"("cache_read_input_tokens":0,"output_tokens":1}})");
  // count 1: the next request is text again.
  auto next = Call("POST", "/v1/messages", kMessagesBody, kAuth);
  EXPECT_EQ(json::parse(next.body()).at("stop_reason").as_string(), "end_turn");
}

TEST_F(AnthropicFakeTest, StreamsToolUseInputInSeveralPartialJsonPieces) {
  auto response = Call("POST", "/v1/messages", kStreamBody,
                       WithHeaders("x-fake-tool-call: get_weather\r\n"
                           "x-fake-tool-arguments: {\"city\":\"Paris\"}\r\n"));
  const std::string& body = response.body();
  const std::string expected_block =
      Event("content_block_start",
            R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use",)"
            R"("id":"toolu_000000000000000000000001","name":"get_weather","input":{}}})") +
      Event("ping", R"({"type":"ping"})") +
      Event("content_block_delta",
            R"({"type":"content_block_delta","index":0,)"
            R"("delta":{"type":"input_json_delta","partial_json":""}})") +
      Event("content_block_delta",
            R"({"type":"content_block_delta","index":0,)"
            R"("delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})") +
      Event("content_block_delta",
            R"({"type":"content_block_delta","index":0,)"
            R"("delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}})") +
      Event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
      Event("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"tool_use",)"
            R"("stop_sequence":null},"usage":{"output_tokens":1}})") +
      Event("message_stop", R"({"type":"message_stop"})");
  ASSERT_TRUE(body.starts_with("event: message_start\n")) << body;
  EXPECT_EQ(body.substr(body.find("event: content_block_start")), expected_block);
}

TEST_F(AnthropicFakeTest, RefusesMissingOrWrongCredentialsAndMissingVersion) {
  auto no_key = Call("POST", "/v1/messages", kMessagesBody, "anthropic-version: 2023-06-01\r\n");
  EXPECT_EQ(no_key.result(), bhttp::status::unauthorized);
  EXPECT_EQ(no_key.body(),
            R"({"type":"error","error":{"type":"authentication_error",)"
            R"("message":"x-api-key header is required"},)"
            R"("request_id":"req_000000000000000000000001"})");
  EXPECT_EQ(no_key["request-id"], "req_000000000000000000000001");

  auto no_version = Call("POST", "/v1/messages", kMessagesBody, "x-api-key: sk-ant\r\n");
  EXPECT_EQ(no_version.result(), bhttp::status::bad_request);
  EXPECT_EQ(no_version.body(),
            R"({"type":"error","error":{"type":"invalid_request_error",)"
            R"("message":"anthropic-version: header is required"},)"
            R"("request_id":"req_000000000000000000000002"})");

  auto no_max_tokens =
      Call("POST", "/v1/messages", R"({"model":"claude-x","messages":[]})", kAuth);
  EXPECT_EQ(no_max_tokens.result(), bhttp::status::bad_request);
  EXPECT_EQ(no_max_tokens.body(),
            R"({"type":"error","error":{"type":"invalid_request_error",)"
            R"("message":"max_tokens: Field required"},)"
            R"("request_id":"req_000000000000000000000003"})");
}

TEST(AnthropicFakeKeyTest, RequiresTheConfiguredApiKey) {
  FakeProviderOptions options = PinnedOptions(Flavor::kAnthropic);
  options.api_key = "sk-good";
  FakeProvider fake(options);
  ASSERT_TRUE(fake.Start().ok());
  http::testing::RawConnection client(fake.port());
  ASSERT_TRUE(client.Send(test_support::HttpRequest("POST", "/v1/messages", kMessagesBody, kAuth)));
  auto denied = client.ReadResponse();
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->result(), bhttp::status::unauthorized);
  EXPECT_EQ(denied->body(),
            R"({"type":"error","error":{"type":"authentication_error",)"
            R"("message":"invalid x-api-key"},"request_id":"req_000000000000000000000001"})");
  ASSERT_TRUE(client.Send(test_support::HttpRequest(
      "POST", "/v1/messages", kMessagesBody,
      "x-api-key: sk-good\r\nanthropic-version: 2023-06-01\r\n")));
  auto allowed = client.ReadResponse();
  ASSERT_TRUE(allowed.has_value());
  EXPECT_EQ(allowed->result(), bhttp::status::ok);
}

TEST_F(AnthropicFakeTest, ScriptedOverloadIsA529OverloadedError) {
  ASSERT_TRUE(fake_->SetScript(R"({"status":529})").ok());
  auto response = Call("POST", "/v1/messages", kMessagesBody, kAuth);
  EXPECT_EQ(response.result_int(), 529u);
  EXPECT_EQ(response["request-id"], "req_000000000000000000000001");
  EXPECT_EQ(response.find("anthropic-ratelimit-requests-remaining"), response.end());
  EXPECT_EQ(response.body(),
            R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},)"
            R"("request_id":"req_000000000000000000000001"})");
}

TEST_F(AnthropicFakeTest, RateLimitCarriesRetryAfterAndResetTimestamps) {
  auto response = Call("POST", "/v1/messages", kMessagesBody,
                       WithHeaders("x-fake-status: 429\r\nx-fake-retry-after: 12\r\n"));
  EXPECT_EQ(response.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(response["retry-after"], "12");
  EXPECT_EQ(response["anthropic-ratelimit-requests-remaining"], "0");
  EXPECT_EQ(response["anthropic-ratelimit-requests-reset"], "2026-01-01T00:00:12Z");
  EXPECT_EQ(response["anthropic-ratelimit-output-tokens-reset"], "2026-01-01T00:00:12Z");
  EXPECT_EQ(response.body(),
            R"({"type":"error","error":{"type":"rate_limit_error",)"
            R"("message":"Number of requests has exceeded your rate limit."},)"
            R"("request_id":"req_000000000000000000000001"})");
}

TEST_F(AnthropicFakeTest, ErrorAfterEventsSendsAnInStreamErrorEvent) {
  auto response = Call("POST", "/v1/messages", kStreamBody,
                       WithHeaders("x-fake-error-after-events: 4\r\n"));
  EXPECT_EQ(response.result(), bhttp::status::ok);
  const std::string& body = response.body();
  EXPECT_NE(body.find(R"("text":"claude-0 ")"), std::string::npos);
  EXPECT_EQ(body.find("claude-1"), std::string::npos);
  EXPECT_TRUE(body.ends_with(Event(
      "ping", R"({"type":"ping"})") + Event("content_block_delta",
      R"({"type":"content_block_delta","index":0,)"
      R"("delta":{"type":"text_delta","text":"claude-0 "}})") +
      Event("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")))
      << body;
  EXPECT_EQ(body.find("message_stop"), std::string::npos);
}

TEST_F(AnthropicFakeTest, CachedTokensAreReportedApartFromInputTokens) {
  auto response = Call("POST", "/v1/messages", kMessagesBody,
                       WithHeaders("x-fake-cached-tokens: 8\r\nx-fake-reasoning-tokens: 4\r\n"));
  EXPECT_TRUE(response.body().ends_with(
      R"("usage":{"input_tokens":12,"cache_creation_input_tokens":0,)"
      R"("cache_read_input_tokens":8,"output_tokens":7}})"))
      << response.body();
}

TEST_F(AnthropicFakeTest, BlockedEndsWithARefusalAndNoOutput) {
  auto response =
      Call("POST", "/v1/messages", kMessagesBody, WithHeaders("x-fake-blocked: true\r\n"));
  EXPECT_EQ(response.result(), bhttp::status::ok);
  const json::value body = json::parse(response.body());
  EXPECT_EQ(body.at("stop_reason").as_string(), "refusal");
  EXPECT_EQ(body.at("content").at(0).at("text").as_string(), "");
  EXPECT_EQ(body.at("usage").at("output_tokens").to_number<int>(), 0);
  EXPECT_EQ(Stats().at("scripted_failures").to_number<int>(), 1);
}

TEST_F(AnthropicFakeTest, StatsShowTheApiKeyAndUnknownRoutesAreNotFound) {
  auto unknown = Call("POST", "/v1/complete", "{}", kAuth);
  EXPECT_EQ(unknown.result(), bhttp::status::not_found);
  EXPECT_EQ(unknown.body(),
            R"({"type":"error","error":{"type":"not_found_error","message":"Not found"},)"
            R"("request_id":"req_000000000000000000000001"})");
  Call("POST", "/v1/messages", kMessagesBody, kAuth);
  const json::value stats = Stats();
  EXPECT_EQ(stats.at("requests").to_number<int>(), 2);
  EXPECT_EQ(stats.at("chat").to_number<int>(), 1);
  EXPECT_EQ(stats.at("last_request").at("path").as_string(), "/v1/messages");
  EXPECT_EQ(stats.at("last_request").at("authorization").as_string(), "sk-ant");
}

}  // namespace
}  // namespace llmesh::fakes
