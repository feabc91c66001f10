// Maps a configured provider kind to the adapter that speaks its wire format.
//
// Config compilation (proxy/config) calls AdapterFor once per provider and stores the pointer
// in the immutable snapshot; the request path then uses the adapter without lookups. Adapters
// are process-lifetime singletons; thread-safe.
#pragma once

#include "llmesh/config/v1/config.pb.h"
#include "proxy/provider/provider.h"

namespace llmesh::provider {

// The adapter for `kind`: the OpenAI-format adapter in its dialect for OPENAI,
// OPENAI_COMPATIBLE and AZURE_OPENAI, the Anthropic and Gemini adapters for theirs; nullptr for
// KIND_UNSPECIFIED, which config validation rejects. The pointer lives for the whole process.
const ProviderAdapter* AdapterFor(config::v1::Provider::Kind kind);

}  // namespace llmesh::provider
