#include "controlplane/weights/weights.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace llmesh::control {

std::string ToString(const TargetKey& key) { return absl::StrCat(key.provider, "/", key.model); }

}  // namespace llmesh::control
