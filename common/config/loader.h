// Loads a YAML config file into llmesh.config.v1.Config: YAML -> JSON -> proto.
//
// The first step of getting a config into the proxy (then Validate() in validate.h, then the
// snapshot compiler in proxy/config/). Every key is checked against the proto schema, so
// unknown keys, wrong types, bad enum values and durations are all reported at once with their
// field paths. Enum values are accepted in lower case ("openai"); durations as "500ms", "2s",
// "1m", "1h" or Go-style compounds ("1m30s"); `${NAME}` in any scalar value is replaced from the
// environment (`${NAME:-default}` gives a default, `$${` is a literal `${`).
//
// Threading: call from the main thread; LoadConfigFile blocks on file I/O, so never call it on
// a worker. The functions keep no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/config_error.h"
#include "common/config/env.h"
#include "llmesh/config/v1/config.pb.h"

namespace llmesh::config {

// Parses `yaml` (one YAML document; empty or only comments is an empty config) into a Config.
// Does not apply the semantic rules of Validate().
//
// Returns INVALID_ARGUMENT whose message lists every problem, one per line, each
// "path: message", e.g.
//   routes[1].targets[0].provder: unknown key (expected one of: provider, model, priority, weight)
//   workers: expected an unsigned integer, got "abc"
//   providers[0].base_url: environment variable "X" is not set
// YAML syntax errors are reported as "<config>:LINE:COLUMN: YAML syntax error: ..." (1-based).
absl::StatusOr<llmesh::config::v1::Config> ParseConfigYaml(std::string_view yaml,
                                                           const EnvLookup& env);

// Reads the file at `path` and parses it like ParseConfigYaml, except that YAML syntax errors
// name the file ("PATH:LINE:COLUMN: YAML syntax error: ..."). A file that cannot be read gives
// NOT_FOUND, PERMISSION_DENIED or another errno-derived code whose message names the path
// (`cannot read "PATH": No such file or directory`).
absl::StatusOr<llmesh::config::v1::Config> LoadConfigFile(const std::string& path,
                                                          const EnvLookup& env);

// What a load produced when schema problems do not stop it, so that Validate() can still check
// the rest and one pass reports every problem (`--validate`, a rejected reload).
struct PartialConfig {
  // Every value that converted; a value with a problem is left unset. List elements keep their
  // indices, so later field paths still match the file.
  llmesh::config::v1::Config config;
  // The schema problems (what ParseConfigYaml would report), in document order.
  std::vector<ConfigError> errors;
};

// Like ParseConfigYaml and LoadConfigFile, except that schema problems are returned in
// `errors` next to the partial config instead of as a status. The status is an error only when
// there is nothing to walk: an unreadable file, a YAML syntax error, several documents.
absl::StatusOr<PartialConfig> ParseConfigYamlPartial(std::string_view yaml, const EnvLookup& env);
absl::StatusOr<PartialConfig> LoadConfigFilePartial(const std::string& path, const EnvLookup& env);

}  // namespace llmesh::config
