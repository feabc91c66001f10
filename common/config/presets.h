// Expands provider presets and per-kind defaults into explicit config values.
//
// Runs right after a config is loaded (loader.cc), before Validate() and the snapshot compiler,
// so every later step — and /config_dump — sees the values actually used: a provider with
// `preset: deepseek` gets DeepSeek's base_url and api_key_env unless it sets them itself, and
// kind openai_compatible when it names no kind; an azure_openai provider without api_version
// gets the default one. Pure; thread-safe.
#pragma once

#include "llmesh/config/v1/config.pb.h"

namespace llmesh::config {

inline constexpr char kDefaultAzureApiVersion[] = "2024-10-21";

void ApplyProviderPresets(llmesh::config::v1::Config& config);

}  // namespace llmesh::config
