#include "common/config/api_key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/config/file.h"

namespace llmesh::config {
namespace {

using llmesh::config::v1::Provider;

constexpr size_t kMaxKeyFileBytes = 64 << 10;

std::string Prefix(const Provider& provider) {
  return absl::StrCat("provider \"", provider.name(), "\": ");
}

}  // namespace

absl::StatusOr<std::string> ResolveApiKey(const Provider& provider, const EnvLookup& env) {
  switch (provider.credential_case()) {
    case Provider::kApiKeyEnv: {
      const std::string& name = provider.api_key_env();
      std::optional<std::string> value = env(name);
      if (!value.has_value()) {
        return absl::NotFoundError(absl::StrCat(Prefix(provider), "environment variable \"",
                                                name, "\" is not set"));
      }
      if (value->empty()) {
        return absl::NotFoundError(
            absl::StrCat(Prefix(provider), "environment variable \"", name, "\" is empty"));
      }
      return *std::move(value);
    }
    case Provider::kApiKeyFile: {
      const std::string& path = provider.api_key_file();
      absl::StatusOr<std::string> content = ReadFileContent(path, kMaxKeyFileBytes);
      if (!content.ok()) {
        // ReadFileContent's messages name only the path, never the content.
        return absl::Status(content.status().code(),
                            absl::StrCat(Prefix(provider), "API key file: ",
                                         content.status().message()));
      }
      absl::StripTrailingAsciiWhitespace(&*content);
      if (content->empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(Prefix(provider), "API key file \"", path, "\" is empty"));
      }
      return *std::move(content);
    }
    case Provider::CREDENTIAL_NOT_SET:
      break;
  }
  return std::string();
}

}  // namespace llmesh::config
