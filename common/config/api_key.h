// Resolves a provider's API key from where its config says it lives (an environment variable
// or a key file).
//
// Called when a config is compiled into a snapshot, on the main thread (reading the key file
// blocks). The key is returned to the caller only: no message produced here ever contains it.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/config/env.h"
#include "llmesh/config/v1/config.pb.h"

namespace llmesh::config {

// The API key of `provider`:
//   - api_key_env: the variable's value from `env`. Unset or empty gives NOT_FOUND
//     (`provider "openai": environment variable "OPENAI_API_KEY" is not set` / `... is empty`).
//   - api_key_file: the file's content with trailing whitespace (spaces, tabs, CR, LF)
//     removed. An unreadable file gives the errno-derived code (NOT_FOUND, PERMISSION_DENIED,
//     ...) with a message naming the provider and path; an empty key gives FAILED_PRECONDITION.
//     Files over 64 KiB are rejected (FAILED_PRECONDITION).
//   - neither: the empty string (the provider sends no key).
absl::StatusOr<std::string> ResolveApiKey(const llmesh::config::v1::Provider& provider,
                                          const EnvLookup& env);

}  // namespace llmesh::config
