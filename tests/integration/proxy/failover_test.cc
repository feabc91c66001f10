// Failover through the real sidecar: DESIGN.md §3 and the sidecar issue's acceptance points on
// outages, rate limits, random failures, hangs and client faults.
#include <chrono>

#include "tests/integration/proxy/proxy_fixture.h"

namespace llmesh::testing {
namespace {

using std::chrono::milliseconds;

class FailoverTest : public ProxyProtocolTest {
 protected:
  void SetUp() override {
    primary_ = &StartProvider("primary");
    secondary_ = &StartProvider("secondary");
  }
  FakeProviderProcess* primary_ = nullptr;
  FakeProviderProcess* secondary_ = nullptr;
};

TEST_P(FailoverTest, PrimaryAlways503IsEjectedAndSecondaryAnswersEveryRequest) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"status":503,"error_code":"server_is_overloaded"})");
  for (int i = 0; i < 200; ++i) {
    HttpResponse response = Chat();
    ASSERT_EQ(response.status, 200) << "request " << i << ": " << response.body;
    ASSERT_EQ(response.Header("x-llmesh-provider"), "secondary");
  }
  // Five consecutive failures eject the primary for 30s: it sees no request after that.
  EXPECT_EQ(primary_->Requests(), 5u);
  EXPECT_EQ(secondary_->Requests(), 200u);
  EXPECT_EQ(Metric("llmesh_failovers_total", {R"(from_provider="primary")", R"(reason="overloaded")"}), 5);
  boost::json::object health = ProviderHealth("primary");
  EXPECT_EQ(health.at("state").as_string(), "ejected");
  EXPECT_EQ(health.at("ejections_total").as_int64(), 1);
}

TEST_P(FailoverTest, RateLimitedPrimaryCoolsDownForItsRetryAfterWithoutDelayingRequests) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"status":429,"headers":{"retry-after":"2"},"count":1})");

  const auto start = std::chrono::steady_clock::now();
  HttpResponse first = Chat();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.Header("x-llmesh-provider"), "secondary");
  EXPECT_EQ(first.Header("x-llmesh-attempts"), "2");
  // The request moved on at once instead of waiting out the 2s hint.
  EXPECT_LT(elapsed, milliseconds(1500));

  boost::json::object health = ProviderHealth("primary");
  EXPECT_EQ(health.at("state").as_string(), "cooling_down");
  const int64_t remaining = health.at("cooldown_remaining_ms").as_int64();
  EXPECT_GT(remaining, 1000);   // 2s x jitter [1, 1.5], minus the time since
  EXPECT_LE(remaining, 3000);

  for (int i = 0; i < 10; ++i) {
    HttpResponse response = Chat();
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(response.Header("x-llmesh-provider"), "secondary");
    EXPECT_EQ(response.Header("x-llmesh-attempts"), "1");
  }
  EXPECT_EQ(primary_->Requests(), 1u);

  ASSERT_TRUE(WaitFor([&] { return ProviderHealth("primary").at("state").as_string() == "healthy"; },
                      milliseconds(5000)));
  HttpResponse after = Chat();
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.Header("x-llmesh-provider"), "primary");
  EXPECT_EQ(primary_->Requests(), 2u);
}

TEST_P(FailoverTest, FivePercentRandomFailuresAreInvisibleToClients) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"status":500,"fail_probability":0.05})");
  for (int i = 0; i < 300; ++i) {
    HttpResponse response = Chat(/*stream=*/i % 3 == 0);
    ASSERT_EQ(response.status, 200) << "request " << i << ": " << response.body;
  }
  const uint64_t failures = boost::json::value_to<uint64_t>(primary_->Stats().at("scripted_failures"));
  EXPECT_GT(failures, 0u);
  // Every dropped call became exactly one failover.
  EXPECT_EQ(Metric("llmesh_failovers_total", {R"(from_provider="primary")", R"(reason="server_error")"}),
            static_cast<double>(failures));
  EXPECT_TRUE(MetricReaches("llmesh_requests_total", {R"(code_class="2xx")"}, 300));
}

// Streams are bounded by first_byte, non-streamed answers by per_try.
TEST_P(FailoverTest, HangingPrimaryIsLeftAfterItsTimeout) {
  StartProxy(ChatConfig("    timeouts: {first_byte: 300ms, per_try: 300ms}\n"));
  primary_->Script(R"({"hang":true})");
  for (bool stream : {false, true}) {
    HttpResponse response = Chat(stream);
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.Header("x-llmesh-provider"), "secondary");
    EXPECT_EQ(response.Header("x-llmesh-attempts"), "2");
  }
  EXPECT_EQ(Metric("llmesh_failovers_total", {R"(reason="timeout")"}), 2);
}

TEST_P(FailoverTest, MalformedUpstreamBodyFailsOver) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"malformed":true})");
  for (bool stream : {false, true}) {
    HttpResponse response = Chat(stream);
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.Header("x-llmesh-provider"), "secondary");
  }
  EXPECT_EQ(Metric("llmesh_failovers_total", {R"(reason="malformed")"}), 2);
}

TEST_P(FailoverTest, ClientFaultIsAnsweredAtOnceWithTheProvidersError) {
  StartProxy(ChatConfig());
  primary_->Script(
      R"({"status":400,"error_type":"invalid_request_error","error_code":"invalid_value","error_message":"temperature must be at most 2"})");
  HttpResponse response = Chat();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.Header("x-llmesh-attempts"), "1");
  boost::json::value body = ParseJson(response.body);
  EXPECT_EQ(body.at("error").at("message").as_string(), "temperature must be at most 2");
  EXPECT_EQ(body.at("error").at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(secondary_->Requests(), 0u);
}

TEST_P(FailoverTest, RejectedKeyIsSkippedWithoutCountingAgainstProviderHealth) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"status":401,"error_type":"invalid_request_error","error_code":"invalid_api_key"})");
  for (int i = 0; i < 8; ++i) {
    HttpResponse response = Chat();
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(response.Header("x-llmesh-provider"), "secondary");
  }
  boost::json::object health = ProviderHealth("primary");
  EXPECT_EQ(health.at("state").as_string(), "healthy");
  EXPECT_EQ(health.at("ejections_total").as_int64(), 0);
  EXPECT_EQ(Metric("llmesh_failovers_total", {R"(reason="auth")"}), 8);
}

TEST_P(FailoverTest, EveryTargetFailingReturns503NamingTheLastCause) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"status":503})");
  secondary_->Script(R"({"status":502,"body":"<html>bad gateway</html>","content_type":"text/html"})");
  HttpResponse response = Chat();
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.Header("x-llmesh-attempts"), "2");
  EXPECT_EQ(response.Header("x-llmesh-provider"), "secondary");
  boost::json::value body = ParseJson(response.body);
  EXPECT_EQ(body.at("error").at("type").as_string(), "server_error");
  EXPECT_EQ(body.at("error").at("code").as_string(), "upstream_server_error");
}

TEST_P(FailoverTest, EveryTargetRateLimitedReturns429WithRetryAfter) {
  StartProxy(ChatConfig());
  primary_->Script(R"({"status":429,"headers":{"retry-after":"3"}})");
  secondary_->Script(R"({"status":429,"headers":{"retry-after":"3"}})");
  HttpResponse first = Chat();
  EXPECT_EQ(first.status, 429);
  EXPECT_EQ(first.Header("x-llmesh-attempts"), "2");
  EXPECT_FALSE(first.Header("retry-after").empty());

  // Now both are cooling down: the answer comes at once, without touching either provider.
  HttpResponse second = Chat();
  ASSERT_EQ(second.status, 429) << second.error;
  EXPECT_EQ(second.Header("x-llmesh-attempts"), "0");
  const int retry_after = std::stoi(second.Header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 5);
  EXPECT_EQ(ParseJson(second.body).at("error").at("code").as_string(), "rate_limit_exceeded");
  EXPECT_EQ(primary_->Requests(), 1u);
  EXPECT_EQ(secondary_->Requests(), 1u);
}

INSTANTIATE_TEST_SUITE_P(, FailoverTest, kBothProtocols, ProtocolTestName);

}  // namespace
}  // namespace llmesh::testing
