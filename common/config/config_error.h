// One problem found in a config, located by its field path; shared by the loader (YAML shape,
// types, environment) and the validator (semantic rules).
//
// Paths use the YAML keys: `routes[1].targets[0].provider`; the empty path means the whole
// document. Plain values, safe to copy between threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace llmesh::config {

struct ConfigError {
  // Field path, e.g. "providers[0].base_url"; empty for the document as a whole.
  std::string path;
  // What is wrong, including the offending value, e.g. `unknown provider "opnai"`.
  std::string message;

  // "path: message", or just the message when the path is empty.
  std::string ToString() const;

  friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

// OK when `errors` is empty; otherwise INVALID_ARGUMENT whose message lists every error's
// ToString(), one per line, in order.
absl::Status ErrorsToStatus(const std::vector<ConfigError>& errors);

// Path helpers: FieldPath("routes[1]", "targets") == "routes[1].targets",
// FieldPath("", "listen") == "listen"; IndexPath("routes", 1) == "routes[1]".
std::string FieldPath(std::string_view parent, std::string_view field);
std::string IndexPath(std::string_view parent, size_t index);

}  // namespace llmesh::config
