#include "common/config/loader.h"

#include <vector>

#include <boost/json/serialize.hpp>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"
#include "common/config/config_error.h"
#include "common/config/file.h"
#include "common/config/presets.h"
#include "common/config/yaml_to_json.h"

namespace llmesh::config {
namespace {

using llmesh::config::v1::Config;

// Far above any real config; stops a wrong path (a log, a device) from being slurped whole.
constexpr size_t kMaxConfigFileBytes = 16 << 20;

// `source` names the input in syntax errors: the file path, or "<config>" for a string.
absl::StatusOr<PartialConfig> ParseNamedYaml(std::string_view yaml, const EnvLookup& env,
                                             std::string_view source) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) {
      return absl::InvalidArgumentError(
          absl::StrCat(AbslView(source), ": YAML syntax error: ", e.msg));
    }
    return absl::InvalidArgumentError(absl::StrCat(AbslView(source), ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": YAML syntax error: ",
                                                   e.msg));
  }
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        AbslView(source), ": expected one YAML document, found ", documents.size()));
  }

  PartialConfig loaded;
  const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
  // A value with a problem is left out of `json`, so the rest still converts.
  const boost::json::object json = YamlToJson(root, *Config::descriptor(), env, &loaded.errors);
  const auto status = google::protobuf::util::JsonStringToMessage(boost::json::serialize(json),
                                                                  &loaded.config);
  if (!status.ok()) {
    // The walk above mirrors the JSON parser's rules, so this means the two disagree.
    return absl::InvalidArgumentError(
        absl::StrCat("config could not be converted: ", std::string(status.message())));
  }
  ApplyProviderPresets(loaded.config);
  return loaded;
}

absl::StatusOr<Config> Complete(absl::StatusOr<PartialConfig> loaded) {
  if (!loaded.ok()) return loaded.status();
  if (!loaded->errors.empty()) return ErrorsToStatus(loaded->errors);
  return std::move(loaded->config);
}

}  // namespace

absl::StatusOr<PartialConfig> ParseConfigYamlPartial(std::string_view yaml, const EnvLookup& env) {
  return ParseNamedYaml(yaml, env, "<config>");
}

absl::StatusOr<PartialConfig> LoadConfigFilePartial(const std::string& path, const EnvLookup& env) {
  absl::StatusOr<std::string> content = ReadFileContent(path, kMaxConfigFileBytes);
  if (!content.ok()) return content.status();
  return ParseNamedYaml(*content, env, path);
}

absl::StatusOr<Config> ParseConfigYaml(std::string_view yaml, const EnvLookup& env) {
  return Complete(ParseConfigYamlPartial(yaml, env));
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, const EnvLookup& env) {
  return Complete(LoadConfigFilePartial(path, env));
}

}  // namespace llmesh::config
