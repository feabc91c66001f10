#include "proxy/provider/adapter_registry.h"

#include "proxy/provider/anthropic/anthropic_adapter.h"
#include "proxy/provider/gemini/gemini_adapter.h"
#include "proxy/provider/openai/openai_adapter.h"

namespace llmesh::provider {

const ProviderAdapter* AdapterFor(config::v1::Provider::Kind kind) {
  static const OpenAiAdapter kOpenAi(OpenAiDialect::kOpenAi);
  static const OpenAiAdapter kCompatible(OpenAiDialect::kCompatible);
  static const OpenAiAdapter kAzureOpenAi(OpenAiDialect::kAzure);
  static const AnthropicAdapter kAnthropic;
  static const GeminiAdapter kGemini;
  switch (kind) {
    case config::v1::Provider::OPENAI:
      return &kOpenAi;
    case config::v1::Provider::OPENAI_COMPATIBLE:
      return &kCompatible;
    case config::v1::Provider::AZURE_OPENAI:
      return &kAzureOpenAi;
    case config::v1::Provider::ANTHROPIC:
      return &kAnthropic;
    case config::v1::Provider::GEMINI:
      return &kGemini;
    default:
      return nullptr;
  }
}

}  // namespace llmesh::provider
