#include "proxy/provider/common/target_path.h"

#include "absl/strings/str_cat.h"
#include "common/absl_view.h"

namespace llmesh::provider {

std::string JoinTargetPath(std::string_view base_path, std::string_view endpoint) {
  while (!base_path.empty() && base_path.back() == '/') base_path.remove_suffix(1);
  if (!base_path.empty() && base_path.front() != '/') {
    return absl::StrCat("/", AbslView(base_path), AbslView(endpoint));
  }
  return absl::StrCat(AbslView(base_path), AbslView(endpoint));
}

}  // namespace llmesh::provider
