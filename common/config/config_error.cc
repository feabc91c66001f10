#include "common/config/config_error.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_view.h"

namespace llmesh::config {

std::string ConfigError::ToString() const {
  if (path.empty()) return message;
  return absl::StrCat(path, ": ", message);
}

absl::Status ErrorsToStatus(const std::vector<ConfigError>& errors) {
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(
      errors, "\n", [](std::string* out, const ConfigError& e) { out->append(e.ToString()); }));
}

std::string FieldPath(std::string_view parent, std::string_view field) {
  if (parent.empty()) return std::string(field);
  return absl::StrCat(AbslView(parent), ".", AbslView(field));
}

std::string IndexPath(std::string_view parent, size_t index) {
  return absl::StrCat(AbslView(parent), "[", index, "]");
}

}  // namespace llmesh::config
