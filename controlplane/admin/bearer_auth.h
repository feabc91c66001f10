// Bearer-token check of the admin API: every call must carry `authorization: Bearer <token>`
// metadata with the token llmesh-control read from `--admin-token-env` (admin.proto).
//
// First step of every admin call, before the request is looked at. With no token configured
// the admin API is closed: every call fails, so a forgotten flag never leaves it open.
//
// Threading: immutable after construction; Check() is safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

namespace llmesh::control {

class BearerAuth {
 public:
  // `token` empty: no token configured, every call is refused.
  explicit BearerAuth(std::string token) : token_(std::move(token)) {}

  bool configured() const { return !token_.empty(); }

  // `authorization` is the metadata value, or nullptr when the call carried none. OK when it
  // is "Bearer <token>" (scheme case-insensitive) with the configured token; UNAUTHENTICATED
  // otherwise, with a message that never echoes what was sent. The comparison takes the same
  // time wherever the first difference is.
  absl::Status Check(const std::string_view* authorization) const;

 private:
  const std::string token_;
};

// Compares without an early exit, so the time taken does not reveal how much of a secret a
// guess got right (it does reveal the lengths).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace llmesh::control
