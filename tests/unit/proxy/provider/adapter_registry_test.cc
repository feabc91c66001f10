#include "proxy/provider/adapter_registry.h"

#include "gtest/gtest.h"

namespace llmesh::provider {
namespace {

using config::v1::Provider;

TEST(AdapterRegistryTest, OpenAiAndCompatibleShareThePassthroughAdapter) {
  const ProviderAdapter* openai = AdapterFor(Provider::OPENAI);
  ASSERT_NE(openai, nullptr);
  EXPECT_EQ(AdapterFor(Provider::OPENAI_COMPATIBLE), openai);
}

TEST(AdapterRegistryTest, KindsWithoutAnAdapterYetHaveNone) {
  EXPECT_EQ(AdapterFor(Provider::KIND_UNSPECIFIED), nullptr);
  EXPECT_EQ(AdapterFor(Provider::ANTHROPIC), nullptr);
  EXPECT_EQ(AdapterFor(Provider::GEMINI), nullptr);
  EXPECT_EQ(AdapterFor(Provider::AZURE_OPENAI), nullptr);
}

}  // namespace
}  // namespace llmesh::provider
