#include "proxy/provider/adapter_registry.h"

#include "proxy/provider/openai/openai_adapter.h"

namespace llmesh::provider {

const ProviderAdapter* AdapterFor(config::v1::Provider::Kind kind) {
  static const OpenAiAdapter kOpenAi;
  switch (kind) {
    case config::v1::Provider::OPENAI:
    case config::v1::Provider::OPENAI_COMPATIBLE:
      return &kOpenAi;
    default:
      return nullptr;
  }
}

}  // namespace llmesh::provider
