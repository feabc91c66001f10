#include "proxy/provider/adapter_registry.h"

#include "gtest/gtest.h"

namespace llmesh::provider {
namespace {

using config::v1::Provider;

TEST(AdapterRegistryTest, EveryOpenAiFormatKindHasAnAdapterOfItsOwnDialect) {
  const ProviderAdapter* openai = AdapterFor(Provider::OPENAI);
  const ProviderAdapter* compatible = AdapterFor(Provider::OPENAI_COMPATIBLE);
  const ProviderAdapter* azure = AdapterFor(Provider::AZURE_OPENAI);
  ASSERT_NE(openai, nullptr);
  ASSERT_NE(compatible, nullptr);
  ASSERT_NE(azure, nullptr);
  EXPECT_NE(openai, compatible);
  EXPECT_NE(openai, azure);
  EXPECT_EQ(openai->format(), ApiFormat::kOpenAi);
  EXPECT_EQ(compatible->format(), ApiFormat::kOpenAi);
  EXPECT_EQ(azure->format(), ApiFormat::kOpenAi);
}

TEST(AdapterRegistryTest, AnthropicAndGeminiSpeakTheirOwnFormats) {
  ASSERT_NE(AdapterFor(Provider::ANTHROPIC), nullptr);
  ASSERT_NE(AdapterFor(Provider::GEMINI), nullptr);
  EXPECT_EQ(AdapterFor(Provider::ANTHROPIC)->format(), ApiFormat::kAnthropic);
  EXPECT_EQ(AdapterFor(Provider::GEMINI)->format(), ApiFormat::kGemini);
}

TEST(AdapterRegistryTest, AnUnspecifiedKindHasNone) {
  EXPECT_EQ(AdapterFor(Provider::KIND_UNSPECIFIED), nullptr);
}

}  // namespace
}  // namespace llmesh::provider
