#include "common/config/presets.h"

namespace llmesh::config {
namespace {

using v1::Provider;

struct PresetValues {
  const char* base_url;
  const char* api_key_env;
};

PresetValues ValuesOf(Provider::Preset preset) {
  switch (preset) {
    case Provider::DEEPSEEK: return {"https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"};
    case Provider::MISTRAL: return {"https://api.mistral.ai/v1", "MISTRAL_API_KEY"};
    case Provider::GROQ: return {"https://api.groq.com/openai/v1", "GROQ_API_KEY"};
    case Provider::TOGETHER: return {"https://api.together.xyz/v1", "TOGETHER_API_KEY"};
    case Provider::XAI: return {"https://api.x.ai/v1", "XAI_API_KEY"};
    case Provider::QWEN: return {"https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"};
    case Provider::GEMINI_OPENAI: return {"https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY"};
    default: return {nullptr, nullptr};
  }
}

}  // namespace

void ApplyProviderPresets(v1::Config& config) {
  for (Provider& provider : *config.mutable_providers()) {
    if (provider.kind() == Provider::AZURE_OPENAI && provider.api_version().empty()) {
      provider.set_api_version(kDefaultAzureApiVersion);
    }
    const PresetValues values = ValuesOf(provider.preset());
    if (values.base_url == nullptr) continue;
    if (provider.kind() == Provider::KIND_UNSPECIFIED) provider.set_kind(Provider::OPENAI_COMPATIBLE);
    if (provider.base_url().empty()) provider.set_base_url(values.base_url);
    if (provider.credential_case() == Provider::CREDENTIAL_NOT_SET) provider.set_api_key_env(values.api_key_env);
  }
}

}  // namespace llmesh::config
