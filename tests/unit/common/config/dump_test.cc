#include "common/config/dump.h"

#include <string>

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "common/config/loader.h"
#include "tests/unit/common/config/fake_env.h"

namespace llmesh::config {
namespace {

using llmesh::config::v1::Config;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(RedactUrlTest, RedactsUserInfoAndQuery) {
  EXPECT_EQ(RedactUrl("https://user:pw@gw.example.com:8443/v1?api-key=sk-1#frag"),
            "https://[redacted]@gw.example.com:8443/v1?[redacted]#frag");
  EXPECT_EQ(RedactUrl("https://key@gw.example.com"), "https://[redacted]@gw.example.com");
  EXPECT_EQ(RedactUrl("https://gw.example.com/v1?key=x"), "https://gw.example.com/v1?[redacted]");
}

TEST(RedactUrlTest, LeavesPlainUrlsAlone) {
  EXPECT_EQ(RedactUrl("https://api.openai.com/v1"), "https://api.openai.com/v1");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(RedactUrl(""), "");
}

TEST(RedactUrlTest, HidesPasswordsThatBreakTheUrlSyntax) {
  EXPECT_EQ(RedactUrl("https://user:p/a@ss@gw.example.com/v1"),
            "https://[redacted]@gw.example.com/v1");
  EXPECT_EQ(RedactUrl("gw.example.com?key=sk-1"), "gw.example.com?[redacted]");
}

Config SampleConfig() {
  absl::StatusOr<Config> config = ParseConfigYaml(R"(
listen: 127.0.0.1:4000
providers:
  - name: gateway
    kind: openai_compatible
    base_url: https://svc:hunter2@gw.internal/v1?api-key=sk-in-url
    api_key_env: GATEWAY_KEY
    models: [{name: llama, input_usd_per_mtok: 0.5}]
  - name: anthropic
    kind: anthropic
    base_url: https://api.anthropic.com
    api_key_file: /var/run/secrets/llmesh/anthropic
    models: [{name: claude, context_window: 200000}]
routes:
  - model: chat
    strategy: weighted
    targets: [{provider: gateway, model: llama, weight: 3}]
    timeouts: {first_byte: 500ms, total: 1m30s}
)",
                                                  FakeEnv({}));
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config();
}

TEST(ConfigDumpJsonTest, RedactsUrlSecretsAndShowsKeySources) {
  const std::string dump = ConfigDumpJson(SampleConfig());
  EXPECT_THAT(dump, HasSubstr("\"base_url\": \"https://[redacted]@gw.internal/v1?[redacted]\""));
  EXPECT_THAT(dump, Not(HasSubstr("hunter2")));
  EXPECT_THAT(dump, Not(HasSubstr("sk-in-url")));
  EXPECT_THAT(dump, HasSubstr("\"api_key_env\": \"GATEWAY_KEY\""));
  EXPECT_THAT(dump, HasSubstr("\"api_key_file\": \"/var/run/secrets/llmesh/anthropic\""));
  EXPECT_THAT(dump, HasSubstr("\"first_byte\": \"0.500s\""));
  EXPECT_THAT(dump, HasSubstr("\"total\": \"90s\""));
}

TEST(ConfigDumpJsonTest, OutputLoadsBackAsTheSameConfig) {
  const Config original = SampleConfig();
  absl::StatusOr<Config> reloaded = ParseConfigYaml(ConfigDumpJson(original), FakeEnv({}));
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  Config expected = original;
  expected.mutable_providers(0)->set_base_url("https://[redacted]@gw.internal/v1?[redacted]");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*reloaded, expected))
      << reloaded->DebugString();
}

}  // namespace
}  // namespace llmesh::config
