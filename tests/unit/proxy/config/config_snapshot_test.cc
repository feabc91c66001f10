#include "proxy/config/config_snapshot.h"

#include <gtest/gtest.h>

#include "common/config/loader.h"

namespace llmesh::config {
namespace {

EnvLookup FakeEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    if (name == "KEY_A") return std::string("secret-a");
    return std::nullopt;
  };
}

v1::Config Parse(std::string_view yaml) {
  absl::StatusOr<v1::Config> config = ParseConfigYaml(yaml, FakeEnv());
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : v1::Config();
}

constexpr std::string_view kConfig = R"(
providers:
  - name: a
    kind: openai
    base_url: https://api.example.com/v1
    api_key_env: KEY_A
    models: [{name: m, context_window: 1000, input_usd_per_mtok: 2, output_usd_per_mtok: 4}]
  - name: b
    kind: openai_compatible
    base_url: http://127.0.0.1:9/
    models: [{name: n}]
routes:
  - model: chat
    targets: [{provider: a, model: m}, {provider: b, model: n, priority: 1, weight: 3}]
    timeouts: {first_byte: 2s}
  - model: "*"
    name: fallback
    targets: [{provider: b, model: n}]
)";

class ConfigSnapshotTest : public ::testing::Test {
 protected:
  metrics::Registry registry_;
  metrics::ProxyMetrics metrics_{registry_};
  SharedState shared_{metrics_};
};

TEST_F(ConfigSnapshotTest, CompilesProvidersRoutesDefaultsAndKeys) {
  auto snapshot = ConfigSnapshot::Compile(Parse(kConfig), shared_, FakeEnv());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const ConfigSnapshot& s = **snapshot;
  ASSERT_EQ(s.providers().size(), 2u);
  EXPECT_EQ(s.providers()[0]->api_key, "secret-a");
  EXPECT_EQ(s.providers()[0]->endpoint.host, "api.example.com");
  EXPECT_EQ(s.providers()[0]->base_path, "/v1");
  EXPECT_EQ(s.providers()[1]->api_key, "");
  const RouteSpec& chat = s.routes()[0];
  EXPECT_EQ(chat.name, "chat");
  EXPECT_EQ(chat.max_attempts, 2u);
  EXPECT_EQ(chat.timeouts.first_byte, std::chrono::seconds(2));
  EXPECT_EQ(chat.timeouts.total, std::chrono::seconds(120));
  EXPECT_EQ(chat.targets[1].weight, 3u);
  EXPECT_EQ(chat.targets[1].priority, 1u);
  EXPECT_DOUBLE_EQ(chat.targets[0].model->CostUsd({1000000, 500000}), 4.0);
}

TEST_F(ConfigSnapshotTest, FindsExactRoutesBeforeTheWildcardAndByName) {
  auto snapshot = ConfigSnapshot::Compile(Parse(kConfig), shared_, FakeEnv());
  ASSERT_TRUE(snapshot.ok());
  auto no_headers = [](std::string_view) { return std::string_view(); };
  EXPECT_EQ((*snapshot)->FindRoute("chat", "", no_headers)->name, "chat");
  EXPECT_EQ((*snapshot)->FindRoute("anything", "", no_headers)->name, "fallback");
  EXPECT_EQ((*snapshot)->FindRoute("chat", "fallback", no_headers)->name, "fallback");
  EXPECT_EQ((*snapshot)->FindRoute("chat", "nope", no_headers), nullptr);
}

TEST_F(ConfigSnapshotTest, HealthIsSharedAcrossReloadsAndVersionsFollowContent) {
  auto first = ConfigSnapshot::Compile(Parse(kConfig), shared_, FakeEnv());
  auto second = ConfigSnapshot::Compile(Parse(kConfig), shared_, FakeEnv());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ((*first)->routes()[0].targets[0].health, (*second)->routes()[0].targets[0].health);
  EXPECT_EQ((*first)->version(), (*second)->version());
  std::string yaml(kConfig);
  yaml.append("workers: 3\n");
  auto changed = ConfigSnapshot::Compile(Parse(yaml), shared_, FakeEnv());
  ASSERT_TRUE(changed.ok());
  EXPECT_NE((*first)->version(), (*changed)->version());
}

TEST_F(ConfigSnapshotTest, RoutesKnowWhichClientFormatsNeedTheCanonicalForm) {
  std::string yaml(kConfig);
  yaml.replace(yaml.find("kind: openai\n"), 13, "kind: anthropic\n");
  auto snapshot = ConfigSnapshot::Compile(Parse(yaml), shared_, FakeEnv());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ((*snapshot)->providers()[0]->adapter->format(), provider::ApiFormat::kAnthropic);
  const RouteSpec& mixed = (*snapshot)->routes()[0];
  EXPECT_TRUE(mixed.NeedsCanonical(provider::ApiFormat::kOpenAi));
  EXPECT_TRUE(mixed.NeedsCanonical(provider::ApiFormat::kAnthropic));
  const RouteSpec& openai_only = (*snapshot)->routes()[1];
  EXPECT_FALSE(openai_only.NeedsCanonical(provider::ApiFormat::kOpenAi));
  EXPECT_TRUE(openai_only.NeedsCanonical(provider::ApiFormat::kAnthropic));
}

TEST_F(ConfigSnapshotTest, RefusesTheReservedHedgedStrategy) {
  std::string yaml(kConfig);
  yaml.replace(yaml.find("    timeouts: {first_byte: 2s}"), 0, "    strategy: hedged\n");
  auto snapshot = ConfigSnapshot::Compile(Parse(yaml), shared_, FakeEnv());
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().message(), "routes[0].strategy: hedged is not supported by this version of llmesh-proxy");
}

}  // namespace
}  // namespace llmesh::config
