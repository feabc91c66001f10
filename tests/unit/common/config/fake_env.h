// An EnvLookup over a fixed map, so config tests never read the process environment.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/config/env.h"

namespace llmesh::config {

inline EnvLookup FakeEnv(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace llmesh::config
