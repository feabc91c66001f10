#include "common/config/presets.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/config/loader.h"
#include "common/config/validate.h"
#include "tests/unit/common/config/fake_env.h"

namespace llmesh::config {
namespace {

using llmesh::config::v1::Config;
using llmesh::config::v1::Provider;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Config ParseOrDie(std::string_view yaml) {
  absl::StatusOr<Config> config = ParseConfigYaml(yaml, FakeEnv({}));
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config();
}

std::string ParseError(std::string_view yaml) {
  absl::StatusOr<Config> config = ParseConfigYaml(yaml, FakeEnv({}));
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

std::vector<std::string> Errors(const Config& config, const EnvLookup& env) {
  std::vector<std::string> out;
  for (const ConfigError& e : Validate(config, env)) out.push_back(e.ToString());
  return out;
}

struct PresetCase {
  const char* preset;
  const char* base_url;
  const char* api_key_env;
};

constexpr PresetCase kPresets[] = {
    {"deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"},
    {"mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"},
    {"groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"},
    {"together", "https://api.together.xyz/v1", "TOGETHER_API_KEY"},
    {"xai", "https://api.x.ai/v1", "XAI_API_KEY"},
    {"qwen", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"},
    {"gemini_openai", "https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY"},
};

TEST(ProviderPresetsTest, EachPresetFillsKindBaseUrlAndKeyVariable) {
  for (const PresetCase& c : kPresets) {
    SCOPED_TRACE(c.preset);
    const Config config = ParseOrDie(absl::StrCat("providers:\n  - {name: p, preset: ", c.preset,
                                                  ", models: [{name: m}]}\n"));
    ASSERT_EQ(config.providers_size(), 1);
    const Provider& provider = config.providers(0);
    EXPECT_EQ(provider.kind(), Provider::OPENAI_COMPATIBLE);
    EXPECT_EQ(provider.base_url(), c.base_url);
    EXPECT_EQ(provider.credential_case(), Provider::kApiKeyEnv);
    EXPECT_EQ(provider.api_key_env(), c.api_key_env);
    EXPECT_EQ(provider.api_version(), "");
    // The filled-in provider is a valid one once its key variable is set.
    EXPECT_THAT(Errors(config, FakeEnv({{c.api_key_env, "key"}})), IsEmpty());
  }
}

TEST(ProviderPresetsTest, EveryPresetOfTheSchemaHasValues) {
  const auto* presets = Provider::Preset_descriptor();
  ASSERT_EQ(presets->value_count(), 1 + static_cast<int>(std::size(kPresets)));
  for (int i = 1; i < presets->value_count(); ++i) {
    Config config;
    Provider* provider = config.add_providers();
    provider->set_preset(static_cast<Provider::Preset>(presets->value(i)->number()));
    ApplyProviderPresets(config);
    EXPECT_FALSE(config.providers(0).base_url().empty()) << presets->value(i)->name();
    EXPECT_FALSE(config.providers(0).api_key_env().empty()) << presets->value(i)->name();
  }
}

TEST(ProviderPresetsTest, ExplicitValuesWin) {
  const Config config = ParseOrDie(R"(
providers:
  - {name: a, preset: deepseek, base_url: "https://proxy.example.com/deepseek"}
  - {name: b, preset: groq, api_key_env: MY_GROQ_KEY}
  - {name: c, preset: mistral, api_key_file: /run/secrets/mistral}
  - {name: d, preset: xai, kind: openai_compatible}
)");
  EXPECT_EQ(config.providers(0).base_url(), "https://proxy.example.com/deepseek");
  EXPECT_EQ(config.providers(0).api_key_env(), "DEEPSEEK_API_KEY");
  EXPECT_EQ(config.providers(1).base_url(), "https://api.groq.com/openai/v1");
  EXPECT_EQ(config.providers(1).api_key_env(), "MY_GROQ_KEY");
  EXPECT_EQ(config.providers(2).credential_case(), Provider::kApiKeyFile);
  EXPECT_EQ(config.providers(2).api_key_file(), "/run/secrets/mistral");
  EXPECT_EQ(config.providers(3).kind(), Provider::OPENAI_COMPATIBLE);
  EXPECT_EQ(config.providers(3).base_url(), "https://api.x.ai/v1");
}

TEST(ProviderPresetsTest, NamesTheMissingKeyVariableThePresetChose) {
  const Config config = ParseOrDie("providers: [{name: ds, preset: deepseek, models: [{name: deepseek-chat}]}]\n");
  EXPECT_THAT(Errors(config, FakeEnv({})),
              ElementsAre("providers[0].api_key_env: environment variable \"DEEPSEEK_API_KEY\" is not set"));
}

TEST(ProviderPresetsTest, RejectsAnUnknownPresetWithItsPathAndTheChoices) {
  EXPECT_EQ(ParseError("providers: [{name: p, preset: deepsek}]\n"),
            "providers[0].preset: unknown value \"deepsek\" (expected one of: deepseek, mistral, groq, together, "
            "xai, qwen, gemini_openai)");
  EXPECT_EQ(ParseError("providers: [{name: p}, {name: q, preset: openai}]\n"),
            "providers[1].preset: unknown value \"openai\" (expected one of: deepseek, mistral, groq, together, "
            "xai, qwen, gemini_openai)");
}

TEST(ProviderPresetsTest, APresetAppliesOnlyToOpenAiCompatibleProviders) {
  const Config config = ParseOrDie(R"(
providers:
  - {name: a, kind: openai, preset: deepseek, base_url: "https://api.openai.com/v1"}
  - {name: b, kind: anthropic, preset: groq, base_url: "https://api.anthropic.com/v1"}
)");
  EXPECT_EQ(config.providers(0).kind(), Provider::OPENAI);  // a preset never overrides a kind
  EXPECT_THAT(Errors(config, FakeEnv({{"DEEPSEEK_API_KEY", "k"}, {"GROQ_API_KEY", "k"}})),
              ElementsAre("providers[0].preset: applies only to kind openai_compatible",
                          "providers[1].preset: applies only to kind openai_compatible"));
}

TEST(AzureApiVersionTest, TheLoaderFillsTheDefaultAndKeepsAnExplicitOne) {
  const Config config = ParseOrDie(R"(
providers:
  - {name: a, kind: azure_openai, base_url: "https://res.openai.azure.com/openai"}
  - {name: b, kind: azure_openai, base_url: "https://res.openai.azure.com/openai", api_version: 2025-01-01-preview}
)");
  EXPECT_EQ(config.providers(0).api_version(), kDefaultAzureApiVersion);
  EXPECT_EQ(std::string(kDefaultAzureApiVersion), "2024-10-21");
  EXPECT_EQ(config.providers(1).api_version(), "2025-01-01-preview");
  EXPECT_THAT(Errors(config, FakeEnv({})), IsEmpty());
}

TEST(AzureApiVersionTest, AnAzureProviderWithoutOneIsAnError) {
  // A config that did not come through the loader (a control-plane push) gets no default.
  Config config;
  Provider* azure = config.add_providers();
  azure->set_name("azure");
  azure->set_kind(Provider::AZURE_OPENAI);
  azure->set_base_url("https://res.openai.azure.com/openai");
  EXPECT_THAT(Errors(config, FakeEnv({})), ElementsAre("providers[0].api_version: required for kind azure_openai"));
}

TEST(AzureApiVersionTest, OnlyAzureTakesAnApiVersion) {
  const Config config = ParseOrDie(R"(
providers:
  - {name: a, kind: openai, base_url: "https://api.openai.com/v1", api_version: 2024-10-21}
)");
  EXPECT_THAT(Errors(config, FakeEnv({})), ElementsAre("providers[0].api_version: applies only to kind azure_openai"));
}

TEST(MaxOutputTokensTest, IsReadAsAnUnsignedIntegerPerModel) {
  const Config config = ParseOrDie(R"(
providers:
  - name: a
    kind: anthropic
    base_url: https://api.anthropic.com/v1
    models:
      - {name: claude-haiku-4-5, max_output_tokens: 8192}
      - {name: claude-sonnet-4-5}
)");
  EXPECT_EQ(config.providers(0).models(0).max_output_tokens(), 8192u);
  EXPECT_EQ(config.providers(0).models(1).max_output_tokens(), 0u);  // unset: the API's default applies
  EXPECT_THAT(Errors(config, FakeEnv({})), IsEmpty());
  EXPECT_EQ(ParseError("providers: [{models: [{name: m, max_output_tokens: -1}]}]\n"),
            "providers[0].models[0].max_output_tokens: expected an unsigned integer, got \"-1\"");
  EXPECT_EQ(ParseError("providers: [{models: [{name: m, max_output_tokens: lots}]}]\n"),
            "providers[0].models[0].max_output_tokens: expected an unsigned integer, got \"lots\"");
}

}  // namespace
}  // namespace llmesh::config
