// Options of the fake provider (the llmesh-fake-provider command line). Plain values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace llmesh::fakes {

// The provider API the fake speaks.
enum class Flavor { kOpenAi };

// "openai" → kOpenAi; INVALID_ARGUMENT otherwise.
absl::StatusOr<Flavor> ParseFlavor(std::string_view text);

struct FakeProviderOptions {
  std::string listen = "127.0.0.1:0";
  size_t workers = 1;
  // Prefix of the generated content ("<name>-0 <name>-1 ..."), owner of the listed models.
  std::string name = "fake";
  Flavor flavor = Flavor::kOpenAi;
  // Non-empty: API requests must carry `Authorization: Bearer <api_key>` (else 401).
  std::string api_key;
  // Listed by GET /v1/models; empty means {"fake-model"}.
  std::vector<std::string> models;
};

}  // namespace llmesh::fakes
