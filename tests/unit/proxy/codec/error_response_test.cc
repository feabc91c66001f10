#include "proxy/codec/error_response.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace llmesh::codec {
namespace {

namespace beast_http = boost::beast::http;
using provider::FailureKind;
using provider::UpstreamFailure;
using std::chrono::milliseconds;

UpstreamFailure Failure(FailureKind kind, int status, std::string message = "provider says no") {
  UpstreamFailure failure;
  failure.kind = kind;
  failure.http_status = status;
  failure.message = std::move(message);
  return failure;
}

TEST(ErrorResponseTest, RendersTheFourOpenAiKeysWithNullsForEmptyParamAndCode) {
  http::Response response =
      RenderOpenAiError(ClientError(beast_http::status::bad_request, "", "bad body"), 11, true);
  EXPECT_EQ(response.result(), beast_http::status::bad_request);
  EXPECT_EQ(response[beast_http::field::content_type], "application/json");
  EXPECT_EQ(response.body(),
            R"({"error":{"message":"bad body","type":"invalid_request_error","param":null,"code":null}})");
}

TEST(ErrorResponseTest, AllTargetsCoolingDownIs429WithRetryAfterRoundedUp) {
  const ErrorReply reply = FailedRequestError("chat", "", 0, std::nullopt, milliseconds(1200));
  EXPECT_EQ(reply.status, beast_http::status::too_many_requests);
  EXPECT_EQ(reply.code, "rate_limit_exceeded");
  ASSERT_TRUE(reply.retry_after.has_value());
  EXPECT_EQ(reply.retry_after->count(), 2);
  http::Response response = RenderOpenAiError(reply, 11, true);
  EXPECT_EQ(response[beast_http::field::retry_after], "2");
}

TEST(ErrorResponseTest, LastRateLimitIs429PassingTheHintOn) {
  UpstreamFailure failure = Failure(FailureKind::kRateLimited, 429);
  failure.retry_after = milliseconds(3000);
  const ErrorReply reply = FailedRequestError("chat", "openai", 2, failure, std::nullopt);
  EXPECT_EQ(reply.status, beast_http::status::too_many_requests);
  EXPECT_EQ(reply.retry_after->count(), 3);
}

TEST(ErrorResponseTest, ClientFaultKeepsTheProvidersStatusCodeAndMessage) {
  UpstreamFailure failure = Failure(FailureKind::kInvalidRequest, 422, "tools[0] is invalid");
  failure.code = "invalid_value";
  const ErrorReply reply = FailedRequestError("chat", "openai", 1, failure, std::nullopt);
  EXPECT_EQ(reply.status, beast_http::status::unprocessable_entity);
  EXPECT_EQ(reply.message, "tools[0] is invalid");
  EXPECT_EQ(reply.code, "invalid_value");
}

TEST(ErrorResponseTest, ContextLengthIs400OnMessages) {
  const ErrorReply reply =
      FailedRequestError("chat", "openai", 1, Failure(FailureKind::kContextLength, 400), std::nullopt);
  EXPECT_EQ(reply.status, beast_http::status::bad_request);
  EXPECT_EQ(reply.code, "context_length_exceeded");
  EXPECT_EQ(reply.param, "messages");
}

TEST(ErrorResponseTest, TimeoutIs504AndOtherFailuresAre503) {
  EXPECT_EQ(FailedRequestError("chat", "a", 2, Failure(FailureKind::kTimeout, 0), std::nullopt).status,
            beast_http::status::gateway_timeout);
  EXPECT_EQ(FailedRequestError("chat", "a", 2, Failure(FailureKind::kOverloaded, 529), std::nullopt).code, "overloaded");
  const ErrorReply reset = FailedRequestError("chat", "a", 2, Failure(FailureKind::kReset, 0), std::nullopt);
  EXPECT_EQ(reset.status, beast_http::status::service_unavailable);
  EXPECT_EQ(reset.code, "upstream_reset");
}

TEST(ErrorResponseTest, AuthAndTransportMessagesNeverReachTheClient) {
  const ErrorReply auth = FailedRequestError(
      "chat", "openai", 1, Failure(FailureKind::kAuth, 401, "Incorrect API key provided: sk-abc***xyz"), std::nullopt);
  EXPECT_EQ(auth.message.find("sk-"), std::string::npos);
  const ErrorReply reset = FailedRequestError(
      "chat", "openai", 1, Failure(FailureKind::kReset, 0, "upstream 10.0.0.7:443: connection lost"), std::nullopt);
  EXPECT_EQ(reset.message.find("10.0.0.7"), std::string::npos);
  EXPECT_NE(reset.message.find("route 'chat'"), std::string::npos);
}

TEST(ErrorResponseTest, StreamErrorIsOneSseDataEventWithAnOpenAiError) {
  const std::string event = OpenAiStreamError(Failure(FailureKind::kReset, 0));
  ASSERT_TRUE(event.starts_with("data: {"));
  ASSERT_TRUE(event.ends_with("\n\n"));
  const boost::json::value parsed = boost::json::parse(event.substr(6));
  EXPECT_EQ(parsed.at("error").at("code").as_string(), "upstream_reset");
  EXPECT_EQ(parsed.at("error").at("type").as_string(), "server_error");
}

}  // namespace
}  // namespace llmesh::codec
