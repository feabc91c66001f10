#include "tests/fakes/fake_provider/gemini_api.h"

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

// promptTokenCount = 54 body bytes / 4 = 13.
constexpr std::string_view kGenerateBody =
    R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})";
constexpr std::string_view kGenerate = "/v1beta/models/gemini-x:generateContent";
constexpr std::string_view kStreamSse = "/v1beta/models/gemini-x:streamGenerateContent?alt=sse";
constexpr std::string_view kKey = "x-goog-api-key: gk-1\r\n";

std::string WithHeaders(std::string_view extra) {
  std::string headers(kKey);
  headers.append(extra);
  return headers;
}

std::string Chunk(std::string_view json) {
  return std::string("data: ").append(json).append("\r\n\r\n");
}

class GeminiFakeTest : public FakeProviderTest {
 protected:
  void SetUp() override {
    FakeProviderOptions options = PinnedOptions(Flavor::kGemini);
    options.name = "gem";
    StartFake(options);
  }
};

TEST_F(GeminiFakeTest, GeneratesContentWithConcatenatedPiecesAndUsage) {
  ASSERT_EQ(kGenerateBody.size(), 54u);
  auto response = Call("POST", kGenerate, kGenerateBody, kKey);
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(response.body(),
            R"({"candidates":[{"content":{"parts":[{"text":"gem-0 gem-1 gem-2 "}],)"
            R"("role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":)"
            R"({"promptTokenCount":13,"candidatesTokenCount":3,"totalTokenCount":16},)"
            R"("modelVersion":"gemini-x","responseId":"000000000000000000000001"})");
}

TEST_F(GeminiFakeTest, StreamsSseChunksWithoutATerminator) {
  auto response = Call("POST", kStreamSse, kGenerateBody, WithHeaders("x-fake-chunks: 2\r\n"));
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response[bhttp::field::content_type], "text/event-stream");
  EXPECT_EQ(response.body(),
            Chunk(R"({"candidates":[{"content":{"parts":[{"text":"gem-0 "}],"role":"model"},)"
                  R"("index":0}],"usageMetadata":{"promptTokenCount":13,)"
                  R"("candidatesTokenCount":1,"totalTokenCount":14},"modelVersion":"gemini-x",)"
                  R"("responseId":"000000000000000000000001"})") +
                Chunk(R"({"candidates":[{"content":{"parts":[{"text":"gem-1 "}],"role":"model"},)"
                      R"("finishReason":"STOP","index":0}],"usageMetadata":)"
                      R"({"promptTokenCount":13,"candidatesTokenCount":2,"totalTokenCount":15},)"
                      R"("modelVersion":"gemini-x","responseId":"000000000000000000000001"})"));
}

TEST_F(GeminiFakeTest, StreamsAJsonArrayWithoutAltSse) {
  auto response = Call("POST", "/v1beta/models/gemini-x:streamGenerateContent", kGenerateBody,
                       WithHeaders("x-fake-chunks: 3\r\n"));
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  const json::value body = json::parse(response.body());
  ASSERT_EQ(body.as_array().size(), 3u);
  EXPECT_EQ(body.at(1).at("candidates").at(0).at("content").at("parts").at(0).at("text"), "gem-1 ");
  EXPECT_EQ(body.at(2).at("candidates").at(0).at("finishReason"), "STOP");
  EXPECT_FALSE(body.at(0).at("candidates").at(0).as_object().contains("finishReason"));
}

TEST_F(GeminiFakeTest, AnswersAScriptedToolCallWithAFunctionCallPartWithoutId) {
  ASSERT_TRUE(fake_->SetScript(R"({"tool_call":"get_weather",)"
                               R"("tool_arguments":"{\"city\":\"Paris\"}"})")
                  .ok());
  auto response = Call("POST", kGenerate, kGenerateBody, kKey);
  EXPECT_EQ(response.body(),
            R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather",)"
            R"("args":{"city":"Paris"}}}],"role":"model"},"finishReason":"STOP","index":0}],)"
            R"("usageMetadata":{"promptTokenCount":13,"candidatesTokenCount":1,)"
            R"("totalTokenCount":14},"modelVersion":"gemini-x",)"
            R"("responseId":"000000000000000000000001"})");
  // Streamed, the call arrives whole in one chunk.
  auto stream = Call("POST", kStreamSse, kGenerateBody, kKey);
  EXPECT_EQ(stream.body(),
            Chunk(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather",)"
                  R"("args":{"city":"Paris"}}}],"role":"model"},"finishReason":"STOP",)"
                  R"("index":0}],"usageMetadata":{"promptTokenCount":13,)"
                  R"("candidatesTokenCount":1,"totalTokenCount":14},)"
                  R"("modelVersion":"gemini-x","responseId":"000000000000000000000002"})"));
}

TEST_F(GeminiFakeTest, BlockedPromptHasPromptFeedbackAndNoCandidates) {
  auto response = Call("POST", kGenerate, kGenerateBody, WithHeaders("x-fake-blocked: 1\r\n"));
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response.body(),
            R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":)"
            R"("HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH"}]},"usageMetadata":)"
            R"({"promptTokenCount":13,"totalTokenCount":13},"modelVersion":"gemini-x",)"
            R"("responseId":"000000000000000000000001"})");
}

TEST_F(GeminiFakeTest, RefusesMissingKeysWithPermissionDenied) {
  auto response = Call("POST", kGenerate, kGenerateBody);
  EXPECT_EQ(response.result(), bhttp::status::forbidden);
  EXPECT_EQ(response.body(),
            R"({"error":{"code":403,"message":"Method doesn't allow unregistered callers )"
            R"((callers without established identity). Please use API Key or other form of )"
            R"(API consumer identity to call this API.","status":"PERMISSION_DENIED"}})");
  // The legacy ?key= form counts as a key.
  auto with_query_key = Call("POST", "/v1beta/models/gemini-x:generateContent?key=gk-q", kGenerateBody);
  EXPECT_EQ(with_query_key.result(), bhttp::status::ok);
  EXPECT_EQ(Stats().at("last_request").at("authorization").as_string(), "gk-q");
}

TEST(GeminiFakeKeyTest, WrongKeyIsInvalidArgumentApiKeyInvalid) {
  FakeProviderOptions options = PinnedOptions(Flavor::kGemini);
  options.api_key = "gk-good";
  FakeProvider fake(options);
  ASSERT_TRUE(fake.Start().ok());
  http::testing::RawConnection client(fake.port());
  ASSERT_TRUE(client.Send(test_support::HttpRequest("POST", kGenerate, kGenerateBody, kKey)));
  auto denied = client.ReadResponse();
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->result(), bhttp::status::bad_request);
  EXPECT_EQ(denied->body(),
            R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.",)"
            R"("status":"INVALID_ARGUMENT","details":[{"@type":)"
            R"("type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID",)"
            R"("domain":"googleapis.com","metadata":{"service":)"
            R"("generativelanguage.googleapis.com"}}]}})");
}

TEST_F(GeminiFakeTest, RateLimitIsResourceExhaustedWithRetryInfo) {
  auto response = Call("POST", kGenerate, kGenerateBody,
                       WithHeaders("x-fake-status: 429\r\nx-fake-retry-after: 34\r\n"));
  EXPECT_EQ(response.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(response.body(),
            R"({"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).",)"
            R"("status":"RESOURCE_EXHAUSTED","details":[{"@type":)"
            R"("type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":)"
            R"("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":)"
            R"("type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34s"}]}})");
  auto unavailable =
      Call("POST", kGenerate, kGenerateBody, WithHeaders("x-fake-status: 503\r\n"));
  EXPECT_EQ(unavailable.body(),
            R"({"error":{"code":503,"message":"The model is overloaded. Please try again later.",)"
            R"("status":"UNAVAILABLE"}})");
}

TEST_F(GeminiFakeTest, ErrorAfterEventsSendsAnErrorObjectMidStream) {
  auto response = Call("POST", kStreamSse, kGenerateBody,
                       WithHeaders("x-fake-error-after-events: 1\r\n"));
  EXPECT_EQ(response.result(), bhttp::status::ok);
  const std::string& body = response.body();
  EXPECT_TRUE(body.starts_with(R"(data: {"candidates":[{"content":{"parts":[{"text":"gem-0 "}])"));
  EXPECT_EQ(body.find("gem-1"), std::string::npos);
  EXPECT_TRUE(body.ends_with(Chunk(
      R"({"error":{"code":503,"message":"The model is overloaded. Please try again later.",)"
      R"("status":"UNAVAILABLE"}})")))
      << body;
}

TEST_F(GeminiFakeTest, MalformedStreamSendsOneBrokenChunkAndBreaksOff) {
  ASSERT_TRUE(client_->Send(test_support::HttpRequest("POST", kStreamSse, kGenerateBody,
                                                      WithHeaders("x-fake-malformed: 1\r\n"))));
  ASSERT_TRUE(client_->ReadUntil("\r\n\r\n").has_value());  // the head
  ASSERT_TRUE(client_->ReadUntil(R"([{"text":)").has_value());
  EXPECT_NE(client_->WaitForClose(), http::testing::RawConnection::CloseKind::kTimeout);
  EXPECT_EQ(client_->Pending().find("gem-0"), std::string::npos);
}

TEST_F(GeminiFakeTest, BatchEmbedsEachTextLikeTheOtherFlavors) {
  auto response = Call("POST", "/v1beta/models/embed-x:batchEmbedContents",
                       R"({"requests":[{"model":"models/embed-x","content":{"parts":[{"text":"one"}]}},)"
                       R"({"model":"models/embed-x","content":{"parts":[{"text":"two"}]}}]})",
                       kKey);
  EXPECT_EQ(response.result(), bhttp::status::ok);
  const json::value body = json::parse(response.body());
  ASSERT_EQ(body.at("embeddings").as_array().size(), 2u);
  const json::array& values = body.at("embeddings").at(0).at("values").as_array();
  ASSERT_EQ(values.size(), kEmbeddingDimensions);
  const std::array<float, kEmbeddingDimensions> expected = EmbeddingVector("one");
  for (size_t j = 0; j < kEmbeddingDimensions; ++j) {
    EXPECT_EQ(static_cast<float>(values[j].to_number<double>()), expected[j]);
  }
  EXPECT_EQ(Stats().at("embeddings").to_number<int>(), 1);
}

TEST_F(GeminiFakeTest, StatsShowTheGoogApiKey) {
  Call("POST", kGenerate, kGenerateBody, kKey);
  const json::value stats = Stats();
  EXPECT_EQ(stats.at("chat").to_number<int>(), 1);
  EXPECT_EQ(stats.at("last_request").at("path").as_string(), "/v1beta/models/gemini-x:generateContent");
  EXPECT_EQ(stats.at("last_request").at("authorization").as_string(), "gk-1");
}

}  // namespace
}  // namespace llmesh::fakes
