#include "controlplane/admin/bearer_auth.h"

#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/absl_view.h"

namespace llmesh::control {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

absl::Status BearerAuth::Check(const std::string_view* authorization) const {
  if (token_.empty()) {
    return absl::UnauthenticatedError(
        "the admin API is disabled: llmesh-control has no admin token (--admin-token-env)");
  }
  if (authorization == nullptr) {
    return absl::UnauthenticatedError("missing \"authorization: Bearer <token>\" metadata");
  }
  constexpr std::string_view kScheme = "bearer ";
  if (authorization->size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(AbslView(authorization->substr(0, kScheme.size())),
                              AbslView(kScheme))) {
    return absl::UnauthenticatedError("authorization metadata is not a Bearer token");
  }
  const std::string_view presented = StdView(
      absl::StripAsciiWhitespace(AbslView(authorization->substr(kScheme.size()))));
  if (!ConstantTimeEquals(presented, token_)) {
    return absl::UnauthenticatedError("wrong admin token");
  }
  return absl::OkStatus();
}

}  // namespace llmesh::control
