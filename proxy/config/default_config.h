// The config llmesh-proxy runs when no --config is given (examples/default.yaml, embedded at
// build time so the binary works alone).
#pragma once

#include <string_view>

namespace llmesh {

extern const std::string_view kDefaultConfigYaml;

}  // namespace llmesh
