// Environment access for config loading: the injectable variable lookup and `${NAME}`
// expansion of config string values.
//
// Used on the main thread while a config file is loaded or validated, never on the request
// path. Tests inject their own EnvLookup instead of touching the process environment.
// Threading: all functions are reentrant; ProcessEnv's lookup reads getenv, which is safe as long
// as nothing modifies the environment concurrently.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmesh::config {

// Returns the value of environment variable `name`, or nullopt when it is not set. An empty
// value is a set variable.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// A lookup that reads the real process environment (getenv).
EnvLookup ProcessEnv();

// Replaces every `${NAME}` in `text` by the value of NAME from `env`. `${NAME:-default}` uses
// `default` when NAME is unset or empty (as in a POSIX shell); `$${` stands for a literal `${`.
// A `$` not followed by `{` is kept as is. NAME is [A-Za-z_][A-Za-z0-9_]*.
//
// Every problem (unset variable without default, unterminated reference, invalid name) appends
// one message to `*problems`, e.g. `environment variable "X" is not set`; the returned text is
// then not meaningful. `problems` must not be null.
std::string ExpandEnvReferences(std::string_view text, const EnvLookup& env,
                                std::vector<std::string>* problems);

}  // namespace llmesh::config
