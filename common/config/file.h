// Small blocking file reads for config loading: the config file itself, API key files, and
// readability checks of files a config names (key files, CA bundles).
//
// Main thread only (blocking I/O); never call on a worker.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace llmesh::config {

// Returns the whole content of `path`. Errors carry the errno-derived code (NOT_FOUND,
// PERMISSION_DENIED, FAILED_PRECONDITION for a directory, ...) and a message of the form
// `cannot read "PATH": No such file or directory`; a file over `max_bytes` is
// FAILED_PRECONDITION `"PATH" is larger than N bytes`. The content never appears in a message.
absl::StatusOr<std::string> ReadFileContent(const std::string& path, size_t max_bytes);

// OK when `path` is a regular (or special, non-directory) file this process can open for
// reading; otherwise the same errors as ReadFileContent. Reads nothing.
absl::Status CheckReadable(const std::string& path);

}  // namespace llmesh::config
