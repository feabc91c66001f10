// Process lifecycle of the real sidecar (proxy/main.cc): SIGHUP reloads the config file and a
// bad file leaves the running config in place; SIGTERM drains in-flight streams, then exits 0.
#include <csignal>
#include <chrono>
#include <string>

#include "tests/integration/proxy/proxy_fixture.h"

namespace llmesh::testing {
namespace {

namespace beast_http = boost::beast::http;
using std::chrono::milliseconds;

constexpr milliseconds kLogTimeout{10000};

class LifecycleTest : public ProxyProtocolTest {
 protected:
  void SetUp() override {
    primary_ = &StartProvider("primary");
    secondary_ = &StartProvider("secondary");
  }

  // Rewrites the config file the proxy was started on, sends SIGHUP and waits for a log line
  // containing `expected` printed after the signal.
  void Reload(const std::string& yaml, std::string_view expected) {
    temp().WriteFile("llmesh.yaml", yaml);
    const size_t from = proxy().LineCount();
    proxy().Signal(SIGHUP);
    ASSERT_TRUE(proxy().WaitForLine(
        [&](std::string_view line) { return line.find(expected) != std::string_view::npos; }, kLogTimeout, from))
        << proxy().Output();
  }

  FakeProviderProcess* primary_ = nullptr;
  FakeProviderProcess* secondary_ = nullptr;
};

TEST_P(LifecycleTest, SighupReloadsTheFileAndNewRequestsFollowTheNewRoute) {
  StartProxy(ChatConfig());
  HttpResponse before = Chat();
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(before.Header("x-llmesh-provider"), "primary");

  std::string yaml = ChatConfig();
  const std::string primary_target = "      - {provider: primary, model: fake-model, priority: 0}\n";
  const size_t at = yaml.find(primary_target);
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.erase(at, primary_target.size());
  Reload(yaml, "\"config reloaded\"");

  for (int i = 0; i < 5; ++i) {
    HttpResponse response = Chat(/*stream=*/i % 2 == 1);
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.Header("x-llmesh-provider"), "secondary");
    EXPECT_EQ(response.Header("x-llmesh-attempts"), "1");
  }
  EXPECT_EQ(primary_->Requests(), 1u);
  EXPECT_EQ(secondary_->Requests(), 5u);
}

TEST_P(LifecycleTest, SighupWithAnInvalidFileIsRejectedAndThePreviousConfigKeepsServing) {
  StartProxy(ChatConfig());
  const std::string version_before = ParseJson(Admin("/config_dump").body).at("version").as_string().c_str();

  Reload("routes:\n  - model: chat\n    targets:\n      - {provider: nowhere, model: fake-model}\n",
         "config reload rejected");

  HttpResponse response = Chat();
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("x-llmesh-provider"), "primary");
  EXPECT_EQ(ParseJson(Admin("/config_dump").body).at("version").as_string(), version_before);
  EXPECT_EQ(Admin("/readyz").status, 200);
}

TEST_P(LifecycleTest, SigtermLetsAStreamInFlightFinishCleanlyThenExitsZero) {
  StartProxy(ChatConfig({}, "limits: {drain_timeout: 10s}\n"));
  primary_->Script(R"({"chunk_interval_ms":300})");

  StreamReader reader(client());
  ASSERT_TRUE(reader.Start(proxy_port(), beast_http::verb::post, "/v1/chat/completions", ChatBody(/*stream=*/true))
                  .ok())
      << reader.error();
  ASSERT_EQ(reader.status(), 200);
  std::string received;
  for (int i = 0; i < 100 && received.find("primary-0") == std::string::npos; ++i) {
    std::optional<std::string> piece = reader.NextChunk(milliseconds(5000));
    ASSERT_TRUE(piece.has_value()) << reader.error();
    received += *piece;
  }
  // The stream is committed and the upstream still generating when the signal arrives.
  ASSERT_EQ(primary_->Stats().at("in_flight").to_number<int>(), 1);

  const auto signalled = std::chrono::steady_clock::now();
  proxy().Signal(SIGTERM);
  EXPECT_TRUE(WaitFor(
      [&] {
        const int status = Admin("/readyz").status;
        return status == 503 || status == 0;  // not ready, or the admin listener already closed
      },
      milliseconds(5000)));

  received += reader.ReadToEnd(milliseconds(10000));
  EXPECT_TRUE(reader.ClosedCleanly()) << reader.error() << "\n" << received;
  std::vector<std::string> events = SseEvents(received);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_NE(received.find("primary-2"), std::string::npos) << received;

  // The wait is generous; the bound that matters is drain_timeout, checked below.
  std::optional<int> exit_code = proxy().WaitExit(milliseconds(30000));
  ASSERT_TRUE(exit_code.has_value()) << proxy().Output();
  EXPECT_EQ(*exit_code, 0) << proxy().Output();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(10));
}

INSTANTIATE_TEST_SUITE_P(, LifecycleTest, kBothProtocols, ProtocolTestName);

}  // namespace
}  // namespace llmesh::testing
