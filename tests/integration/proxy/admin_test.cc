// The admin listener and what the sidecar sends upstream: DESIGN.md §3 (admin endpoints,
// response headers) and §7 (Prometheus text format), and that provider keys never leak while
// the client's own credentials never reach the provider.
#include <chrono>

#include "absl/strings/ascii.h"
#include "tests/integration/proxy/proxy_fixture.h"

namespace llmesh::testing {
namespace {

using std::chrono::milliseconds;

class AdminTest : public ProxyTest {
 protected:
  void SetUp() override {
    primary_ = &StartProvider("primary");
    secondary_ = &StartProvider("secondary");
    StartProxy(ChatConfig());
  }
  FakeProviderProcess* primary_ = nullptr;
  FakeProviderProcess* secondary_ = nullptr;
};

TEST_F(AdminTest, HealthAndReadinessAnswer200) {
  HttpResponse health = Admin("/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "ok\n");
  HttpResponse ready = Admin("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.error;
  EXPECT_EQ(ready.body, "ready\n");
}

TEST_F(AdminTest, MetricsPassPromtoolAfterTrafficWithAFailover) {
  primary_->Script(R"({"status":503,"count":1})");
  HttpResponse failed_over = Chat();
  ASSERT_EQ(failed_over.status, 200) << failed_over.body;
  EXPECT_EQ(failed_over.Header("x-llmesh-provider"), "secondary");
  ASSERT_EQ(Chat(/*stream=*/true).status, 200);
  ASSERT_EQ(Chat(/*stream=*/false, "no-such-model").status, 404);

  HttpResponse metrics = Admin("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_EQ(metrics.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(Metric("llmesh_failovers_total", {R"(from_provider="primary")", R"(reason="overloaded")"}), 1);
  EXPECT_TRUE(MetricReaches("llmesh_requests_total", {R"(code_class="2xx")"}, 2));

  const std::string file = temp().WriteFile("metrics.txt", metrics.body);
  absl::StatusOr<std::unique_ptr<ChildProcess>> promtool =
      ChildProcess::Start("/bin/sh", {"-c", "promtool check metrics < " + file});
  ASSERT_TRUE(promtool.ok()) << promtool.status();
  std::optional<int> exit_code = (*promtool)->WaitExit(milliseconds(30000));
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0) << (*promtool)->Output() << "\n" << metrics.body;
}

TEST_F(AdminTest, ConfigDumpHasAVersionAndNoProviderKeys) {
  HttpResponse dump = Admin("/config_dump");
  ASSERT_EQ(dump.status, 200) << dump.error;
  boost::json::value body = ParseJson(dump.body);
  ASSERT_TRUE(body.is_object()) << dump.body;
  ASSERT_TRUE(body.as_object().contains("version")) << dump.body;
  EXPECT_FALSE(body.at("version").as_string().empty());
  EXPECT_EQ(dump.body.find("primary-key"), std::string::npos) << dump.body;
  EXPECT_EQ(dump.body.find("secondary-key"), std::string::npos) << dump.body;
  EXPECT_NE(dump.body.find(primary_->BaseUrl()), std::string::npos) << dump.body;
  EXPECT_NE(dump.body.find(secondary_->BaseUrl()), std::string::npos) << dump.body;
}

TEST_F(AdminTest, ProvidersListsEveryProvider) {
  EXPECT_EQ(ProviderHealth("primary").at("state").as_string(), "healthy");
  EXPECT_EQ(ProviderHealth("secondary").at("state").as_string(), "healthy");
  EXPECT_EQ(ProviderHealth("primary").at("model").as_string(), "fake-model");
}

TEST_F(AdminTest, UpstreamGetsTheTargetModelAndTheProvidersKeyNotTheClients) {
  HttpResponse response = Chat(/*stream=*/false, "chat", {{"authorization", "Bearer client-secret"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("x-llmesh-model"), "fake-model");

  boost::json::object stats = primary_->Stats();
  const boost::json::object& last = stats.at("last_request").as_object();
  EXPECT_EQ(last.at("path").as_string(), "/v1/chat/completions");
  EXPECT_EQ(last.at("authorization").as_string(), "Bearer primary-key");
  boost::json::value upstream_body = ParseJson(last.at("body").as_string());
  EXPECT_EQ(upstream_body.at("model").as_string(), "fake-model");
  EXPECT_EQ(boost::json::serialize(stats).find("client-secret"), std::string::npos)
      << boost::json::serialize(stats);
  // Neither credential shows up in the proxy's own logs.
  EXPECT_EQ(proxy().Output().find("client-secret"), std::string::npos);
  EXPECT_EQ(proxy().Output().find("primary-key"), std::string::npos);
}

TEST_F(AdminTest, RequestIdIs32HexCharactersAndDiffersBetweenRequests) {
  HttpResponse first = Chat();
  HttpResponse second = Chat();
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  for (const std::string& id : {first.Header("x-llmesh-request-id"), second.Header("x-llmesh-request-id")}) {
    ASSERT_EQ(id.size(), 32u) << id;
    for (char c : id) EXPECT_TRUE(absl::ascii_isxdigit(static_cast<unsigned char>(c))) << id;
  }
  EXPECT_NE(first.Header("x-llmesh-request-id"), second.Header("x-llmesh-request-id"));
}

}  // namespace
}  // namespace llmesh::testing
